"""The review of an agreed version: every figure checked against an independent pandas
computation on the demo's two exports months apart and a generated feedback file; the agenda
raises a point only where the data supports it, in English and Japanese; awkward data gets a
clear refusal or a plain note."""

from __future__ import annotations

import html
import math
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from funnel.demo import generate_later, generate_leads
from funnel.feedback import load_feedback
from funnel.filters import Filters
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.meeting import report_bytes
from funnel.readers import SourceFile, read_file
from funnel.review import ReviewError, agenda, review
from funnel.review.agenda import arrival_line
from funnel.rules import (
    CategoryRule,
    CountRule,
    Gate,
    PerUnitRule,
    RuleSet,
    ServiceLevel,
    Tier,
)
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.stats import wilson
from funnel.store import Store
from funnel.versions.history import find_version, save_version
from funnel.versions.signoff import propose, sign
from tests.support import backtest_counted, mature_cutoff, rule_points, snapshot, table_sha
from tests.templates import copy_database

N = 4000
SEED = 11
RULES = RuleSet(
    name="hot",
    rules=(
        CategoryRule("budget", "Yes", 15),
        CategoryRule("decision_maker", "Yes", 10),
        CountRule("webinars_attended", 1, 10),
        CountRule("trial_signups", 1, 20),
        PerUnitRule("inquiries", 5, cap=15),
    ),
    gates=(Gate("email_type", ("Competitor",)),),
    tiers=(Tier("hot", 35), Tier("warm", 15), Tier("cold", -math.inf)),
)
APRIL = date(2026, 4, 1)  # inside the first export: its leads since are reviewed too
OCTOBER = date(2026, 10, 1)  # after the first export: only the later export's new leads


def agree(store: Store, effective: date, rs: RuleSet = RULES) -> int:
    info = store.require("crm")
    v = save_version(store, info, rs, author="Aiko", effective_from=effective)
    propose(store, v.version_id, "Aiko")
    sign(store, v.version_id, "marketing", "Aiko")
    sign(store, v.version_id, "sales", "Ben")
    return v.version_id


def verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """Sales' file on the leads since April: a fixed pattern of verdicts, 'No budget'
    written three ways and the most common reason."""
    picked = frame[frame["created_at"] >= pd.Timestamp(APRIL)].reset_index(drop=True)
    pattern = ["Accepted", "Rejected", "Accepted", "Not contacted", "Rejected", "Accepted"]
    status = [pattern[i % len(pattern)] for i in range(len(picked))]
    reasons = ["No budget", "no budget", "Student", "ＮＯ ＢＵＤＧＥＴ", "Competitor", "Timing"]
    return pd.DataFrame(
        {
            "Lead ID": picked["lead_id"],
            "Status": status,
            "Rejection reason": [
                reasons[i % len(reasons)] if s == "Rejected" else None for i, s in enumerate(status)
            ],
        }
    )


@pytest.fixture(scope="module")
def exports() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate_leads(N, seed=SEED), generate_later(N, seed=SEED, months=2)


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> Path:
    """The September export loaded, versions agreed for April and October, the November
    export refreshed in, and sales' feedback."""
    first, later = exports
    path = tmp_path_factory.mktemp("review") / "funnel.duckdb"
    with Store(path) as store:
        load_files(store, "crm", SourceFile("september.csv", first, "csv"))
        time.sleep(1.1)  # times are kept to the second: the signing comes after the load ...
        agree(store, APRIL)
        agree(store, OCTOBER)
        time.sleep(1.1)  # ... and the refresh after the signing
        load_files(store, "crm", SourceFile("november.csv", later, "csv"), refresh=True)
        load_feedback(store, "crm", SourceFile("sales.csv", verdicts(later), "csv"))
    return path


@pytest.fixture
def db_path(tmp_path: Path, template: Path) -> Path:
    return copy_database(template, tmp_path / "funnel.duckdb")


# --- the same figures in pandas ----------------------------------------------------------------


def by_hand(frame: pd.DataFrame) -> pd.DataFrame:
    """Score, gate, tier, outcome and whether a back-test counts each lead, in pandas."""
    f = frame.copy()
    f["score"] = sum(rule_points(r, f) for r in RULES.rules)
    f["gated"] = f["email_type"].eq("Competitor")
    f["tier"] = np.where(
        (f["score"] >= 35) & ~f["gated"], "hot", np.where(f["score"] >= 15, "warm", "cold")
    )
    f["won"] = f["outcome"].eq("Won")
    dates = (f["created_at"], f["outcome"], f["closed_date"])
    stages = (f["mql_date"], f["sql_date"], f["opportunity_date"])
    f["counted"] = backtest_counted(*dates, *stages)
    # a review's conversion since the date: only leads old enough to have converted, won or not
    cutoff = mature_cutoff(*dates, *stages)
    f["aged"] = pd.to_datetime(f["created_at"]) <= cutoff
    return f


def weeks(created: pd.Series) -> float:
    return ((created.max() - created.min()).days + 1) / 7


def bh(p: list[float]) -> list[float]:
    """Benjamini-Hochberg by hand: p × m / rank, made monotone from the largest down."""
    m = len(p)
    order = np.argsort(p)
    out = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        out[i] = running
    return list(out)


def test_the_april_review_matches_pandas_on_every_figure(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    f = by_hand(exports[1])
    new = f[f["created_at"] >= pd.Timestamp(APRIL)]
    old = f[f["created_at"] < pd.Timestamp(APRIL)]

    r = review(store, "crm", "hot v1")

    assert (r.since, r.arrival, r.leads, r.before) == (APRIL, "created", len(new), len(old))
    assert r.weeks == pytest.approx(weeks(new["created_at"]))
    assert r.hot_leads == (new["tier"] == "hot").sum()
    assert r.hot_per_week == pytest.approx(r.hot_leads / weeks(new["created_at"]))
    # the leads since April were in the data when the version was saved: the promise is the
    # back-test on the leads before April, computed as the Tuner computes it
    assert r.promise.source == "backtest"
    old_counted = old[old["counted"]]
    hot_old = (old["tier"] == "hot").sum()
    assert r.promise.hot_per_week == pytest.approx(hot_old / weeks(old["created_at"]))
    for figure in r.tiers:
        mine = new[new["tier"] == figure.name]
        counted = mine[mine["aged"]]
        assert (figure.leads, figure.counted, figure.won) == (
            len(mine),
            len(counted),
            counted["won"].sum(),
        )
        assert (figure.low, figure.high) == pytest.approx(
            wilson(counted["won"].sum(), len(counted))
        )
        assert figure.maturing == len(mine) - len(counted)
        then = old_counted[old_counted["tier"] == figure.name]
        assert figure.promised is not None
        assert figure.promised[1:3] == (len(then), then["won"].sum())
        assert figure.promised[3:] == pytest.approx(wilson(then["won"].sum(), len(then)))
    tested = [x for x in r.tiers if x.comparison is not None]
    assert tested, "every tier has enough mature leads since April to compare"
    # each tier is judged by its lift over the base rate of its own period
    aged, counted_old = new[new["aged"]], old_counted
    base_now, base_then = aged["won"].mean(), counted_old["won"].mean()
    assert (r.base.now, r.base.then) == pytest.approx((base_now, base_then))
    for x in tested:
        assert x.comparison is not None and x.promised is not None
        assert x.comparison.now == pytest.approx(x.won / x.counted / base_now)
        assert x.comparison.then == pytest.approx(x.promised[2] / x.promised[1] / base_then)
    won_new = new[new["won"]]
    assert (r.won, r.missed_won) == (len(won_new), (won_new["tier"] != "hot").sum())
    assert set(r.missed_ids) <= set(won_new.loc[won_new["tier"] != "hot", "lead_id"])
    assert (r.recall.k_now, r.recall.n_now) == ((won_new["tier"] == "hot").sum(), len(won_new))
    assert (r.recall.k_then, r.recall.n_then) == (
        (old_counted["won"] & (old_counted["tier"] == "hot")).sum(),
        old_counted["won"].sum(),
    )
    assert (r.volume.k_now, r.volume.n_now, r.volume.k_then, r.volume.n_then) == (
        r.hot_leads,
        len(new),
        hot_old,
        len(old),
    )
    weekly = new.groupby(new["created_at"].dt.to_period("W-SUN").dt.start_time)
    assert [(w.start, w.leads, w.hot) for w in r.weekly] == [
        (k.date(), len(g), (g["tier"] == "hot").sum()) for k, g in weekly
    ]


def test_the_drift_tests_are_scipys_with_one_correction_for_the_family(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    f = by_hand(exports[1])
    new = f["created_at"] >= pd.Timestamp(APRIL)

    r = review(store, "crm", "hot v1")

    p = []
    for rule, drift in zip(RULES.rules, r.rules, strict=True):
        fires = rule_points(rule, f) != 0
        k1, n1, k2, n2 = fires[new].sum(), new.sum(), fires[~new].sum(), (~new).sum()
        assert (drift.comparison.k_now, drift.comparison.n_now) == (k1, n1)
        assert (drift.comparison.k_then, drift.comparison.n_then) == (k2, n2)
        p.append(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
    ks = stats.ks_2samp(f.loc[new, "score"], f.loc[~new, "score"], method="asymp")
    p.append(ks.pvalue)
    expected = bh(p)
    assert [d.comparison.p_adjusted for d in r.rules] == pytest.approx(expected[:-1])
    assert r.scores.p_adjusted == pytest.approx(expected[-1])
    assert r.scores.distance == pytest.approx(ks.statistic)
    assert r.scores.median_now == pytest.approx(f.loc[new, "score"].median(), abs=2.5)
    # the November export's new leads are drawn as the September ones were: nothing drifted
    assert not [p for p in agenda(r) if p.kind.startswith("rule_") or p.kind == "scores"]


def test_acceptance_reasons_and_rejected_wins_match_pandas(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    f = by_hand(exports[1])
    fb = verdicts(exports[1]).rename(columns={"Lead ID": "lead_id"})
    new = f[f["created_at"] >= pd.Timestamp(APRIL)].merge(fb, on="lead_id", how="left")

    r = review(store, "crm", "hot v1")

    assert r.feedback is not None
    for a in r.feedback.by_tier:
        mine = new[new["tier"] == a.name]
        assert (a.leads, a.accepted, a.rejected, a.not_contacted) == (
            len(mine),
            (mine["Status"] == "Accepted").sum(),
            (mine["Status"] == "Rejected").sum(),
            (mine["Status"] == "Not contacted").sum(),
        )
    by_source = {a.name: a for a in r.feedback.by_segment}
    assert r.feedback.segment == "source"
    for name, mine in new.groupby("source"):
        a = by_source[str(name)]
        assert (a.leads, a.accepted, a.rejected) == (
            len(mine),
            (mine["Status"] == "Accepted").sum(),
            (mine["Status"] == "Rejected").sum(),
        )
    rejected = new.loc[new["Status"] == "Rejected", "Rejection reason"]
    folded = rejected.str.normalize("NFKC").str.casefold().value_counts()
    assert sorted(n for _, n in r.feedback.reasons) == sorted(folded.tolist())
    assert r.feedback.reasons[0][1] == folded["no budget"]
    won_rejected = new[(new["tier"] == "hot") & (new["Status"] == "Rejected") & new["won"]]
    assert r.feedback.rejected_won == len(won_rejected)
    assert set(r.feedback.rejected_won_ids) <= set(won_rejected["lead_id"])


def test_the_agenda_says_each_point_with_its_evidence_in_english_and_japanese(
    store: Store,
) -> None:
    r = review(store, "crm", "hot v1")
    points = {p.kind: p for p in agenda(r)}
    fb = r.feedback
    assert fb is not None
    # 'No budget' in three spellings is half the rejections: a point naming its share
    top, n = fb.reasons[0]
    assert "reason" in points
    share = f"{n / fb.rejected:.0%}"
    assert points["reason"].sentence("en") == (
        f"'{top}' is {share} of rejections ({n:,} of {fb.rejected:,}): "
        "consider a rule or gate for it."
    )
    assert points["reason"].sentence("ja").startswith(f"「{top}」が却下の {share}")
    if fb.rejected_won >= 3:
        assert str(fb.rejected_won) in points["rejected_won"].sentence("ja")
    for p in points.values():
        assert p.sentence("en") != p.sentence("ja") and "{" not in p.sentence("ja")
    assert [x["text"] for x in r.as_dict()["agenda"]] == [p.sentence("en") for p in agenda(r)]


def test_a_rule_firing_on_half_as_many_new_leads_is_a_point(
    tmp_path: Path, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    first, later = exports
    changed = later.copy()
    new = changed["created_at"] >= pd.Timestamp(OCTOBER)
    attended = changed.index[new & (changed["webinars_attended"] >= 1)]
    changed.loc[attended[::2], "webinars_attended"] = 0
    with Store(tmp_path / "drift.duckdb") as store:
        load_files(store, "crm", SourceFile("september.csv", first, "csv"))
        agree(store, OCTOBER)
        load_files(store, "crm", SourceFile("november.csv", changed, "csv"), refresh=True)
        r = review(store, "crm", lang="ja")
    drift = r.rules[2]
    assert drift.comparison.real and drift.comparison.now < drift.comparison.then
    assert [x.comparison.real for i, x in enumerate(r.rules) if i != 2] == [False] * 4
    point = next(p for p in agenda(r) if p.kind == "rule_less")
    assert point.params["rule"] == "webinars_attended ≥ 1"
    assert point.sentence("en").startswith("The 'webinars_attended ≥ 1' rule fires on ")
    assert "チューニング時" in r.as_dict()["agenda"][0]["text"] or any(
        "チューニング時" in x["text"] for x in r.as_dict()["agenda"]
    )


def test_the_october_review_keeps_the_promise_signed_and_says_the_leads_are_too_recent(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    first = by_hand(exports[0])
    f = by_hand(exports[1])
    new = f[f["created_at"] >= pd.Timestamp(OCTOBER)]

    r = review(store, "crm")  # the current agreed version: the one agreed last

    assert r.version.effective_from == OCTOBER and r.leads == len(new)
    assert r.promise.source == "signed"  # measured on September's export, as signed
    counted = first[first["counted"]]
    for name, n, won, _, _ in r.promise.tiers:
        mine = counted[counted["tier"] == name]
        assert (n, won) == (len(mine), mine["won"].sum())
    assert r.too_few
    # none of October's leads is old enough to have converted yet (won or not): nothing to judge
    assert not new["aged"].any() and sum(x.counted for x in r.tiers) == 0
    keys = [k for k, _ in r.notes]
    assert "review.note.all_maturing" in keys and "review.note.no_promise" in keys
    assert not [
        p
        for p in agenda(r)
        if p.kind.startswith(("lift_", "base_", "tier_order")) or p.kind == "missed"
    ]
    text = r.as_dict()["notes"]
    assert any("too recent to have converted" in n["text"] for n in text)


def test_no_leads_since_the_date_is_refused_naming_the_fix(store: Store) -> None:
    agree(store, date(2027, 1, 1))
    with pytest.raises(ReviewError) as caught:
        review(store, "crm")
    assert "No lead of crm arrived since hot v3 took effect on 2027-01-01" in str(caught.value)
    assert "--refresh" in str(caught.value)
    assert "新しいエクスポート" in caught.value.message("ja")


def test_a_dataset_without_an_agreed_version_or_a_draft_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", generate_leads(300, seed=1), "csv"))
        with pytest.raises(ReviewError, match="no agreed version"):
            review(store, "crm")
        save_version(store, store.require("crm"), RULES, author="Aiko")
        with pytest.raises(ReviewError, match="not agreed"):
            review(store, "crm", "hot v1")


def test_without_feedback_the_review_says_so_and_raises_no_sales_point(tmp_path: Path) -> None:
    first, later = generate_leads(1500, seed=2), generate_later(1500, seed=2, months=2)
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", first, "csv"))
        agree(store, APRIL)
        load_files(store, "crm", SourceFile("n.csv", later, "csv"), refresh=True)
        r = review(store, "crm")
    assert r.feedback is None and r.as_dict()["feedback"] is None
    assert "review.note.no_feedback" in [k for k, _ in r.notes]
    assert not {"reason", "rejected_won", "acceptance"} & {p.kind for p in agenda(r)}


def test_all_maturing_leads_give_no_conversion_figure_and_no_point(tmp_path: Path) -> None:
    first, later = generate_leads(1500, seed=2), generate_later(1500, seed=2, months=2)
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", first, "csv"))
        agree(store, date(2026, 11, 1))
        load_files(store, "crm", SourceFile("n.csv", later, "csv"), refresh=True)
        r = review(store, "crm")
    assert r.leads > 0 and r.counted.counted == 0
    assert all(x.rate is None and x.comparison is None for x in r.tiers)
    assert [k for k, _ in r.notes][0] == "review.note.all_maturing"
    assert not [p for p in agenda(r) if p.kind.startswith(("lift_", "base_", "tier_order"))]


def test_with_no_signal_nothing_is_called_a_difference(tmp_path: Path) -> None:
    """Outcomes drawn at random, the same way before and after: no conversion point."""
    rng = np.random.default_rng(5)
    n = 6000
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": created,
            "budget": rng.choice(["Yes", "No"], n),
            "decision_maker": rng.choice(["Yes", "No"], n),
            "webinars_attended": rng.integers(0, 3, n),
            "trial_signups": rng.integers(0, 3, n),
            "inquiries": rng.integers(0, 4, n),
            "email_type": rng.choice(["Business", "Free"], n),
            "outcome": rng.choice(["Won", "Lost"], n, p=[0.2, 0.8]),
        }
    )
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", frame, "csv"))
        agree(store, date(2025, 12, 1))
        r = review(store, "crm")
    assert all(x.comparison is not None for x in r.tiers)
    assert not [
        p
        for p in agenda(r)
        if p.kind.startswith(("lift_", "base_", "tier_order")) or p.kind == "missed"
    ]
    assert not [p for p in agenda(r) if p.kind.startswith("rule_") or p.kind == "scores"]


def test_a_review_changes_nothing_stored(store: Store) -> None:
    info = store.require("crm")
    before = snapshot(store, "crm")
    feedback = table_sha(store, "SELECT * FROM funnel_feedback ORDER BY lead_id")
    review(store, "crm", "hot v1")
    assert snapshot(store, "crm") == before and info == store.require("crm")
    assert table_sha(store, "SELECT * FROM funnel_feedback ORDER BY lead_id") == feedback


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_meeting_report_has_the_review_section_with_its_agenda(store: Store, lang: str) -> None:
    info = store.require("crm")
    v = find_version(store, "hot v1", "crm")
    r = review(store, "crm", "hot v1", lang=lang)

    page = report_bytes(store, info, v, lang=lang).decode("utf-8")

    section = page[page.index('<section id="review">') :]
    section = section[: section.index("</section>")]
    assert html.escape(t("review.report.title", lang, since="2026-04-01")) in section
    points = agenda(r)
    assert points
    for p in points:
        assert f"<li>{html.escape(p.sentence(lang), quote=True)}</li>" in section
    for x in r.tiers:
        assert f'<td>{x.name}</td><td class="num">{x.leads:,}</td>' in section
    assert 'id="chart-review"' in section


def test_a_report_says_why_an_agreed_version_has_no_review_and_a_draft_has_no_section(
    store: Store,
) -> None:
    info = store.require("crm")
    later = find_version(store, str(agree(store, date(2027, 1, 1))))
    page = report_bytes(store, info, later).decode("utf-8")
    assert '<section id="review">' in page and "No lead of crm arrived since" in page
    draft = save_version(store, info, RULES, author="Aiko")
    assert '<section id="review">' not in report_bytes(store, info, draft).decode("utf-8")


OLIST_SINCE = date(2018, 2, 1)
OLIST_RULES = RuleSet(
    name="olist",
    rules=(
        CategoryRule("origin", "organic_search", 20),
        CategoryRule("origin", "paid_search", 10),
    ),
    tiers=(Tier("hot", 20), Tier("warm", 10), Tier("cold", -math.inf)),
)


def test_olist_refreshed_with_its_closed_deals_reviews_a_version_agreed_inside_the_data(
    tmp_path: Path, olist: tuple[Path, Path]
) -> None:
    """The issue's "done when": the leads file loaded first without the closed deals, then
    refreshed with them; a version agreed at a date inside the data shows the figures."""
    leads_file, deals_file = olist
    with Store(tmp_path / "olist.duckdb") as store:
        load_files(store, "olist", read_file(leads_file))
        info = store.require("olist")
        v = save_version(store, info, OLIST_RULES, author="Aiko", effective_from=OLIST_SINCE)
        propose(store, v.version_id, "Aiko")
        sign(store, v.version_id, "marketing", "Aiko")
        sign(store, v.version_id, "sales", "Ben")
        load_files(store, "olist", read_file(leads_file), read_file(deals_file), refresh=True)
        r = review(store, "olist")
        assert store.load_history("olist")[-1].mode == "refresh"
    mqls = pd.read_csv(leads_file, parse_dates=["first_contact_date"])
    deals = pd.read_csv(deals_file)
    new = mqls[mqls["first_contact_date"] >= pd.Timestamp(OLIST_SINCE)]
    score = new["origin"].map({"organic_search": 20, "paid_search": 10}).fillna(0)
    hot = score >= 20
    won = new["mql_id"].isin(deals["mql_id"])
    assert (r.since, r.leads, r.before) == (OLIST_SINCE, len(new), len(mqls) - len(new))
    assert (r.hot_leads, r.won) == (int(hot.sum()), int(won.sum()))
    assert r.missed_won == int((won & ~hot).sum())
    assert r.promise.source == "backtest"  # the leads since were in the data when it was signed
    assert r.tiers[0].counted > 0 and r.tiers[0].rate is not None
    assert r.measured_on() and isinstance(r.as_dict()["agenda"], list)
    # every lead converted better since February (6.8% -> 13%): said once, no tier "above
    # promise"; warm a little ahead of hot is within chance, and said so
    kinds = [p.kind for p in agenda(r)]
    assert "base_up" in kinds and not [k for k in kinds if k.startswith("lift_")]
    assert "tier_order" not in kinds
    assert "review.note.order_unclear" in dict(r.notes)
    assert "newer leads" not in r.measured_on() or r.counted.left_out > 0


def test_the_signed_service_level_is_checked_capacity_cadence_and_contact(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    f = by_hand(exports[1])
    new = f[f["created_at"] >= pd.Timestamp(APRIL)]
    hot = new[new["tier"] == "hot"]
    span = weeks(new["created_at"])
    most = max(1, int(len(hot) / span * 0.6))  # promised far fewer than were sent
    promised = ServiceLevel(contact_within_hours=24, max_hot_per_week=most, review_every_weeks=4)
    agree(store, APRIL, replace(RULES, service_level=promised))

    r = review(store, "crm")

    assert r.service_level == promised and r.capacity is not None
    assert r.capacity.per_week == pytest.approx(len(hot) / span)
    assert r.capacity.p == pytest.approx(stats.poisson.sf(len(hot) - 1, most * span))
    weekly = hot.groupby(hot["created_at"].dt.to_period("W-SUN").dt.start_time).size()
    assert r.capacity.weeks_over == int((weekly > most).sum())
    assert r.weeks_in_force == pytest.approx(
        ((f["created_at"].max() - pd.Timestamp(APRIL)).days + 1) / 7
    )
    points = {p.kind: p for p in agenda(r)}
    assert (
        points["capacity"]
        .sentence("en")
        .startswith(
            f"Marketing sent {len(hot) / span:,.1f} hot leads a week since 2026-04-01 against at "
            f"most {most:,} promised"
        )
    )
    assert "約束の上限" in points["capacity"].sentence("ja")
    assert points["overdue"].params["every"] == "4"
    keys = [k for k, _ in r.notes]
    assert "review.note.contact_unmeasured" in keys and "review.note.no_promise" not in keys
    assert r.as_dict()["promises"] == promised.as_dict()


def test_a_promise_kept_is_no_point(store: Store) -> None:
    promised = ServiceLevel(max_hot_per_week=100_000, review_every_weeks=520)
    agree(store, APRIL, replace(RULES, service_level=promised))
    r = review(store, "crm")
    assert r.capacity is not None and not r.capacity.broken and r.capacity.weeks_over == 0
    assert not {"capacity", "overdue"} & {p.kind for p in agenda(r)}
    assert "review.note.no_contact" in [k for k, _ in r.notes]


def test_without_created_dates_the_leads_first_seen_after_the_signing_are_reviewed(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(9)

    def leads(first: int, n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "lead_id": [f"L{i:05d}" for i in range(first, first + n)],
                "budget": rng.choice(["Yes", "No"], n),
                "decision_maker": rng.choice(["Yes", "No"], n),
                "webinars_attended": rng.integers(0, 3, n),
                "trial_signups": rng.integers(0, 3, n),
                "inquiries": rng.integers(0, 4, n),
                "email_type": rng.choice(["Business", "Free"], n),
                "outcome": rng.choice(["Won", "Lost"], n, p=[0.2, 0.8]),
            }
        )

    first = leads(0, 2000)
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", first, "csv"))
        assert store.require("crm").mapping.column("created") is None
        info = store.require("crm")
        v = save_version(store, info, RULES, author="Aiko")  # in force from today
        propose(store, v.version_id, "Aiko")
        sign(store, v.version_id, "marketing", "Aiko")
        sign(store, v.version_id, "sales", "Ben")
        time.sleep(1.1)
        later = pd.concat([first, leads(2000, 500)], ignore_index=True)
        load_files(store, "crm", SourceFile("n.csv", later, "csv"), refresh=True)
        r = review(store, "crm")
    assert (r.arrival, r.leads, r.before) == ("first_seen", 500, 2000)
    assert r.weeks is None and r.capacity is None  # no dates: no weekly volume


def with_contacts(frame: pd.DataFrame) -> pd.DataFrame:
    """The export with a first-contact time: 2, 30, 10, 50 or 5 hours after creation in turn,
    every seventh lead not contacted yet."""
    out = frame.copy()
    hours = np.array([2, 30, 10, 50, 5])[np.arange(len(out)) % 5]
    when = out["created_at"] + pd.to_timedelta(hours, unit="h")
    when[np.arange(len(out)) % 7 == 0] = pd.NaT
    out["First Contact Date"] = when.dt.strftime("%Y-%m-%d %H:%M").where(when.notna(), "")
    return out


def test_time_to_first_contact_is_checked_against_the_promised_hours(
    tmp_path: Path, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    first, later = (with_contacts(x) for x in exports)
    promised = ServiceLevel(contact_within_hours=24)
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("s.csv", first, "csv"))
        assert store.require("crm").mapping.column("first_contact") == "First Contact Date"
        agree(store, APRIL, replace(RULES, service_level=promised))
        time.sleep(1.1)
        load_files(store, "crm", SourceFile("n.csv", later, "csv"), refresh=True)
        r = review(store, "crm")
    f = by_hand(later)
    f["hours"] = (
        pd.to_datetime(f["First Contact Date"].replace("", None)) - f["created_at"]
    ).dt.total_seconds() / 3600
    hot = f[(f["created_at"] >= pd.Timestamp(APRIL)) & (f["tier"] == "hot")]
    latest = f["created_at"].max()
    due = hot[(latest - hot["created_at"]).dt.total_seconds() / 3600 >= 24]
    c = r.contact
    assert c is not None and c.hours == 24
    assert (c.hot, c.contacted) == (len(hot), int(hot["hours"].notna().sum()))
    assert c.median_hours == pytest.approx(hot["hours"].median())
    assert (c.due, c.kept) == (len(due), int((due["hours"] <= 24).sum()))
    point = next(p for p in agenda(r) if p.kind == "contact")
    assert point.sentence("en").startswith(
        f"Sales contacted {c.kept / c.due:.0%} of the hot leads since 2026-04-01 within the "
        "promised 24 hours"
    )
    assert "約束の 24 時間以内" in point.sentence("ja")
    assert "review.note.no_contact" not in [k for k, _ in r.notes]
    assert r.as_dict()["first_contact"]["kept"] == c.kept


def test_hot_when_it_arrived_is_put_beside_hot_under_the_reviewed_version(
    store: Store, exports: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    first, later = exports
    f = by_hand(later)
    arrived = f[~f["lead_id"].isin(first["lead_id"])]  # first seen after both versions signed

    r = review(store, "crm", "hot v1")

    a = r.arrivals
    assert a is not None
    hot = int((arrived["tier"] == "hot").sum())
    # scored on arrival under hot v2 (the version in force then), the same rules as hot v1
    assert (a.recorded, a.other_version, a.hot_then, a.hot_now, a.both) == (
        len(arrived),
        len(arrived),
        hot,
        hot,
        hot,
    )
    assert arrival_line(r, "en").startswith(
        f"Of the {r.leads:,} leads since, {len(arrived):,} were scored when they arrived"
    )


def test_the_back_test_promise_is_what_the_tuner_shows_for_the_leads_before(store: Store) -> None:
    info = store.require("crm")
    before = Filters(date_to=APRIL - timedelta(days=1))  # the Tuner's date filter
    shown = evaluate(score_histogram(store, info, RULES, before), RULES)

    r = review(store, "crm", "hot v1")

    assert r.promise.source == "backtest"
    assert [x[:3] for x in r.promise.tiers] == [(x.name, x.n, x.won) for x in shown.tiers]
    assert [x[3:] for x in r.promise.tiers] == [(x.ci_low, x.ci_high) for x in shown.tiers]
    assert r.promise.hot_per_week == pytest.approx(shown.hot_per_week)
