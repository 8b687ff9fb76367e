"""Column mapping: which column is the id, the dates, the source, the outcome, and the features.

:func:`propose_mapping` looks at headers (English and Japanese) and values and proposes a
:class:`Mapping`; the user confirms or edits it in the Data page, or overrides it with CLI flags
or a YAML file (:func:`mapping_to_yaml` / :func:`mapping_from_yaml`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

from funnel.i18n import CodedError
from funnel.parsing import (
    DEFAULT_PLACEHOLDERS,
    is_placeholder,
    normalise_token,
    null_placeholders,
    parse_dates,
    parse_numbers,
)
from funnel.problems import LoadError, Problem
from funnel.readers import SourceFile
from funnel.yamlfiles import YamlError, dump_yaml, load_yaml, read_text

Role = Literal[
    "id",
    "created",
    "source",
    "outcome",
    "stage",
    "closed",
    "amount",
    "attribute",
    "number",
    "behaviour",
    "ignore",
]
ROLES: tuple[Role, ...] = get_args(Role)
#: Roles a lead can be scored on.
FEATURE_ROLES: tuple[Role, ...] = ("source", "attribute", "number", "behaviour")
#: Roles of which a file has at most one column.
SINGLE_ROLES: tuple[Role, ...] = ("id", "created", "source", "outcome", "closed", "amount")
MAPPING_VERSION = 1


def norm(name: str) -> str:
    """Normalise a header for matching: NFKC, lower case, no spaces or punctuation.

    >>> norm(" Lead ID "), norm("リードＩＤ"), norm("first_contact_date")
    ('leadid', 'リードid', 'firstcontactdate')
    """
    s = unicodedata.normalize("NFKC", name).lower()
    return re.sub(r"[\s_\-./:()\[\]【】（）・]+", "", s)


def _words(text: str) -> tuple[str, ...]:
    """Split a whitespace-separated word list, keeping its order (earlier = preferred)."""
    return tuple(text.split())


# Header synonyms per role, English and Japanese, normalised with norm(), most specific first.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": _words(
        """id leadid mqlid contactid customerid recordid prospectid personid accountid
        leadnumber リードid 顧客id レコードid リード番号 顧客番号 管理番号 問い合わせid
        コンタクトid"""
    ),
    "created": _words(
        """created createdat createddate createdon createdate creationdate firstcontactdate
        leadcreateddate leaddate inquirydate leadcreated 作成日 作成日時 登録日 登録日時
        獲得日 リード作成日 リード獲得日 初回接触日 問い合わせ日 流入日 リード登録日"""
    ),
    "source": _words(
        """source leadsource 流入元 リードソース origin channel utmsource acquisitionchannel
        流入経路 獲得経路 チャネル 媒体 経路 leadorigin"""
    ),
    "outcome": _words(
        """outcome result won iswon converted y closedwon dealoutcome 受注 受注有無 成約
        成約有無 商談結果 結果 成否 受注フラグ"""
    ),
    "closed": _words(
        """closeddate closedate closedat wondate dealcloseddate closingdate 完了日 受注日
        成約日 クローズ日 失注日 商談完了日"""
    ),
    "amount": _words("amount dealamount dealvalue value dealsize 金額 受注金額 契約金額 商談金額"),
}
# In an outcomes file, a status column is the outcome.
_OUTCOME_FILE_OUTCOME = frozenset(
    _words("status dealstatus stage dealstage ステータス 商談ステータス")
)
_STAGE_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mql", ("mql",)),
    ("sql", ("sql",)),
    ("opportunity", ("opportunity", "opp", "商談化", "商談作成", "商談日")),
)
# Substrings of a numeric column's name that say it counts a behaviour.
_BEHAVIOUR_HINTS = tuple(
    """visit view open click download request signup submit inquir attend trial session
    pageview webinar count 訪問 閲覧 開封 クリック 請求 登録数 問い合わせ数 参加 申込 回数
    ダウンロード""".split()
)
# Names of columns recorded during or after the sale.
_LEAK_HINTS = tuple(
    """lostreason wonreason closereason lossreason salesstatus dealstage leadstatus status
    tags leadquality 失注理由 受注理由 商談ステータス ステータス""".split()
)
# Outcome values (compared with normalise_token: case-folded, single spaces).
_OUTCOME_WON = frozenset(
    _words("1 1.0 yes y true t won win closedwon 受注 成約 はい converted success ○")
) | {"closed won"}
_OUTCOME_LOST = frozenset(
    _words("0 0.0 no n false f lost lose closedlost 失注 不成約 いいえ failure ×")
) | {"closed lost", "not converted"}
_OUTCOME_OPEN = frozenset(_words("open pending 商談中 進行中 検討中 未完了")) | {"in progress"}
SAMPLE_ROWS = 50_000
LEAK_SAMPLE_ROWS = 200_000


@dataclass(frozen=True)
class ColumnSpec:
    """How one column of an input file is used."""

    name: str
    role: Role
    stage: str | None = None
    leak: bool = False
    reason: str | None = None  # i18n key + params, rendered by the UI: "leak.only_won"

    def to_yaml_value(self) -> str | dict[str, Any]:
        role = role_choice(self)
        if not self.leak:
            return role
        out: dict[str, Any] = {"role": role, "leak": True}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class OutcomeSpec:
    """Where the outcome comes from and which values mean won, lost and open."""

    file: Literal["leads", "outcomes"] = "leads"
    column: str | None = None
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    won_only: bool = False  # the outcomes file lists only won deals

    def classify(self, value: str) -> str | None:
        """Return ``won``/``lost``/``open`` for a raw value, or None if unknown.

        >>> OutcomeSpec(column="y", won=("yes",), lost=("no",)).classify(" YES ")
        'won'
        """
        key = normalise_token(value)
        for label, values in (("won", self.won), ("lost", self.lost), ("open", self.open)):
            if key in {normalise_token(v) for v in values}:
                return label
        return None

    def labels(self, series: pd.Series) -> pd.Series:
        """Classify a whole column (per distinct value, so fast on millions of rows).

        >>> OutcomeSpec(column="y", won=("1",), lost=("0",)).labels(pd.Series(["1", "0", None]))
        0     won
        1    lost
        2     NaN
        dtype: str
        """
        text = series.astype("str")
        uniques = pd.Series(text.dropna().unique(), dtype="str")
        return text.map({v: self.classify(v) for v in uniques}).astype("str")


@dataclass(frozen=True)
class Mapping:
    """The confirmed meaning of every column of the leads (and outcomes/activities) files."""

    leads: tuple[ColumnSpec, ...]
    outcome: OutcomeSpec | None = None
    outcomes: tuple[ColumnSpec, ...] = ()
    activities: tuple[ColumnSpec, ...] = ()
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    first_stage: str = "lead"
    notes: tuple[str, ...] = field(default=(), compare=False)

    def column(self, role: Role, file: str = "leads") -> str | None:
        """Return the column holding a single-valued role, if any."""
        for spec in self._specs(file):
            if spec.role == role:
                return spec.name
        return None

    def features(self) -> list[ColumnSpec]:
        """Columns a lead may be scored on: never leaks, never outcomes-file columns."""
        return [s for s in self.leads if s.role in FEATURE_ROLES and not s.leak]

    def stage_columns(self) -> dict[str, str]:
        return {s.stage: s.name for s in self.leads if s.role == "stage" and s.stage}

    def _specs(self, file: str) -> tuple[ColumnSpec, ...]:
        return {"leads": self.leads, "outcomes": self.outcomes, "activities": self.activities}[file]

    def with_role(self, name: str, role: Role, *, file: str = "leads") -> Mapping:
        """Return a copy with one column's role changed (single roles move, not duplicate)."""
        specs = list(self._specs(file))
        out = []
        for s in specs:
            if s.name == name:
                out.append(replace(s, role=role, leak=False if role in SINGLE_ROLES else s.leak))
            elif role in SINGLE_ROLES and s.role == role:
                out.append(replace(s, role=_fallback_role(s)))
            else:
                out.append(s)
        return with_specs(self, file, tuple(out))


def with_specs(mapping: Mapping, file: str, specs: tuple[ColumnSpec, ...]) -> Mapping:
    """Return the mapping with one file's column specs replaced."""
    if file == "outcomes":
        return replace(mapping, outcomes=specs)
    if file == "activities":
        return replace(mapping, activities=specs)
    return replace(mapping, leads=specs)


def _fallback_role(spec: ColumnSpec) -> Role:
    return "attribute" if spec.role in ("source", "outcome", "id") else "ignore"


@dataclass(frozen=True)
class Overrides:
    """Roles and values a person names by hand over a mapping (``funnel load``'s flags).

    ``outcome`` is the leads file's outcome column, used when ``won``/``lost`` values are given
    and the mapping has no outcome yet; ``leaks`` are columns known only after the sale;
    ``placeholders`` are extra values meaning missing.
    """

    id_column: str | None = None
    created: str | None = None
    source: str | None = None
    outcome: str | None = None
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    leaks: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()


def require_column(columns: Sequence[str], column: str, file: str) -> None:
    """Refuse a column a person named that the file does not have, listing the ones it has."""
    if column not in columns:
        available = ", ".join(list(columns)[:12])
        raise LoadError(
            [Problem("column_missing", file, column=column, params={"available": available})]
        )


def apply_overrides(mapping: Mapping, overrides: Overrides, file: str) -> Mapping:
    """Return ``mapping`` with the hand-named roles, outcome values, leaks and placeholders.

    A named column the leads file lacks is refused (:class:`~funnel.problems.LoadError`).

    >>> m = Mapping(leads=(ColumnSpec("a", "attribute"), ColumnSpec("b", "number")))
    >>> m = apply_overrides(m, Overrides(id_column="a", leaks=("b",)), "f.csv")
    >>> [(s.name, s.role, s.leak) for s in m.leads]
    [('a', 'id', False), ('b', 'number', True)]
    """
    names = [s.name for s in mapping.leads]
    roles: tuple[tuple[str | None, Role], ...] = (
        (overrides.id_column, "id"),
        (overrides.created, "created"),
        (overrides.source, "source"),
    )
    for col, role in roles:
        if col:
            require_column(names, col, file)
            mapping = mapping.with_role(col, role)
    if overrides.won or overrides.lost:
        base = mapping.outcome or OutcomeSpec(column=overrides.outcome)
        won, lost = overrides.won or base.won, overrides.lost or base.lost
        mapping = replace(mapping, outcome=replace(base, won=won, lost=lost))
    for col in overrides.leaks:
        require_column(names, col, file)
        mapping = replace(
            mapping,
            leads=tuple(
                replace(s, leak=True, reason="leak.user") if s.name == col else s
                for s in mapping.leads
            ),
        )
    if overrides.placeholders:
        mapping = replace(mapping, placeholders=mapping.placeholders + overrides.placeholders)
    return mapping


# --- proposal ----------------------------------------------------------------------------------


def propose_mapping(
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    outcome_column: str | None = None,
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
) -> Mapping:
    """Propose a mapping from headers and values; the user confirms or edits it."""
    frame = leads.frame
    sample = frame.head(SAMPLE_ROWS)
    kinds = {c: infer_kind(sample[c], placeholders) for c in leads.columns}
    used: set[str] = set()
    specs: dict[str, ColumnSpec] = {}

    def take(role: Role, name: str | None, stage: str | None = None) -> None:
        if name is not None and name not in used:
            used.add(name)
            specs[name] = ColumnSpec(name, role, stage)

    outcome_col = outcome_column if outcome_column in leads.columns else None
    if outcome_col is None and outcomes is None:
        outcome_col = _match(
            leads.columns, "outcome", used, kinds, ("text", "number"), sample, placeholders
        )
        if outcome_col is not None and not _looks_binary(sample[outcome_col], placeholders):
            outcome_col = None
    take("outcome", outcome_col)
    take("id", _pick_id(frame, kinds, used))
    take("created", _match(leads.columns, "created", used, kinds, ("date",), sample, placeholders))
    take("source", _match(leads.columns, "source", used, kinds, ("text",), sample, placeholders))
    if outcome_col is not None:
        take(
            "closed", _match(leads.columns, "closed", used, kinds, ("date",), sample, placeholders)
        )
        take(
            "amount",
            _match(leads.columns, "amount", used, kinds, ("number",), sample, placeholders),
        )
    for col in leads.columns:
        if col in used:
            continue
        kind = kinds[col]
        stage = _stage_for(col)
        if stage and (kind == "date" or _mostly(sample[col], ("date",), placeholders)):
            take("stage", col, stage)
        elif kind == "date":
            take("ignore", col)
        elif kind == "number":
            take(_numeric_role(col, sample[col]), col)
        elif _counts_behaviour(col) and _mostly(sample[col], ("number",), placeholders):
            take("behaviour", col)  # a few bad cells are reported by validation
        elif kind == "empty":
            take("ignore", col)
        else:
            take("attribute", col)
    lead_specs = tuple(specs[c] for c in leads.columns)

    outcome: OutcomeSpec | None = None
    outcome_specs: tuple[ColumnSpec, ...] = ()
    if outcome_col is not None:
        outcome = _outcome_values("leads", outcome_col, frame[outcome_col], placeholders)
    if outcomes is not None:
        outcome_specs, outcome = _propose_outcomes_file(outcomes, frame, specs, placeholders)
    activity_specs = _propose_activities(activities) if activities is not None else ()
    first_stage = "mql" if _mentions_mql(leads, specs) else "lead"
    mapping = Mapping(
        leads=lead_specs,
        outcome=outcome,
        outcomes=outcome_specs,
        activities=activity_specs,
        placeholders=tuple(placeholders),
        first_stage=first_stage,
    )
    return flag_leaks(mapping, leads, outcomes)


Kind = Literal["date", "number", "text", "empty"]


def infer_kind(series: pd.Series, placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS) -> Kind:
    """Classify a column's values as date, number, text or empty (placeholders ignored).

    >>> infer_kind(pd.Series(["2024-01-02", "2024/02/03", None]))
    'date'
    >>> infer_kind(pd.Series(["1,200", "3", "unknown"])), infer_kind(pd.Series(["a", "1"]))
    ('number', 'text')
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "text"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number" if series.notna().any() else "empty"
    values = null_placeholders(series, placeholders)[0].dropna()
    if values.empty:
        return "empty"
    head = values.head(200)  # a cheap first look rules out most text columns
    if parse_numbers(head).notna().mean() < 0.5 and parse_dates(head).notna().mean() < 0.5:
        return "text"
    nums = parse_numbers(values)
    if nums.notna().mean() >= 0.98:
        return "number"
    dates = parse_dates(values)
    if dates.notna().mean() >= 0.98:
        return "date"
    return "text"


def _match(
    columns: Iterable[str],
    role: str,
    used: set[str],
    kinds: MappingABC[str, Kind],
    allowed: Sequence[Kind],
    sample: pd.DataFrame,
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
) -> str | None:
    """Pick the column whose header is the most preferred synonym of ``role``.

    A column named for a date or number role is taken when most of its values parse, so that
    a few bad cells are reported by validation instead of hiding the column.
    """
    prefs = _SYNONYMS[role]
    ranked = sorted(
        (prefs.index(norm(c)), i, c)
        for i, c in enumerate(columns)
        if c not in used and norm(c) in prefs
    )
    for _, _, col in ranked:
        # a column named for a date may hold Excel serial day numbers (45383 is 2024-04-01)
        if kinds[col] in allowed or _mostly(sample[col], allowed, placeholders, serials=True):
            return col
    return None


def _mostly(
    series: pd.Series,
    allowed: Sequence[Kind],
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
    share: float = 0.5,
    *,
    serials: bool = False,
) -> bool:
    """Tell whether most non-missing values (placeholders are missing) parse as an allowed kind.

    With ``serials``, numbers that are Excel serial days count as dates.
    """
    values = null_placeholders(series, placeholders)[0].dropna()
    if values.empty:
        return False
    dates = parse_dates(values, serials=serials) if "date" in allowed else None
    if dates is not None and float(dates.notna().mean()) >= share:
        return True
    return "number" in allowed and float(parse_numbers(values).notna().mean()) >= share


def _pick_id(frame: pd.DataFrame, kinds: MappingABC[str, Kind], used: set[str]) -> str | None:
    """Pick the lead id: a column named like an id whose values are (nearly) all unique.

    A named id column with a few repeats or blanks is still the id, so validation can report
    them; a column merely ending in "id" must be unique to be chosen.
    """
    prefs = _SYNONYMS["id"]
    named = sorted(
        (prefs.index(norm(str(c))), i, str(c))
        for i, c in enumerate(frame.columns)
        if c not in used and norm(str(c)) in prefs
    )
    guessed = [
        str(c)
        for c in frame.columns
        if c not in used
        and norm(str(c)) not in prefs
        and re.search(r"(id|番号|コード)$", norm(str(c)))
        and kinds[str(c)] in ("text", "number")
    ]
    candidates = [(c, 0.9) for _, _, c in named] + [(c, 0.99) for c in guessed]
    for col, share in candidates:
        values = frame[col]
        if values.notna().mean() >= share and values.nunique(dropna=True) >= share * len(values):
            return col
    return None


def _stage_for(column: str) -> str | None:
    key = norm(column)
    for stage, hints in _STAGE_HINTS:
        if any(h in key for h in hints):
            return stage
    return None


def _counts_behaviour(column: str) -> bool:
    """Tell whether a column's name says it counts a behaviour (visits, opens, 訪問数, ...)."""
    key = norm(column)
    return any(h in key for h in _BEHAVIOUR_HINTS)


def _numeric_role(column: str, series: pd.Series) -> Role:
    """Classify a numeric column: a 0/1 flag, a behaviour count, an id-like number, or a number.

    A column named like a count stays a behaviour even with a negative cell, which validation
    then reports.
    """
    key = norm(column)
    values = parse_numbers(series.dropna())
    if values.nunique() <= 2 and set(values.dropna().unique()) <= {0.0, 1.0}:
        return "attribute"  # a 0/1 flag reads better as a category
    if _counts_behaviour(column):
        return "behaviour"
    whole = values.dropna()
    if (
        re.search(r"(id|number|no|num|番号|コード)$", key)
        and len(whole) > 1
        and whole.is_unique
        and bool((whole == whole.round()).all())
    ):
        return "ignore"  # a record number, not something a lead can score on
    return "number"


def _looks_binary(series: pd.Series, placeholders: Sequence[str]) -> bool:
    values = {
        normalise_token(str(v))
        for v in series.dropna().unique()[:50]
        if not is_placeholder(str(v), placeholders)
    }
    known = _OUTCOME_WON | _OUTCOME_LOST | _OUTCOME_OPEN
    return 0 < len(values) <= 6 and len(values & known) >= min(2, len(values))


def _outcome_values(
    file: Literal["leads", "outcomes"], column: str, series: pd.Series, placeholders: Sequence[str]
) -> OutcomeSpec:
    won: list[str] = []
    lost: list[str] = []
    open_: list[str] = []
    for raw in series.dropna().astype("str").unique()[:1000]:
        value = str(raw).strip()
        if is_placeholder(value, placeholders):
            continue
        key = normalise_token(value)
        if key in _OUTCOME_WON and value not in won:
            won.append(value)
        elif key in _OUTCOME_LOST and value not in lost:
            lost.append(value)
        elif key in _OUTCOME_OPEN and value not in open_:
            open_.append(value)
    return OutcomeSpec(file, column, tuple(won), tuple(lost), tuple(open_))


def _propose_outcomes_file(
    outcomes: SourceFile,
    leads_frame: pd.DataFrame,
    lead_specs: MappingABC[str, ColumnSpec],
    placeholders: Sequence[str],
) -> tuple[tuple[ColumnSpec, ...], OutcomeSpec]:
    frame = outcomes.frame
    sample = frame.head(SAMPLE_ROWS)
    kinds = {c: infer_kind(sample[c], placeholders) for c in outcomes.columns}
    lead_id = next((s.name for s in lead_specs.values() if s.role == "id"), None)
    used: set[str] = set()
    id_col = lead_id if lead_id in outcomes.columns else None
    if id_col is None and lead_id is not None:
        ids = set(leads_frame[lead_id].dropna().astype("str").head(SAMPLE_ROWS))
        overlap = {c: sample[c].dropna().astype("str").isin(ids).mean() for c in outcomes.columns}
        best = max(overlap, key=lambda c: overlap[c]) if overlap else None
        id_col = best if best is not None and overlap[best] > 0.5 else None
    if id_col is None:
        id_col = _pick_id(frame, kinds, used)
    used.add(id_col or "")
    status = next(
        (
            c
            for c in outcomes.columns
            if c not in used
            and (norm(c) in _OUTCOME_FILE_OUTCOME or norm(c) in _SYNONYMS["outcome"])
            and _looks_binary(sample[c], placeholders)
        ),
        None,
    )
    used.add(status or "")
    closed = _match(outcomes.columns, "closed", used, kinds, ("date",), sample, placeholders)
    used.add(closed or "")
    amount = _match(outcomes.columns, "amount", used, kinds, ("number",), sample, placeholders)
    specs: list[ColumnSpec] = []
    for col in outcomes.columns:
        if col == id_col:
            specs.append(ColumnSpec(col, "id"))
        elif col == status:
            specs.append(ColumnSpec(col, "outcome"))
        elif col == closed:
            specs.append(ColumnSpec(col, "closed"))
        elif col == amount:
            specs.append(ColumnSpec(col, "amount"))
        else:
            role: Role = {"number": "number", "date": "ignore", "empty": "ignore"}.get(
                kinds[col], "attribute"
            )  # type: ignore[assignment]
            specs.append(ColumnSpec(col, role, leak=True, reason="leak.outcomes_file"))
    if status is not None:
        spec = _outcome_values("outcomes", status, frame[status], placeholders)
    else:
        spec = OutcomeSpec("outcomes", None, won_only=True)
    return tuple(specs), spec


def _propose_activities(activities: SourceFile) -> tuple[ColumnSpec, ...]:
    """Pick the lead id, timestamp and activity type columns of an activity log.

    The timestamp is the column whose values are mostly dates (so a few bad cells are reported
    by validation rather than hiding the column); the type is the first text column, preferring
    names like type/activity/event.
    """
    sample = null_placeholders_frame(activities.frame.head(SAMPLE_ROWS))
    id_col = _pick_id_like(activities.columns)
    rest = [c for c in activities.columns if c != id_col]
    date_share = {c: float(parse_dates(sample[c].dropna()).notna().mean() or 0) for c in rest}
    ts = max(rest, key=lambda c: date_share[c], default=None)
    if ts is not None and date_share[ts] < 0.5:
        ts = None
    texts = [c for c in rest if c != ts and infer_kind(sample[c]) == "text"]
    hinted = [c for c in texts if any(h in norm(c) for h in _ACTIVITY_TYPE_HINTS)]
    kind = next(iter(hinted or texts), None)
    specs = []
    for col in activities.columns:
        role: Role = (
            "id"
            if col == id_col
            else "created"
            if col == ts
            else "source"
            if col == kind
            else "ignore"
        )
        specs.append(ColumnSpec(col, role))
    return tuple(specs)


_ACTIVITY_TYPE_HINTS = ("type", "activity", "event", "action", "種別", "行動", "アクション")


def null_placeholders_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of a frame with placeholder cells as NULL (default placeholder list)."""
    return pd.DataFrame({c: null_placeholders(frame[c])[0] for c in frame.columns})


def _pick_id_like(columns: Sequence[str]) -> str | None:
    for col in columns:
        if norm(col) in _SYNONYMS["id"] or re.search(r"(id|番号)$", norm(col)):
            return col
    return columns[0] if columns else None


def _mentions_mql(leads: SourceFile, specs: MappingABC[str, ColumnSpec]) -> bool:
    id_col = next((s.name for s in specs.values() if s.role == "id"), "")
    return "mql" in norm(leads.name) or "mql" in norm(id_col) or "qualifiedlead" in norm(leads.name)


# --- leak flags ------------------------------------------------------------------------------


def flag_leaks(mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None = None) -> Mapping:
    """Flag lead columns that look recorded after the sale, saying why in ``reason``.

    A column is flagged when its name says so (status, lost reason, tags...), when it is filled
    for won leads only (or never for won leads), or when one of its common values is almost
    always won. Files above 200,000 rows are checked on a seeded sample of that size.
    """
    won = outcome_flags(mapping, leads, outcomes)
    frame = leads.frame
    if len(frame) > LEAK_SAMPLE_ROWS:  # a seeded sample is ample for these checks
        rows = frame.sample(n=LEAK_SAMPLE_ROWS, random_state=0).index
        frame = frame.loc[rows]
        won = won.loc[rows] if won is not None else None
    specs = []
    for spec in mapping.leads:
        if spec.role in FEATURE_ROLES and not spec.leak and spec.role != "source":
            reason = _leak_reason(spec, frame[spec.name], won)
            if reason:
                spec = replace(spec, leak=True, reason=reason)
        specs.append(spec)
    return replace(mapping, leads=tuple(specs))


def outcome_flags(
    mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None = None
) -> pd.Series | None:
    """Return a boolean won flag per lead row (None where the outcome is unknown)."""
    spec = mapping.outcome
    if spec is None:
        return None
    if spec.file == "leads" and spec.column in leads.frame.columns:
        return spec.labels(leads.frame[spec.column]).eq("won")
    id_col = mapping.column("id")
    out_id = mapping.column("id", "outcomes")
    if outcomes is None or id_col is None or out_id is None:
        return None
    if spec.won_only:
        won_ids = set(outcomes.frame[out_id].dropna().astype("str"))
    elif spec.column is not None:
        o = outcomes.frame
        won_mask = spec.labels(o[spec.column]).eq("won")
        won_ids = set(o.loc[won_mask, out_id].dropna().astype("str"))
    else:
        return None
    return leads.frame[id_col].astype("str").isin(won_ids)


def _leak_reason(spec: ColumnSpec, series: pd.Series, won: pd.Series | None) -> str | None:
    key = norm(spec.name)
    if any(h == key or (len(h) > 5 and h in key) for h in _LEAK_HINTS):
        return "leak.name"
    if won is None:
        return None
    won = won.astype(bool)
    n_won, n_other = int(won.sum()), int((~won).sum())
    if n_won < 10 or n_other < 10:
        return None
    filled = null_placeholders(series)[0].notna()
    fill_won = float(filled[won].mean())
    fill_other = float(filled[~won].mean())
    if fill_won >= 0.2 and fill_other <= 0.01:
        return "leak.only_won"
    if fill_won == 0.0 and fill_other >= 0.05:
        return "leak.never_won"
    if spec.role == "attribute":
        base = n_won / (n_won + n_other)
        if base < 0.5:
            values = series.astype("str").str.strip().str.lower()
            stats = (
                pd.DataFrame({"v": values, "w": won})
                .groupby("v", dropna=True)["w"]
                .agg(["size", "mean"])
            )
            strong = stats[(stats["size"] >= max(30, 0.01 * len(series))) & (stats["mean"] >= 0.97)]
            if not strong.empty:
                return "leak.value_always_won"
    return None


# --- YAML ----------------------------------------------------------------------------------


def mapping_to_dict(mapping: Mapping) -> dict[str, Any]:
    """Render a mapping as plain data (the YAML/JSON form)."""
    out: dict[str, Any] = {
        "version": MAPPING_VERSION,
        "first_stage": mapping.first_stage,
        "placeholders": list(mapping.placeholders),
        "leads": {s.name: s.to_yaml_value() for s in mapping.leads},
    }
    if mapping.outcome is not None:
        o = mapping.outcome
        out["outcome"] = {
            "file": o.file,
            "column": o.column,
            "won": list(o.won),
            "lost": list(o.lost),
            "open": list(o.open),
            "won_only": o.won_only,
        }
    if mapping.outcomes:
        out["outcomes"] = {s.name: s.to_yaml_value() for s in mapping.outcomes}
    if mapping.activities:
        out["activities"] = {s.name: s.to_yaml_value() for s in mapping.activities}
    return out


def mapping_to_yaml(mapping: Mapping) -> str:
    """Render a mapping as YAML for the user to edit."""
    header = (
        "# funnel column mapping. Roles: id, created, source, outcome,\n"
        "# stage:<mql|sql|opportunity>, closed, amount, attribute, number, behaviour, ignore.\n"
        "# Add `leak: true` to keep a column out of scoring (known only after the sale).\n"
    )
    body = dump_yaml(mapping_to_dict(mapping))
    return header + body


class MappingFileError(CodedError, ValueError):
    """A mapping file that cannot be used; the message says where and how to fix it.

    ``code`` selects the message (``mappingfile.<code>``; a YAML problem keeps its own
    ``yaml.<code>``), ``where`` names the file and the key as written in it.

    >>> print(MappingFileError("no_leads", where="m.yaml").message("ja"))
    m.yaml: leads: にリードファイルの列を書いてください。
    """

    prefix = "mappingfile"
    where: str

    def __init__(self, code: str, *, where: str, **params: Any) -> None:
        super().__init__(code, where=where, **params)


def mapping_from_dict(data: Any, *, source: str = "mapping") -> Mapping:
    """Build a mapping from plain data, with errors that name the offending key."""
    if not isinstance(data, dict):
        raise MappingFileError("not_mapping", where=source)
    version = data.get("version", MAPPING_VERSION)
    try:
        version = int(version)
    except (TypeError, ValueError, OverflowError):
        raise MappingFileError("version_not_number", where=source, value=repr(version)) from None
    if version > MAPPING_VERSION:
        raise MappingFileError(
            "version_newer", where=source, version=version, supported=MAPPING_VERSION
        )
    leads = _specs_from(data.get("leads"), f"{source}: leads")
    if not leads:
        raise MappingFileError("no_leads", where=source)
    outcome = None
    if data.get("outcome") is not None and not isinstance(data["outcome"], dict):
        raise MappingFileError("outcome_shape", where=source)
    if isinstance(data.get("outcome"), dict):
        o = data["outcome"]
        file = o.get("file", "leads")
        if file not in ("leads", "outcomes"):
            raise MappingFileError("outcome_file", where=source)
        outcome = OutcomeSpec(
            file=file,
            column=None if o.get("column") is None else str(o["column"]),
            won=_values(o.get("won"), f"{source}: outcome.won"),
            lost=_values(o.get("lost"), f"{source}: outcome.lost"),
            open=_values(o.get("open"), f"{source}: outcome.open"),
            won_only=_flag(o.get("won_only", False), f"{source}: outcome.won_only"),
        )
    placeholders = data.get("placeholders", list(DEFAULT_PLACEHOLDERS))
    if not isinstance(placeholders, list):
        raise MappingFileError("placeholders", where=source)
    return Mapping(
        leads=leads,
        outcome=outcome,
        outcomes=_specs_from(data.get("outcomes"), f"{source}: outcomes"),
        activities=_specs_from(data.get("activities"), f"{source}: activities"),
        placeholders=tuple("" if p is None else str(p) for p in placeholders),
        first_stage=str(data.get("first_stage", "lead")),
    )


def _values(raw: Any, where: str) -> tuple[str, ...]:
    """Read a list of outcome values; a single value stands for a one-item list.

    >>> _values(["Won", 1], "m"), _values("Yes", "m"), _values(None, "m")
    (('Won', '1'), ('Yes',), ())
    """
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    if any(isinstance(v, (list, dict)) for v in items):
        raise MappingFileError("values_shape", where=where)
    return tuple(str(v) for v in items)


def _flag(raw: Any, where: str, column: str | None = None) -> bool:
    """Read a true/false flag (a ``column``'s ``leak:``); ``yes``/``no`` are refused rather
    than guessed."""
    if not isinstance(raw, bool):
        if column is not None:
            raise MappingFileError("leak_flag", where=where, column=repr(column), value=repr(raw))
        raise MappingFileError("flag", where=where, value=repr(raw))
    return raw


def _specs_from(section: Any, where: str) -> tuple[ColumnSpec, ...]:
    if section is None:
        return ()
    if not isinstance(section, dict):
        raise MappingFileError("specs_shape", where=where)
    specs = []
    for name, value in section.items():
        leak, reason = False, None
        if isinstance(value, dict):
            leak = _flag(value.get("leak", False), where, column=name)
            reason = value.get("reason")
            if reason is not None and not isinstance(reason, str):
                raise MappingFileError("reason_text", where=where, column=repr(name))
            value = value.get("role")
        role_text = str(value)
        stage = None
        if role_text.startswith("stage:"):
            role_text, stage = "stage", role_text.split(":", 1)[1].strip()
        if role_text not in ROLES:
            raise MappingFileError(
                "unknown_role",
                where=where,
                column=repr(name),
                role=repr(value),
                roles=", ".join(ROLES),
            )
        specs.append(ColumnSpec(str(name), role_text, stage, leak, reason))
    return tuple(specs)


def mapping_from_yaml(text: str, *, source: str = "mapping") -> Mapping:
    """Parse a mapping YAML file (safe loader only)."""
    try:
        data = load_yaml(text, source)
    except YamlError as exc:
        raise MappingFileError(f"yaml.{exc.code}", where=exc.source, **exc.params) from None
    return mapping_from_dict(data, source=source)


def read_mapping_file(path: str | Path) -> Mapping:
    """Read a mapping file written by ``funnel mapping`` (and perhaps edited by hand)."""

    def refuse(code: str, **params: Any) -> MappingFileError:
        return MappingFileError(code, where=str(path), **params)

    return mapping_from_yaml(read_text(path, refuse), source=str(path))


# --- the editable table (Data page) ----------------------------------------------------------

#: Role choices offered per column, stage dates spelled out.
ROLE_CHOICES: tuple[str, ...] = (
    "id",
    "created",
    "source",
    "outcome",
    "stage:mql",
    "stage:sql",
    "stage:opportunity",
    "closed",
    "amount",
    "attribute",
    "number",
    "behaviour",
    "ignore",
)
OUTCOMES_FILE_CHOICES: tuple[str, ...] = (
    "id",
    "outcome",
    "closed",
    "amount",
    "attribute",
    "number",
    "ignore",
)


def role_choice(spec: ColumnSpec) -> str:
    """Return the choice code of a column spec (``stage:mql`` for stage dates)."""
    return f"stage:{spec.stage}" if spec.role == "stage" else spec.role


def sample_values(series: pd.Series, k: int = 3) -> str:
    """Show a few distinct values of a column, as plain text.

    >>> sample_values(pd.Series(["a", "b", "a", None, "c", "d"]))
    'a, b, c'
    """
    head = series.iloc[:5000].dropna()  # not a copy of a million-row column on every rerun
    if head.empty:
        head = series.dropna()
    values = [str(v) for v in head.head(1000).unique()[:k]]
    return ", ".join(v if len(v) <= 30 else v[:29] + "…" for v in values)


def mapping_rows(mapping: Mapping, source: SourceFile, file: str = "leads") -> list[dict[str, Any]]:
    """Rows of the mapping editor: column, role choice, leak flag, reason key, samples."""
    return [
        {
            "column": spec.name,
            "role": role_choice(spec),
            "leak": spec.leak,
            "reason": spec.reason or "",
            "sample": sample_values(source.frame[spec.name])
            if spec.name in source.frame.columns
            else "",
        }
        for spec in mapping._specs(file)
    ]


def apply_rows(
    mapping: Mapping, rows: Iterable[MappingABC[str, Any]], file: str = "leads"
) -> Mapping:
    """Return the mapping with one file's specs replaced by the edited rows."""
    specs = []
    for row in rows:
        choice = str(row.get("role") or "ignore")
        stage = None
        if choice.startswith("stage:"):
            choice, stage = "stage", choice.split(":", 1)[1]
        role: Role = choice if choice in ROLES else "ignore"
        leak = bool(row.get("leak", False))
        reason = (str(row.get("reason") or "") or ("leak.user" if leak else None)) if leak else None
        specs.append(ColumnSpec(str(row["column"]), role, stage, leak, reason))
    return with_specs(mapping, file, tuple(specs))


def outcome_value_options(
    mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None
) -> list[str]:
    """Distinct values of the outcome column, for choosing which mean won/lost/open."""
    spec = mapping.outcome
    if spec is None or spec.column is None:
        return []
    source = leads if spec.file == "leads" else outcomes
    if source is None or spec.column not in source.frame.columns:
        return []
    values = source.frame[spec.column].dropna().astype("str").str.strip().unique()[:50]
    return [str(v) for v in values if not is_placeholder(str(v), mapping.placeholders)]
