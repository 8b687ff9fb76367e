"""Apply a rule set to a dataset and measure what it would have done on past outcomes.

* :mod:`funnel.scoring.source` — where leads are read from (with decayed activity counts);
* :mod:`funnel.scoring.histogram` — the score histogram, and every tuner metric from it;
* :mod:`funnel.scoring.leads` — scores lead by lead, their reasons, one lead explained;
* :mod:`funnel.scoring.compare` — two rule sets on the same leads;
* :mod:`funnel.scoring.matrix` — conversion by fit band × engagement band.

The rule set's SQL itself comes from :mod:`funnel.rulesql`.
"""
