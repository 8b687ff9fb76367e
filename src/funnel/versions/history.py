"""The append-only history of versions in the store: saving one, and reading them back."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from funnel import audit
from funnel.access import Actor
from funnel.fragment import Fragment, bind, compose
from funnel.mapping import Mapping
from funnel.mapping.files import mapping_from_dict, mapping_to_dict
from funnel.rules import RuleSet, check_columns, ruleset_from_dict, ruleset_to_dict
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import VERSION_EVENTS, VERSIONS, DatasetInfo, Store
from funnel.versions.record import Signoff, Version, VersionError, checked_text


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
    by: Actor | None = None,
    imported_from: str | None = None,
) -> Version:
    """Append a new draft version of ``rs`` (numbered after the last one of the same name).

    The metrics are measured on the whole dataset now, so versions compare on equal terms.
    ``by`` is who saves it (checked and recorded in the audit log); a signed-in person is
    the author, whatever ``author`` says.
    """
    by = store.allow(by, "edit_versions")
    if by.signed_in:
        author = by.name
    author = checked_text(author, "author", required=True)
    rationale = checked_text(rationale, "rationale")
    name = checked_text(rs.name, "name", required=True)
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
        audit.append(
            cur,
            by,
            "version.imported" if imported_from is not None else "version.saved",
            dataset=info.name,
            version_id=version_id,
            fingerprint=info.fingerprint,
            now=saved_at,
            label=f"{name} v{number}",
            **({"file": imported_from} if imported_from is not None else {}),
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
            "SELECT version_id, kind, role, person, comment, happened_at, email "
            f"FROM {VERSION_EVENTS} "
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


def _version(row: dict[str, Any], events: Sequence[tuple[Any, ...]]) -> Version:
    proposed_at, proposed_by, signoffs = None, "", []
    for _, kind, role, person, comment, at, email in events:
        if kind == "proposed" and proposed_at is None:
            proposed_at, proposed_by = at, str(person or "")
        elif kind == "signed":
            signoffs.append(Signoff(str(role), str(person), at, str(comment or ""), email or ""))
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


def _finite(value: Any) -> Any:
    """Replace NaN/inf (not valid JSON) with None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
