"""The review meeting: how an agreed version did since it took effect, and what to discuss.

* :mod:`funnel.review.engine` — the figures (:func:`review`), computed in DuckDB with the
  Tuner's scoring helpers, beside what the version's back-test promised;
* :mod:`funnel.review.evidence` — when a difference is real (exact tests, a correction for
  testing many figures at once);
* :mod:`funnel.review.agenda` — the discussion points those figures support, with evidence.
"""

from __future__ import annotations

from funnel.review.agenda import Point, agenda
from funnel.review.engine import Review, ReviewError, review, reviewed_version

__all__ = ["Point", "Review", "ReviewError", "agenda", "review", "reviewed_version"]
