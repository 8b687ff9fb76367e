"""Leak evidence: lead columns that tell the outcome only because it already happened.

Such a column predicts the outcome because the outcome was recorded into it (a deal value, a
lost reason, a sales status), so it must not score leads. Among decided leads — won against
lost, or against not won when nothing is marked lost (a won-only outcomes file) — a column is
flagged when, alone, it separates the two almost perfectly, or is filled only after the outcome:

* a number, or a date read as a number: the Kolmogorov–Smirnov distance between won and lost
  (the best single cut) is at least 0.90 — "deal_value: won 100% above 0, lost 0%";
* a category: the total-variation distance between the won and the lost value mixes (the best
  set of values) is at least 0.90, values held by fewer than 10 decided leads pooled first;
* filled: the share filled among won and among lost differ by at least 0.80 — "amount is filled
  for 100% of won leads and 10% of lost leads" —, or it is filled for at least 20% of won and at
  most 1% of lost, or for no won lead and at least 5% of lost (a lost reason);
* filled at the close: where at least 10 leads are still open, the share filled among decided
  leads (won or lost) and among open ones differ by at least 0.80 — "days_to_close is filled for
  100% of decided leads and 0% of the 774 still open" (won against lost cannot see it).

A name that says the column is written during the sale (lead status, sales status, deal stage,
lost reason — whole words, so a demographic ``Marital_Status`` is not one) lowers the bar to
0.50: the data still has to agree. Only where there are too few won or lost leads to check
anything (fewer than 10) does such a name flag the column by itself, and says so.

The margins were measured (``/work/research/suggest`` REPORT §3, on bank marketing, Olist, the
demo and synthetic files): honest columns separate at most 0.33, leaks at 0.89 or more. Bank
marketing's call ``duration`` (0.445) is not caught here and must not be by lowering the bar:
the suggestion's "leans on one column" check names it.

A flag lives in the column's spec: ``leak``, the ``reason`` (a message key) and its
``evidence`` (the figures the sentence quotes); a person can overrule it either way
(``by_user``), and detection then leaves the column alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from funnel.i18n import t
from funnel.mapping import ColumnSpec, Mapping, norm
from funnel.mapping.sample import (
    LEAK_CLASS_ROWS,
    LEAK_POOL_ROWS,
    PROPOSAL_ROWS,
    draw_rows,
    stratify,
    take_rows,
)
from funnel.parsing import normalise_token, null_placeholders, parse_dates, parse_numbers
from funnel.readers import SourceFile

#: A number, date or category that alone separates won from lost at least this well leaks.
LEAK_SEPARATION = 0.90
#: ... or this well, when its name says it is written during the sale.
NAMED_SEPARATION = 0.50
#: Filled for won and for lost leads this differently: filled only after the outcome.
FILL_GAP = 0.80
#: Category values held by fewer decided leads are pooled before comparing the mixes.
MIN_VALUE_LEADS = 10
#: Fewer won (or lost) decided leads than this: too few to judge any column.
MIN_DECIDED = 10
#: Numbers and dates are compared on at least this many filled cells, both sides at least 5.
MIN_FILLED = 20
#: Files of at most this many rows are checked whole; above, on a seeded sample of rows
#: (:mod:`funnel.mapping.sample`: up to LEAK_CLASS_ROWS of each outcome, drawn from
#: LEAK_POOL_ROWS), each row weighted by how many of its outcome it stands for.
WHOLE_FILE_ROWS = PROPOSAL_ROWS

Check = Literal["number", "date", "category", "fill", "closing_fill"]

# Names of columns written during or after the sale, as whole words (English) ...
_NAME_HINTS: tuple[tuple[str, ...], ...] = tuple(
    tuple(h.split("_"))
    for h in """lead_status sales_status deal_status deal_stage opportunity_stage
    opportunity_status pipeline_stage lost_reason loss_reason won_reason win_reason
    close_reason closed_reason closing_reason lead_quality""".split()
)
# ... or as the whole name.
_WHOLE_NAME_HINTS = frozenset("status stage tags ステータス フェーズ ステージ".split())
# Japanese has no spaces between words: a name containing one of these.
_JA_HINTS = tuple(
    """失注理由 受注理由 商談ステータス 商談フェーズ 商談ステージ 案件ステータス
    営業ステータス リードステータス 商談状況""".split()
)


def name_words(name: str) -> tuple[str, ...]:
    """A column name as lower-case words: split at punctuation, spaces and camelCase.

    >>> name_words("Marital_Status"), name_words("leadStatus"), name_words("Deal Stage")
    (('marital', 'status'), ('lead', 'status'), ('deal', 'stage'))
    """
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return tuple(w for w in re.split(r"[\W_]+", text.casefold()) if w)


def named_like_sale(name: str) -> bool:
    """Whether a column's name says it is written during or after the sale (whole words).

    >>> [named_like_sale(n) for n in ("lead_status", "Marital_Status", "Status", "失注理由")]
    [True, False, True, True]
    >>> named_like_sale("dealStage"), named_like_sale("stages_completed_count")
    (True, False)
    """
    words = name_words(name)
    if norm(name) in _WHOLE_NAME_HINTS or (len(words) == 1 and words[0] in _WHOLE_NAME_HINTS):
        return True
    for hint in _NAME_HINTS:
        k = len(hint)
        if any(words[i : i + k] == hint for i in range(len(words) - k + 1)):
            return True
    return any(h in norm(name) for h in _JA_HINTS)


@dataclass(frozen=True)
class Evidence:
    """How well one column alone tells won from lost, and the figures that show it."""

    column: str
    check: Check
    stat: float  # 0 = no difference, 1 = perfect separation
    params: tuple[tuple[str, str], ...]  # the sentence's figures: won, lost, cut, values

    @property
    def reason(self) -> str:
        """The message key of this evidence's sentence (``leak.number_above`` ...)."""
        if self.check in ("number", "date"):
            return f"leak.{self.check}_{dict(self.params)['side']}"
        return f"leak.{self.check}"

    def leaks(self, *, named: bool = False) -> bool:
        """Whether this evidence flags the column (a sale-status name lowers the bar)."""
        bar = NAMED_SEPARATION if named else LEAK_SEPARATION
        if self.check == "closing_fill":
            return self.stat >= FILL_GAP
        if self.check == "fill":
            p = dict(self.params)
            fw, fl = float(p["fw"]), float(p["fl"])
            one_sided = (fw >= 0.2 and fl <= 0.01) or (fw == 0 and fl >= 0.05)
            return self.stat >= (NAMED_SEPARATION if named else FILL_GAP) or one_sided
        return self.stat >= bar


def _pct(x: float) -> str:
    """A share as a percentage, with a decimal only where 0% or 100% would mislead.

    >>> _pct(1.0), _pct(0.0), _pct(0.004), _pct(0.996), _pct(0.1049)
    ('100%', '0%', '0.4%', '99.6%', '10%')
    """
    if 0 < x < 0.01 or 0.99 < x < 1:
        return f"{x:.1%}"
    return f"{x:.0%}"


def _cut(value: float) -> str:
    """A cut point as people write it: whole numbers without decimals.

    >>> _cut(0.0), _cut(1200.0), _cut(2.5)
    ('0', '1,200', '2.5')
    """
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _share(mask: np.ndarray, weights: np.ndarray | None) -> float:
    """The share of True in ``mask``, each row counting its weight (once without weights).

    >>> _share(np.array([True, False, False]), None), _share(np.r_[True, False], np.r_[3.0, 1.0])
    (0.3333333333333333, 0.75)
    """
    if weights is None:
        return float(mask.mean())
    return round(float(weights[mask].sum() / weights.sum()), 12)


def fill_evidence(
    name: str, filled: np.ndarray, won: np.ndarray, weights: np.ndarray | None = None
) -> Evidence:
    """|share filled among won − among lost|: a column written once the outcome is known.

    ``weights`` (per row) say how many rows of a sample each one stands for.
    """
    w_won = None if weights is None else weights[won]
    w_lost = None if weights is None else weights[~won]
    fw, fl = _share(filled[won], w_won), _share(filled[~won], w_lost)
    params = (("won", _pct(fw)), ("lost", _pct(fl)), ("fw", repr(fw)), ("fl", repr(fl)))
    return Evidence(name, "fill", abs(fw - fl), params)


def closing_fill_evidence(
    name: str,
    column: pd.Series,
    decided: np.ndarray,
    open_: np.ndarray,
    placeholders: tuple[str, ...],
    weights: np.ndarray | None = None,
    *,
    filled: np.ndarray | None = None,
) -> Evidence:
    """Share filled among decided (won or lost) leads − among still-open ones: a column written
    when the deal closes (a close date, days to close), whoever won. Won against lost cannot see
    it: both sides have it. ``filled`` (per row) spares cleaning the column again; ``weights``
    as :func:`fill_evidence`'s.

    >>> col = pd.Series([12.0, 40.0, 7.0, None, None, "-"])
    >>> e = closing_fill_evidence("days_to_close", col, np.r_[[True] * 3, [False] * 3],
    ...                           np.r_[[False] * 3, [True] * 3], ("-",))
    >>> e.stat, dict(e.params)["decided"], dict(e.params)["open"], e.leaks()
    (1.0, '100%', '0%', True)
    """
    if filled is None:  # which cells are filled, unless the caller cleaned them already
        filled = null_placeholders(column, placeholders)[0].notna().to_numpy()
    fd = _share(filled[decided], None if weights is None else weights[decided])
    fo = _share(filled[open_], None if weights is None else weights[open_])
    params = (
        ("decided", _pct(fd)),
        ("open", _pct(fo)),
        ("n_open", f"{int(open_.sum()):,}"),
        ("fd", repr(fd)),
        ("fo", repr(fo)),
    )
    return Evidence(name, "closing_fill", fd - fo, params)


def number_evidence(
    name: str,
    values: np.ndarray,
    won: np.ndarray,
    check: Check = "number",
    weights: np.ndarray | None = None,
) -> Evidence | None:
    """The Kolmogorov–Smirnov distance between won and lost values (NaN ignored); ``weights``
    as :func:`fill_evidence`'s (the minimum counts are of rows, unweighted).

    >>> won = np.array([True] * 20 + [False] * 20)
    >>> e = number_evidence("deal_value", np.r_[np.arange(1.0, 21.0), np.zeros(20)], won)
    >>> round(e.stat, 2), e.reason, dict(e.params)["won"], dict(e.params)["lost"]
    (1.0, 'leak.number_above', '100%', '0%')
    """
    ok = ~np.isnan(values)
    v, w = values[ok], won[ok]
    nw, nl = int(w.sum()), int((~w).sum())
    if len(v) < MIN_FILLED or nw < 5 or nl < 5:
        return None
    order = np.argsort(v, kind="stable")
    vs, ws = v[order], w[order]
    last = np.r_[vs[1:] != vs[:-1], True]  # the last row of each distinct value
    if weights is None:
        cw = np.cumsum(ws)[last] / nw  # share of won at or below each distinct value
        cl = np.cumsum(~ws)[last] / nl
    else:
        wt = weights[ok][order]  # shares rounded: 1 − a sum of weights is never "-0%"
        cw = np.round(np.cumsum(np.where(ws, wt, 0.0))[last] / wt[ws].sum(), 12)
        cl = np.round(np.cumsum(np.where(ws, 0.0, wt))[last] / wt[~ws].sum(), 12)
    diff = cl - cw  # > 0: won lie above the cut more often than lost
    i = int(np.argmax(np.abs(diff)))
    cut = float(vs[last][i])
    if diff[i] >= 0:
        side, won_share, lost_share = "above", 1 - cw[i], 1 - cl[i]
    else:
        side, won_share, lost_share = "below", cw[i], cl[i]
    shown = f"{pd.Timestamp(int(cut), unit='s'):%Y-%m-%d}" if check == "date" else _cut(cut)
    params = (
        ("side", side),
        ("cut", shown),
        ("won", _pct(float(won_share))),
        ("lost", _pct(float(lost_share))),
    )
    return Evidence(name, check, float(abs(diff[i])), params)


def category_evidence(
    name: str, values: pd.Series, won: np.ndarray, weights: np.ndarray | None = None
) -> Evidence:
    """The total-variation distance between the won and the lost value mixes.

    Values are compared as loading compares them (case and spacing ignored); values with
    fewer than :data:`MIN_VALUE_LEADS` decided leads (rows, unweighted) are pooled first; a
    missing cell is a value of its own. ``weights`` as :func:`fill_evidence`'s.

    >>> won = np.array([True] * 30 + [False] * 30)
    >>> e = category_evidence("status", pd.Series(["Closed"] * 30 + ["Open"] * 30), won)
    >>> e.stat, dict(e.params)["values"], dict(e.params)["won"]
    (1.0, 'Closed', '100%')
    """
    codes, uniques = pd.factorize(values.astype("str"), use_na_sentinel=True)
    spelled = ["(missing)" if pd.isna(u) else str(u) for u in uniques] + ["(missing)"]
    keys = [normalise_token(v) for v in spelled]
    key_codes, key_names = pd.factorize(pd.Series(keys, dtype="str"))
    per_row = key_codes[np.where(codes < 0, len(spelled) - 1, codes)]
    k = len(key_names)
    n_won = np.bincount(per_row[won], minlength=k).astype(float)
    n_lost = np.bincount(per_row[~won], minlength=k).astype(float)
    pooled = (n_won + n_lost) < MIN_VALUE_LEADS
    if weights is not None:
        n_won = np.bincount(per_row[won], weights=weights[won], minlength=k)
        n_lost = np.bincount(per_row[~won], weights=weights[~won], minlength=k)
    pw = np.r_[n_won[~pooled], n_won[pooled].sum()] / max(n_won.sum(), 1.0)
    pl = np.r_[n_lost[~pooled], n_lost[pooled].sum()] / max(n_lost.sum(), 1.0)
    stat = float(np.clip(pw - pl, 0, None).sum())
    kept = np.flatnonzero(~pooled)
    better = [int(kept[i]) for i in np.argsort(-pw[:-1], kind="stable") if pw[i] > pl[i]]
    first = {int(c): spelled[i] for i, c in reversed(list(enumerate(key_codes)))}
    names = [first[i] for i in better[:4]]
    more = len(better) - len(names)
    share = np.isin(np.arange(k), better)
    rare = pw[-1] > pl[-1]  # the pooled rare values lean won too: "…" stands for them
    if rare:
        share |= pooled
    listed = ", ".join(names) + (f", … (+{more})" if more else "")
    params = (
        ("values", listed + (", …" if listed else "…") if rare else listed),
        ("won", _pct(float(n_won[share].sum() / max(n_won.sum(), 1.0)))),
        ("lost", _pct(float(n_lost[share].sum() / max(n_lost.sum(), 1.0)))),
    )
    return Evidence(name, "category", stat, params)


def column_evidence(
    name: str,
    series: pd.Series,
    kind: str,
    won: np.ndarray,
    placeholders: tuple[str, ...],
    *,
    decided: np.ndarray | None = None,
    closing: tuple[np.ndarray, np.ndarray] | None = None,
    weights: np.ndarray | None = None,
) -> list[Evidence]:
    """Every check of one column: won against the others among the ``decided`` rows (all of
    them by default; ``won`` marks the won ones among those), and with ``closing`` (the rows
    won or lost, the rows still open) whether it is filled when the deal closes.

    A text column's distinct values are cleaned once each, for every check, then spread to
    its rows; those of the decided rows are parsed as numbers or dates, in the order they
    first appear there. ``weights`` (per row of ``series``) as :func:`fill_evidence`'s.
    """
    if decided is None:
        decided = np.ones(len(series), dtype=bool)
    index = series.index[decided]
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        codes, uniques = pd.factorize(series.astype("str"), use_na_sentinel=True)
        missing = pd.Series([None], dtype="str")  # code -1 takes the last value: missing
        raw = pd.concat([pd.Series(uniques, dtype="str"), missing], ignore_index=True)
        cleaned_values = null_placeholders(raw, placeholders)[0]  # the one cleaning
        filled = cleaned_values.notna().to_numpy()[codes]
        # the decided rows' own distinct values, in the order they first appear there
        decided_codes = codes[decided]
        present = pd.unique(decided_codes[decided_codes >= 0])
        recode = np.full(len(raw), len(present), dtype=np.intp)
        recode[present] = np.arange(len(present))
        row_codes = recode[decided_codes]
        distinct = pd.concat(
            [cleaned_values.iloc[present], cleaned_values.iloc[[-1]]], ignore_index=True
        )

        def per_row(parsed: pd.Series) -> pd.Series:
            return pd.Series(parsed.array.take(row_codes), index=index, name=series.name)

        cleaned = per_row(distinct)
    else:
        everything = null_placeholders(series, placeholders)[0]
        filled = everything.notna().to_numpy()
        distinct = cleaned = everything[decided]

        def per_row(parsed: pd.Series) -> pd.Series:
            return parsed

    w = None if weights is None else weights[decided]
    found = [fill_evidence(name, filled[decided], won, w)]
    if kind == "number":
        numbers = per_row(parse_numbers(distinct)).to_numpy(dtype=float, na_value=np.nan)
        evidence = number_evidence(name, numbers, won, weights=w)
    elif kind == "date":
        dates = per_row(parse_dates(distinct))
        seconds = dates.astype("datetime64[s]").astype("int64").astype(float)
        seconds[dates.isna().to_numpy()] = np.nan
        evidence = number_evidence(name, seconds.to_numpy(), won, "date", w)
    else:
        evidence = category_evidence(name, cleaned, won, w)
    if evidence is not None:
        found.append(evidence)
    if closing is not None:
        closed, open_ = closing
        found.append(
            closing_fill_evidence(name, series, closed, open_, placeholders, weights, filled=filled)
        )
    return found


def strongest(evidence: list[Evidence], *, named: bool = False) -> Evidence | None:
    """The evidence that flags the column (the strongest), or None when none does."""
    flagging = [e for e in evidence if e.leaks(named=named)]
    return max(flagging, key=lambda e: e.stat) if flagging else None


# --- flagging a mapping --------------------------------------------------------------------


def outcome_labels(
    mapping: Mapping,
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    rows: np.ndarray | None = None,
) -> pd.Series | None:
    """Each lead row's outcome: ``won``, ``lost``, ``open``, or NaN (absent or unknown).

    ``rows`` (sorted positions) reads only those lead rows. None when the mapping has
    no outcome to read.
    """
    spec = mapping.outcome
    if spec is None:
        return None

    def lead_column(name: str) -> pd.Series:
        column = leads.frame[name]
        return column if rows is None else take_rows(column, rows)

    if spec.file == "leads" and spec.column is not None and spec.column in leads.frame.columns:
        return spec.labels(lead_column(spec.column))
    id_col = mapping.column("id")
    out_id = mapping.column("id", "outcomes")
    if outcomes is None or id_col is None or out_id is None or id_col not in leads.frame:
        return None
    o = outcomes.frame
    if out_id not in o.columns:
        return None
    ids = o[out_id].astype("str")
    if spec.won_only:
        labels = pd.Series("won", index=o.index, dtype="str")
    elif spec.column is not None and spec.column in o.columns:
        labels = spec.labels(o[spec.column])
    else:
        return None
    by_id = pd.Series(labels.to_numpy(), index=ids.to_numpy()).groupby(level=0).last()
    return lead_column(id_col).astype("str").map(by_id).astype("str")


def outcome_flags(
    mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None = None
) -> pd.Series | None:
    """Return a boolean won flag per lead row (None where the outcome is unknown)."""
    labels = outcome_labels(mapping, leads, outcomes)
    return None if labels is None else labels.eq("won")


def decided_sides(labels: pd.Series) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The decided rows, which of them are won, and what the others are called.

    Won against lost; when fewer than :data:`MIN_DECIDED` leads are lost (a won-only outcomes
    file), won against every lead not won. None when either side is too small to judge.
    """
    won = labels.eq("won").to_numpy()
    lost = labels.eq("lost").to_numpy()
    others = "lost"
    if lost.sum() < MIN_DECIDED:
        lost, others = ~won, "not_won"
    decided = won | lost
    if won.sum() < MIN_DECIDED or lost.sum() < MIN_DECIDED:
        return None
    return decided, won[decided], others


def flag_leaks(
    mapping: Mapping,
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    *,
    kinds: MappingABC[str, str] | None = None,
) -> Mapping:
    """Flag lead columns whose data says they are known only after the sale, with evidence.

    Checked: every column a lead may be scored on but its source (where the lead came from is
    known when it arrives), and date columns left unused; never one already flagged. A column
    a person said to score (``by_user``) stays scored, its evidence kept for the reader.
    ``kinds`` (date, number, text) come from the proposal; a column without one is read as its
    role says.
    """
    frame = leads.frame
    rows: np.ndarray | None = None
    weights: np.ndarray | None = None
    if mapping.outcome is not None and len(frame) > WHOLE_FILE_ROWS:  # a sample is ample
        # the outcome of a seeded draw of rows, then at most LEAK_CLASS_ROWS of each outcome:
        # the checks cost the same on a file of any size, and a rare outcome keeps its rows
        pool = draw_rows(len(frame), LEAK_POOL_ROWS)
        labels = outcome_labels(mapping, leads, outcomes, pool)
        if labels is not None:
            kept, weights = stratify(labels, LEAK_CLASS_ROWS)
            rows, labels = pool[kept], labels.iloc[kept]
    else:
        labels = outcome_labels(mapping, leads, outcomes)
    sides = decided_sides(labels) if labels is not None else None
    open_ = closed = None
    if labels is not None and labels.eq("open").sum() >= MIN_DECIDED:  # else too few to tell
        open_, closed = labels.eq("open").to_numpy(), labels.isin(["won", "lost"]).to_numpy()
    kinds = kinds or {}
    specs = []
    for spec in mapping.leads:
        kind = _kind(spec, kinds.get(spec.name))
        if kind is None or spec.leak or spec.reason or spec.name not in frame:
            specs.append(spec)
            continue
        named = named_like_sale(spec.name)
        if sides is None:
            if named:  # too few decided leads to check: the name alone is the only evidence
                spec = replace(spec, leak=not spec.by_user, reason="leak.name_only")
        else:
            decided, won, others = sides
            column = frame[spec.name] if rows is None else take_rows(frame[spec.name], rows)
            closing = (closed, open_) if open_ is not None and closed is not None else None
            evidence_found = column_evidence(
                spec.name,
                column,
                kind,
                won,
                mapping.placeholders,
                decided=decided,
                closing=closing,
                weights=weights,
            )
            found = strongest(evidence_found, named=named)
            if found is not None:
                reason = found.reason if not (named and not found.leaks()) else "leak.named"
                evidence = found.params + (("others", others),)
                if reason == "leak.named":
                    evidence += (("detail", found.reason),)
                # a person who said "score it" keeps it scored; the evidence is still shown
                spec = replace(spec, leak=not spec.by_user, reason=reason, evidence=evidence)
        specs.append(spec)
    return replace(mapping, leads=tuple(specs))


def _kind(spec: ColumnSpec, kind: str | None) -> str | None:
    """How a column's values are compared (number, date, category), None if not checked."""
    if spec.role in ("number", "behaviour"):
        return "number"
    if spec.role == "attribute":
        return "category"
    if spec.role == "ignore" and kind == "date":
        return "date"
    return None


# --- saying why ----------------------------------------------------------------------------


def reason_text(spec: ColumnSpec, lang: str = "en") -> str:
    """Why a column is flagged (or was, before a person overruled it), in a few words.

    >>> spec = ColumnSpec("deal_value", "number", leak=True, reason="leak.number_above",
    ...     evidence=(("side", "above"), ("cut", "0"), ("won", "100%"), ("lost", "0%"),
    ...               ("others", "lost")))
    >>> reason_text(spec), reason_text(spec, "ja")
    ('won 100% above 0, lost 0%', '受注の 100% が 0 より大きい（失注は 0%）')
    """
    return _render(spec.reason, spec.evidence, lang)


def _render(reason: str | None, evidence: tuple[tuple[str, str], ...], lang: str) -> str:
    if not reason:
        return ""
    params: dict[str, Any] = dict(evidence)
    if "others" in params:
        params["others"] = t(f"leak.others_{params['others']}", lang)
    if "detail" in params:
        detail = {k: v for k, v in params.items() if k != "detail"}
        params["detail"] = t(str(params["detail"]), lang, **detail)
    return t(reason, lang, **params)


#: Why a column of each non-scoring role is not scored.
_ROLE_REASONS = {
    "id": "left.id",
    "amount": "left.amount",
    "closed": "left.closed",
    "first_contact": "left.first_contact",
    "ignore": "left.ignore",
}


@dataclass(frozen=True)
class LeftOut:
    """A column kept out of scoring — or scored although flagged — and why."""

    column: str
    reason: str  # a message key: leak.* or left.*
    evidence: tuple[tuple[str, str], ...] = ()
    file: str = "leads"
    scored: bool = False  # flagged from evidence, scored because a person said so

    @property
    def read(self) -> bool:
        """Left out by the suggestion's reading of its values (``suggest.type.*``: an
        identifier, a generated key, an empty or constant column), not by the mapping."""
        return self.reason.startswith(READ_PREFIX)

    def why(self, lang: str = "en") -> str:
        """Why, in the reader's words (without the column's name)."""
        if self.read:  # the suggestion's own sentence, which starts with "{column}: "
            return self.line(lang).removeprefix(f"{self.column}: ")
        text = _render(self.reason, self.evidence, lang)
        return t("leak.kept", lang, why=text) if self.scored else text

    def line(self, lang: str = "en") -> str:
        """``column: why``, as the CLI prints it."""
        if self.read:
            return t(self.reason, lang, column=self.column, **dict(self.evidence))
        return t("left.line", lang, column=self.column, why=self.why(lang))

    @property
    def overrulable(self) -> bool:
        """Flagged from its data or name: a person may say it is known before the sale."""
        return self.reason.startswith("leak.") and self.reason not in (
            "leak.outcomes_file",
            "leak.user",
        )

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON record (``funnel load --json``'s ``left_out``)."""
        return {
            "column": self.column,
            "file": self.file,
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "scored": self.scored,
            "why": self.why(lang),
        }


#: The message keys of the suggestion's reading of a column (funnel.suggest.columns).
READ_PREFIX = "suggest.type."


def left_out(mapping: Mapping, read: Sequence[LeftOut] = ()) -> list[LeftOut]:
    """Every column kept out of scoring and why — flagged leaks, the id, the deal's amount and
    closing date, columns set to ignore, the outcomes file's deal details, then ``read``: the
    columns the suggestion's reading of the values leaves out
    (:func:`funnel.suggest.columns.read_left_out`) — then the columns scored although flagged
    (a person overruled the flag).

    >>> m = Mapping(leads=(ColumnSpec("id", "id"), ColumnSpec("x", "number", leak=True,
    ...     reason="leak.user"), ColumnSpec("y", "attribute")))
    >>> for item in left_out(m):
    ...     print(item.line())
    id: the lead id: an identifier, never scored
    x: marked by you as known only after the sale
    """
    out: list[LeftOut] = []
    kept: list[LeftOut] = []
    for spec in mapping.leads:
        if spec.leak:
            out.append(LeftOut(spec.name, spec.reason or "leak.user", spec.evidence))
        elif spec.overruled:
            kept.append(LeftOut(spec.name, spec.reason or "", spec.evidence, scored=True))
        elif spec.role in _ROLE_REASONS:
            out.append(LeftOut(spec.name, _ROLE_REASONS[spec.role]))
    joined = any(s.reason == "leak.outcomes_file" for s in mapping.leads)
    if not joined:  # a proposal: the deal details are joined onto the leads when loading
        for spec in mapping.outcomes:
            if spec.role in ("attribute", "number"):
                out.append(LeftOut(spec.name, "leak.outcomes_file", file="outcomes"))
    listed = {item.column for item in (*out, *kept)}
    return out + [item for item in read if item.column not in listed] + kept
