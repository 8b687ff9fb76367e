"""Built-in demo dataset: realistic B2B leads of a Japanese software company.

``generate_leads`` draws a deterministic, fully vectorised synthetic CRM export
(one row per lead) for the 18 months ending ``ANCHOR_END``, in English or Japanese.

Hidden propensity model (what a good scoring model should rediscover):

* A latent per-lead *interest* (shifted by source: referral up, ads / cold call down)
  drives the behaviour counts, so they correlate with each other.
* The log-odds of winning is a sum of: industry (IT / Software, Finance, Manufacturing up;
  Education, Public sector down), company size (300-999 and 1000-4999 best, 1-49 worst),
  job title (Executive, Department head, Manager up; Student strongly down), budget "Yes",
  decision maker "Yes", timeline "Within 3 months", inquiries, trial sign-ups, webinars
  attended, document requests, web visits (weak, saturating), email clicks (very weak),
  plus a little unobserved noise.
  Email type "Competitor" is a knock-out: such leads never win.
* Pure noise: region, newsletter sign-ups and email opens.
* The funnel (MQL -> SQL -> opportunity -> won) applies that log-odds at every stage, with
  exponential / gamma lags; stages falling after ``ANCHOR_END`` are not reached yet, so
  recent cohorts look immature.  ``lost_reason`` leaks the outcome on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

__all__ = [
    "ANCHOR_END",
    "COLUMNS",
    "COLUMNS_JA",
    "HISTORY_START",
    "LOST_AFTER_DAYS",
    "VALUES_JA",
    "generate_later",
    "generate_leads",
]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

ANCHOR_END: date = date(2026, 9, 30)
"""The "today" of the demo data: no date in the frame is after it."""
HISTORY_START: date = date(2025, 4, 1)
"""First possible ``created_at``: the 18 months ending ``ANCHOR_END``."""
LOST_AFTER_DAYS = 120
"""Leads that never reached an opportunity are "Lost" once older than this many days."""

_EPOCH = date(1970, 1, 1)
_START_DAY = (HISTORY_START - _EPOCH).days
_END_DAY = (ANCHOR_END - _EPOCH).days

# --------------------------------------------------------------------------------------
# Categories (English labels are canonical; order = internal code)
# --------------------------------------------------------------------------------------
SOURCES = ("Web form", "Ads", "Seminar", "Webinar", "Trade show", "Referral", "Cold call")
INDUSTRIES = (
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
)
COMPANY_SIZES = ("1-49", "50-299", "300-999", "1000-4999", "5000+")
REGIONS = (
    "Hokkaido",
    "Tohoku",
    "Kanto",
    "Chubu",
    "Kansai",
    "Chugoku",
    "Shikoku",
    "Kyushu-Okinawa",
)
JOB_TITLES = (
    "Executive",
    "Department head",
    "Manager",
    "IT staff",
    "Engineer",
    "Sales",
    "Marketing",
    "Student",
    "Other",
)
EMAIL_TYPES = ("Corporate", "Free mail", "Competitor")
YES_NO = ("Yes", "No")
TIMELINES = ("Within 3 months", "3-6 months", "6-12 months", "Undecided")
OUTCOMES = ("Won", "Lost", "Open")
LOST_REASONS = ("Price", "Competitor", "No budget", "Timing", "No response")
BEHAVIOURS = (
    "web_visits",
    "document_requests",
    "newsletter_signups",
    "inquiries",
    "email_opens",
    "email_clicks",
    "webinars_attended",
    "trial_signups",
)

COLUMNS: tuple[str, ...] = (
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
    *BEHAVIOURS,
    "mql_date",
    "sql_date",
    "opportunity_date",
    "closed_date",
    "outcome",
    "amount",
    "lost_reason",
)

# --------------------------------------------------------------------------------------
# Japanese variant (headers and values as a Japanese CRM export would have them)
# --------------------------------------------------------------------------------------
COLUMNS_JA: dict[str, str] = {
    "lead_id": "リードID",
    "created_at": "作成日",
    "source": "流入元",
    "industry": "業種",
    "company_size": "従業員規模",
    "employees": "従業員数",
    "region": "地域",
    "job_title": "役職",
    "email_type": "メール種別",
    "budget": "予算",
    "decision_maker": "決裁者",
    "timeline": "導入時期",
    "web_visits": "Web訪問数",
    "document_requests": "資料請求数",
    "newsletter_signups": "メルマガ登録数",
    "inquiries": "問い合わせ数",
    "email_opens": "メール開封数",
    "email_clicks": "メールクリック数",
    "webinars_attended": "ウェビナー参加数",
    "trial_signups": "トライアル申込数",
    "mql_date": "MQL日",
    "sql_date": "SQL日",
    "opportunity_date": "商談化日",
    "closed_date": "完了日",
    "outcome": "商談結果",
    "amount": "金額",
    "lost_reason": "失注理由",
}
SOURCE_JA: dict[str, str] = {
    "Web form": "Webフォーム",
    "Ads": "広告",
    "Seminar": "セミナー",
    "Webinar": "ウェビナー",
    "Trade show": "展示会",
    "Referral": "紹介",
    "Cold call": "テレアポ",
}
INDUSTRY_JA: dict[str, str] = {
    "Manufacturing": "製造業",
    "IT / Software": "IT・ソフトウェア",
    "Retail": "小売",
    "Finance": "金融",
    "Healthcare": "医療",
    "Construction": "建設",
    "Logistics": "物流",
    "Education": "教育",
    "Public sector": "官公庁",
    "Services": "サービス",
}
REGION_JA: dict[str, str] = {
    "Hokkaido": "北海道",
    "Tohoku": "東北",
    "Kanto": "関東",
    "Chubu": "中部",
    "Kansai": "関西",
    "Chugoku": "中国",
    "Shikoku": "四国",
    "Kyushu-Okinawa": "九州・沖縄",
}
JOB_TITLE_JA: dict[str, str] = {
    "Executive": "経営者",
    "Department head": "部長",
    "Manager": "課長",
    "IT staff": "情報システム",
    "Engineer": "エンジニア",
    "Sales": "営業",
    "Marketing": "マーケティング",
    "Student": "学生",
    "Other": "その他",
}
EMAIL_TYPE_JA: dict[str, str] = {
    "Corporate": "企業",
    "Free mail": "フリーメール",
    "Competitor": "競合",
}
BUDGET_JA: dict[str, str] = {"Yes": "あり", "No": "なし"}
DECISION_MAKER_JA: dict[str, str] = {"Yes": "はい", "No": "いいえ"}
TIMELINE_JA: dict[str, str] = {
    "Within 3 months": "3ヶ月以内",
    "3-6 months": "3～6ヶ月",
    "6-12 months": "6～12ヶ月",
    "Undecided": "未定",
}
OUTCOME_JA: dict[str, str] = {"Won": "受注", "Lost": "失注", "Open": "商談中"}
LOST_REASON_JA: dict[str, str] = {
    "Price": "価格",
    "Competitor": "競合",
    "No budget": "予算なし",
    "Timing": "時期",
    "No response": "連絡なし",
}
VALUES_JA: dict[str, dict[str, str]] = {
    "source": SOURCE_JA,
    "industry": INDUSTRY_JA,
    "region": REGION_JA,
    "job_title": JOB_TITLE_JA,
    "email_type": EMAIL_TYPE_JA,
    "budget": BUDGET_JA,
    "decision_maker": DECISION_MAKER_JA,
    "timeline": TIMELINE_JA,
    "outcome": OUTCOME_JA,
    "lost_reason": LOST_REASON_JA,
}
"""English -> Japanese value tables per (English) column; company_size stays as digits."""

# --------------------------------------------------------------------------------------
# Marginal shares and the hidden model's coefficients
# --------------------------------------------------------------------------------------
_SOURCE_P = (0.32, 0.25, 0.09, 0.12, 0.09, 0.05, 0.08)
_SOURCE_INTEREST = np.array([0.20, -0.30, 0.10, 0.05, -0.20, 0.60, -0.40])
_INDUSTRY_P = (0.20, 0.18, 0.10, 0.08, 0.07, 0.08, 0.06, 0.06, 0.05, 0.12)
_INDUSTRY_COEF = np.array([0.30, 0.50, 0.0, 0.35, 0.0, -0.10, 0.0, -0.50, -0.60, 0.0])
_INDUSTRY_TRIAL = np.array([1.0, 1.6, 0.9, 1.0, 0.8, 0.8, 0.9, 0.7, 0.6, 1.0])
_INDUSTRY_AMOUNT = np.array([1.10, 1.00, 0.85, 1.30, 1.00, 0.95, 0.90, 0.70, 1.15, 0.85])
_SIZE_P = (0.30, 0.32, 0.18, 0.13, 0.07)
_SIZE_COEF = np.array([-0.60, 0.0, 0.45, 0.40, 0.05])
_SIZE_BUDGET = np.array([-0.50, 0.0, 0.25, 0.35, 0.35])
_SIZE_EMPLOYEES = ((1.0, 50.0), (50.0, 300.0), (300.0, 1000.0), (1000.0, 5000.0))
_SIZE_AMOUNT_MEDIAN = np.array([1.2e6, 2.8e6, 6.0e6, 1.2e7, 2.5e7])
_REGION_P = (0.04, 0.07, 0.40, 0.14, 0.17, 0.06, 0.03, 0.09)
# rows: company size; columns: job title
_TITLE_P = np.array(
    [
        [0.22, 0.04, 0.10, 0.10, 0.12, 0.11, 0.09, 0.07, 0.15],
        [0.08, 0.09, 0.17, 0.16, 0.14, 0.11, 0.10, 0.04, 0.11],
        [0.03, 0.11, 0.20, 0.19, 0.15, 0.09, 0.10, 0.02, 0.11],
        [0.02, 0.11, 0.21, 0.20, 0.16, 0.08, 0.10, 0.01, 0.11],
        [0.01, 0.10, 0.22, 0.21, 0.17, 0.08, 0.10, 0.01, 0.10],
    ]
)
_TITLE_COEF = np.array([0.60, 0.55, 0.35, 0.10, 0.0, -0.10, 0.0, -2.50, -0.40])
_TITLE_DECISION_P = np.array([0.85, 0.55, 0.25, 0.08, 0.05, 0.10, 0.10, 0.01, 0.08])
_TITLE_FREE_MAIL_P = np.array([0.12, 0.05, 0.05, 0.04, 0.08, 0.06, 0.06, 0.70, 0.20])
# Behaviour multipliers by job title: web visits, document requests, inquiries, trials
_TITLE_BEHAVIOUR = np.array(
    [
        [0.7, 0.8, 1.3, 0.7],
        [0.8, 1.0, 1.2, 0.8],
        [1.0, 1.1, 1.1, 1.0],
        [1.2, 1.2, 1.0, 1.4],
        [1.3, 1.0, 0.8, 1.5],
        [0.9, 0.9, 0.9, 0.8],
        [1.1, 1.2, 0.9, 0.9],
        [1.6, 1.5, 0.3, 0.5],
        [0.9, 0.9, 0.8, 0.8],
    ]
)
_COMPETITOR_P = 0.01
_BUDGET_MISSING_P = 0.30
_DECISION_COEF = 0.50
_BUDGET_COEF = np.array([0.80, -0.30, 0.0])  # Yes, No, missing
_TIMELINE_CUTS = np.array([1.55, 0.55, -0.45])  # latent > cut -> sooner timeline
_TIMELINE_COEF = np.array([0.90, 0.40, 0.0, -0.40])
_NOISE_SD = 0.60

# Funnel: stage probability = sigmoid(intercept + slope * propensity)
_STAGE_INTERCEPT = np.array([-0.25, -0.36, 0.18, -1.27])  # MQL, SQL, opportunity, won
_STAGE_SLOPE = np.array([0.70, 0.60, 0.50, 0.60])
_PROPENSITY_CENTER = 1.0  # about the mean propensity
_COMPETITOR_SQL_FACTOR = 0.10
_LAG_MEAN_DAYS = (6.0, 12.0, 15.0)  # created->MQL, MQL->SQL, SQL->opportunity
_CLOSE_SHAPE = 2.5
_CLOSE_MEAN_DAYS = 45.0
_AMOUNT_SIGMA = 0.65
# rows: budget Yes / No / missing; columns: lost reason
_LOST_REASON_P = np.array(
    [
        [0.32, 0.30, 0.06, 0.18, 0.14],
        [0.22, 0.18, 0.35, 0.15, 0.10],
        [0.28, 0.24, 0.16, 0.18, 0.14],
    ]
)

# Calendar: lead volume by month (fiscal year ends in March) and trade shows
_MONTH_FACTOR = np.array([0.90, 1.00, 1.15, 1.05, 1.00, 1.00, 0.95, 0.80, 1.05, 1.10, 1.05, 0.85])
_WEEKEND_FACTOR = 0.30
_HOLIDAY_FACTOR = 0.35
_GROWTH = 0.35  # the last day sees ~35 % more leads than the first
_TRADE_SHOWS = (
    (date(2025, 4, 23), 1.0),
    (date(2025, 7, 9), 0.7),
    (date(2025, 10, 22), 1.0),
    (date(2025, 11, 12), 0.5),
    (date(2026, 1, 21), 0.6),
    (date(2026, 4, 8), 1.1),
    (date(2026, 7, 8), 0.8),
)


@dataclass(frozen=True)
class _Leads:
    """Internal code-level representation (categories as integer codes, dates as days)."""

    created: IntArray
    source: IntArray
    industry: IntArray
    size: IntArray
    employees: IntArray
    region: IntArray
    title: IntArray
    email_type: IntArray
    budget: IntArray  # 0 Yes, 1 No, -1 missing
    decision_maker: IntArray
    timeline: IntArray
    behaviours: dict[str, IntArray]
    propensity: FloatArray
    stage_days: tuple[IntArray, IntArray, IntArray, IntArray]  # -1 = not reached (yet)
    outcome: IntArray
    amount: FloatArray  # NaN = no opportunity
    lost_reason: IntArray  # -1 = none


# --------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------
def _sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function.

    >>> _sigmoid(np.array([0.0])).tolist()
    [0.5]
    """
    return 1.0 / (1.0 + np.exp(-x))


def _business_days_after(days: IntArray, lag: IntArray) -> IntArray:
    """Add ``lag`` business days (Mon-Fri) to days since 1970-01-01; weekends roll forward.

    >>> fri, sat = 20_637, 20_638  # 2026-07-03 and 2026-07-04
    >>> _business_days_after(np.array([fri, fri, sat]), np.array([0, 1, 0])).tolist()
    [20637, 20640, 20640]
    """
    shifted = np.busday_offset(days.astype("datetime64[D]"), lag, roll="forward")
    return shifted.astype(np.int64)


def _draw(rng: np.random.Generator, probs: NDArray[np.float64], n: int) -> IntArray:
    """Draw ``n`` category codes from a probability vector."""
    cum = np.cumsum(probs / probs.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(cum) - 1).astype(
        np.int64
    )


def _draw_by_group(rng: np.random.Generator, table: FloatArray, group: IntArray) -> IntArray:
    """Draw one code per row from ``table[group]`` (a row-stochastic matrix)."""
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    codes: IntArray = (u[:, None] >= cum[group]).sum(axis=1, dtype=np.int64)
    capped: IntArray = np.minimum(codes, table.shape[1] - 1)
    return capped


def _neg_binomial(rng: np.random.Generator, mean: FloatArray, shape: float) -> IntArray:
    """Over-dispersed (gamma-Poisson) counts with the given means."""
    return rng.poisson(rng.gamma(shape, mean / shape)).astype(np.int64)


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------
def _created_days(
    rng: np.random.Generator, source: IntArray, start: int = _START_DAY, end: int = _END_DAY
) -> IntArray:
    """Creation day per lead: growth, seasonality, quiet weekends/holidays, trade shows.

    Days run from ``start`` to ``end``; growth continues past the history's last day.
    """
    days = np.arange(start, end + 1, dtype=np.int64)
    as_date = days.astype("datetime64[D]")
    month_start = as_date.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12  # 0 = January
    mday = (as_date - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days + 3) % 7
    holiday = (
        ((month == 0) & (mday <= 3))
        | ((month == 11) & (mday >= 29))
        | ((month == 4) & (mday >= 3) & (mday <= 6))
        | ((month == 7) & (mday >= 13) & (mday <= 16))
    )
    weight = (1.0 + _GROWTH * (days - _START_DAY) / (_END_DAY - _START_DAY)) * _MONTH_FACTOR[month]
    weight = weight * np.where(weekday >= 5, _WEEKEND_FACTOR, 1.0)
    weight = weight * np.where(holiday, _HOLIDAY_FACTOR, 1.0)
    created = days[_draw(rng, weight, len(source))]

    shows = [(d, w) for d, w in _TRADE_SHOWS if start <= (d - _EPOCH).days <= end]
    if not shows:  # no trade show in the window: its leads arrive like the others
        return created
    show = source == SOURCES.index("Trade show")
    n_show = int(show.sum())
    show_days = np.array([(d - _EPOCH).days for d, _ in shows], dtype=np.int64)
    show_weight = np.array([w for _, w in shows])
    picked = show_days[_draw(rng, show_weight, n_show)]
    # three show days (Wed-Fri), then business-card data entry takes a few business days
    lag = rng.integers(0, 3, n_show) + rng.geometric(0.45, n_show) - 1
    created[show] = np.minimum(_business_days_after(picked, lag), end)
    return created


def _simulate(
    n: int,
    seed: int | tuple[int, ...],
    *,
    start: int = _START_DAY,
    end: int = _END_DAY,
    observed: int = _END_DAY,
    decided_on: int | None = None,
) -> _Leads:
    """Leads created from day ``start`` to ``end``, their funnel as it stands on ``observed``.

    The random draws do not depend on ``observed``: the same leads observed later have the
    same attributes and the same future, only more of it has happened. With ``decided_on``
    (the first export's day), a lead won or lost by then stays as that export showed it.
    """
    rng = np.random.default_rng(seed)

    # who: source, creation date (sorted so that lead ids follow creation order)
    source = _draw(rng, np.array(_SOURCE_P), n)
    created = _created_days(rng, source, start, end)
    order = np.argsort(created, kind="stable")
    created, source = created[order], source[order]

    industry = _draw(rng, np.array(_INDUSTRY_P), n)
    size = _draw(rng, np.array(_SIZE_P), n)
    region = _draw(rng, np.array(_REGION_P), n)  # pure noise
    title = _draw_by_group(rng, _TITLE_P, size)

    lo = np.array([b[0] for b in _SIZE_EMPLOYEES] + [5000.0])
    hi = np.array([b[1] for b in _SIZE_EMPLOYEES] + [5001.0])
    log_emp = np.log(lo[size]) + rng.random(n) * (np.log(hi[size]) - np.log(lo[size]))
    pareto = 5000.0 * (1.0 - rng.random(n)) ** (-1.0 / 1.4)
    employees = np.where(size == 4, np.minimum(pareto, 350_000.0), np.exp(log_emp))
    employees = np.clip(np.floor(employees), lo[size], np.where(size == 4, 350_000, hi[size] - 1))

    competitor = rng.random(n) < _COMPETITOR_P
    free_mail = rng.random(n) < _TITLE_FREE_MAIL_P[title] + 0.12 * (size == 0)
    email_type = np.where(competitor, 2, np.where(free_mail, 1, 0)).astype(np.int64)

    # latent interest drives the behaviours
    interest = rng.standard_normal(n) + _SOURCE_INTEREST[source] + 0.5 * competitor
    tb = _TITLE_BEHAVIOUR[title]
    entry = rng.random(n)
    web_form = source == SOURCES.index("Web form")
    web_visits = _neg_binomial(rng, 4.0 * np.exp(0.75 * interest) * tb[:, 0], 1.3)
    document_requests = _neg_binomial(rng, 0.40 * np.exp(0.8 * interest) * tb[:, 1], 0.8)
    document_requests += web_form & (entry < 0.60)
    inquiries = _neg_binomial(rng, 0.12 * np.exp(0.9 * interest) * tb[:, 2], 0.6)
    inquiries += web_form & (entry >= 0.60) & (entry < 0.90)
    newsletter_signups = rng.poisson(0.30 * np.exp(0.05 * interest)).astype(np.int64)
    email_opens = _neg_binomial(rng, 7.0 * np.exp(0.10 * interest), 1.2)
    email_clicks = rng.binomial(email_opens, _sigmoid(-2.4 + 0.45 * interest)).astype(np.int64)
    webinars_attended = _neg_binomial(rng, 0.20 * np.exp(0.8 * interest), 0.6)
    webinars_attended += (source == SOURCES.index("Webinar")) & (rng.random(n) < 0.75)
    trial_mean = 0.06 * np.exp(1.0 * interest) * tb[:, 3] * _INDUSTRY_TRIAL[industry]
    trial_signups = np.minimum(rng.poisson(trial_mean), 3).astype(np.int64)
    behaviours = {
        "web_visits": web_visits,
        "document_requests": document_requests,
        "newsletter_signups": newsletter_signups,
        "inquiries": inquiries,
        "email_opens": email_opens,
        "email_clicks": email_clicks,
        "webinars_attended": webinars_attended,
        "trial_signups": trial_signups,
    }

    # BANT
    budget_yes = rng.random(n) < _sigmoid(-0.3 + 0.6 * interest + _SIZE_BUDGET[size])
    budget = np.where(rng.random(n) < _BUDGET_MISSING_P, -1, np.where(budget_yes, 0, 1))
    decision_p = np.minimum(_TITLE_DECISION_P[title] * np.where(size == 0, 1.4, 1.0), 0.95)
    decision_maker = np.where(rng.random(n) < decision_p, 0, 1).astype(np.int64)
    urgency = 0.7 * interest + rng.logistic(size=n)
    timeline = (3 - (urgency[:, None] > _TIMELINE_CUTS[::-1]).sum(axis=1)).astype(np.int64)

    # hidden propensity (log-odds scale)
    propensity = (
        _INDUSTRY_COEF[industry]
        + _SIZE_COEF[size]
        + _TITLE_COEF[title]
        + _BUDGET_COEF[budget]
        + _DECISION_COEF * (decision_maker == 0)
        + _TIMELINE_COEF[timeline]
        + 0.75 * np.log1p(inquiries)
        + 1.00 * (trial_signups > 0)
        + 0.35 * np.log1p(webinars_attended)
        + 0.35 * np.log1p(document_requests)
        + 0.45 * (1.0 - np.exp(-web_visits / 6.0))
        + 0.08 * np.log1p(email_clicks)
        + _NOISE_SD * rng.standard_normal(n)
    )

    stage_days, outcome = _funnel(rng, created, propensity, competitor, observed, decided_on)
    opportunity = stage_days[2] >= 0
    closed = stage_days[3] >= 0

    amount_median = _SIZE_AMOUNT_MEDIAN[size] * _INDUSTRY_AMOUNT[industry]
    raw_amount = amount_median * np.exp(_AMOUNT_SIGMA * rng.standard_normal(n))
    amount = np.maximum(np.round(raw_amount / 10_000.0) * 10_000.0, 200_000.0)
    amount = np.where(opportunity, amount, np.nan)

    lost_opp = opportunity & closed & (outcome == 1)
    lost_reason = np.where(lost_opp, _draw_by_group(rng, _LOST_REASON_P, budget), -1)

    return _Leads(
        created=created,
        source=source,
        industry=industry,
        size=size,
        employees=employees.astype(np.int64),
        region=region,
        title=title,
        email_type=email_type,
        budget=budget.astype(np.int64),
        decision_maker=decision_maker,
        timeline=timeline,
        behaviours=behaviours,
        propensity=propensity,
        stage_days=stage_days,
        outcome=outcome,
        amount=amount,
        lost_reason=lost_reason.astype(np.int64),
    )


def _business_lag(calendar_days: FloatArray) -> IntArray:
    """Whole business days (at least one) matching a lag drawn in calendar days."""
    return np.maximum(1, np.round(calendar_days * 5.0 / 7.0)).astype(np.int64)


def _funnel(
    rng: np.random.Generator,
    created: IntArray,
    propensity: FloatArray,
    competitor: BoolArray,
    observed: int = _END_DAY,
    decided_on: int | None = None,
) -> tuple[tuple[IntArray, IntArray, IntArray, IntArray], IntArray]:
    """Stage dates (-1 = not reached by day ``observed``) and outcome codes (Won/Lost/Open).

    With ``decided_on`` (an earlier export's day), a lead already won or lost on that day
    keeps that export's stages and outcome.
    """
    n = len(created)
    x = propensity - _PROPENSITY_CENTER
    p = _sigmoid(_STAGE_INTERCEPT[:, None] + _STAGE_SLOPE[:, None] * x[None, :])
    p[1] = np.where(competitor, p[1] * _COMPETITOR_SQL_FACTOR, p[1])
    p[3] = np.where(competitor, 0.0, p[3])
    u = rng.random((4, n))

    mql_lag = np.round(rng.exponential(_LAG_MEAN_DAYS[0], n) * 5.0 / 7.0).astype(np.int64)
    mql = _business_days_after(created, mql_lag)  # marketing hands over on business days
    sql = _business_days_after(mql, _business_lag(rng.exponential(_LAG_MEAN_DAYS[1], n)))
    opp = _business_days_after(sql, _business_lag(rng.exponential(_LAG_MEAN_DAYS[2], n)))
    close_lag = rng.gamma(_CLOSE_SHAPE, _CLOSE_MEAN_DAYS / _CLOSE_SHAPE, n)
    closed = _business_days_after(opp, _business_lag(close_lag))

    reached = u < p  # MQL, SQL, opportunity, won: whether each happens at all, in time

    def as_of(day: int) -> tuple[tuple[IntArray, IntArray, IntArray, IntArray], IntArray]:
        reach_mql = reached[0] & (mql <= day)
        reach_sql = reach_mql & reached[1] & (sql <= day)
        reach_opp = reach_sql & reached[2] & (opp <= day)
        is_closed = reach_opp & (closed <= day)
        won = is_closed & reached[3]
        stale = created < day - LOST_AFTER_DAYS
        outcome = np.where(
            won, 0, np.where(is_closed, 1, np.where(reach_opp, 2, np.where(stale, 1, 2)))
        ).astype(np.int64)
        stage_days = (
            np.where(reach_mql, mql, -1).astype(np.int64),
            np.where(reach_sql, sql, -1).astype(np.int64),
            np.where(reach_opp, opp, -1).astype(np.int64),
            np.where(is_closed, closed, -1).astype(np.int64),
        )
        return stage_days, outcome

    stage_days, outcome = as_of(observed)
    if decided_on is None or decided_on >= observed:
        return stage_days, outcome
    # A lead decided on ``decided_on`` (won, lost, or gone stale: lost) stays as it was then:
    # a stale lead whose opportunity would have come later does not come back to life.
    first_days, first_outcome = as_of(decided_on)
    decided = first_outcome != 2
    frozen = tuple(np.where(decided, a, b) for a, b in zip(first_days, stage_days, strict=True))
    return (frozen[0], frozen[1], frozen[2], frozen[3]), np.where(decided, first_outcome, outcome)


# --------------------------------------------------------------------------------------
# Frame assembly
# --------------------------------------------------------------------------------------
def _text(codes: IntArray, labels: tuple[str, ...], column: str, lang: str) -> pd.Series:
    """String column from category codes (-1 = missing), translated if ``lang == "ja"``."""
    if lang == "ja" and column in VALUES_JA:
        labels = tuple(VALUES_JA[column][label] for label in labels)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)  # -1 -> null
    values = pa.array(labels, type=pa.large_string()).take(indices)
    return pd.Series(pd.array(values, dtype="str"), name=column)


def _dates(days: IntArray, column: str) -> pd.Series:
    """Day-precision datetime column from days since 1970-01-01 (-1 = NaT)."""
    values = days.astype("datetime64[D]")
    values[days < 0] = np.datetime64("NaT")
    return pd.Series(values.astype("datetime64[s]"), name=column)


def generate_leads(n: int = 50_000, seed: int = 7, lang: str = "en") -> pd.DataFrame:
    """Generate ``n`` realistic, deterministic demo leads (see the module docstring).

    ``lang="ja"`` returns the very same data with Japanese headers and category values.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer (number of leads), got {n!r}")
    if lang not in ("en", "ja"):
        raise ValueError(f"lang must be 'en' or 'ja', got {lang!r}")
    n = int(n)
    return _frame(_simulate(n, seed), 1, lang)


def generate_later(
    n: int = 50_000,
    seed: int = 7,
    lang: str = "en",
    *,
    months: int = 2,
    new_leads: int | None = None,
) -> pd.DataFrame:
    """The same CRM's export ``months`` after :data:`ANCHOR_END`: the ``n`` leads of
    ``generate_leads(n, seed, lang)`` with their funnel and outcomes matured, then
    ``new_leads`` leads created since (about ``n * months / 18`` by default), numbered on.

    A lead's attributes and behaviour counts are those of the first export; what moves is
    what happened since: stages reached, deals closed, and open leads going stale (lost). An
    outcome already recorded (won or lost) never changes. With the default two months, no
    date is later than 2026-11-30.
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
        raise ValueError(f"months must be a whole number from 1 to 24, got {months!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer (number of leads), got {n!r}")
    if lang not in ("en", "ja"):
        raise ValueError(f"lang must be 'en' or 'ja', got {lang!r}")
    n = int(n)
    later = pd.Timestamp(ANCHOR_END) + pd.DateOffset(months=months)
    observed = (later.date() - _EPOCH).days
    extra = round(n * months / 18) if new_leads is None else int(new_leads)
    if extra < 0:
        raise ValueError(f"new_leads must not be negative, got {new_leads!r}")
    frames = [_frame(_simulate(n, seed, observed=observed, decided_on=_END_DAY), 1, lang)]
    if extra:
        fresh = _simulate(
            extra, (seed, months), start=_END_DAY + 1, end=observed, observed=observed
        )
        frames.append(_frame(fresh, n + 1, lang))
    return pd.concat(frames, ignore_index=True)


def _frame(leads: _Leads, first_id: int, lang: str) -> pd.DataFrame:
    """The export's columns from simulated leads, numbered from ``first_id``."""
    n = len(leads.created)
    numbers = np.arange(first_id, first_id + n, dtype=np.int64)
    lead_id = "L" + pd.Series(numbers).astype("str").str.zfill(7)
    columns: dict[str, pd.Series] = {
        "lead_id": lead_id.rename("lead_id"),
        "created_at": _dates(leads.created, "created_at"),
        "source": _text(leads.source, SOURCES, "source", lang),
        "industry": _text(leads.industry, INDUSTRIES, "industry", lang),
        "company_size": _text(leads.size, COMPANY_SIZES, "company_size", lang),
        "employees": pd.Series(leads.employees, name="employees"),
        "region": _text(leads.region, REGIONS, "region", lang),
        "job_title": _text(leads.title, JOB_TITLES, "job_title", lang),
        "email_type": _text(leads.email_type, EMAIL_TYPES, "email_type", lang),
        "budget": _text(leads.budget, YES_NO, "budget", lang),
        "decision_maker": _text(leads.decision_maker, YES_NO, "decision_maker", lang),
        "timeline": _text(leads.timeline, TIMELINES, "timeline", lang),
    }
    for name in BEHAVIOURS:
        columns[name] = pd.Series(leads.behaviours[name], name=name)
    for name, days in zip(
        ("mql_date", "sql_date", "opportunity_date", "closed_date"), leads.stage_days, strict=True
    ):
        columns[name] = _dates(days, name)
    columns["outcome"] = _text(leads.outcome, OUTCOMES, "outcome", lang)
    amount_values = np.where(np.isnan(leads.amount), 0, leads.amount).astype(np.int64)
    columns["amount"] = pd.Series(
        pd.arrays.IntegerArray(amount_values, np.isnan(leads.amount)), name="amount"
    )
    columns["lost_reason"] = _text(leads.lost_reason, LOST_REASONS, "lost_reason", lang)

    frame = pd.DataFrame(columns, columns=list(COLUMNS))
    if lang == "ja":
        frame = frame.rename(columns=COLUMNS_JA)
    return frame
