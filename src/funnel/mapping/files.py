"""The YAML mapping file: what ``funnel mapping`` writes and ``funnel load --mapping`` reads.

Errors name the file and the key as written in it (:class:`MappingFileError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from funnel.i18n import CodedError
from funnel.mapping import (
    MAPPING_VERSION,
    ROLES,
    ColumnSpec,
    DispositionSpec,
    Mapping,
    OutcomeSpec,
)
from funnel.parsing import DEFAULT_PLACEHOLDERS
from funnel.yamlfiles import YamlError, dump_yaml, load_yaml, read_text


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
    if mapping.disposition is not None:
        d = mapping.disposition
        out["disposition"] = {
            "column": d.column,
            "reason": d.reason,
            "accepted": list(d.accepted),
            "rejected": list(d.rejected),
            "not_contacted": list(d.not_contacted),
        }
    if mapping.activities:
        out["activities"] = {s.name: s.to_yaml_value() for s in mapping.activities}
    return out


def mapping_to_yaml(mapping: Mapping) -> str:
    """Render a mapping as YAML for the user to edit."""
    header = (
        "# funnel column mapping. Roles: id, created, source, outcome,\n"
        "# stage:<mql|sql|opportunity>, closed, amount, attribute, number, behaviour, ignore,\n"
        "# first_contact (the date sales first touched the lead).\n"
        "# `disposition:` reads sales' verdict from a status and/or reason column: which status\n"
        "# values mean accepted, rejected and not_contacted.\n"
        "# `leak: true` keeps a column out of scoring (known only after the sale); a column\n"
        "# flagged from its data says why (reason, evidence): set `leak: false` to score it.\n"
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
    disposition = None
    raw = data.get("disposition")
    if raw is not None:
        if not isinstance(raw, dict):
            raise MappingFileError("disposition_shape", where=source)
        columns = {k: raw.get(k) for k in ("column", "reason")}
        if not any(columns.values()) or any(
            v is not None and not isinstance(v, str) for v in columns.values()
        ):
            raise MappingFileError("disposition_shape", where=source)
        disposition = DispositionSpec(
            column=columns["column"],
            reason=columns["reason"],
            **{
                d: _values(raw.get(d), f"{source}: disposition.{d}")
                for d in ("accepted", "rejected", "not_contacted")
            },
        )
    return Mapping(
        leads=leads,
        outcome=outcome,
        outcomes=_specs_from(data.get("outcomes"), f"{source}: outcomes"),
        activities=_specs_from(data.get("activities"), f"{source}: activities"),
        placeholders=tuple("" if p is None else str(p) for p in placeholders),
        first_stage=str(data.get("first_stage", "lead")),
        disposition=disposition,
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
        leak, reason, by_user = False, None, False
        evidence: tuple[tuple[str, str], ...] = ()
        if isinstance(value, dict):
            by_user = "leak" in value  # said in the file: leak detection leaves it
            leak = _flag(value.get("leak", False), where, column=name)
            reason = value.get("reason")
            if reason is not None and not isinstance(reason, str):
                raise MappingFileError("reason_text", where=where, column=repr(name))
            evidence = _evidence(value.get("evidence"), where, name)
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
        specs.append(ColumnSpec(str(name), role_text, stage, leak, reason, evidence, by_user))
    return tuple(specs)


def _evidence(raw: Any, where: str, column: Any) -> tuple[tuple[str, str], ...]:
    """Read a column's ``evidence:`` (the figures its leak reason quotes), a mapping of text.

    >>> _evidence({"won": "100%", "cut": 0}, "m", "a"), _evidence(None, "m", "a")
    ((('won', '100%'), ('cut', '0')), ())
    """
    if raw is None:
        return ()
    if not isinstance(raw, dict) or any(isinstance(v, (list, dict)) for v in raw.values()):
        raise MappingFileError("evidence_shape", where=where, column=repr(column))
    return tuple((str(k), "" if v is None else str(v)) for k, v in raw.items())


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
