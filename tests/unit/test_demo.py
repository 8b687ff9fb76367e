"""Tests for the built-in demo dataset (funnel.demo)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.demo import (
    ANCHOR_END,
    COLUMNS,
    COLUMNS_JA,
    HISTORY_START,
    LOST_AFTER_DAYS,
    VALUES_JA,
    generate_later,
    generate_leads,
)

EN_COLUMNS = [
    "lead_id",
    "created_at",
    "source",
    "industry",
    "company_size",
    "employees",
    "region",
    "job_title",
    "email_type",
    "budget",
    "decision_maker",
    "timeline",
    "web_visits",
    "document_requests",
    "newsletter_signups",
    "inquiries",
    "email_opens",
    "email_clicks",
    "webinars_attended",
    "trial_signups",
    "mql_date",
    "sql_date",
    "opportunity_date",
    "closed_date",
    "outcome",
    "amount",
    "lost_reason",
]
JA_COLUMNS = [
    "リードID",
    "作成日",
    "流入元",
    "業種",
    "従業員規模",
    "従業員数",
    "地域",
    "役職",
    "メール種別",
    "予算",
    "決裁者",
    "導入時期",
    "Web訪問数",
    "資料請求数",
    "メルマガ登録数",
    "問い合わせ数",
    "メール開封数",
    "メールクリック数",
    "ウェビナー参加数",
    "トライアル申込数",
    "MQL日",
    "SQL日",
    "商談化日",
    "完了日",
    "商談結果",
    "金額",
    "失注理由",
]
BEHAVIOURS = EN_COLUMNS[12:20]
STAGES = ["created_at", "mql_date", "sql_date", "opportunity_date", "closed_date"]
DATE_COLUMNS = STAGES
ANCHOR = pd.Timestamp(ANCHOR_END)

ALLOWED_VALUES = {
    "source": {"Web form", "Ads", "Seminar", "Webinar", "Trade show", "Referral", "Cold call"},
    "industry": {
        "Manufacturing",
        "IT / Software",
        "Retail",
        "Finance",
        "Healthcare",
        "Construction",
        "Logistics",
        "Education",
        "Public sector",
        "Services",
    },
    "company_size": {"1-49", "50-299", "300-999", "1000-4999", "5000+"},
    "region": {
        "Hokkaido",
        "Tohoku",
        "Kanto",
        "Chubu",
        "Kansai",
        "Chugoku",
        "Shikoku",
        "Kyushu-Okinawa",
    },
    "job_title": {
        "Executive",
        "Department head",
        "Manager",
        "IT staff",
        "Engineer",
        "Sales",
        "Marketing",
        "Student",
        "Other",
    },
    "email_type": {"Corporate", "Free mail", "Competitor"},
    "budget": {"Yes", "No"},
    "decision_maker": {"Yes", "No"},
    "timeline": {"Within 3 months", "3-6 months", "6-12 months", "Undecided"},
    "outcome": {"Won", "Lost", "Open"},
    "lost_reason": {"Price", "Competitor", "No budget", "Timing", "No response"},
}


@pytest.fixture(scope="module")
def leads() -> pd.DataFrame:
    return generate_leads(50_000, seed=7)


@pytest.fixture(scope="module")
def leads_ja() -> pd.DataFrame:
    return generate_leads(50_000, seed=7, lang="ja")


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return generate_leads(200_000, seed=11)


def _won(frame: pd.DataFrame) -> pd.Series:
    return frame["outcome"] == "Won"


# --- API and determinism ----------------------------------------------------------------


def test_same_seed_gives_identical_frames() -> None:
    pd.testing.assert_frame_equal(generate_leads(3_000, seed=3), generate_leads(3_000, seed=3))


def test_default_call_is_deterministic_and_matches_fixture(leads: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(generate_leads(), leads)


def test_different_seeds_give_different_data() -> None:
    a, b = generate_leads(3_000, seed=1), generate_leads(3_000, seed=2)
    assert a["lead_id"].equals(b["lead_id"])  # ids are just a numbering
    for column in ("created_at", "industry", "web_visits", "outcome"):
        assert not a[column].equals(b[column]), column


def test_columns_and_order_en(leads: pd.DataFrame) -> None:
    assert list(leads.columns) == EN_COLUMNS
    assert list(COLUMNS) == EN_COLUMNS
    assert len(leads) == 50_000


def test_columns_and_order_ja(leads_ja: pd.DataFrame) -> None:
    assert list(leads_ja.columns) == JA_COLUMNS
    assert [COLUMNS_JA[c] for c in EN_COLUMNS] == JA_COLUMNS


@pytest.mark.parametrize("n", [0, -5])
def test_rejects_non_positive_n(n: int) -> None:
    with pytest.raises(ValueError, match="n must be"):
        generate_leads(n)


def test_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="lang"):
        generate_leads(10, lang="fr")


def test_single_lead() -> None:
    one = generate_leads(1, seed=0)
    assert one.shape == (1, len(EN_COLUMNS))
    assert one["lead_id"].tolist() == ["L0000001"]


# --- values and types -------------------------------------------------------------------


def test_lead_ids_unique_formatted_and_in_creation_order(leads: pd.DataFrame) -> None:
    ids = leads["lead_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"L\d{7}").all()
    assert ids.iloc[0] == "L0000001" and ids.iloc[-1] == "L0050000"
    assert leads["created_at"].is_monotonic_increasing


def test_categories_use_the_documented_values(leads: pd.DataFrame) -> None:
    for column, allowed in ALLOWED_VALUES.items():
        seen = set(leads[column].dropna().unique())
        assert seen <= allowed, (column, seen - allowed)
        if column not in ("lost_reason",):
            assert seen == allowed, (column, allowed - seen)
    assert leads["lost_reason"].notna().any()


def test_dates_are_day_precision_and_within_history(leads: pd.DataFrame) -> None:
    for column in DATE_COLUMNS:
        values = leads[column]
        assert pd.api.types.is_datetime64_dtype(values), column
        present = values.dropna()
        assert (present <= ANCHOR).all(), column
        assert (present >= pd.Timestamp(HISTORY_START)).all(), column
        assert (present == present.dt.normalize()).all(), column
    assert leads["created_at"].notna().all()
    assert leads["created_at"].min() < pd.Timestamp(HISTORY_START) + pd.Timedelta(days=7)
    assert leads["created_at"].max() > ANCHOR - pd.Timedelta(days=7)


def test_volume_grows_and_weekends_are_quiet(leads: pd.DataFrame) -> None:
    created = leads["created_at"]
    weekend = created.dt.day_of_week >= 5
    assert 0.03 < weekend.mean() < 0.15  # 2/7 = 0.29 if weekends were like weekdays
    first = (created < pd.Timestamp(HISTORY_START) + pd.DateOffset(months=6)).sum()
    last = (created > ANCHOR - pd.DateOffset(months=6)).sum()
    assert last > 1.1 * first


def test_behaviours_are_non_negative_integers(leads: pd.DataFrame) -> None:
    for column in BEHAVIOURS:
        assert pd.api.types.is_integer_dtype(leads[column]), column
        assert leads[column].notna().all(), column
        assert (leads[column] >= 0).all(), column


def test_behaviours_are_heavy_tailed_and_correlated(leads: pd.DataFrame) -> None:
    visits = leads["web_visits"]
    assert 2 <= visits.median() <= 4
    assert (visits >= 50).sum() > 10
    corr = leads[BEHAVIOURS].corr(method="spearman")
    assert corr.loc["web_visits", "document_requests"] > 0.1
    assert corr.loc["inquiries", "trial_signups"] > 0.05
    assert abs(corr.loc["web_visits", "newsletter_signups"]) < 0.05


def test_employees_match_company_size(leads: pd.DataFrame) -> None:
    bounds = {
        "1-49": (1, 49),
        "50-299": (50, 299),
        "300-999": (300, 999),
        "1000-4999": (1000, 4999),
        "5000+": (5000, 10**7),
    }
    assert pd.api.types.is_integer_dtype(leads["employees"])
    for size, (low, high) in bounds.items():
        employees = leads.loc[leads["company_size"] == size, "employees"]
        assert employees.between(low, high).all(), size


def test_budget_is_missing_for_about_30_percent(leads: pd.DataFrame) -> None:
    assert 0.25 < leads["budget"].isna().mean() < 0.35
    for column in ALLOWED_VALUES:
        if column not in ("budget", "lost_reason"):
            assert leads[column].notna().all(), column


def test_shares_look_realistic(leads: pd.DataFrame) -> None:
    source = leads["source"].value_counts(normalize=True)
    assert source["Web form"] > 0.2 and source["Ads"] > 0.2 and source["Referral"] < 0.1
    region = leads["region"].value_counts(normalize=True)
    assert region.idxmax() == "Kanto"
    competitor = (leads["email_type"] == "Competitor").mean()
    assert 0.005 < competitor < 0.02


# --- funnel consistency ------------------------------------------------------------------


def test_stage_dates_are_ordered(leads: pd.DataFrame) -> None:
    for earlier, later in zip(STAGES, STAGES[1:], strict=False):
        has_later = leads[later].notna()
        assert leads.loc[has_later, earlier].notna().all(), (earlier, later)
        assert (leads.loc[has_later, earlier] <= leads.loc[has_later, later]).all()


def test_won_rows_are_complete(leads: pd.DataFrame) -> None:
    won = leads[_won(leads)]
    assert len(won) > 0
    assert won[STAGES].notna().all().all()
    assert won["amount"].notna().all()
    assert won["lost_reason"].isna().all()


def test_closed_date_only_for_closed_opportunities(leads: pd.DataFrame) -> None:
    opportunity = leads["opportunity_date"].notna()
    closed = leads["closed_date"].notna()
    outcome = leads["outcome"]
    assert (closed == (opportunity & outcome.isin(["Won", "Lost"]))).all()
    assert (outcome[opportunity & ~closed] == "Open").all()
    # leads without an opportunity: Lost once stale, otherwise still Open
    stale = leads["created_at"] < ANCHOR - pd.Timedelta(days=LOST_AFTER_DAYS)
    no_opp = ~opportunity
    assert (outcome[no_opp & stale] == "Lost").all()
    assert (outcome[no_opp & ~stale] == "Open").all()


def test_amount_only_for_opportunities(leads: pd.DataFrame) -> None:
    amount = leads["amount"]
    assert amount.dtype == "Int64"
    assert (amount.notna() == leads["opportunity_date"].notna()).all()
    present = amount.dropna()
    assert (present % 10_000 == 0).all()
    assert (present > 0).all()
    by_size = leads.groupby("company_size")["amount"].median()
    assert by_size["5000+"] > 3 * by_size["1-49"]


def test_lost_reason_only_on_lost_opportunities(leads: pd.DataFrame) -> None:
    lost_opportunity = (leads["outcome"] == "Lost") & leads["opportunity_date"].notna()
    assert (leads["lost_reason"].notna() == lost_opportunity).all()


def test_competitors_never_win(leads: pd.DataFrame) -> None:
    competitor = leads["email_type"] == "Competitor"
    assert competitor.sum() > 100
    assert not _won(leads)[competitor].any()


def test_won_rate_and_funnel_shares(leads: pd.DataFrame) -> None:
    won = _won(leads)
    assert 0.04 <= won.mean() <= 0.10
    mql = leads["mql_date"].notna()
    sql = leads["sql_date"].notna()
    opp = leads["opportunity_date"].notna()
    assert 0.35 <= mql.mean() <= 0.55
    assert 0.35 <= sql.sum() / mql.sum() <= 0.60
    assert 0.50 <= opp.sum() / sql.sum() <= 0.75
    assert 0.25 <= won.sum() / opp.sum() <= 0.45


def test_recent_cohorts_look_immature(leads: pd.DataFrame) -> None:
    won = _won(leads)
    recent = leads["created_at"] > ANCHOR - pd.Timedelta(days=60)
    assert won[recent].mean() < 0.5 * won[~recent].mean()
    assert (leads.loc[recent, "outcome"] == "Open").mean() > 0.9


# --- hidden signal -----------------------------------------------------------------------


def test_inquiries_with_budget_carry_real_signal(leads: pd.DataFrame) -> None:
    won = _won(leads)
    hot = (leads["inquiries"] > 0) & (leads["budget"] == "Yes")
    assert hot.sum() > 1_000
    assert won[hot].mean() > 2.5 * won[~hot].mean()


def test_documented_factors_point_the_right_way(leads: pd.DataFrame) -> None:
    won = _won(leads)

    def rate(column: str) -> pd.Series:
        return won.groupby(leads[column]).mean()

    title = rate("job_title")
    assert title["Student"] < 0.3 * title.drop("Student").min()
    assert title[["Executive", "Department head", "Manager"]].min() > title["Other"]
    industry = rate("industry")
    assert industry["IT / Software"] > 1.5 * industry[["Education", "Public sector"]].max()
    size = rate("company_size")
    assert size[["300-999", "1000-4999"]].min() > size[["1-49", "50-299"]].max()
    timeline = rate("timeline")
    assert timeline["Within 3 months"] > 2 * timeline["Undecided"]
    assert rate("decision_maker")["Yes"] > rate("decision_maker")["No"]
    trial = won.groupby(leads["trial_signups"] > 0).mean()
    assert trial[True] > 2 * trial[False]


def test_region_is_noise(big: pd.DataFrame) -> None:
    by_region = _won(big).groupby(big["region"]).mean()
    assert len(by_region) == 8
    assert by_region.max() / by_region.min() < 1.6


def test_noise_behaviours_carry_little_signal(big: pd.DataFrame) -> None:
    won = _won(big)
    for column in ("newsletter_signups", "email_opens"):
        by_any = won.groupby(big[column] > big[column].median()).mean()
        assert by_any.max() / by_any.min() < 1.3, column
    inquiry = won.groupby(big["inquiries"] > 0).mean()
    assert inquiry[True] / inquiry[False] > 2


# --- Japanese variant --------------------------------------------------------------------


def test_translation_tables_are_complete_and_reversible() -> None:
    for column, table in VALUES_JA.items():
        assert set(table) == ALLOWED_VALUES[column], column
        assert len(set(table.values())) == len(table), column
    assert set(COLUMNS_JA) == set(EN_COLUMNS)
    assert len(set(COLUMNS_JA.values())) == len(EN_COLUMNS)


def test_ja_frame_is_the_en_frame_translated(leads: pd.DataFrame, leads_ja: pd.DataFrame) -> None:
    assert leads_ja["流入元"].isin(["Webフォーム", "広告", "展示会"]).any()
    assert set(leads_ja["予算"].dropna().unique()) == {"あり", "なし"}
    assert set(leads_ja["決裁者"].unique()) == {"はい", "いいえ"}
    assert set(leads_ja["商談結果"].unique()) == {"受注", "失注", "商談中"}
    back = leads_ja.rename(columns={ja: en for en, ja in COLUMNS_JA.items()})
    for column, table in VALUES_JA.items():
        inverse = {ja: en for en, ja in table.items()}
        back[column] = back[column].map(inverse).astype("str")
    pd.testing.assert_frame_equal(back, leads)


def test_ja_keeps_company_size_digits(leads_ja: pd.DataFrame) -> None:
    assert set(leads_ja["従業員規模"].unique()) == ALLOWED_VALUES["company_size"]


def test_frame_has_no_python_objects(leads: pd.DataFrame) -> None:
    assert not any(dtype == np.dtype(object) for dtype in leads.dtypes)


@pytest.mark.parametrize(
    ("n", "seed", "months"),
    [(20_000, 11, 2), (4_000, 11, 2), (3_000, 2, 6), (12_000, 5, 1), (8_000, 31, 3)],
)
def test_later_export_keeps_every_decided_outcome(n: int, seed: int, months: int) -> None:
    """A lead won or lost at the first export is the same row in the later one (20k, seed 11:
    L0015322 went stale in June, then reached an opportunity in October and reopened)."""
    first = generate_leads(n, seed=seed)
    later = generate_later(n, seed=seed, months=months).iloc[:n]
    assert later["lead_id"].tolist() == first["lead_id"].tolist()
    decided = first["outcome"].ne("Open").to_numpy()
    pd.testing.assert_frame_equal(
        later[decided].reset_index(drop=True), first[decided].reset_index(drop=True)
    )
    # open leads only move forward: a stage reached stays reached on the same day
    still_open = first[~decided].reset_index(drop=True)
    matured = later[~decided].reset_index(drop=True)
    for stage in STAGES[1:]:
        reached = still_open[stage].notna()
        assert matured.loc[reached, stage].equals(still_open.loc[reached, stage])
