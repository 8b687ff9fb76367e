"""Export a rule set as one SQL ``SELECT`` that scores leads inside a warehouse.

:func:`ruleset_sql` writes a complete, commented query returning ``id, score, tier`` for every
row of a table that has the leads file's columns (as text or typed), for DuckDB, PostgreSQL,
Spark SQL, Snowflake and BigQuery. Every value is inlined as a literal escaped for the dialect
(a warehouse has nobody to bind parameters) and every identifier is quoted.

The query cleans each value the way loading a file does, in portable SQL:

* text is cast to text, full-width ASCII (``ＳａａＳ``, ``１２``) becomes ASCII, runs of
  whitespace become one space and the ends are trimmed;
* the mapping's placeholders (``N/A``, ``unknown``, ...) and empty cells count as missing,
  compared without case;
* numbers may have commas between thousands (``1,200``, not ``1,5``) and full-width digits;
  a cell that is not a plain decimal number counts as missing, in every dialect alike (a
  regular expression guards the cast, so ``inf``, ``NaN`` or ``0x1A`` never become numbers in
  one engine only);
* category rules and gates compare without case or spacing, which is what merging spellings
  on load amounts to.

Where the SQL can differ from the app (all rare in CRM exports):

* Unicode normalisation is limited to full-width ASCII: half-width katakana, ligatures and
  circled digits are not NFKC-folded; case folding is the engine's ``LOWER``, not Python's
  ``casefold`` (``ß`` stays ``ß``), and PostgreSQL folds the case of non-ASCII letters only in a
  database with a UTF-8 locale.
* The app matches a category rule against the surviving (most frequent) spelling exactly, so a
  rule naming a spelling that lost the merge matches nothing there but every spelling here.
* Whitespace means ASCII whitespace and Unicode space separators (not U+001C-U+001F, U+0085);
  a whitespace-only cell is missing even when the empty string is not a placeholder.
* Numbers longer than 200 characters or with an exponent beyond two digits count as missing
  (the app accepts them, but no lead has 1e100 web visits); this keeps every engine's cast
  in range. A full-width exponent letter (``１Ｅ２``) is read here, not by the app.
* Decayed activity counts read the log's timestamps with the engine's own cast, so they must
  be typed or ISO text (``2024-03-01 10:00:00``); the app reads more formats. Spark turns
  them into instants in the session's time zone, so across a daylight-saving change an age
  can differ from the app's by an hour.
* A category rule or gate on a number column compares numbers (``"3"`` matches ``3.0``).
  Typed columns are compared as the engine writes them as text: a yes/no column typed
  ``BOOLEAN`` reads ``true``/``false``.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from funnel.dialects import (
    ASCII,
    FULLWIDTH,
    GROUPED_PATTERN,
    MAX_NUMBER_CHARS,
    NUMBER_PATTERN,
    Dialect,
    SqlExportError,
    get_dialect,
    number_literal,
    parse_number,
    quote_name,
    string_literal,
    table_name,
    text_key,
)
from funnel.fragment import Fragment, balanced
from funnel.mapping import Mapping
from funnel.renderers import Operand, warehouse_sql
from funnel.rules import Rule, RuleSet
from funnel.store import DatasetInfo
from funnel.validation import DATE_ROLES, NUMBER_ROLES

ACTIVITY = "the activity log"
LEADS_ALIAS = "lead_rows"  # the leads table's name in the query when the activity log is joined


def check_dataset(info: DatasetInfo) -> None:
    """Refuse a dataset whose lead ids were made up at load (its file had no id column).

    The warehouse table has no such column, so SQL could not return an id per lead.
    """
    if info.ids_made_up:
        raise SqlExportError("no_id_in_file", name=info.name)


# --- the query -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    """A lead column the rules read, and the forms they need it in."""

    index: int
    name: str
    numeric: bool  # a number column: every rule on it compares numbers
    key: bool  # needs the lower-cased text (k<i>)
    number: bool  # needs the parsed number (n<i>)
    activity: str | None = None  # counted from the activity log: the activity type
    decayed: bool = False  # engagement rules read its count decayed with age (e<i>)


def _columns(
    rs: RuleSet, mapping: Mapping, activity_types: dict[str, str] | None = None
) -> list[_Column]:
    roles = {s.name: s.role for s in mapping.leads}
    types = activity_types if activity_types is not None else activity_columns(mapping)
    order: list[str] = []
    for name in [r.column for r in rs.rules] + [g.column for g in rs.gates]:
        if name not in order:
            order.append(name)
    missing = [c for c in order if c not in roles]
    if missing:
        raise SqlExportError(
            "unmapped_columns", columns=", ".join(missing), available=", ".join(list(roles)[:15])
        )
    dated = [c for c in order if roles[c] in DATE_ROLES]
    if dated:
        raise SqlExportError("date_columns", columns=", ".join(dated))
    out = []
    for i, name in enumerate(order, start=1):
        numeric = roles[name] in NUMBER_ROLES
        compared = any(g.column == name for g in rs.gates) or any(
            r.column == name and r.values() for r in rs.rules
        )
        counted = any(r.column == name and not r.values() for r in rs.rules)
        activity = types.get(name)
        if activity is not None:  # a count: compared and counted as a number
            decayed = rs.decay_half_life is not None and any(
                r.column == name and r.group == "engagement" for r in rs.rules
            )
            out.append(_Column(i, name, True, False, True, activity, decayed))
        else:
            out.append(_Column(i, name, numeric, not numeric and compared, numeric or counted))
    return out


def activity_columns(mapping: Mapping) -> dict[str, str]:
    """The lead columns loading counted from the activity log, and the type each counts.

    Loading names them ``activity_<type>`` (a name already taken gets a number appended, which
    :func:`funnel.scoring.source.activity_log` resolves from the stored log; pass its ``columns``).
    """
    if not mapping.activities:
        return {}
    derived = derived_columns(mapping)
    return {c: c.removeprefix("activity_") for c, where in derived.items() if where == ACTIVITY}


def derived_columns(mapping: Mapping) -> dict[str, str]:
    """Columns of a stored dataset that are not in its leads file, and where they come from.

    Loading appends one behaviour column ``activity_<type>`` per activity type after every
    column of the files, and joins the outcomes file's columns (flagged as leaks) before them.
    """
    out: dict[str, str] = {}
    if mapping.activities:
        for spec in reversed(mapping.leads):
            if spec.role != "behaviour" or not spec.name.startswith("activity_"):
                break
            out[spec.name] = ACTIVITY
    for spec in mapping.leads:
        if spec.leak and spec.reason == "leak.outcomes_file":
            out[spec.name] = "the outcomes file"
    return out


def lead_source(
    mapping: Mapping, columns: Sequence[_Column], table: str, d: Dialect
) -> tuple[str, str]:
    """The ``FROM`` target giving one row per lead with every column the rules read, and how
    the leads table's columns are qualified in it ("" when it is the leads table alone).

    Counts from the activity log come from the ``activity_counts`` step, joined on the lead id;
    columns joined in from the outcomes file are refused (they are known only after the sale).
    """
    derived = derived_columns(mapping)
    needed = [c.name for c in columns if c.name in derived and c.activity is None]
    if needed:
        raise SqlExportError("outcome_columns", columns=", ".join(needed))
    if not any(c.activity is not None for c in columns):
        return table_name(table, d), ""
    id_col = mapping.column("id")
    assert id_col is not None
    key = _id_key(id_col, d, LEADS_ALIAS)
    return (
        f"{table_name(table, d)} AS {LEADS_ALIAS}\n"
        f"    LEFT JOIN activity_counts ON activity_counts.lead_key = {key}",
        LEADS_ALIAS,
    )


def _activity_step(
    mapping: Mapping,
    columns: Sequence[_Column],
    table: str,
    d: Dialect,
    half_life: float | None = None,
) -> str:
    """Step 0: how many activities of each type each lead has, from the activity log table,
    and (with a half-life) the same counts decayed with age."""
    counted = [c for c in columns if c.activity is not None]
    if not counted:
        return ""
    lead, kind = mapping.column("id", "activities"), mapping.column("source", "activities")
    if lead is None or kind is None:
        raise SqlExportError("no_activity_columns")
    key, kind_text = _id_key(lead, d), _stripped(kind, d)
    log = table_name(table, d)
    items: list[Item] = [(f"{key} AS lead_key", lead)]
    for c in counted:
        assert c.activity is not None
        match = string_literal(c.activity, d)
        items.append(
            (f"SUM(CASE WHEN {kind_text} = {match} THEN 1 ELSE 0 END) AS a{c.index}", c.name)
        )
    decayed = [c for c in counted if c.decayed] if half_life is not None else []
    end, source, also = "", log, ""
    if decayed:
        assert half_life is not None
        ts = mapping.column("created", "activities")
        if ts is None:
            raise SqlExportError("no_activity_columns")
        seconds = d.epoch.format(x=quote_name(ts, d))
        age_days = f"GREATEST(activity_end.end_s - {seconds}, 0) / 86400.0"
        weight = f"POWER(0.5, {age_days} / {number_literal(half_life)})"
        for c in decayed:
            assert c.activity is not None
            match = string_literal(c.activity, d)
            items.append(
                (
                    f"SUM(CASE WHEN {kind_text} = {match} THEN {weight} ELSE 0 END) AS e{c.index}",
                    f"{c.name}, each activity weighing 0.5 ** (age in days / {half_life:g})",
                )
            )
        end = f"""activity_end AS (
    -- 0. The log's last activity: ages are counted back from it, in days.
    SELECT MAX({seconds}) AS end_s FROM {log}
),
"""
        source, also = f"{log} CROSS JOIN activity_end", ", and the decayed counts"
    return f"""{end}activity_counts AS (
    -- 0. From the activity log: how many activities of each type each lead has (the type
    --    compared exactly, its ends trimmed){also}.
    SELECT
{_lines(items)}
    FROM {source}
    GROUP BY {key}
),
"""


def _clean_expr(column: str, alias: str, d: Dialect, qualifier: str = "") -> tuple[str, ...]:
    """The lines cleaning one column's text (step 1 of the query)."""
    name = f"{qualifier}.{quote_name(column, d)}" if qualifier else quote_name(column, d)
    text = f"CAST({name} AS {d.text_type})"
    before, after = d.replace_spaces.format(x="\x00", p=string_literal(d.whitespace, d)).split(
        "\x00"
    )
    return (
        f"TRIM({before}TRANSLATE(",
        f"    {text},",
        f"    {string_literal(FULLWIDTH, d)},",
        f"    {string_literal(ASCII, d)}",
        f"){after}) AS {alias}",
    )


def _stripped(column: str, d: Dialect) -> str:
    """A column's text with whitespace (Unicode's too) trimmed from its ends, as loading an
    activity log trims the type (``ｗｅｂｉｎａｒ`` stays a type of its own, as it does there)."""
    ends = string_literal(f"^{d.whitespace}|{d.whitespace}$", d)
    return (
        "TRIM("
        + d.replace_spaces.format(x=f"CAST({quote_name(column, d)} AS {d.text_type})", p=ends)
        + ")"
    )


def _id_key(column: str, d: Dialect, qualifier: str = "") -> str:
    """A lead id as the text both tables are joined on (ends trimmed)."""
    name = f"{qualifier}.{quote_name(column, d)}" if qualifier else quote_name(column, d)
    return f"TRIM(CAST({name} AS {d.text_type}))"


def _number_expr(text: str, alias: str, d: Dialect) -> tuple[str, ...]:
    """The lines parsing cleaned text as a number, NULL where it is not a plain number."""
    plain = d.matches.format(x=text, p=string_literal(NUMBER_PATTERN, d))
    grouped = d.matches.format(x=text, p=string_literal(GROUPED_PATTERN, d))
    ungrouped = f"REPLACE({text}, ',', '')"
    return (
        "CASE",
        f"    WHEN LENGTH({text}) > {MAX_NUMBER_CHARS} THEN NULL",
        f"    WHEN {plain} THEN {d.to_double.format(x=text)}",
        f"    WHEN {grouped} THEN {d.to_double.format(x=ungrouped)}",
        f"END AS {alias}",
    )


def _rule_expr(rule: Rule, col: _Column, d: Dialect) -> tuple[str, str]:
    """One rule's points as SQL, and a note for the comment beside it.

    An engagement rule on a decayed count reads it (m<i>) and, as the app does, rounds its
    points to 0.1.
    """
    if col.decayed and rule.group == "engagement":
        expr, note = warehouse_sql(rule, Operand(f"m{col.index}", f"k{col.index}", col.numeric), d)
        return d.round1.format(x=expr), note + " (decayed with age)"
    return warehouse_sql(rule, Operand(f"n{col.index}", f"k{col.index}", col.numeric), d)


def _gate_expr(values: Sequence[str], col: _Column, d: Dialect) -> str:
    if col.numeric:
        numbers = [v for v in (parse_number(x) for x in values) if v is not None]
        if not numbers:
            return "FALSE"
        listed = ", ".join(dict.fromkeys(number_literal(v) for v in numbers))
        return f"COALESCE(n{col.index} IN ({listed}), FALSE)"
    listed = ", ".join(dict.fromkeys(text_key(v, d) for v in values))
    return f"COALESCE(k{col.index} IN ({listed}), FALSE)"


def _shallow(operator: str, terms: Sequence[str]) -> str:
    """Terms joined by a binary operator without a deep expression tree (as the app's own
    score, see :func:`funnel.fragment.balanced`): engines refuse or overflow on a chain of
    a thousand terms.

    >>> _shallow(" + ", ["r1", "r2"])
    'r1 + r2'
    """
    return balanced(operator, [Fragment(t) for t in terms]).sql


def _threshold(score: float) -> str | None:
    """The condition for reaching a tier's minimum (None: always)."""
    if math.isinf(score) and score < 0:
        return None
    if math.isnan(score) or math.isinf(score):
        return "FALSE"
    return f"score >= {number_literal(score)}"


def _comment(text: str) -> str:
    r"""Make user text safe inside a ``--`` comment (no line breaks).

    >>> _comment("a\nb\u2028c")
    'a b c'
    """
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)


Item = tuple[str | tuple[str, ...], str]  # a select item (one line, or several) and its note


def _lines(items: Sequence[Item], indent: str = "        ") -> str:
    """Join select items with commas, each with its note as a comment after its last line."""
    out = []
    for i, (expr, note) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        text = ("\n" + indent).join((expr,) if isinstance(expr, str) else expr)
        out.append(f"{indent}{text}{comma}" + (f"  -- {_comment(note)}" if note else ""))
    return "\n".join(out)


def ruleset_sql(
    rs: RuleSet,
    mapping: Mapping,
    *,
    dialect: str,
    table: str = "leads",
    activities_table: str = "activities",
    activity_types: dict[str, str] | None = None,
) -> str:
    """Write the rule set as one SQL ``SELECT id, score, tier`` over the leads table.

    ``table`` holds the leads file's columns under their original names, as text or typed;
    it may be qualified (``schema.table``). Rules on counts loading took from an activity log
    read ``activities_table`` (the log's columns, one row per activity), counting each lead's
    activities per type; ``activity_types`` maps those columns to their types (by default
    from their names, see :func:`activity_columns`). With a half-life, engagement rules read
    those counts decayed with age, counted back from the log's last activity as the app does
    (its timestamp column must be typed, or ISO text such as ``2024-03-01 10:00:00``). The
    result has no trailing semicolon, so it can be wrapped in ``CREATE VIEW ... AS``.
    """
    d = get_dialect(dialect)
    id_col = mapping.column("id")
    if id_col is None:
        raise SqlExportError("no_id_column")
    columns = _columns(rs, mapping, activity_types)
    source, qual = lead_source(mapping, columns, table, d)
    activity_step = _activity_step(mapping, columns, activities_table, d, rs.decay_half_life)
    by_name = {c.name: c for c in columns}
    placeholders = ", ".join(dict.fromkeys(text_key(p, d) for p in ("", *mapping.placeholders)))

    id_name = f"{qual}.{quote_name(id_col, d)}" if qual else quote_name(id_col, d)
    text_items: list[Item] = [(f"CAST({id_name} AS {d.text_type}) AS id", id_col)]
    for c in columns:
        if c.activity is not None:
            count = f"COALESCE(activity_counts.a{c.index}, 0) AS c{c.index}"
            text_items.append((count, f"{c.name}: activities of type {c.activity}"))
            if c.decayed:
                decayed = f"COALESCE(activity_counts.e{c.index}, 0) AS e{c.index}"
                text_items.append((decayed, f"{c.name}, decayed with age"))
        else:
            text_items.append((_clean_expr(c.name, f"c{c.index}", d, qual), c.name))
    value_items: list[Item] = [("id", "")]
    for c in columns:
        if c.activity is not None:
            value_items.append((f"c{c.index} AS d{c.index}", ""))
            if c.decayed:
                value_items.append((f"e{c.index}", ""))
            continue
        missing = f"CASE WHEN LOWER(c{c.index}) IN ({placeholders}) THEN NULL"
        if c.key:
            value_items.append((f"{missing} ELSE LOWER(c{c.index}) END AS k{c.index}", c.name))
        if c.number:
            value_items.append((f"{missing} ELSE c{c.index} END AS d{c.index}", c.name))
    number_items: list[Item] = [("id", "")]
    for c in columns:
        if c.key:
            number_items.append((f"k{c.index}", ""))
        if c.activity is not None:
            number_items.append((f"d{c.index} AS n{c.index}", ""))
            if c.decayed:
                number_items.append((f"e{c.index} AS m{c.index}", ""))
        elif c.number:
            number_items.append((_number_expr(f"d{c.index}", f"n{c.index}", d), c.name))
    point_items: list[Item] = [("id", "")]
    for i, rule in enumerate(rs.rules, start=1):
        expr, note = _rule_expr(rule, by_name[rule.column], d)
        point_items.append((f"{expr} AS r{i}", f"{rule.describe('en')}{note}"))
    if rs.gates:
        gates = _shallow(" OR ", [_gate_expr(g.values, by_name[g.column], d) for g in rs.gates])
        note = "; ".join(g.describe("en") for g in rs.gates)
        point_items.append((f"{gates} AS knocked_out", note))
    total = _shallow(" + ", [f"r{i}" for i in range(1, len(rs.rules) + 1)]) or "0"
    if rs.score_cap is not None:
        total = f"LEAST({total}, {int(rs.score_cap)})"
    score_items: list[Item] = [("id", ""), (f"CAST({total} AS {d.double_type}) AS score", "")]
    if rs.gates:
        score_items.append(("knocked_out", ""))

    tiers = []
    for i, tier in enumerate(rs.tiers[:-1]):
        cond = _threshold(tier.min_score)
        if i == 0 and rs.gates:
            cond = "NOT knocked_out" if cond is None else f"{cond} AND NOT knocked_out"
        tiers.append(f"        WHEN {cond or 'TRUE'} THEN {string_literal(tier.name, d)}")
    tiers.append(f"        ELSE {string_literal(rs.tiers[-1].name, d)}")
    tier_lines = "\n".join(tiers)

    header = _header(rs, mapping, d, id_col, table_name(table, d))
    if activity_step:
        header += (
            f"\n-- Activity counts come from {_comment(table_name(activities_table, d))}, the "
            "activity log\n-- (one row per activity), joined on the lead id."
        )
    return f"""{header}
WITH {activity_step}lead_text AS (
    -- 1. The columns the rules read, as text: full-width ASCII made ASCII, runs of
    --    whitespace made one space, ends trimmed.
    SELECT
{_lines(text_items)}
    FROM {source}
),
lead_values AS (
    -- 2. Placeholders and empty cells are missing; categories compare in lower case.
    SELECT
{_lines(value_items)}
    FROM lead_text
),
lead_numbers AS (
    -- 3. Numbers parsed where they are plain decimal numbers, or have commas between
    --    thousands (1,200); missing otherwise.
    SELECT
{_lines(number_items)}
    FROM lead_values
),
lead_points AS (
    -- 4. Each rule's points{", and whether a gate knocks the lead out" if rs.gates else ""}.
    SELECT
{_lines(point_items)}
    FROM lead_numbers
),
lead_scores AS (
    -- 5. The score: the sum of the points{", capped" if rs.score_cap is not None else ""}.
    SELECT
{_lines(score_items)}
    FROM lead_points
)
-- 6. The tier: the first whose minimum the score reaches{_gate_note(rs)}.
SELECT
    id,
    score,
    CASE
{tier_lines}
    END AS tier
FROM lead_scores
"""


def _gate_note(rs: RuleSet) -> str:
    if not rs.gates:
        return ""
    return f"; a knocked-out lead is never {_comment(rs.tiers[0].name)}"


def _header(rs: RuleSet, mapping: Mapping, d: Dialect, id_col: str, source: str) -> str:
    placeholders = ", ".join(repr(p) for p in mapping.placeholders) or "none"
    intro = (
        f"Lead scores and tiers for the funnel rule set {rs.name!r}, written for {d.title}. "
        f"One row per row of {source}: id (column {id_col!r} as text), score and tier. "
        "The table holds the leads file's columns under their own names, as text or typed; "
        "names are quoted, so they must match exactly, case included. "
        "Values are cleaned as funnel cleans them on load: empty cells and placeholders "
        f"({placeholders}) are missing; categories compare without case or spacing; numbers "
        "may have commas between thousands and full-width digits."
    )
    lines = textwrap.wrap(_comment(intro), width=92, break_on_hyphens=False)
    lines += ["", "Rules:", *(f"  {_comment(line)}" for line in rs.describe("en"))]
    return "\n".join(f"-- {line}".rstrip() for line in lines)
