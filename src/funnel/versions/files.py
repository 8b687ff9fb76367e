"""Versions as files: export (YAML/JSON with the record and the mapping), and import as a
new draft, its category values spelled as the dataset spells them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from funnel.access import Actor
from funnel.i18n import t
from funnel.mapping import Mapping
from funnel.mapping.files import MappingFileError, mapping_from_dict, mapping_to_dict
from funnel.parsing import normalise_token
from funnel.rules import (
    RuleSet,
    RuleSetError,
    Where,
    check_columns,
    ruleset_from_dict,
    ruleset_to_dict,
)
from funnel.store import DatasetInfo, Store, quote_ident
from funnel.versions.history import save_version
from funnel.versions.record import ROLES, Signoff, Version
from funnel.yamlfiles import YamlError, dump_yaml, load_yaml

#: The export document's own format version (its ``rules:`` part has the rule set's).
EXPORT_VERSION = 1


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
                str(item.get("email") or ""),
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
    store: Store,
    info: DatasetInfo,
    text: str,
    *,
    source: str,
    author: str = "",
    by: Actor | None = None,
) -> Version:
    """Save an exported (or plain) rule-set file as a new draft version of ``info``.

    Sign-offs are never imported: people sign again, in this history.
    """
    store.allow(by, "edit_versions")  # before reading the file: a refusal costs nothing
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
        by=by,
        imported_from=source,
    )
