"""A file uploaded in the wrong place, said before it is loaded.

Two mistakes are common on the Data page and with ``funnel load``: the deals (outcomes) file
given as the leads file — every row won, a won date on every row — and a rule set or mapping
YAML given as leads, which a CSV reader turns into nonsense ("some rows do not have 1
fields"). Each gets a problem naming the right place for the file: the outcomes uploader
(``--outcomes``), the Rule sets page's import (``funnel rules import``), ``--mapping``.
"""

from __future__ import annotations

import re

from funnel.mapping import Mapping, norm
from funnel.problems import Problem
from funnel.readers import SourceFile

#: How much of a file's start is read to recognise a YAML or JSON file of funnel's own.
HEAD_BYTES = 64 * 1024
#: A leads file whose rows are all won needs at least this many to say so.
MIN_ROWS = 10

_KEY = r"^[ \t]*[\"']?{}[\"']?[ \t]*:"
_RULES = (re.compile(_KEY.format("schema_version"), re.M), re.compile(_KEY.format("rules"), re.M))
_TIERS = re.compile(_KEY.format("tiers"), re.M)
_MAPPING = (re.compile(_KEY.format("version"), re.M), re.compile(_KEY.format("leads"), re.M))
# Headers of a won or closing date (norm()): a deals file has one on every row.
_DEAL_DATES = frozenset(
    """wondate closeddate closedate closedat dealcloseddate closingdate 受注日 成約日
    完了日 契約日""".split()
)


def yaml_file_problem(head: bytes, name: str) -> Problem | None:
    """A leads upload that is really a rule set or a column mapping (YAML or JSON).

    >>> yaml_file_problem(b"schema_version: 1\\nname: x\\nrules: []\\n", "r.yaml").code
    'looks_like_rules'
    >>> yaml_file_problem(b"version: 1\\nleads:\\n  id: id\\n", "m.yaml").code
    'looks_like_mapping'
    >>> yaml_file_problem(b"id,rules\\n1,2\\n", "leads.csv") is None
    True
    """
    text = head[:HEAD_BYTES].decode("utf-8", errors="ignore")
    if all(p.search(text) for p in _RULES) or (_RULES[0].search(text) and _TIERS.search(text)):
        return Problem("looks_like_rules", name)
    if all(p.search(text) for p in _MAPPING):
        return Problem("looks_like_mapping", name)
    return None


def outcomes_file_problem(leads: SourceFile, mapping: Mapping) -> Problem | None:
    """A leads upload that looks like an outcomes (deals) file: every row won, or a won or
    closing date on every row and no outcome saying otherwise (Olist's closed-deals file).

    Not asked when an outcomes file was given too: then this one is the leads.
    """
    frame = leads.frame
    if len(frame) < MIN_ROWS or mapping.outcomes:
        return None
    spec = mapping.outcome
    if spec is not None and spec.file == "leads" and spec.column in frame.columns:
        labels = spec.labels(frame[spec.column]).dropna()
        if len(labels) >= MIN_ROWS and bool(labels.eq("won").all()):
            return Problem(
                "looks_like_outcomes_won", leads.name, column=spec.column, severity="warning"
            )
        return None
    for column in frame.columns:
        if norm(str(column)) in _DEAL_DATES and float(frame[column].notna().mean()) >= 0.95:
            return Problem(
                "looks_like_outcomes_dates", leads.name, column=str(column), severity="warning"
            )
    return None
