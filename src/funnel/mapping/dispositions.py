"""Sales' verdict and first touch read from the leads export itself.

A CRM's lead export often says what sales did with each lead: a lead status (``Working -
Contacted``, ``Disqualified - No budget``, 「失注（予算なし）」), a disqualification reason, and
a first-contact date. :func:`propose_disposition` proposes which columns those are and what
each status value means, from English and Japanese headers and values, as
:func:`funnel.feedback.propose_feedback` does for a separate feedback file;
:func:`disposition_problems` refuses values nobody said the meaning of, naming rows and the
fix; :func:`disposition_pairs` turns the distinct (status, reason) pairs into dispositions and
reasons, folded as the feedback file's are. The store writes them beside the feedback file's
(:func:`funnel.feedback.sync_export_dispositions`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from funnel.mapping import DISPOSITIONS, DispositionSpec, Mapping, norm
from funnel.parsing import DEFAULT_PLACEHOLDERS, merge_spellings, normalise_token, null_placeholders
from funnel.problems import MAX_EXAMPLES, Problem
from funnel.readers import SourceFile

#: Rows a status column's values are proposed from (as the mapping's proposal reads).
SAMPLE_ROWS = 50_000

#: Headers of a lead status column that records sales' verdict (normalised with ``norm``).
STATUS_HEADERS = tuple(
    """leadstatus disposition leaddisposition salesdisposition mqlstatus qualificationstatus
    salesacceptance acceptancestatus leadqualification リードステータス 対応状況 リード状況
    見込み客ステータス 営業対応状況 営業判定 判定結果""".split()
)

#: Headers of a disqualification (rejection) reason column. A deal's lost reason is not one:
#: sales worked the lead, the deal was lost.
REASON_HEADERS = tuple(
    """disqualificationreason disqualifiedreason disqualifyreason rejectionreason
    rejectedreason rejectreason unqualifiedreason leadrejectionreason 却下理由 不採用理由
    見送り理由 失格理由 対象外理由 ディスクオリファイ理由""".split()
)

#: Headers of the date sales first touched the lead (a stage or activity date).
FIRST_CONTACT_HEADERS = tuple(
    """firstcontactdate firstcontactedat firstcontacteddate firstcontactat firstsalescontact
    firstsalescontactdate firstsalestouch firsttouchdate firsttouch firstcalldate
    firstcalldatetime firstemaildate firstengagementdate dateoffirstengagement
    firstoutreachdate firstactivitydate 初回接触日 初回接触日時 初回連絡日 初回連絡日時
    初回対応日 初回対応日時 初回架電日 初回コンタクト日 初回アプローチ日 初回商談日""".split()
)

#: Status words (compared with ``normalise_token``) beyond a feedback file's
#: (:data:`funnel.feedback.STATUS_WORDS`): CRM lead statuses, Salesforce's defaults among them.
_MORE_WORDS: dict[str, frozenset[str]] = {
    "accepted": frozenset(
        """working qualified converted contacted engaged sql sal 対応済 接触済 架電済 アポ獲得
        商談化 有効""".split()
    )
    | {"closed - converted", "working - contacted"},
    "rejected": frozenset(
        """disqualified unqualified rejected junk spam invalid duplicate recycled nurture
        nurturing 失注 却下 不採用 見送り 対象外 失格 無効 重複 ナーチャリング""".split()
    )
    | {"not converted", "closed - not converted", "not interested"},
    "not_contacted": frozenset(
        """new open untouched uncontacted unworked pending 未対応 未接触 未連絡 未着手
        新規""".split()
    )
    | {"not contacted", "open - not contacted", "not yet contacted"},
}

# "Head - tail", "Head: tail", "Head / tail", "Head（tail）", "Head (tail)"
_SPLIT = re.compile(r"^\s*(.+?)\s*(?:\s[-–—]\s|[:：/／]|\s*[（(](.+)[)）]\s*$)\s*(.*?)\s*$")


def split_status(value: str) -> tuple[str, str | None]:
    """A status value as its head and its tail (the reason it gives), if it has one.

    >>> split_status("Disqualified - No budget"), split_status("失注（予算なし）")
    (('Disqualified', 'No budget'), ('失注', '予算なし'))
    >>> split_status("見送り：時期尚早"), split_status("Working")
    (('見送り', '時期尚早'), ('Working', None))
    """
    match = _SPLIT.match(str(value))
    if match is None:
        return str(value).strip(), None
    head, inner, rest = match.group(1), match.group(2), match.group(3)
    tail = (inner if inner is not None else rest or "").strip()
    return head.strip(), tail or None


def _word(text: str) -> str | None:
    from funnel.feedback import STATUS_WORDS

    key = normalise_token(text)
    for disposition in DISPOSITIONS:
        if key in STATUS_WORDS[disposition] or key in _MORE_WORDS[disposition]:
            return disposition
    return None


def meaning(value: str) -> tuple[str | None, str | None]:
    """What a status value means on its own: a disposition and the reason it gives.

    The whole value is looked up first, then its head, then its tail; a rejection's tail is
    its reason (``Disqualified - No budget`` is rejected for "No budget").

    >>> meaning("Disqualified - No budget"), meaning("失注（予算なし）")
    (('rejected', 'No budget'), ('rejected', '予算なし'))
    >>> meaning("Open - Not Contacted"), meaning("Closed - Converted"), meaning("Maybe")
    (('not_contacted', None), ('accepted', None), (None, None))
    """
    whole = _word(value)
    if whole is not None:
        return whole, None
    head, tail = split_status(value)
    by_head = _word(head)
    if by_head is not None:
        return by_head, tail if by_head == "rejected" else None
    by_tail = _word(tail) if tail else None
    return by_tail, None


def propose_first_contact(
    columns: Sequence[str], used: Collection[str], created_headers: Sequence[str]
) -> str | None:
    """The column named for sales' first touch, when another column dates the lead's creation.

    A file whose only date is "first contact" (Olist's leads: when the lead first contacted
    the company) keeps it as the created date.

    >>> propose_first_contact(["Lead Created", "First Contact Date"], set(), ["leadcreated"])
    'First Contact Date'
    >>> propose_first_contact(["first_contact_date", "origin"], set(), ["createddate"])
    """
    free = [c for c in columns if c not in used]
    named = [c for c in free if norm(c) in FIRST_CONTACT_HEADERS]
    if not named:
        return None
    others = [c for c in free if c not in named and norm(c) in created_headers]
    if not others:
        return None
    return min(named, key=lambda c: FIRST_CONTACT_HEADERS.index(norm(c)))


def propose_disposition(
    columns: Sequence[str],
    sample: pd.DataFrame,
    outcome_column: str | None = None,
    placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS,
) -> DispositionSpec | None:
    """Propose the leads file's status and reason columns and what its status values mean.

    A status column is one named like a lead status whose values are mostly sales' verdicts
    (a column that merely shares the name is left alone); a value whose meaning is not known
    is left for a person to name (the load says which and how). The outcome column is never
    read as one.
    """
    status = None
    for col in columns:
        if norm(col) not in STATUS_HEADERS or col == outcome_column:
            continue
        values = _distinct(sample[col], placeholders)
        known = [v for v in values if meaning(v)[0] is not None]
        if values and len(known) >= 0.5 * len(values):
            status = col
            break
    reason = next((c for c in columns if norm(c) in REASON_HEADERS and c != status), None)
    if status is None and reason is None:
        return None
    spec = DispositionSpec(column=status, reason=reason)
    if status is None:
        return spec
    return with_meanings(spec, _distinct(sample[status], placeholders))


def with_meanings(spec: DispositionSpec, values: Sequence[str]) -> DispositionSpec:
    """Add the values whose meaning is known (:func:`meaning`) and not yet listed to ``spec``."""
    found: dict[str, list[str]] = {d: list(getattr(spec, d)) for d in DISPOSITIONS}
    for value in values:
        if spec.classify(value) is None:
            disposition = meaning(value)[0]
            if disposition is not None:
                found[disposition].append(value)
    return replace(
        spec,
        accepted=tuple(found["accepted"]),
        rejected=tuple(found["rejected"]),
        not_contacted=tuple(found["not_contacted"]),
    )


def with_status_meanings(mapping: Mapping, leads: SourceFile) -> Mapping:
    """Place the status values whose meaning is known (:func:`meaning`) that a status column a
    person named (a flag or a mapping file) holds and nobody placed yet."""
    spec = mapping.disposition
    if spec is None or spec.column is None or spec.column not in leads.frame.columns:
        return mapping
    sample = leads.frame[spec.column].head(SAMPLE_ROWS)
    return replace(
        mapping, disposition=with_meanings(spec, _distinct(sample, mapping.placeholders))
    )


def disposition_of(mapping: Mapping) -> DispositionSpec | None:
    """The mapping's disposition columns, without a column a person set to ``ignore``."""
    spec = mapping.disposition
    if spec is None:
        return None
    ignored = {s.name for s in mapping.leads if s.role == "ignore"}
    present = {s.name for s in mapping.leads}

    def kept(column: str | None) -> str | None:
        return column if column in present and column not in ignored else None

    spec = replace(spec, column=kept(spec.column), reason=kept(spec.reason))
    return spec if spec.columns() else None


def carry_disposition(stored: Mapping, proposed: Mapping) -> DispositionSpec | None:
    """A refresh keeps the stored disposition's value meanings; new values are proposed."""
    before, now = stored.disposition, proposed.disposition
    if before is None or now is None or before.columns() != now.columns():
        return now if before is None else before
    return with_meanings(before, [v for d in DISPOSITIONS for v in getattr(now, d)])


def disposition_problems(
    frame: pd.DataFrame, spec: DispositionSpec, file: str, placeholders: Sequence[str]
) -> list[Problem]:
    """Refuse status values whose meaning nobody said, naming the rows and the fix."""
    if spec.column is None or spec.column not in frame.columns:
        return []
    text, _ = null_placeholders(frame[spec.column].astype("str"), placeholders)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    unknown_values = [str(v) for v in uniques if spec.classify(str(v)) is None]
    if not unknown_values:
        return []
    unknown = np.isin(codes, [i for i, v in enumerate(uniques) if str(v) in unknown_values])
    rows = np.flatnonzero(unknown)[:MAX_EXAMPLES] + 2  # spreadsheet rows: the header is row 1
    listed = ", ".join(_yaml_text(v) for v in unknown_values[:MAX_EXAMPLES])
    flags = " ".join(f"--rejected {shlex.quote(v)}" for v in unknown_values[:MAX_EXAMPLES])
    return [
        Problem(
            "unknown_disposition_value",
            file,
            column=spec.column,
            rows=tuple(int(r) for r in rows),
            values=tuple(unknown_values[:MAX_EXAMPLES]),
            count=int(unknown.sum()),
            params={"yaml": f"[{listed}]", "flags": flags},
        )
    ]


def disposition_pairs(spec: DispositionSpec, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each distinct (status, reason) pair of a dataset as its disposition and reason.

    ``pairs`` has ``status``, ``reason`` (text or None) and ``n`` (leads). Returns them with
    ``disposition`` (None: not a verdict, e.g. no status), ``status_text`` (what the feedback
    table keeps as the status), ``reason_text`` (the reason column's, else a rejection's tail)
    and ``reason_group`` (reasons folded by case, width and spacing, as the feedback file's are).
    """
    out = pairs.copy()
    dispositions, reasons = [], []
    for status, reason in zip(out["status"], out["reason"], strict=True):
        given = None if reason is None or pd.isna(reason) else str(reason).strip() or None
        if spec.column is None:
            dispositions.append("rejected" if given is not None else None)
            reasons.append(given)
            continue
        if status is None or pd.isna(status):
            dispositions.append(None)
            reasons.append(None)
            continue
        disposition = spec.classify(str(status))
        tail = meaning(str(status))[1] if disposition == "rejected" else None
        dispositions.append(disposition)
        reasons.append(given if given is not None else tail)
    out["disposition"] = pd.array(dispositions, dtype="str")
    out["reason_text"] = pd.array(reasons, dtype="str")
    status_text = out["status"].where(out["status"].notna(), out["reason_text"])
    out["status_text"] = status_text.astype("str")
    weights = out["n"].where(out["reason_text"].notna(), 0).astype("int64").to_numpy()
    repeated = pd.Series(np.repeat(out["reason_text"].to_numpy(), weights), dtype="str")
    _, merges = merge_spellings(repeated)
    folded = {other: m.kept for m in merges for other in m.merged}
    trimmed = out["reason_text"].str.strip()
    out["reason_group"] = trimmed.map(lambda r: folded.get(r, r) if isinstance(r, str) else r)
    return out


def _distinct(series: pd.Series, placeholders: Sequence[str]) -> list[str]:
    values, _ = null_placeholders(series.astype("str"), placeholders)
    return sorted(str(v) for v in values.dropna().unique())


def _yaml_text(value: str) -> str:
    """A value as a single-quoted YAML scalar.

    >>> _yaml_text("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"
