"""``make quality``'s gate: a real dataset fails when the suggestion loses to logistic
regression beyond the paired-DeLong noise; within the noise it passes; the demo never fails
the gate; boosting's lead is reported, with the "no interactions" figure, never required."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quality.__main__ import Case, report

REAL = Case("real", "real", (), 0.5, real=True)
DEMO = Case("demo", "demo", (), 0.25, real=False)


def model(name: str, auc: float, diff: float, low: float, high: float) -> dict[str, Any]:
    return {
        "model": name,
        "measured_on": "holdout",
        "auc": auc,
        "auc_ci": [auc - 0.01, auc + 0.01],
        "suggestion_minus_model": diff,
        "difference_ci": [low, high],
    }


def out(lr: tuple[float, float], hgb: tuple[float, float] = (-0.01, 0.01)) -> dict[str, Any]:
    auc = 0.75
    return {
        "rules": 20,
        "no_signal": False,
        "holdout": {"n": 1000, "won": 100, "split": "time", "auc": auc, "auc_ci": [0.72, 0.78]},
        "models": [
            model("logistic_regression", auc - sum(lr) / 2, sum(lr) / 2, *lr),
            model("gradient_boosting", auc - sum(hgb) / 2, sum(hgb) / 2, *hgb),
            model("gradient_boosting_additive", 0.751, -0.001, -0.004, 0.002),
        ],
        "left_out": [
            {"column": "deal_value", "why": "leak", "reason": "deal_value: won 100% above 0"},
            {"column": "mql_id", "why": "role", "reason": "mql_id: the lead id"},
        ],
        "leans_on": [],
        "hot_tier": {
            "reachable": True,
            "hot_rate": 0.55,
            "hot_rate_ci": [0.51, 0.59],
            "hot_n": 400,
            "threshold": 30.0,
            "best_threshold": None,
            "few": False,
        },
    }


def test_losing_to_regression_beyond_the_noise_fails_a_real_dataset_only() -> None:
    lines, failed = report(REAL, out(lr=(-0.03, -0.01)), 1.0)
    assert failed
    assert "  versus logistic regression: WORSE, beyond the paired-DeLong noise" in lines
    _, failed_demo = report(DEMO, out(lr=(-0.03, -0.01)), 1.0)
    assert not failed_demo


def test_within_the_noise_passes_and_says_so() -> None:
    lines, failed = report(REAL, out(lr=(-0.004, 0.002)), 1.0)
    assert not failed
    assert "  versus logistic regression: as good (the difference is within the noise)" in lines


def test_boosting_ahead_is_reported_with_the_additive_figure_and_does_not_fail() -> None:
    lines, failed = report(REAL, out(lr=(0.001, 0.01), hgb=(-0.035, -0.018)), 1.0)
    assert not failed
    (behind,) = [x for x in lines if "versus gradient boosting" in x]
    assert "boosting without interactions scores 0.751" in behind


def test_leaks_and_the_target_are_printed() -> None:
    lines, _ = report(REAL, out(lr=(0.0, 0.01)), 1.0)
    assert "    deal_value: won 100% above 0" in lines
    assert any(
        x.startswith("  target 50%: met on the holdout: the hot tier converts 55.0%") for x in lines
    )


def test_bank_call_dates_move_to_the_next_year_when_the_month_goes_back() -> None:
    from quality.dated import call_dates

    months = ["may", "may", "dec", "jan", "feb", "feb", "nov", "mar"]
    days = [5, 31, 9, 2, 1, 28, 17, 4]
    assert call_dates(months, days) == [
        "2008-05-05",
        "2008-05-31",
        "2008-12-09",
        "2009-01-02",
        "2009-02-01",
        "2009-02-28",
        "2009-11-17",
        "2010-03-04",
    ]


def test_the_dated_bank_file_keeps_every_row_and_adds_its_call_date(tmp_path: Path) -> None:
    from quality.dated import write_dated

    src = tmp_path / "bank.csv"
    src.write_text('"age";"day";"month";"y"\n30;5;"may";"no"\n41;2;"jan";"yes"\n', "utf-8")
    dest = write_dated(src, tmp_path / "dated.csv")
    assert dest.read_text("utf-8").splitlines() == [
        "age;day;month;y;call_date",
        "30;5;may;no;2008-05-05",
        "41;2;jan;yes;2009-01-02",
    ]


def test_a_suggestion_ahead_of_boosting_beyond_the_noise_says_so() -> None:
    lines, failed = report(REAL, out(lr=(0.001, 0.01), hgb=(0.005, 0.02)), 1.0)
    assert not failed
    assert any(line.startswith("  versus gradient boosting: 0.013 ahead") for line in lines)


def test_suggested_knockout_gates_are_printed_with_their_figures() -> None:
    found = out(lr=(0.001, 0.01))
    found["knockouts"] = [
        {
            "column": "email_type",
            "value": "Competitor",
            "in_sample": {"measured_on": "in_sample", "n": 177, "won": 0},
            "expected_won_at_base_rate": 10.8,
            "holdout": {"measured_on": "holdout", "n": 61, "won": 0},
        }
    ]
    lines, _ = report(REAL, found, 1.0)
    text = "\n".join(lines)
    assert (
        "  knock-out gates suggested:\n    email_type = Competitor: 0 of 177 training leads won "
        "(10.8 expected at the base rate); held out 0 of 61"
    ) in text
    assert "  knock-out gates suggested: none" in report(REAL, out(lr=(0.001, 0.01)), 1.0)[0]
