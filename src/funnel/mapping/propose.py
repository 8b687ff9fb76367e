"""Propose a mapping from a file's headers (English and Japanese) and values.

The user confirms or edits the proposal in the Data page, or overrides it with CLI flags or a
YAML mapping file; the proposal flags likely leaks (:mod:`funnel.mapping.leaks`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from typing import Literal

import numpy as np
import pandas as pd

from funnel.mapping import ColumnSpec, Mapping, OutcomeSpec, Role, norm
from funnel.mapping.dispositions import propose_disposition, propose_first_contact
from funnel.mapping.leaks import flag_leaks
from funnel.mapping.sample import PROPOSAL_ROWS
from funnel.parsing import (
    DEFAULT_PLACEHOLDERS,
    is_placeholder,
    normalise_token,
    null_placeholders,
    parse_dates,
    parse_numbers,
)
from funnel.readers import SourceFile


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
        """outcome result won iswon converted isconverted y closedwon dealoutcome dealresult
        wonflag dealwon stage stagename dealstage opportunitystage pipelinestage salesstage
        status dealstatus opportunitystatus 受注 受注有無 成約 成約有無 商談結果 結果 成否
        受注フラグ 受注状況 商談ステータス 商談フェーズ 商談ステージ 案件ステータス フェーズ
        ステージ ステータス"""
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


# Outcome values (compared with normalise_token: case-folded, single spaces).
_OUTCOME_WON = frozenset(
    _words("1 1.0 yes y true t won win closedwon 受注 成約 はい converted success ○")
) | {"closed won"}


_OUTCOME_LOST = frozenset(
    _words("0 0.0 no n false f lost lose closedlost 失注 不成約 いいえ failure ×")
) | {"closed lost", "not converted"}


_OUTCOME_OPEN = frozenset(_words("open pending 商談中 進行中 検討中 未完了")) | {"in progress"}


# Opportunity stages of CRMs (Salesforce's and HubSpot's default pipelines, common Japanese
# ones), compared with stage_key(): no spaces or punctuation, so "Proposal/Price Quote" and
# HubSpot's internal "closedwon" both match.
_STAGE_WON = frozenset(
    _words("""closedwon won dealwon wonclosed 受注 成約 受注済 受注済み 成約済 成約済み 契約済
    契約済み 契約締結 契約""")
)
_STAGE_LOST = frozenset(
    _words("""closedlost lost deallost lostclosed 失注 不成約 失注済 失注済み 見送り 断念
    商談不成立 不採用""")
)
_STAGE_OPEN = frozenset(
    _words("""prospecting qualification needsanalysis valueproposition iddecisionmakers
    perceptionanalysis proposalpricequote negotiationreview appointmentscheduled
    qualifiedtobuy presentationscheduled decisionmakerboughtin contractsent open pending
    inprogress new working contacted discovery demo demoscheduled proposal proposalsent
    quote quotesent negotiation negotiating evaluation trial verbalcommit commit
    商談中 進行中 検討中 未完了 提案中 見積提出 見積提出済 見積中 見積提示 交渉中 初回訪問
    ヒアリング アポ獲得 アポイント 提案 見積 交渉 稟議中 契約交渉 最終交渉 契約手続中
    契約手続き中 日程調整中 デモ実施 保留""")
)


def stage_key(value: str) -> str:
    """A stage name without case, spaces or punctuation.

    >>> stage_key("Proposal/Price Quote"), stage_key("Closed Won"), stage_key("Id. Decision Makers")
    ('proposalpricequote', 'closedwon', 'iddecisionmakers')
    """
    return re.sub(r"[\W_]+", "", normalise_token(value))


def outcome_word(value: str) -> str | None:
    """What an outcome or stage value means: ``won``, ``lost``, ``open`` or None (unknown).

    >>> [outcome_word(v) for v in ("Yes", "Closed Lost", "Negotiation/Review", "見積提出", "Demo?")]
    ['won', 'lost', 'open', 'open', 'open']
    >>> outcome_word("Stage 3"), outcome_word("qualifiedtobuy")
    (None, 'open')
    """
    key = normalise_token(value)
    for label, words in (("won", _OUTCOME_WON), ("lost", _OUTCOME_LOST), ("open", _OUTCOME_OPEN)):
        if key in words:
            return label
    key = stage_key(value)
    for label, words in (("won", _STAGE_WON), ("lost", _STAGE_LOST), ("open", _STAGE_OPEN)):
        if key in words:
            return label
    return None


#: A bigger file's column kinds and roles are judged on its first rows (:mod:`.sample`).
SAMPLE_ROWS = PROPOSAL_ROWS


def propose_mapping(
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    outcome_column: str | None = None,
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
    leaks: bool = True,
) -> Mapping:
    """Propose a mapping from headers and values; the user confirms or edits it.

    With ``leaks`` (the default), columns whose data say they are known only after the sale
    are flagged, with their evidence (:func:`funnel.mapping.leaks.flag_leaks`).
    """
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
        outcome_col = _outcome_column(leads.columns, used, kinds, sample, placeholders)
    take("outcome", outcome_col)
    take("id", _pick_id(sample, kinds, used))
    # sales' first touch, when another column dates the lead (else it is the created date)
    first_contact = propose_first_contact(leads.columns, used, _SYNONYMS["created"])
    if first_contact is not None and (
        kinds[first_contact] == "date"
        or _mostly(sample[first_contact], ("date",), placeholders, serials=True)
    ):
        take("first_contact", first_contact)
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
        disposition=propose_disposition(leads.columns, sample, outcome_col, placeholders),
    )
    return flag_leaks(mapping, leads, outcomes, kinds=kinds) if leaks else mapping


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
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return _infer_kind_by_row(series, placeholders)
    if not series.notna().any():  # a wide export's unused columns: nothing to judge
        return "empty"
    # Each distinct value is judged once and weighted by how often it occurs: the same
    # shares as judging every cell (parsing decides from a value alone, or from the set of
    # values, as the day/month order does), at the cost of the column's distinct values.
    codes, uniques = pd.factorize(series.astype("str"), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="str")
    kept = null_placeholders(distinct, placeholders)[0].notna().to_numpy()
    present = codes[codes >= 0]
    weights = np.bincount(present, minlength=len(distinct))[kept]
    total = int(weights.sum())
    if total == 0:
        return "empty"
    in_order = present[kept[present]]  # the non-missing cells' values, in row order
    head = distinct.iloc[in_order[:200]].reset_index(drop=True)  # a cheap first look
    if parse_numbers(head).notna().mean() < 0.5 and parse_dates(head).notna().mean() < 0.5:
        return "text"
    values = distinct[kept]
    if int(weights[parse_numbers(values).notna().to_numpy()].sum()) / total >= 0.98:
        return "number"
    if int(weights[parse_dates(values).notna().to_numpy()].sum()) / total >= 0.98:
        return "date"
    return "text"


def _infer_kind_by_row(series: pd.Series, placeholders: Sequence[str]) -> Kind:
    """:func:`infer_kind` of a column that is neither text nor numbers, cell by cell."""
    values = null_placeholders(series, placeholders)[0].dropna()
    if values.empty:
        return "empty"
    head = values.head(200)
    if parse_numbers(head).notna().mean() < 0.5 and parse_dates(head).notna().mean() < 0.5:
        return "text"
    if parse_numbers(values).notna().mean() >= 0.98:
        return "number"
    if parse_dates(values).notna().mean() >= 0.98:
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

    Judged on the proposal's sample (the first rows); validation still checks every row.

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


#: An outcome or stage column has at most this many different values.
MAX_OUTCOME_VALUES = 40


def looks_like_outcome(
    series: pd.Series, placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS, *, stages: bool = False
) -> bool:
    """Whether a column's values read as an outcome: a few values of which at least two are
    known (yes/no, won/lost, 受注/失注), or a CRM's stages with open ones next to won and lost.

    With ``stages`` only stage names count (not yes/no or 1/0): how a column is recognised
    from its values alone, whatever its header.

    >>> looks_like_outcome(pd.Series(["yes", "no", "no"]))
    True
    >>> stages = ["Prospecting", "Closed Won", "Closed Lost", "Negotiation/Review", "Custom"]
    >>> looks_like_outcome(pd.Series(stages * 3), stages=True)
    True
    >>> looks_like_outcome(pd.Series(["yes", "no"]), stages=True)
    False
    """
    counts = series.dropna().astype("str").str.strip().value_counts()
    counts = counts[[not is_placeholder(str(v), placeholders) for v in counts.index]]
    if counts.empty or len(counts) > MAX_OUTCOME_VALUES:
        return False
    words = {str(v): outcome_word(str(v)) for v in counts.index}
    if stages:
        words = {
            v: w if stage_key(v) in _STAGE_WON | _STAGE_LOST | _STAGE_OPEN else None
            for v, w in words.items()
        }
        labels = set(words.values())
        if not {"won", "lost"} <= labels:
            return False
    elif len(counts) <= 6:
        return sum(w is not None for w in words.values()) >= min(2, len(counts))
    if "won" not in words.values():
        return False
    known_rows = sum(int(n) for v, n in counts.items() if words[str(v)] is not None)
    known_values = sum(w is not None for w in words.values())
    return known_values >= 0.6 * len(counts) and known_rows >= 0.8 * int(counts.sum())


def _outcome_column(
    columns: Sequence[str],
    used: set[str],
    kinds: MappingABC[str, Kind],
    sample: pd.DataFrame,
    placeholders: Sequence[str],
) -> str | None:
    """The leads file's outcome: a column named like one whose values read as one (the most
    preferred name first), else a text column holding a CRM's stages (Closed Won, 失注 ...)."""
    prefs = _SYNONYMS["outcome"]
    named = sorted(
        (prefs.index(norm(c)), i, c)
        for i, c in enumerate(columns)
        if c not in used and norm(c) in prefs
    )
    for _, _, col in named:
        if kinds[col] in ("text", "number") and looks_like_outcome(sample[col], placeholders):
            return col
    for col in columns:
        if col not in used and kinds[col] == "text":
            if looks_like_outcome(sample[col], placeholders, stages=True):
                return col
    return None


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
        word = outcome_word(value)
        if word == "won" and value not in won:
            won.append(value)
        elif word == "lost" and value not in lost:
            lost.append(value)
        elif word == "open" and value not in open_:
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
            and looks_like_outcome(sample[c], placeholders)
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
