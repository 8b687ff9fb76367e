"""Write the hostile-input corpus (run ``python tests/hostile/regenerate.py`` after editing).

Every file is small and deterministic except the .xlsx ones (openpyxl stamps the time into
``docProps/core.xml``). Big inputs (a 10 MB header, 10,000 columns, a 5 MB cell, a zip bomb at
the default limit) are built at test time in ``tests/unit/test_hostile.py`` instead.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
HEADER = "lead_id,created_at,source,industry,employees,web_visits,outcome"
OUTCOMES = ("Won", "Lost", "Lost", "Open")


def rows(n: int = 8, start: int = 1) -> list[list[str]]:
    """Plain, valid lead rows: ids L001.., January 2024, four outcomes in turn."""
    out = []
    for i in range(start, start + n):
        out.append(
            [
                f"L{i:03d}",
                f"2024-01-{(i % 28) + 1:02d}",
                ("web", "ads", "event", "email")[i % 4],
                ("SaaS", "Retail", "Finance")[i % 3],
                str(10 * i),
                str(i % 7),
                OUTCOMES[i % 4],
            ]
        )
    return out


def csv_text(header: str = HEADER, body: list[list[str]] | None = None, sep: str = ",") -> str:
    lines = [header] + [sep.join(r) for r in (rows() if body is None else body)]
    return "\n".join(lines) + "\n"


def with_cell(column: int, values: dict[int, str], n: int = 8) -> list[list[str]]:
    """Rows with some cells of one column replaced (keys are 0-based data row indexes)."""
    body = rows(n)
    for i, value in values.items():
        body[i][column] = value
    return body


def quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


def text_files() -> dict[str, bytes]:
    f: dict[str, str | bytes] = {}
    f["base/leads.csv"] = csv_text(body=rows(40))
    # --- empty, truncated, delimiters ------------------------------------------------------
    f["leads/empty.csv"] = b""
    f["leads/only_bom.csv"] = b"\xef\xbb\xbf"
    f["leads/blank_lines.csv"] = b"\r\n \n\t\n"
    f["leads/only_header.csv"] = HEADER + "\n"
    f["leads/headerless.csv"] = "\n".join(",".join(r) for r in rows(6)) + "\n"
    f["leads/truncated_row.csv"] = csv_text()[:-14]
    f["leads/unclosed_quote.csv"] = (
        HEADER
        + "\n"
        + "\n".join(",".join(r) for r in rows(2))
        + '\nL003,2024-01-04,"web\n'
        + "\n".join(",".join(r) for r in rows(4, start=4))
        + "\n"
    )
    mixed = rows(6)
    f["leads/mixed_delimiters.csv"] = (
        HEADER
        + "\n"
        + "\n".join((";" if i in (2, 4) else ",").join(r) for i, r in enumerate(mixed))
        + "\n"
    )
    f["leads/semicolon_named.tsv"] = csv_text(HEADER.replace(",", ";"), sep=";")
    f["leads/decimal_comma.csv"] = csv_text(
        HEADER.replace(",", ";") + ";amount",
        [r + [f"{i},{i * 5}"] for i, r in enumerate(rows(), start=1)],
        sep=";",
    )
    f["leads/cr_only_newlines.csv"] = csv_text().replace("\n", "\r")
    # a quoted line break in the last header cell: a reader that skips one *physical* line for
    # the header reads the header's second line as a hidden, won lead (L999)
    f["leads/header_smuggle.csv"] = csv_text(
        HEADER + ',"note\nL999,2024-01-01,web,SaaS,10,99,Won,x"',
        [r + [""] for r in rows()],
    )
    # Excel's Alt+Enter in header cells, saved as Excel does (CRLF rows, LF inside a cell)
    f["leads/header_line_break.csv"] = (
        "\r\n".join(
            [HEADER.replace("created_at", '"created\nat"').replace("web_visits", '"web\nvisits"')]
            + [",".join(r) for r in rows()]
        )
        + "\r\n"
    )
    # --- encodings and bytes ---------------------------------------------------------------
    f["leads/binary_junk.csv"] = bytes((i * 37 + 11) % 256 for i in range(2048))
    f["leads/latin1_junk.csv"] = "lead_id,société,région\nL1,Müller & Söhne,Île-de-France\n".encode(
        "latin-1"
    ) + bytes(range(0x80, 0x100))
    f["leads/mixed_encodings.csv"] = (
        (HEADER + "\n").encode()
        + "L001,2024-01-02,展示会,製造業,10,1,Won\n".encode()
        + "L002,2024-01-03,展示会,製造業,20,1,Lost\n".encode("cp932")
        + (",".join(rows(1, start=3)[0]) + "\n").encode()
    )
    f["leads/utf16_no_bom.csv"] = csv_text(
        HEADER, [r[:3] + ["製造業"] + r[4:] for r in rows()]
    ).encode("utf-16-le")
    f["leads/nul_in_header.csv"] = b"lead_id,sou\x00rce\nL1,web\n"
    f["leads/pdf_named_csv.csv"] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"
    # --- header names ----------------------------------------------------------------------
    f["leads/duplicate_columns.csv"] = csv_text(HEADER.replace("industry", "source"))
    f["leads/duplicate_columns_case.csv"] = csv_text(HEADER.replace("industry", "SOURCE"))
    f["leads/blank_column_names.csv"] = csv_text(
        HEADER.replace("industry", "").replace("employees", "  ")
    )
    f["leads/reserved_column.csv"] = csv_text(HEADER.replace("industry", "_funnel_outcome"))
    f["leads/control_chars.csv"] = csv_text(
        HEADER.replace("web_visits", "web_visits\x1b[2J\x1b[31m\u202e"),
        with_cell(5, {2: "-4"}),
    )
    # --- values that are code, markup or SQL -------------------------------------------------
    formulas = [
        "=cmd|' /C calc'!A0",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1:A9)",
        '=HYPERLINK("http://x","y")',
    ]
    f["leads/formulas.csv"] = csv_text(
        body=[
            [quote(f"={'cmd'}|' /C calc'!A{i}")] + r[1:3] + [quote(formulas[i % 5])] + r[4:]
            for i, r in enumerate(rows())
        ]
    )
    # a carriage return inside a quoted id, then a formula: a CSV written with minimal quoting
    # starts a new row at the \r whose first cell is the formula
    f["leads/cr_formula.csv"] = csv_text(
        body=[
            [quote(f"L{i:03d}\r=cmd|' /C calc'!A0" if i % 2 else f"L{i:03d}\n@SUM(A1)")] + r[1:]
            for i, r in enumerate(rows(), start=1)
        ]
    )
    f["leads/formula_headers.csv"] = csv_text(
        HEADER.replace("industry", quote("=cmd|' /C calc'!A0")).replace(
            "employees", quote("@SUM(A1)")
        )
    )
    markup = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "**bold** _it_",
        "[click](javascript:alert(1))",
        "# heading",
        "<b>b</b> &amp; &lt;",
        "`code` ~~strike~~",
        "$x^2$ :smile:",
    ]
    f["leads/markup_values.csv"] = csv_text(
        body=[r[:3] + [quote(markup[i])] + r[4:] for i, r in enumerate(rows())]
    )
    f["leads/markup_headers.csv"] = csv_text(
        HEADER.replace("industry", quote("<script>alert('x')</script>")).replace(
            "employees", quote("**employees** [x](http://evil)")
        )
    )
    sql = [
        '"; DROP TABLE funnel_datasets; --',
        "' OR '1'='1",
        "x'); DELETE FROM funnel_datasets; --",
        "1; SELECT * FROM information_schema.tables",
        "Robert'); DROP TABLE leads;--",
        "\\\"; ATTACH '/tmp/x.db' AS x; --",
        "$1 ? :name",
        "%s {0} %(x)s",
    ]
    f["leads/sql_values.csv"] = csv_text(
        body=[r[:3] + [quote(sql[i])] + r[4:] for i, r in enumerate(rows())]
    )
    f["leads/sql_names.csv"] = csv_text(
        HEADER.replace("industry", quote('"; DROP TABLE funnel_datasets; --'))
        .replace("employees", quote("x'); DELETE FROM funnel_datasets; --"))
        .replace("source", quote("SELECT * FROM leads"))
    )
    f["leads/unicode_names.csv"] = csv_text(
        HEADER.replace("industry", "業種 🏭")
        .replace("employees", "e\u0301mployés\u200d")
        .replace("web_visits", "زيارات web_visits"),
        [r[:3] + ["👩‍💻 Dev", r[4], r[5], r[6]] for r in rows()],
    )
    # --- absurd numbers and dates -------------------------------------------------------------
    f["leads/absurd_numbers.csv"] = csv_text(
        body=with_cell(4, {0: "1e308", 1: "-1e308", 2: "99999999999999999999999999", 3: "1e-308"})
    )
    f["leads/number_overflow.csv"] = csv_text(body=with_cell(5, {1: "1e309", 4: "-1e309"}))
    f["leads/nan_inf.csv"] = csv_text(
        body=with_cell(5, {0: "inf", 2: "-inf", 3: "Infinity", 5: "NaN"})
    )
    f["leads/date_year_0.csv"] = csv_text(body=with_cell(1, {1: "0000-01-01", 3: "0001-01-01"}))
    f["leads/date_year_9999.csv"] = csv_text(body=with_cell(1, {2: "9999-12-31"}))
    # one value that is not a number made the employees column text in a re-export
    f["leads/number_became_text.csv"] = csv_text(body=with_cell(4, {3: "about 50"}, n=40))
    f["leads/date_impossible.csv"] = csv_text(body=with_cell(1, {0: "2024-02-30", 6: "2024-13-01"}))
    # --- dates whose reading depends on more than one cell ---------------------------------
    # created at 00:30 on the 1st in Tokyo: the lead belongs to March, not to February in UTC
    f["leads/timezone_offsets.csv"] = csv_text(
        body=with_cell(
            1,
            {
                0: "2024-03-01T00:30:00+09:00",
                1: "2024-03-31T23:59:00+09:00",
                2: "2024-02-29 08:00:00Z",
                3: "2024-03-15T10:00:00-0500",
            },
        )
    )
    eras = ["令和6年4月1日", "令和元年5月1日", "R6.4.2", "平成31年4月30日", "令和6年12月31日"]
    f["leads/japanese_era_dates.csv"] = csv_text(body=with_cell(1, dict(enumerate(eras))))
    f["leads/excel_serial_dates.csv"] = csv_text(
        body=with_cell(1, {i: str(45292 + 31 * i) for i in range(8)})  # 2024-01-01 onwards
    )
    f["leads/day_first_dates.csv"] = csv_text(
        body=with_cell(1, {0: "13/01/2024", 1: "05/02/2024", 2: "28.02.2024", 3: "01-03-2024"})
    )
    # every day is 12 or less: 05/01/2024 is 5 January or 1 May, and nothing tells which
    f["leads/ambiguous_day_month.csv"] = csv_text(
        body=with_cell(1, {i: f"{(i % 12) + 1:02d}/{(i % 3) + 4:02d}/2024" for i in range(8)})
    )
    f["leads/mixed_day_month.csv"] = csv_text(
        body=with_cell(1, {0: "13/01/2024", 1: "01/31/2024", 2: "2024-01-05"})
    )
    return {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in f.items()}


# --- mappings and rule sets ---------------------------------------------------------------------

GOOD_MAPPING = (
    "version: 1\nleads:\n  lead_id: id\n  created_at: created\n  source: source\n"
    "  industry: attribute\n  employees: number\n  web_visits: behaviour\n  outcome: outcome\n"
    "outcome: {file: leads, column: outcome, won: [Won], lost: [Lost], open: [Open]}\n"
)


def laughs(tail: str) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ", ".join(["*" + previous] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n" + tail


def yaml_files() -> dict[str, bytes]:
    m: dict[str, str | bytes] = {}
    m["mappings/python_apply.yaml"] = '!!python/object/apply:os.system ["echo pwned > pwned.txt"]\n'
    m["mappings/python_name.yaml"] = "version: !!python/name:os.system\nleads: {lead_id: id}\n"
    m["mappings/custom_tag.yaml"] = "leads: !Columns {lead_id: id}\n"
    m["mappings/billion_laughs.yaml"] = laughs("leads: {lead_id: id}\nplaceholders: *i\n")
    m["mappings/deep_nesting.yaml"] = "leads: " + "[" * 3000 + "]" * 3000 + "\n"
    m["mappings/duplicate_keys.yaml"] = GOOD_MAPPING + "leads: {lead_id: ignore}\n"
    m["mappings/not_a_mapping.yaml"] = "- lead_id\n- source\n"
    m["mappings/leads_not_a_mapping.yaml"] = "leads: [lead_id, source]\n"
    m["mappings/unknown_role.yaml"] = GOOD_MAPPING.replace("source: source", "source: wizard")
    m["mappings/newer_version.yaml"] = GOOD_MAPPING.replace("version: 1", "version: 99")
    m["mappings/version_overflow.yaml"] = GOOD_MAPPING.replace("version: 1", "version: 1.0e+309")
    m["mappings/outcome_not_a_mapping.yaml"] = (
        GOOD_MAPPING.split("outcome: {")[0] + "outcome: Won\n"
    )
    m["mappings/won_not_a_list.yaml"] = GOOD_MAPPING.replace("won: [Won]", "won: {value: Won}")
    m["mappings/leak_yes.yaml"] = GOOD_MAPPING.replace(
        "industry: attribute", "industry: {role: attribute, leak: yes}"
    )
    m["mappings/sql_column_missing.yaml"] = GOOD_MAPPING.replace(
        "industry: attribute", "'\"; DROP TABLE funnel_datasets; --': attribute"
    )
    m["mappings/role_twice.yaml"] = GOOD_MAPPING.replace("industry: attribute", "industry: source")
    m["mappings/impossible_date.yaml"] = GOOD_MAPPING + "placeholders: [2024-02-30]\n"
    m["mappings/json_junk.json"] = '{"version": 1, "leads": {"lead_id": "id",,}'
    m["mappings/binary_junk.yaml"] = b"\xff\xfe\x00\x00\x9c\x80leads:\x00\xc3\x28"

    r: dict[str, str | bytes] = {}
    rule = "  - {kind: per_unit, column: web_visits, points: 2, cap: 10}\n"
    good = f"schema_version: 1\nname: hostile\nrules:\n{rule}"
    r["rules/python_apply.yaml"] = '!!python/object/apply:os.system ["echo pwned > pwned.txt"]\n'
    r["rules/python_object_new.yaml"] = (
        "name: x\nrules: !!python/object/new:subprocess.Popen [[touch, pwned.txt]]\n"
    )
    r["rules/python_name.yaml"] = "name: !!python/name:os.system\nrules: []\n"
    r["rules/custom_tag.yaml"] = "rules:\n  - !Rule {kind: category, column: industry}\n"
    r["rules/billion_laughs.yaml"] = laughs(f"description: *i\nrules:\n{rule}")
    r["rules/cyclic_alias.yaml"] = "name: x\nrules: &r [*r]\n"
    r["rules/deep_nesting.yaml"] = "rules: " + "[" * 3000 + "]" * 3000 + "\n"
    r["rules/deep_nesting.json"] = '{"rules": ' + "[" * 3000 + "]" * 3000 + "}"
    r["rules/duplicate_keys.yaml"] = good + "rules: []\n"
    r["rules/unknown_kind.yaml"] = good.replace("per_unit", "magic")
    r["rules/points_inf.yaml"] = good.replace("points: 2", "points: .inf")
    r["rules/points_nan.yaml"] = good.replace("points: 2", "points: .nan")
    r["rules/points_1e309.yaml"] = good.replace("points: 2", "points: 1.0e+309")
    r["rules/points_fraction.yaml"] = good.replace("points: 2", "points: 2.5")
    r["rules/low_1e309.yaml"] = (
        "rules:\n  - {kind: range, column: employees, low: 1.0e+309, high: null, points: 5}\n"
    )
    r["rules/low_above_high.yaml"] = (
        "rules:\n  - {kind: range, column: employees, low: 100, high: 10, points: 5}\n"
    )
    r["rules/newer_schema.yaml"] = good.replace("schema_version: 1", "schema_version: 2")
    r["rules/schema_version_text.yaml"] = good.replace("schema_version: 1", "schema_version: one")
    r["rules/surrogate_escape.json"] = '{"schema_version": 1, "name": "\\ud800 hot"}'
    r["rules/json_truncated.json"] = '{"schema_version": 1, "rules": [{"kind": "per_unit", '
    r["rules/json_trailing_junk.json"] = '{"schema_version": 1, "rules": []} {"x": 1}'
    r["rules/not_a_mapping.yaml"] = "- kind: per_unit\n- column: web_visits\n"
    r["rules/empty.yaml"] = ""
    r["rules/column_not_text.yaml"] = good.replace("column: web_visits", "column: [web, visits]")
    r["rules/impossible_date.yaml"] = (
        "rules:\n  - {kind: category, column: industry, value: 2024-02-30, points: 5}\n"
    )
    r["rules/gate_values_not_list.yaml"] = good + "gates:\n  - {column: industry, values: SaaS}\n"
    r["rules/unknown_column.yaml"] = good.replace("web_visits", "'\"; DROP TABLE x; --'")
    r["rules/tiers_not_descending.yaml"] = good + (
        "tiers:\n  - {name: hot, min_score: 10}\n  - {name: warm, min_score: 20}\n"
        "  - {name: cold, min_score: null}\n"
    )
    r["rules/one_tier.yaml"] = good + "tiers:\n  - {name: hot, min_score: 10}\n"
    r["rules/rules_not_a_list.yaml"] = "schema_version: 1\nrules: 5\n"
    r["rules/tiers_not_a_list.yaml"] = good + "tiers: 5\n"
    r["rules/points_huge_int.yaml"] = good.replace("points: 2", "points: 1" + "0" * 400)
    r["rules/binary_junk.yaml"] = b"\xff\xfe\x00\x00\x9c\x80rules:\x00\xc3\x28"
    r["rules/sql_and_markup.yaml"] = (
        'schema_version: 1\nname: "<script>alert(1)</script> **hot**"\nrules:\n'
        "  - kind: category\n    column: '\"; DROP TABLE funnel_datasets; --'\n"
        "    value: 'Retail'\n    points: 40\n"
        '  - kind: range\n    column: "x\'); DELETE FROM funnel_datasets; --"\n'
        "    low: 100\n    high: null\n    points: 30\n"
        "gates:\n  - column: SELECT * FROM leads\n    values: [\"' OR '1'='1\", ads]\n"
    )
    # terminal escapes, a carriage return and a line break in the names people read in lists
    r["rules/terminal_escapes.yaml"] = (
        'schema_version: 1\nname: "v1\\r#9   agreed (current)\\e[2K\\nfake line"\n'
        'description: "\\e]8;;https://evil.example\\e\\\\click\\u202e"\n'
        "rules:\n  - {kind: per_unit, column: web_visits, points: 2, cap: 10}\n"
        'tiers:\n  - {name: "hot\\e[31m", min_score: 10}\n  - {name: "cold\\r", min_score: null}\n'
    )
    # semantic holes: each parses, and each would silently score something else than written
    r["rules/tiers_empty.yaml"] = good + "tiers: []\n"
    r["rules/middle_tier_no_min.yaml"] = good + (
        "tiers:\n  - {name: hot, min_score: 10}\n  - {name: warm}\n  - {name: cold}\n"
    )
    r["rules/points_sexagesimal.yaml"] = good.replace("points: 2", "points: 1:30")
    r["rules/outcome_column.yaml"] = (
        "schema_version: 1\nname: cheat\nrules:\n"
        "  - {kind: category, column: outcome, value: Won, points: 100}\n"
    )
    r["rules/number_rule_on_text.yaml"] = (
        "schema_version: 1\nname: size\nrules:\n"
        "  - {kind: range, column: employees, low: 50, high: null, points: 20}\n"
    )
    r["rules/formula_export.yaml"] = (
        "schema_version: 1\nname: export\nrules:\n"
        "  - {kind: category, column: industry, value: '=cmd|'' /C calc''!A0', points: 70}\n"
        "  - {kind: per_unit, column: web_visits, points: 10}\n"
    )
    return {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in {**m, **r}.items()}


# --- binary formats -------------------------------------------------------------------------------


def xlsx(table: list[list[object]], *, formulas: tuple[int, ...] = ()) -> bytes:
    """A one-sheet workbook; strings starting with = stay text except in ``formulas`` columns."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r, values in enumerate(table, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("=") and c not in formulas:
                cell.data_type = "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def workbook(
    sheets: list[tuple[str, str, list[list[str]] | bytes]], shared: list[str] | None = None
) -> bytes:
    """A minimal, deterministic .xlsx: (name, state, rows or raw sheetData XML) per sheet.

    Rows are written as inline strings; ``shared`` adds a shared-strings part.
    """
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    overrides = [
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>',
        *[
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{main}.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        ],
    ]
    if shared is not None:
        overrides.append(
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{main}.sharedStrings+xml"/>'
        )
    members: dict[str, bytes] = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            + "".join(overrides)
            + "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
    }
    entries, rels = [], []
    for i, (name, state, content) in enumerate(sheets, start=1):
        hidden = "" if state == "visible" else f' state="{state}"'
        entries.append(f'<sheet name="{name}" sheetId="{i}"{hidden} r:id="rId{i}"/>')
        rels.append(
            f'<Relationship Id="rId{i}" Type="{office}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
        )
        if isinstance(content, bytes):
            data = content
        else:
            data = b"".join(
                b"<row>"
                + b"".join(
                    b'<c t="inlineStr"><is><t>' + escape(v).encode() + b"</t></is></c>" for v in row
                )
                + b"</row>"
                for row in content
            )
        members[f"xl/worksheets/sheet{i}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'.encode()
            + data
            + b"</sheetData></worksheet>"
        )
    members["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} {rel_ns}><sheets>'
        + "".join(entries)
        + "</sheets></workbook>"
    ).encode()
    if shared is not None:
        rels.append(
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{office}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        members["xl/sharedStrings.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="{len(shared)}" '
            f'uniqueCount="{len(shared)}">'
            + "".join(f"<si><t>{escape(v)}</t></si>" for v in shared)
            + "</sst>"
        ).encode()
    members["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{package}/relationships">'
        + "".join(rels)
        + "</Relationships>"
    ).encode()
    return zipped(members)


def entity_bomb(sheet: bytes) -> bytes:
    """The workbook's sheet with a "billion laughs" entity in a cell."""
    text = sheet.decode("utf-8")
    start = text.index("<worksheet")
    dtd = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(1, 10)
    )
    text = dtd + "]>" + text[start:].replace("<t>web</t>", "<t>&lol9;</t>", 1)
    return text.encode("utf-8")


def binary_files() -> dict[str, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = HEADER.split(",")
    body: list[list[object]] = [list(r) for r in rows()]
    good = xlsx([header, *body])
    out: dict[str, bytes] = {}
    out["leads/not_a_workbook.xlsx"] = zipped({"readme.txt": b"hello", "data.bin": bytes(64)})
    out["leads/junk_members.xlsx"] = zipped(
        {"[Content_Types].xml": b"\x00\x01<<not xml", "xl/workbook.xml": b"\xff\xfe junk"}
    )
    out["leads/truncated.xlsx"] = good[: len(good) // 2]
    out["leads/small_bomb.xlsx"] = zipped(
        {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * (4 << 20)}
    )
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["xl/worksheets/sheet1.xml"] = entity_bomb(members["xl/worksheets/sheet1.xml"])
    out["leads/entity_bomb.xlsx"] = zipped(members)
    # --- workbooks that expand without bound, and sheets that are not what they seem -----------
    # one 1 MiB shared string referenced by 6,000 cells: 18 KB that would become 6 GB of text
    out["leads/shared_string_bomb.xlsx"] = workbook(
        [
            (
                "Leads",
                "visible",
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>note</t></is></c></row>'
                + b"".join(
                    f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>'.encode()
                    for i in range(2, 6002)
                ),
            )
        ],
        shared=["x" * (1 << 20)],
    )
    # one cell in the sheet's last column (XFD, 16,384) on each of 50,000 rows
    out["leads/last_column.xlsx"] = workbook(
        [
            (
                "Leads",
                "visible",
                b'<row><c r="A1" t="inlineStr"><is><t>lead_id</t></is></c></row>'
                + b'<row><c r="XFD2"><v>1</v></c></row>' * 50_000,
            )
        ]
    )
    # one cell in column 2,000 (the most funnel reads) on each of 300,000 rows: 600 million
    # cells once laid out as a table, from a 20 KB file
    out["leads/wide_sparse.xlsx"] = workbook(
        [
            (
                "Leads",
                "visible",
                b'<row><c r="A1" t="inlineStr"><is><t>lead_id</t></is></c></row>'
                + b'<row><c r="BXX2"><v>1</v></c></row>' * 300_000,
            )
        ]
    )
    # a hidden first sheet holding one lead before the visible sheet with the real 40
    table = [header, *[list(r) for r in rows(40)]]
    out["leads/hidden_first_sheet.xlsx"] = workbook(
        [("old", "hidden", [header, list(rows(1, start=900)[0])]), ("Leads", "visible", table)]
    )
    out["leads/two_sheets.xlsx"] = workbook(
        [
            ("Leads", "visible", [header, *[list(r) for r in rows(8)]]),
            ("Q2", "visible", [header, *[list(r) for r in rows(3, start=50)]]),
            ("lookup", "veryHidden", [["code", "label"], ["1", "x"]]),
        ]
    )
    out["leads/empty_sheet.xlsx"] = xlsx([])
    out["leads/header_only.xlsx"] = xlsx([header])
    out["leads/duplicate_columns.xlsx"] = xlsx(
        [[h if h != "industry" else "Source" for h in header], *body]
    )
    out["leads/csv_named_xlsx.xlsx"] = csv_text().encode()
    text_formulas = ["=cmd|' /C calc'!A0", "=1+1", "+SUM(1,2)", "@SUM(A1)"]
    # column 4 holds text that looks like formulas; column 8 real formulas with no cached value
    out["leads/formulas.xlsx"] = xlsx(
        [
            [*header, "calc"],
            *[[*r[:3], text_formulas[i % 4], *r[4:], f"=E{i + 2}*2"] for i, r in enumerate(body)],
        ],
        formulas=(8,),
    )
    out["leads/markup_and_sql.xlsx"] = xlsx(
        [
            [
                *header[:3],
                "<script>alert(1)</script>",
                '"; DROP TABLE funnel_datasets; --',
                *header[5:],
            ],
            *[[*r[:3], "**bold** <b>x</b>", "' OR '1'='1", *r[5:]] for r in body],
        ]
    )

    def parquet(table: pa.Table) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()

    ids = pa.array([f"L{i:03d}" for i in range(1, 5)])
    created = pa.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    good_pq = parquet(pa.table({"lead_id": ids, "created_at": created}))
    out["leads/truncated.parquet"] = good_pq[: len(good_pq) // 2] + b"PAR1"
    out["leads/nested.parquet"] = parquet(
        pa.table(
            {
                "lead_id": ids,
                "created_at": created,
                "meta": [{"a": {"b": [1, 2]}}, {"a": {"b": []}}, None, {"a": None}],
                "tags": [["x", "y"], [], None, ["<script>"]],
            }
        )
    )
    out["leads/binary_text.parquet"] = parquet(
        pa.table(
            {
                "lead_id": ids,
                "created_at": created,
                "industry": pa.array([b"SaaS", "製造業".encode(), b"<b>x</b>", None], pa.binary()),
            }
        )
    )
    out["leads/binary_junk.parquet"] = parquet(
        pa.table(
            {
                "lead_id": ids,
                "created_at": created,
                "blob": pa.array([b"\xff\xfe\x00", b"\x80", b"ok", None], pa.binary()),
            }
        )
    )
    out["leads/inf_nan.parquet"] = parquet(
        pa.table(
            {
                "lead_id": ids,
                "created_at": created,
                "web_visits": [2.0, float("inf"), float("nan"), 3.0],
                "employees": [1e308, -1e308, 5e-324, -float("inf")],
            }
        )
    )
    out["leads/duplicate_columns.parquet"] = parquet(
        pa.Table.from_arrays([ids, created, ids], names=["lead_id", "created_at", "LEAD_ID"])
    )
    out["leads/zero_rows.parquet"] = parquet(
        pa.table({"lead_id": pa.array([], pa.string()), "created_at": pa.array([], pa.string())})
    )
    out["leads/dates_extreme.parquet"] = parquet(
        pa.table(
            {
                "lead_id": ids,
                "created_at": pa.array(
                    [
                        dt.date(1, 1, 1),
                        dt.date(2024, 1, 2),
                        dt.date(9999, 12, 31),
                        dt.date(2024, 1, 3),
                    ],
                    pa.date32(),
                ),
            }
        )
    )
    # five million rows of one dictionary value: 19 KB on disk, 5 GB once decoded
    n = 5_000_000
    zeros = pa.array([0] * n, pa.int32())
    bomb = pa.table(
        {
            "lead_id": pa.DictionaryArray.from_arrays(zeros, pa.array(["L1"])),
            "industry": pa.DictionaryArray.from_arrays(zeros, pa.array(["x" * 1000])),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(
        bomb,
        buffer,
        row_group_size=n,
        write_statistics=False,
        compression="zstd",
        data_page_size=1 << 30,
        store_schema=False,
    )
    out["leads/dictionary_bomb.parquet"] = buffer.getvalue()
    # the same name twice: a Parquet file may hold it, a table may not
    out["leads/duplicate_names_exact.parquet"] = parquet(
        pa.Table.from_arrays([ids, created, ids], names=["lead_id", "created_at", "lead_id"])
    )
    out["leads/reserved_column.parquet"] = parquet(
        pa.table({"lead_id": ids, "created_at": created, "_FUNNEL_amount": [1, 2, 3, 4]})
    )
    return out


def main() -> None:
    files = {**text_files(), **yaml_files(), **binary_files()}
    for name, data in sorted(files.items()):
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(files)} files under {HERE}")


if __name__ == "__main__":
    main()
