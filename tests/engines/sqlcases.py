"""Lead files, rule sets and the app's answers that the exported SQL is checked against.

Shared by ``tests/unit/test_sqlexport.py`` (DuckDB) and ``tests/engines`` (PostgreSQL, Spark):
each case is a raw CSV file, loaded through the real ingest path into a store, and the tiers
``scoring.score_leads`` gives every lead there. An engine loads the same raw file as an
all-text table, runs the exported SQL and must agree lead by lead.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from funnel.demo import COLUMNS_JA, VALUES_JA, generate_leads
from funnel.dialects import clean_text, parse_number
from funnel.ingest import load_files, read_inputs
from funnel.mapping import ColumnSpec, Mapping, OutcomeSpec
from funnel.rules import (
    MAX_RULES,
    CategoryRule,
    CompareRule,
    CountRule,
    Gate,
    PerUnitRule,
    RangeRule,
    Rule,
    RuleSet,
    SetRule,
    Tier,
)
from funnel.scoring.leads import score_leads
from funnel.scoring.source import activity_log
from funnel.store import Store

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "sql"
GOLDEN_TABLE = "crm.leads"

# --- the golden case: every rule kind and awkward names and values --------------------------

INDUSTRY = "業種"
PARTNER = 'partner "type"'
EMPLOYEES = "従業員数"
VISITS = "Web visits"
OPENS = "email opens"
INQUIRIES = "inquiries"
EMAIL = "メール種別"

GOLDEN_MAPPING = Mapping(
    leads=(
        ColumnSpec("lead id", "id"),
        ColumnSpec("作成日", "created"),
        ColumnSpec(INDUSTRY, "attribute"),
        ColumnSpec(PARTNER, "attribute"),
        ColumnSpec(EMPLOYEES, "number"),
        ColumnSpec(VISITS, "behaviour"),
        ColumnSpec(OPENS, "behaviour"),
        ColumnSpec(INQUIRIES, "behaviour"),
        ColumnSpec(EMAIL, "attribute"),
        ColumnSpec("outcome", "outcome"),
    ),
    outcome=OutcomeSpec("leads", "outcome", won=("won",), lost=("lost",)),
)

GOLDEN_RULES = RuleSet(
    name="golden: 全部の規則",
    rules=(
        CategoryRule(INDUSTRY, "IT・ソフトウェア", 15),
        CategoryRule(PARTNER, "O'Reilly", 10),
        CategoryRule(EMAIL, "Corporate", 5),
        RangeRule(EMPLOYEES, 300, 1000, 10),
        RangeRule(EMPLOYEES, None, 50, -5),
        RangeRule(EMPLOYEES, 1000, None, 20),
        PerUnitRule(VISITS, 2, cap=20),
        PerUnitRule(OPENS, -1, cap=5),
        PerUnitRule(INQUIRIES, 3),
        CountRule(INQUIRIES, 2, 15),
        CountRule(OPENS, 10, -10),
        SetRule(INDUSTRY, ("製造業", "小売", "O'Brien"), 4),
        CompareRule(INQUIRIES, "=", 0, -4),
        CompareRule(EMPLOYEES, ">", 999, 3),
    ),
    gates=(Gate(EMAIL, ("Competitor", "Free mail")),),
    tiers=(Tier("hot", 45), Tier("warm", 20.5), Tier("cold", -math.inf)),
    score_cap=60,
)

# Each list cycles over the leads; the canonical spelling of every category comes first and
# most often, so merging spellings on load keeps it (as it does in a real export).
_INDUSTRIES = [
    "IT・ソフトウェア",
    "製造業",
    "IT・ソフトウェア",
    " ＩＴ・ソフトウェア ",
    "小売",
    "IT・ソフトウェア",
    "it・ソフトウェア",
    "不明",
    "",
    "IT・ソフトウェア",
    "未選択",
    "製造業",
    "IT・ソフトウェア  ",
]
_PARTNERS = [
    "O'Reilly",
    "Reseller",
    "O'Reilly",
    "o'reilly",
    "N/A",
    "O'Reilly",
    " O'REILLY ",
    " unknown ",
    "Reseller",
    "O'Reilly",
    "Select",
    "O'Reilly  ",
    "",
    "Reseller",
    "O'Reilly",
    "o'REILLY",
    "O'Reilly",
]
_EMPLOYEES = [
    "35",
    "1,200",
    " 300 ",
    "９９９",
    "unknown",
    "",
    "2.5e3",
    "12.5",
    "－３",
    "50",
    "1000",
    "299.99",
    "１，０００",
    "49.999",
    "N/A",
    "+450",
    "7",
    "1,000.5",
    ".5",
    "-",
    "80",
]
_VISITS = ["0", "3", "15", "１２", "N/A", "-", "", " 7 ", "1", "9", "10", "2.25", "4.0", "2"]
_OPENS = ["0", "1", "5", "12", "NaN", "null", "#N/A", "10", "3", "9", "", "1,100"]
_INQUIRIES = ["0", "1", "2", "3", "--", "", "0", "1", "２", "0"]
_EMAILS = [
    "Corporate",
    "Corporate",
    "Competitor",
    "Corporate",
    "Free mail",
    " competitor",
    "Corporate",
    "COMPETITOR",
    "Free mail",
    "free  mail",
    "Corporate",
    "ＦＲＥＥ\u3000ＭＡＩＬ",
    "corporate ",
    "Competitor",
    "Corporate",
    "Free mail",
    "",
    "Corporate",
    "Competitor",
]


def write_golden_leads(path: Path, n: int = 400) -> Path:
    """Write the golden case's raw leads file: placeholders, spellings, full-width digits."""
    header = [spec.name for spec in GOLDEN_MAPPING.leads]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(n):
            lead_id = f"O'G{i:04d}" if i % 50 == 7 else f"G{i:04d}"
            writer.writerow(
                [
                    lead_id,
                    f"2025-0{1 + i % 9}-{10 + i % 17}",
                    _INDUSTRIES[i % len(_INDUSTRIES)],
                    _PARTNERS[(i * 7) % len(_PARTNERS)],
                    _EMPLOYEES[(i * 3) % len(_EMPLOYEES)],
                    _VISITS[(i * 5) % len(_VISITS)],
                    _OPENS[(i * 11) % len(_OPENS)],
                    _INQUIRIES[(i * 13) % len(_INQUIRIES)],
                    _EMAILS[(i * 17) % len(_EMAILS)],
                    "won" if i % 3 == 0 else "lost",
                ]
            )
        # scores exactly on a threshold, and just under one
        boundary = [
            ("B20.5", "Reseller", "", "2.75", "", "won"),  # 15 + 5.5: warm
            ("B20.25", "Reseller", "", "2.625", "", "lost"),  # 15 + 5.25: cold
            ("B45", "O'Reilly", "Corporate", "7.5", "", "won"),  # 15 + 10 + 5 + 15: hot
            ("B45-gated", "O'Reilly", "Competitor", "10", "", "lost"),  # 15 + 10 + 20: warm
        ]
        for lead_id, partner, email, visits, blank, outcome in boundary:
            writer.writerow(
                [lead_id, "2025-03-03", "IT・ソフトウェア", partner, blank, visits]
                + [blank, blank, email, outcome]
            )
    return path


# --- the demo, in English and Japanese ---------------------------------------------------


def demo_rules(lang: str = "en") -> RuleSet:
    """A rule set over the demo's columns (Japanese names and values for ``lang="ja"``)."""

    def col(name: str) -> str:
        return COLUMNS_JA[name] if lang == "ja" else name

    def val(column: str, value: str) -> str:
        return VALUES_JA[column][value] if lang == "ja" and column in VALUES_JA else value

    return RuleSet(
        name=f"demo {lang}",
        rules=(
            CategoryRule(col("timeline"), val("timeline", "Within 3 months"), 20),
            CategoryRule(col("budget"), val("budget", "Yes"), 15),
            CategoryRule(col("industry"), val("industry", "IT / Software"), 8),
            CategoryRule(col("job_title"), val("job_title", "Student"), -25),
            RangeRule(col("employees"), 300, 5000, 10),
            RangeRule(col("employees"), None, 50, -5),
            PerUnitRule(col("web_visits"), 1, cap=10),
            PerUnitRule(col("email_opens"), -1, cap=5),
            PerUnitRule(col("document_requests"), 3),
            CountRule(col("inquiries"), 1, 15),
            CountRule(col("trial_signups"), 1, 25),
        ),
        gates=(Gate(col("email_type"), (val("email_type", "Competitor"),)),),
        tiers=(Tier("A", 45), Tier("B", 30), Tier("C", 12), Tier("D", -math.inf)),
        score_cap=70,
    )


def many_rules(n: int) -> tuple[Rule, ...]:
    """``n`` rules of every kind on the demo's columns, small positive and negative points."""
    industries = ("Retail", "Manufacturing", "IT / Software", "Finance", "Logistics")
    rules: list[Rule] = []
    for i in range(n):
        points = (i % 11) - 5 or 2
        kind = i % 4
        if kind == 0:
            rules.append(CategoryRule("industry", industries[i % len(industries)], points))
        elif kind == 1:
            rules.append(RangeRule("employees", float(i % 900), float(i % 900 + 250), points))
        elif kind == 2:
            rules.append(PerUnitRule("web_visits", points, cap=i % 7 + 1))
        else:
            rules.append(CountRule("email_opens", float(i % 30), points))
    return tuple(rules)


def large_rules(n: int = MAX_RULES) -> RuleSet:
    """A rule set of the most rules allowed (or ``n``), over the English demo's columns."""
    return RuleSet(
        name="large",
        rules=many_rules(n),
        gates=(Gate("email_type", ("Competitor",)),),
        tiers=(Tier("hot", 40), Tier("warm", 0), Tier("cold", -math.inf)),
    )


def write_demo_leads(path: Path, n: int, lang: str = "en") -> Path:
    """Write the demo leads as a CSV export (what a user would upload)."""
    generate_leads(n, seed=11, lang=lang).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


# --- a real dataset: Olist's marketing-qualified leads -------------------------------------

OLIST_RULES = RuleSet(
    name="olist by origin",
    rules=(
        CategoryRule("origin", "organic_search", 10),
        CategoryRule("origin", "paid_search", 8),
        CategoryRule("origin", "direct_traffic", 6),
        CategoryRule("origin", "social", -4),
        CategoryRule("origin", "email", -8),
        CategoryRule("landing_page_id", "b76ef37428e6799c421989521c0e5077", 5),
        CategoryRule("landing_page_id", "22c29808c4f815213303f8933030604c", 3),
    ),
    # "unknown" is a placeholder: the app never sees it, so neither must the SQL
    gates=(Gate("origin", ("unknown", "other_publicities")),),
    tiers=(Tier("hot", 12), Tier("warm", 5), Tier("cold", -math.inf)),
)


# --- the app's answer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A raw leads file, the rule set, the stored dataset's mapping and the app's tiers."""

    name: str
    csv: Path
    rules: RuleSet
    mapping: Mapping
    expected: pd.DataFrame  # id, score, tier (sorted by id)

    @property
    def header(self) -> list[str]:
        with self.csv.open(encoding="utf-8", newline="") as f:
            return next(csv.reader(f))


def load_case(
    store: Store,
    name: str,
    path: Path,
    rules: RuleSet,
    *,
    mapping: Mapping | None = None,
    outcomes: Path | None = None,
) -> Case:
    """Load a raw file the way the app does and score it with the app's own function."""
    leads, outcome_file, _ = read_inputs(path, outcomes)
    info = load_files(store, name, leads, outcome_file, mapping=mapping).dataset
    scored = score_leads(store, info, rules)
    expected = scored[["id", "score", "tier"]].sort_values("id").reset_index(drop=True)
    return Case(name, path, rules, info.mapping, expected)


# --- the activity-log case: counts per activity type joined in from a second table -----------

ACTIVITY_RULES = RuleSet(
    name="activity counts",
    rules=(
        CategoryRule("industry", "IT", 5),
        PerUnitRule("activity_webinar", 3, cap=12),
        CountRule("activity_inquiry", 2, 10),
        CategoryRule("activity_inquiry", "1", 2),
    ),
    tiers=(Tier("hot", 20), Tier("warm", 8), Tier("cold", -math.inf)),
)
#: The same with activity counts decayed with age (half-life 20 days).
ACTIVITY_DECAYED_RULES = replace(
    ACTIVITY_RULES,
    name="decayed activity counts",
    decay_half_life=20.0,
    tiers=(Tier("hot", 12), Tier("warm", 4), Tier("cold", -math.inf)),
)


@dataclass(frozen=True)
class ActivityCase:
    """The activity case: its leads case, the raw activity log and each count's type."""

    case: Case
    log: Path
    types: dict[str, str]  # counted column -> activity type, as the stored log pairs them


def write_activity_files(folder: Path, n: int = 300) -> tuple[Path, Path]:
    """Leads and an activity log whose types have stray spaces and full-width letters
    (cleaned on load), leads without activities, and a type no rule reads."""
    leads = ["lead_id,created_at,industry,outcome"]
    for i in range(n):
        outcome = "won" if i % 7 == 0 else ("lost" if i % 3 else "")
        industry = "IT" if i % 2 else "小売"
        leads.append(f"L{i:04d},2024-0{1 + i % 9}-{1 + i % 27:02d},{industry},{outcome}")
    log = ["lead_id,occurred_at,activity"]
    types = ["webinar", " webinar", "ｗｅｂｉｎａｒ", "inquiry", "download", "inquiry "]
    for i in range(n * 3):
        lead = (i * 7) % (n - 20)  # the last 20 leads have no activities
        stamp = f"2024-0{1 + i % 3}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
        log.append(f"L{lead:04d},{stamp},{types[i % len(types)]}")
    a, b = folder / "leads.csv", folder / "activities.csv"
    a.write_text("\n".join(leads) + "\n", encoding="utf-8")
    b.write_text("\n".join(log) + "\n", encoding="utf-8")
    return a, b


def load_activity_case(store: Store, folder: Path, rules: RuleSet = ACTIVITY_RULES) -> ActivityCase:
    """Load the activity case the way the app does and score it with the app's function
    (with ``rules``: the activity rules, or them with a decay half-life)."""
    leads, log = write_activity_files(folder)
    name = "activities" if rules.decay_half_life is None else "activities_decayed"
    info = load_files(store, name, *read_inputs(leads, None, log)).dataset
    found = activity_log(store, info)
    assert found is not None
    scored = score_leads(store, info, rules)
    expected = scored[["id", "score", "tier"]].sort_values("id").reset_index(drop=True)
    case = Case(name, leads, rules, info.mapping, expected)
    return ActivityCase(case, log, dict(found.columns))


def duckdb_text_rows(sql: str, tables: dict[str, Path]) -> list[tuple[object, ...]]:
    """Run a query in DuckDB over raw CSV files loaded as all-text tables (name -> file)."""
    con = duckdb.connect()
    try:
        for table, path in tables.items():
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv($p, all_varchar := true)",
                {"p": str(path)},
            )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def as_frame(rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    """An engine's ``id, score, tier`` rows as a frame sorted like the app's."""
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["id", "score", "tier"])
    frame["id"] = frame["id"].astype("str")
    frame["score"] = frame["score"].astype("float64")
    frame["tier"] = frame["tier"].astype("str")
    return frame.sort_values("id").reset_index(drop=True)


def assert_same_as_app(case: Case, rows: Sequence[Sequence[object]]) -> None:
    """Every lead's score and tier from the engine equal the app's."""
    got = as_frame(rows)
    want = case.expected
    assert len(got) == len(want), f"{case.name}: {len(got)} rows, the app has {len(want)}"
    assert got["id"].tolist() == want["id"].astype("str").tolist()
    wrong = got["tier"].to_numpy() != want["tier"].astype("str").to_numpy()
    off = (got["score"] - want["score"].astype("float64")).abs().to_numpy() > 1e-9
    bad = got[wrong | off].head(5)
    assert not (wrong | off).any(), (
        f"{case.name}: {int((wrong | off).sum())} leads differ from the app, e.g.\n"
        f"{bad.merge(want, on='id', suffixes=('_sql', '_app')).to_string()}"
    )


# --- probes: how each engine cleans single values ------------------------------------------

#: Cells a number column may hold; every engine must parse them as the Python mirror does.
NUMBER_PROBES = (
    "0",
    "12",
    " 7 ",
    "１２",
    "1,200",
    "１，２００",
    "+5",
    "-3",
    "－３",
    "2.5e3",
    "1E2",
    "1e-2",
    ".5",
    "5.",
    "+.5",
    "1e99",
    "-0",
    "00012",
    "1e+05",
    "1.5E-07",
    "\u00a012\u3000",
    "12\t",
    "-12,345.6",
    "1,200.",
    "N/A",
    " unknown ",
    "",
    "inf",
    "-inf",
    "Infinity",
    "NaN",
    "0x1A",
    "1_000",
    "1 000",
    "12abc",
    "e5",
    ".",
    "1e",
    "--5",
    "+-5",
    "1.2.3",
    "٣",
    "1d",
    "1f",
    "1,5",  # a decimal comma is not a number, neither in the app nor in the SQL
    "1.234,50",
    "12,34,567",
    "1,2,3",
    "1,200e3",
    ",100",
    "1e100",  # the app reads it; the SQL does not (exponent beyond two digits)
    "9" * 250,  # the app reads it; the SQL does not (longer than 200 characters)
)
#: Probes where the SQL knowingly differs from the app (documented in funnel.sqlexport).
NUMBER_PROBES_UNLIKE_APP = frozenset({"1e100", "9" * 250})

#: Category rules of the category probe, each worth a distinct bit of the score.
CATEGORY_PROBE_VALUES = ("Free mail", "Élan", "IT・ソフトウェア", "O'Reilly")
#: Cells a category column may hold.
CATEGORY_PROBES = (
    "Free mail",
    "free mail",
    " FREE  MAIL ",
    "Free\tmail",
    "Free\nmail",
    "Free\u3000mail",
    "Free\u00a0mail",
    "Free\u2003mail",
    "ＦＲＥＥ　ＭＡＩＬ",
    "Freemail",
    "Free mail.",
    "élan",
    "ÉLAN",
    " Élan ",
    "Elan",
    "IT・ソフトウェア",
    "ＩＴ・ソフトウェア",
    "it・ソフトウェア ",
    "IT・ソフトウエア",
    "o'reilly",
    "O'REILLY",
    "O’Reilly",
    "N/A",
    "",
)


def probe_mapping(role: str) -> Mapping:
    return Mapping(leads=(ColumnSpec("id", "id"), ColumnSpec("x", role)))  # type: ignore[arg-type]


NUMBER_PROBE_RULES = RuleSet(
    name="number probe", rules=(PerUnitRule("x", 1),), tiers=(Tier("a", 0), Tier("b", -math.inf))
)
CATEGORY_PROBE_RULES = RuleSet(
    name="category probe",
    rules=tuple(CategoryRule("x", v, 2**i) for i, v in enumerate(CATEGORY_PROBE_VALUES)),
    tiers=(Tier("a", 1), Tier("b", -math.inf)),
)


def write_probe(path: Path, values: Sequence[str]) -> Path:
    """A two-column file ``id, x`` with one probe value per row."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "x"])
        for i, value in enumerate(values):
            writer.writerow([f"p{i:03d}", value])
    return path


def number_mirror(values: Sequence[str]) -> dict[str, float]:
    """The score each number probe should get: its value as the query parses it, else 0."""
    return {v: parse_number(v) or 0.0 for v in values}


def category_mirror(values: Sequence[str]) -> dict[str, float]:
    """The score each category probe should get: the bits of the rule values it matches."""

    def score(raw: str) -> float:
        key = clean_text(raw).lower()
        hits = [2**i for i, v in enumerate(CATEGORY_PROBE_VALUES) if key == clean_text(v).lower()]
        return float(sum(hits)) if key else 0.0

    return {v: score(v) for v in values}


def probe_scores(values: Sequence[str], scores: Sequence[Sequence[object]]) -> dict[str, float]:
    """Map each probe value to the score an engine gave its row."""
    by_id = {str(r[0]): float(str(r[1])) for r in scores}
    return {v: by_id[f"p{i:03d}"] for i, v in enumerate(values)}
