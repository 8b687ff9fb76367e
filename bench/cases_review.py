"""Review case: how an agreed version did on the leads since its effective date.

The stored dataset is the demo leads (``generate_leads(rows, seed=7)``) refreshed with the
same CRM's export two months later (``generate_later``: the leads matured and ``rows/9`` new
ones), a version agreed effective 2026-04-01 (inside the data) and sales' verdicts on every
lead since. Timed: :func:`funnel.review.review` (tiers, volume, missed deals, feedback by tier
and source, reasons, rejected-then-won, rule and score drift with their tests, weekly counts)
against the same figures in pandas.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from bench.harness import Trial, Workspace, case
from funnel.demo import generate_later
from funnel.feedback import load_feedback
from funnel.ingest import load_files
from funnel.readers import SourceFile
from funnel.review import review
from funnel.rules import CategoryRule, CountRule, Gate, PerUnitRule, RuleSet, Tier
from funnel.stats import wilson
from funnel.store import Store
from funnel.versions.history import save_version
from funnel.versions.signoff import propose, sign

SINCE = date(2026, 4, 1)
RULES = RuleSet(
    name="review bench",
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
STAGES = ("mql_date", "sql_date", "opportunity_date", "closed_date")


def verdicts(frame: pd.DataFrame) -> pd.DataFrame:
    """Sales' verdict on every lead since :data:`SINCE`, a fixed pattern with reasons.

    >>> verdicts(generate_later(200, months=2))["Status"].iloc[:3].tolist()
    ['Accepted', 'Rejected', 'Not contacted']
    """
    picked = frame.loc[frame["created_at"] >= pd.Timestamp(SINCE), "lead_id"].to_numpy()
    status = np.array(["Accepted", "Rejected", "Not contacted", "Accepted"])[
        np.arange(len(picked)) % 4
    ]
    reasons = np.array(["No budget", "Student", "Competitor", "Timing", "no budget"])
    reason = np.where(status == "Rejected", reasons[np.arange(len(picked)) % 5], None)
    return pd.DataFrame({"Lead ID": picked, "Status": status, "Rejection reason": reason})


def _points(f: pd.DataFrame) -> list[pd.Series]:
    return [
        f["budget"].eq("Yes") * 15,
        f["decision_maker"].eq("Yes") * 10,
        (f["webinars_attended"] >= 1) * 10,
        (f["trial_signups"] >= 1) * 20,
        (f["inquiries"].fillna(0) * 5).clip(upper=15),
    ]


def pandas_review(f: pd.DataFrame, fb: pd.DataFrame) -> dict[str, object]:
    """The review's figures in pandas: tiers, population, volume, missed deals, feedback,
    reasons, rule and score drift with scipy's tests, weekly counts."""
    points = _points(f)
    score = sum(points)
    gated = f["email_type"].eq("Competitor")
    tier = np.where((score >= 35) & ~gated, "hot", np.where(score >= 15, "warm", "cold"))
    outcome = f["outcome"].str.lower()
    won = outcome.eq("won")
    created = f["created_at"]
    closed = f["closed_date"]
    days = (closed - created).dt.days[won & (closed >= created)]
    latest = max(created.max(), *(f[c].max() for c in STAGES))
    cutoff = latest - pd.Timedelta(days=math.ceil(float(days.quantile(0.9))))
    counted = outcome.isin(["won", "lost"]) | (outcome.eq("open") & (created <= cutoff))
    new = created >= pd.Timestamp(SINCE)
    aged = created <= cutoff  # the review's leads since count only when old enough, won or not
    out: dict[str, object] = {}
    for part, mask, counts in (("now", new, aged), ("then", ~new, counted)):
        frame = pd.DataFrame(
            {"tier": tier[mask], "counted": counts[mask], "won": won[mask] & counts[mask]}
        )
        g = frame.groupby("tier").agg(
            leads=("won", "size"), counted=("counted", "sum"), won=("won", "sum")
        )
        g["ci"] = [wilson(int(w), int(n)) for w, n in zip(g["won"], g["counted"], strict=True)]
        out[part] = g
    hot_now = (tier[new] == "hot").sum()
    out["volume"] = stats.fisher_exact(
        [[hot_now, new.sum() - hot_now], [(tier[~new] == "hot").sum(), (~new).sum()]]
    ).pvalue
    out["missed"] = int((won & new & (tier != "hot")).sum())
    ps = []
    for p in points:
        fires = p != 0
        k1, n1, k2, n2 = fires[new].sum(), new.sum(), fires[~new].sum(), (~new).sum()
        ps.append(stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
    ps.append(stats.ks_2samp(score[new], score[~new], method="asymp").pvalue)
    out["drift"] = stats.false_discovery_control(ps)
    judged = pd.DataFrame(
        {"lead_id": f.loc[new, "lead_id"], "tier": tier[new], "source": f.loc[new, "source"]}
    ).merge(fb.rename(columns={"Lead ID": "lead_id"}), on="lead_id", how="left")
    for by in ("tier", "source"):
        out[by] = judged.groupby(by)["Status"].value_counts().unstack(fill_value=0)
    rejected = judged["Rejection reason"][judged["Status"].eq("Rejected")]
    out["reasons"] = rejected.str.normalize("NFKC").str.casefold().value_counts()
    week = created[new].dt.to_period("W-SUN").dt.start_time
    out["weekly"] = pd.DataFrame({"week": week, "hot": tier[new] == "hot"}).groupby("week").sum()
    out["hot_now"] = int(hot_now)
    return out


@case(
    "review",
    "funnel.review of a version agreed inside the refreshed demo (feedback on every new lead) "
    "vs the same figures in pandas",
)
def review_case(ws: Workspace) -> Trial:
    # funnel: review() on the stored dataset — the score histograms of the leads since and
    # before (the Tuner's query), rule firing counts, the feedback joins by tier and source,
    # rejection reasons, the weekly counts, and the tests with their correction.
    # baseline: pandas scores every lead, computes the population, tiers, volume, missed
    # deals, feedback by tier and source, reasons, drift tests and weekly counts in memory.
    base = ws.demo_frame()
    with ws.step("generating the later export and sales' verdicts"):
        later = generate_later(ws.rows, seed=7, months=2)
        fb = verdicts(later)
    db = ws.path("review.duckdb")
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    with ws.step("storing the demo, agreeing a version, refreshing, loading the verdicts"):
        with Store(db) as store:
            load_files(store, "crm", SourceFile("crm.csv", base, "csv"))
            v = save_version(
                store, store.require("crm"), RULES, author="bench", effective_from=SINCE
            )
            propose(store, v.version_id, "bench")
            sign(store, v.version_id, "marketing", "Mara")
            sign(store, v.version_id, "sales", "Sam")
            load_files(store, "crm", SourceFile("later.csv", later, "csv"), refresh=True)
            load_feedback(store, "crm", SourceFile("sales.csv", fb, "csv"))
    store = ws.memo("review_store", lambda: Store(db, read_only=True), close=lambda s: s.close())
    expected = int(pandas_review(later, fb)["hot_now"])  # type: ignore[call-overload]

    def run() -> None:
        r = review(store, "crm")
        if r.hot_leads != expected:
            raise RuntimeError(f"expected {expected:,} hot leads since, got {r.hot_leads:,}")

    def baseline() -> None:
        got = pandas_review(later, fb)["hot_now"]
        if got != expected:
            raise RuntimeError(f"expected {expected:,} hot leads since, got {got}")

    return Trial(run=run, baseline=baseline)
