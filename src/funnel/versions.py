"""Agreed rule sets: append-only versions, sign-off by marketing and sales, exports and diffs.

A version is saved once and never changed: its rule set, the mapping of the data it was tuned
on (so the CLI can score new files the same way), who saved it and why, and the metrics at the
time. What happens to it afterwards — proposed, signed by marketing, signed by sales — is a
list of events appended beside it. Its status follows from those events: ``draft`` until
proposed, ``proposed`` until both roles have signed, then ``agreed``. The ``current`` version
of a dataset is the one agreed last; older agreed versions stay readable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.formats import shown_in
from funnel.fragment import Fragment, bind, compose
from funnel.i18n import CodedError, t
from funnel.mapping import Mapping
from funnel.mapping.files import MappingFileError, mapping_from_dict, mapping_to_dict
from funnel.parsing import normalise_token
from funnel.renderers import identity
from funnel.rules import (
    RuleSet,
    RuleSetError,
    Where,
    check_columns,
    ruleset_from_dict,
    ruleset_to_dict,
)
from funnel.rulesql import tier_case_sql
from funnel.scoring import Evaluation, evaluate, score_histogram, scored_pair
from funnel.store import (
    VERSION_EVENTS,
    VERSIONS,
    DatasetInfo,
    Store,
    quote_ident,
)
from funnel.yamlfiles import YamlError, dump_yaml, load_yaml

ROLES = ("marketing", "sales")
STATUSES = ("draft", "proposed", "agreed")
#: The export document's own format version (its ``rules:`` part has the rule set's).
EXPORT_VERSION = 1
MAX_TEXT = 2000


class VersionError(CodedError):
    """A version action that cannot be done; ``code`` selects the user-facing message.

    The field, status and role words it names are in the reader's language too.

    >>> VersionError("not_draft", label="hot v2", status="proposed").message("ja").split("。")[0]
    'hot v2 はすでに 提案中 です'
    >>> VersionError("already_signed", label="v2", role="sales", name="Kai").message("ja")[:22]
    'v2 は 営業 として Kai がすでに承認'

    """

    prefix = "versions"

    def localized(self, lang: str) -> dict[str, Any]:
        params = dict(self.params)
        if "what" in params:  # the field's name in the reader's language
            params["what"] = t(f"versions.what.{params['what']}", lang)
        if params.get("status") in STATUSES:
            params["status"] = t(f"cli.status.{params['status']}", lang)
        if params.get("role") in ROLES:  # an unknown role is what the user typed: kept as is
            params["role"] = t(f"cli.role.{params['role']}", lang)
        return params


@dataclass(frozen=True)
class Signoff:
    """One side's sign-off: ``marketing`` or ``sales``, who, when, and an optional comment."""

    role: str
    name: str
    at: datetime
    comment: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "at": self.at.isoformat(timespec="seconds"),
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Version:
    """One saved version of a rule set, with what happened to it since."""

    ruleset: RuleSet
    dataset: str
    number: int
    author: str
    rationale: str
    effective_from: date | None
    tuned_on: str
    fingerprint: str
    metrics: dict[str, Any]
    saved_at: datetime
    mapping: Mapping | None = None
    proposed_at: datetime | None = None
    proposed_by: str = ""
    signoffs: tuple[Signoff, ...] = ()
    version_id: int = field(default=0, compare=False)
    current: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return self.ruleset.name

    @property
    def status(self) -> str:
        if {s.role for s in self.signoffs} >= set(ROLES):
            return "agreed"
        return "proposed" if self.proposed_at is not None else "draft"

    @property
    def agreed_at(self) -> datetime | None:
        if self.status != "agreed":
            return None
        return max(s.at for s in self.signoffs)

    def signoff(self, role: str) -> Signoff | None:
        return next((s for s in self.signoffs if s.role == role), None)

    def label(self) -> str:
        """``name v3`` — how people refer to it."""
        return f"{self.name} v{self.number}"


# --- saving and reading --------------------------------------------------------------------------


def file_mapping(info: DatasetInfo) -> Mapping:
    """The dataset's mapping as it applies to its files: without an id column funnel made up.

    A file without a lead id gets numbered rows at load; a rule set carrying that column would
    send the CLI and the SQL export looking for it in the next file or warehouse table.
    """
    if not info.ids_made_up:
        return info.mapping
    made_up = info.mapping.column("id")
    return replace(info.mapping, leads=tuple(s for s in info.mapping.leads if s.name != made_up))


def save_version(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    *,
    author: str,
    rationale: str = "",
    effective_from: date | None = None,
    now: datetime | None = None,
) -> Version:
    """Append a new draft version of ``rs`` (numbered after the last one of the same name).

    The metrics are measured on the whole dataset now, so versions compare on equal terms.
    """
    author = _text(author, "author", required=True)
    rationale = _text(rationale, "rationale")
    name = _text(rs.name, "name", required=True)
    check_columns(rs, store.column_facts(info), source=f"rule set {name!r}")
    metrics = evaluate(score_histogram(store, info, rs), rs).as_dict()
    saved_at = (now or datetime.now()).replace(microsecond=0)
    with store.transaction() as cur:
        row = cur.execute(
            f"SELECT coalesce(max(number), 0) + 1 FROM {VERSIONS} WHERE dataset = ? AND name = ?",
            [info.name, name],
        ).fetchone()
        number = int(row[0]) if row else 1
        seq = cur.execute("SELECT nextval('funnel_version_seq')").fetchone()
        version_id = int(seq[0]) if seq else 0
        cur.execute(
            f"INSERT INTO {VERSIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                version_id,
                info.name,
                name,
                number,
                json.dumps(ruleset_to_dict(rs), ensure_ascii=False),
                json.dumps(mapping_to_dict(file_mapping(info)), ensure_ascii=False),
                author,
                rationale,
                effective_from or saved_at.date(),
                info.name,
                info.fingerprint,
                json.dumps(_finite(metrics), ensure_ascii=False),
                saved_at,
            ],
        )
    return get_version(store, version_id)


def list_versions(store: Store, dataset: str | None = None) -> list[Version]:
    """Every version (of one dataset, or all), newest first."""
    only = Fragment("") if dataset is None else compose("WHERE dataset = {d}", d=bind(dataset))
    query = compose(
        "SELECT * FROM {versions} {only} ORDER BY saved_at DESC, version_id DESC",
        versions=VERSIONS,
        only=only,
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
        names = [d[0] for d in cur.description or ()]
        events = cur.execute(
            f"SELECT version_id, kind, role, person, comment, happened_at FROM {VERSION_EVENTS} "
            "ORDER BY event_id"
        ).fetchall()
    by_version: dict[int, list[tuple[Any, ...]]] = {}
    for event in events:
        by_version.setdefault(int(event[0]), []).append(event)
    versions = [
        _version(dict(zip(names, row, strict=True)), by_version.get(int(row[0]), []))
        for row in rows
    ]
    latest: dict[str, Version] = {}
    for v in versions:
        agreed = v.agreed_at
        if agreed is None:
            continue
        best = latest.get(v.dataset)
        if best is None or (agreed, v.version_id) > (best.agreed_at, best.version_id):
            latest[v.dataset] = v
    chosen = {v.version_id for v in latest.values()}
    return [replace(v, current=v.version_id in chosen) for v in versions]


def get_version(store: Store, version_id: int) -> Version:
    """One version by its id, or ``VersionError('missing')``."""
    for v in list_versions(store):
        if v.version_id == version_id:
            return v
    raise VersionError("missing", id=version_id)


def current_version(store: Store, dataset: str) -> Version | None:
    """The dataset's current agreed version (the one agreed last), if any."""
    return next((v for v in list_versions(store, dataset) if v.current), None)


def find_version(store: Store, ref: str, dataset: str | None = None) -> Version:
    """Resolve what a user typed: ``12`` (an id), ``current``, or ``name v3`` / ``name@3``."""
    text = str(ref).strip()
    if text.lstrip("#").isdigit():
        return get_version(store, int(text.lstrip("#")))
    if text.lower() == "current":
        if dataset is None:
            raise VersionError("need_dataset")
        found = current_version(store, dataset)
        if found is None:
            raise VersionError("no_current", dataset=dataset)
        return found
    for sep in ("@", " v"):
        head, _, tail = text.rpartition(sep)
        if head and tail.isdigit():
            for v in list_versions(store, dataset):
                if v.name == head.strip() and v.number == int(tail):
                    return v
    raise VersionError("unknown_ref", ref=text)


def propose(store: Store, version_id: int, person: str, *, now: datetime | None = None) -> Version:
    """Mark a draft as proposed for sign-off."""
    person = _text(person, "name", required=True)
    v = get_version(store, version_id)
    if v.status != "draft":
        raise VersionError("not_draft", label=v.label(), status=v.status)
    _event(store, version_id, "proposed", None, person, "", now)
    return get_version(store, version_id)


def sign(
    store: Store,
    version_id: int,
    role: str,
    person: str,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> Version:
    """Record one side's sign-off; the second side's makes the version agreed (and current)."""
    if role not in ROLES:
        raise VersionError("bad_role", role=role, roles=", ".join(ROLES))
    person = _text(person, "name", required=True)
    comment = _text(comment, "comment")
    v = get_version(store, version_id)
    if v.status == "draft":
        raise VersionError("sign_draft", label=v.label())
    if v.signoff(role) is not None:
        signed = v.signoff(role)
        assert signed is not None
        raise VersionError("already_signed", label=v.label(), role=role, name=signed.name)
    other = [s for s in v.signoffs if s.role != role]
    if any(s.name.casefold() == person.casefold() for s in other):
        raise VersionError("same_person", name=person)
    _event(store, version_id, "signed", role, person, comment, now)
    return get_version(store, version_id)


def _event(
    store: Store,
    version_id: int,
    kind: str,
    role: str | None,
    person: str,
    comment: str,
    now: datetime | None,
) -> None:
    at = (now or datetime.now()).replace(microsecond=0)
    with store.transaction() as cur:
        row = cur.execute(f"SELECT coalesce(max(event_id), 0) + 1 FROM {VERSION_EVENTS}").fetchone()
        event_id = int(row[0]) if row else 1
        cur.execute(
            f"INSERT INTO {VERSION_EVENTS} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, version_id, kind, role, person, comment, at],
        )


def _version(row: dict[str, Any], events: Sequence[tuple[Any, ...]]) -> Version:
    proposed_at, proposed_by, signoffs = None, "", []
    for _, kind, role, person, comment, at in events:
        if kind == "proposed" and proposed_at is None:
            proposed_at, proposed_by = at, str(person or "")
        elif kind == "signed":
            signoffs.append(Signoff(str(role), str(person), at, str(comment or "")))
    mapping = row.get("mapping")
    return Version(
        ruleset=ruleset_from_dict(json.loads(row["ruleset"]), source="stored rule set"),
        dataset=str(row["dataset"]),
        number=int(row["number"]),
        author=str(row["author"]),
        rationale=str(row["rationale"]),
        effective_from=row["effective_from"],
        tuned_on=str(row["tuned_on"]),
        fingerprint=str(row["fingerprint"]),
        metrics=json.loads(row["metrics"]),
        saved_at=row["saved_at"],
        mapping=mapping_from_dict(json.loads(mapping), source="stored mapping")
        if mapping
        else None,
        proposed_at=proposed_at,
        proposed_by=proposed_by,
        signoffs=tuple(signoffs),
        version_id=int(row["version_id"]),
    )


def _text(value: Any, what: str, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if what != "rationale" else str(value or "").strip()
    if required and not text:
        raise VersionError("empty", what=what)
    if len(text) > MAX_TEXT:
        raise VersionError("too_long", what=what, limit=MAX_TEXT)
    return text


def _finite(value: Any) -> Any:
    """Replace NaN/inf (not valid JSON) with None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


# --- export and import ---------------------------------------------------------------------------


def version_to_dict(v: Version) -> dict[str, Any]:
    """The exported document: the rule set at the top (any rule-set reader accepts it), then
    the version's record and the mapping new files are read with."""
    out = ruleset_to_dict(v.ruleset)
    out["version"] = {
        "export_version": EXPORT_VERSION,
        "dataset": v.dataset,
        "number": v.number,
        "status": v.status,
        "author": v.author,
        "rationale": v.rationale,
        "effective_from": v.effective_from.isoformat() if v.effective_from else None,
        "saved_at": v.saved_at.isoformat(timespec="seconds"),
        "tuned_on": {"dataset": v.tuned_on, "fingerprint": v.fingerprint},
        "metrics": v.metrics,
        "proposed": (
            None
            if v.proposed_at is None
            else {"by": v.proposed_by, "at": v.proposed_at.isoformat(timespec="seconds")}
        ),
        "signoffs": [s.as_dict() for s in v.signoffs],
    }
    if v.mapping is not None:
        out["mapping"] = mapping_to_dict(v.mapping)
    return out


def rules_document(rs: RuleSet, mapping: Mapping | None) -> str:
    """A plain rule-set YAML carrying the mapping new files are read with (no version record)."""
    out = ruleset_to_dict(rs)
    if mapping is not None:
        out["mapping"] = mapping_to_dict(mapping)
    return dump_yaml(out)


def version_to_yaml(v: Version) -> str:
    return dump_yaml(version_to_dict(v))


def version_to_json(v: Version) -> str:
    return json.dumps(version_to_dict(v), ensure_ascii=False, indent=2)


def version_from_dict(data: Any, *, source: str = "rule set file") -> Version:
    """Read an exported version; a plain rule-set file gives an unsaved draft with no record."""
    rs = ruleset_from_dict(data, source=source)
    assert isinstance(data, dict)
    mapping = None
    if data.get("mapping") is not None:
        try:
            mapping = mapping_from_dict(data["mapping"], source=f"{source}: mapping")
        except MappingFileError as exc:  # its sentence, in the reader's language
            raise RuleSetError(
                f"mappingfile.{exc.code}", where=Where(exc.where), **exc.params
            ) from None
    record = data.get("version")
    if record is None:
        return Version(rs, "", 0, "", "", None, "", "", {}, datetime.min, mapping)
    where = Where(source, "version")
    if not isinstance(record, dict):
        raise RuleSetError("version_shape", where=where)
    export_version = record.get("export_version", EXPORT_VERSION)
    if not isinstance(export_version, int) or export_version > EXPORT_VERSION:
        raise RuleSetError(
            "export_newer", where=where, version=repr(export_version), supported=EXPORT_VERSION
        )
    tuned = record.get("tuned_on") or {}
    if not isinstance(tuned, dict):
        raise RuleSetError("tuned_on_shape", where=where)
    signoffs = []
    for i, item in enumerate(record.get("signoffs") or [], start=1):
        if not isinstance(item, dict) or item.get("role") not in ROLES or not item.get("name"):
            raise RuleSetError("signoff_shape", where=Where(source, "signoff", i))
        signoffs.append(
            Signoff(
                str(item["role"]),
                str(item["name"]),
                _when(item.get("at"), Where(source, "signoff", i), "at"),
                str(item.get("comment") or ""),
            )
        )
    proposed = record.get("proposed")
    if proposed is not None and not isinstance(proposed, dict):
        raise RuleSetError("proposed_shape", where=where)
    metrics = record.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise RuleSetError("metrics_shape", where=where)
    number = record.get("number", 0)
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise RuleSetError("number_not_int", where=where)
    effective = record.get("effective_from")
    return Version(
        ruleset=rs,
        dataset=str(record.get("dataset") or ""),
        number=number,
        author=str(record.get("author") or ""),
        rationale=str(record.get("rationale") or ""),
        effective_from=None if effective is None else _day(effective, where, "effective_from"),
        tuned_on=str(tuned.get("dataset") or ""),
        fingerprint=str(tuned.get("fingerprint") or ""),
        metrics=metrics,
        saved_at=_when(record.get("saved_at"), where, "saved_at"),
        mapping=mapping,
        proposed_at=None if proposed is None else _when(proposed.get("at"), where, "proposed"),
        proposed_by="" if proposed is None else str(proposed.get("by") or ""),
        signoffs=tuple(signoffs),
    )


def version_from_text(text: str, *, source: str = "rule set file") -> Version:
    """Read an exported version from YAML or JSON (safe loader: no tags, no objects)."""
    try:
        data = load_yaml(text, source)
    except YamlError as exc:  # its sentence, in the reader's language
        raise RuleSetError(f"yaml.{exc.code}", where=Where(source), **exc.params) from None
    return version_from_dict(data, source=source)


def _when(value: Any, where: Where, field: str) -> datetime:
    """Read the date and time under ``field`` (an error names it after ``where``)."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise RuleSetError("not_datetime", where=where, field=field, value=repr(value)) from None


def _day(value: Any, where: Where, field: str) -> date:
    """Read the date under ``field`` (an error names it after ``where``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleSetError("not_date", where=where, field=field, value=repr(value)) from None


def align_values(store: Store, info: DatasetInfo, rs: RuleSet) -> tuple[RuleSet, list[str]]:
    """Spell category and gate values as the dataset does; list the values it never holds.

    A load merges spellings that differ only by case or spacing into one (and the exported
    SQL compares that way), so a rule naming ``saas`` means the stored ``SaaS``.
    """
    wanted: dict[str, set[str]] = {}
    for rule in rs.rules:
        if rule.values():
            wanted.setdefault(rule.column, set()).update(rule.values())
    for gate in rs.gates:
        wanted.setdefault(gate.column, set()).update(gate.values)
    spelled: dict[tuple[str, str], str] = {}
    unknown: list[str] = []
    with store.cursor() as cur:
        for column, values in wanted.items():
            # every spelling the column holds, compared in Python with the load's own
            # normalise_token (NFKC and casefold, which SQL's lower() is not)
            text = f"CAST({quote_ident(column)} AS VARCHAR)"
            rows = cur.execute(
                f"SELECT DISTINCT {text} FROM {info.table()} WHERE {text} IS NOT NULL"
            ).fetchall()
            stored = {str(r[0]) for r in rows}
            by_key = {normalise_token(x): x for x in sorted(stored)}
            for value in sorted(values):
                match = value if value in stored else by_key.get(normalise_token(value))
                if match is None:
                    unknown.append(f"{column}: {value!r}")
                else:
                    spelled[(column, value)] = match
    rules = tuple(
        r.spelled({v: spelled[(r.column, v)] for v in r.values() if (r.column, v) in spelled})
        for r in rs.rules
    )
    gates = tuple(
        replace(g, values=tuple(spelled.get((g.column, v), v) for v in g.values)) for g in rs.gates
    )
    return replace(rs, rules=rules, gates=gates), unknown


def check_values(store: Store, info: DatasetInfo, rs: RuleSet, *, source: str) -> RuleSet:
    """Return ``rs`` spelled as the dataset does; refuse values its columns never hold."""
    check_columns(rs, store.column_facts(info), source=source)
    aligned, unknown = align_values(store, info, rs)
    if unknown:
        raise RuleSetError(
            "values_never_held",
            where=Where(source),
            name=repr(info.name),
            values="; ".join(unknown[:10]),
        )
    return aligned


def import_version(
    store: Store, info: DatasetInfo, text: str, *, source: str, author: str
) -> Version:
    """Save an exported (or plain) rule-set file as a new draft version of ``info``.

    Sign-offs are never imported: people sign again, in this history.
    """
    v = version_from_text(text, source=source)
    aligned = check_values(store, info, v.ruleset, source=source)
    note = (
        t("versions.imported", "en", file=source, label=v.label(), status=v.status)
        if v.number
        else t("versions.imported_plain", "en", file=source)
    )
    rationale = "\n\n".join(x for x in (v.rationale, note) if x)
    return save_version(
        store,
        info,
        aligned,
        author=author,
        rationale=rationale,
        effective_from=v.effective_from,
    )


# --- diff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two rule sets, as sentences (``before`` → ``after``)."""

    kind: str  # added | removed | changed
    before: str | None
    after: str | None


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions, measured on the same (current) data."""

    a: Version
    b: Version
    changes: list[Change]
    evaluation_a: Evaluation
    evaluation_b: Evaluation
    moves: list[tuple[str, str, int]]  # (tier in a, tier in b, leads), only where different
    leads: pd.DataFrame  # id, tier_a, tier_b, score_a, score_b (up to ``limit`` rows)

    @property
    def changed_leads(self) -> int:
        return sum(n for _, _, n in self.moves)

    @property
    def entered_hot(self) -> int:
        """Leads hot under b that were not hot under a."""
        hot_a, hot_b = self.a.ruleset.hot.name, self.b.ruleset.hot.name
        return sum(n for f, to, n in self.moves if to == hot_b and f != hot_a)

    @property
    def left_hot(self) -> int:
        """Leads hot under a that are not hot under b."""
        hot_a, hot_b = self.a.ruleset.hot.name, self.b.ruleset.hot.name
        return sum(n for f, to, n in self.moves if f == hot_a and to != hot_b)

    @property
    def metrics(self) -> list[tuple[str, float | None, float | None]]:
        """(metric key, value under a, value under b) for each metric a diff shows."""
        return [
            (m.key, m.value(self.evaluation_a), m.value(self.evaluation_b))
            for m in shown_in("diff")
        ]


def diff_rules(a: RuleSet, b: RuleSet, lang: str = "en", *, tiers: bool = True) -> list[Change]:
    """Rules, gates, caps, decay and (unless ``tiers`` is False) tiers that differ, in plain
    language."""
    changes: list[Change] = []
    rules_a = {identity(r): r for r in a.rules}
    rules_b = {identity(r): r for r in b.rules}
    for key, rule in rules_a.items():
        other = rules_b.get(key)
        if other is None:
            changes.append(Change("removed", rule.describe(lang), None))
        elif other != rule:
            changes.append(Change("changed", rule.describe(lang), other.describe(lang)))
    changes += [
        Change("added", None, r.describe(lang)) for k, r in rules_b.items() if k not in rules_a
    ]
    gates_a, gates_b = set(a.gates), set(b.gates)
    changes += [Change("removed", g.describe(lang), None) for g in a.gates if g not in gates_b]
    changes += [Change("added", None, g.describe(lang)) for g in b.gates if g not in gates_a]
    for attr, message in (("score_cap", "rule.score_cap"), ("decay_half_life", "rule.decay")):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            kind = "added" if va is None else "removed" if vb is None else "changed"
            changes.append(
                Change(
                    kind,
                    None if va is None else t(message, lang, cap=va, days=va),
                    None if vb is None else t(message, lang, cap=vb, days=vb),
                )
            )
    lines_a, lines_b = _tier_lines(a, lang), _tier_lines(b, lang)
    if tiers and lines_a != lines_b:
        for i in range(max(len(lines_a), len(lines_b))):
            la = lines_a[i] if i < len(lines_a) else None
            lb = lines_b[i] if i < len(lines_b) else None
            if la != lb:
                kind = "changed" if la and lb else "added" if lb else "removed"
                changes.append(Change(kind, la, lb))
    return changes


def _tier_lines(rs: RuleSet, lang: str) -> list[str]:
    lines = [line for line in rs.describe(lang)]
    return lines[len(lines) - len(rs.tiers) :]


def compare_versions(
    store: Store,
    info: DatasetInfo,
    a: Version,
    b: Version,
    *,
    filters: Filters = NO_FILTERS,
    lang: str = "en",
    limit: int = 500,
) -> VersionDiff:
    """Diff two versions: rule changes, metric deltas and tier moves on ``info``'s data now."""
    evs = []
    for v in (a, b):
        check_columns(v.ruleset, store.column_facts(info), source=v.label())
        evs.append(evaluate(score_histogram(store, info, v.ruleset, filters), v.ruleset))
    moves, leads = tier_moves(store, info, a.ruleset, b.ruleset, filters, limit=limit)
    changes = diff_rules(a.ruleset, b.ruleset, lang)
    return VersionDiff(a, b, changes, evs[0], evs[1], moves, leads)


def tier_moves(
    store: Store,
    info: DatasetInfo,
    a: RuleSet,
    b: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    limit: int = 500,
) -> tuple[list[tuple[str, str, int]], pd.DataFrame]:
    """Leads whose tier differs between two rule sets: counts per (from, to) and a list."""
    head = compose(
        """
        {pair},
        tiered AS (
            SELECT CAST(id AS VARCHAR) AS id, score_a, score_b, outcome,
                   {tier_a} AS tier_a, {tier_b} AS tier_b
            FROM pair
        )""",
        pair=scored_pair(store, info, a, b, filters),
        tier_a=tier_case_sql(a, "score_a", "gated_a"),
        tier_b=tier_case_sql(b, "score_b", "gated_b"),
    )
    counts = compose(
        "{head} SELECT tier_a, tier_b, count(*) FROM tiered WHERE tier_a <> tier_b "
        "GROUP BY ALL ORDER BY 3 DESC",
        head=head,
    )
    listed = compose(
        "{head} SELECT id, tier_a, tier_b, score_a, score_b, outcome FROM tiered "
        "WHERE tier_a <> tier_b ORDER BY score_b DESC, id LIMIT {limit}",
        head=head,
        limit=bind(limit),
    )
    with store.cursor() as cur:
        rows = cur.execute(counts.sql, counts.args).fetchall()
        leads = cur.execute(listed.sql, listed.args).df()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows], leads


__all__ = [
    "Change",
    "ROLES",
    "Signoff",
    "Version",
    "VersionDiff",
    "VersionError",
    "check_values",
    "compare_versions",
    "current_version",
    "diff_rules",
    "find_version",
    "get_version",
    "import_version",
    "list_versions",
    "propose",
    "save_version",
    "sign",
    "tier_moves",
    "version_from_text",
    "version_to_json",
    "version_to_yaml",
]
