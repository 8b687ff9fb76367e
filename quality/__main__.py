"""``python -m quality`` (``make quality``): how good "Start from the data" is, on real data.

For the demo and each shared dataset (``../shared/datasets``: UCI bank marketing, Olist's
marketing funnel), the data is loaded as a new user would load it and ``funnel suggest --json
--compare --target-conversion RATE`` is run. Printed for each: the suggestion's AUC on the
leads it was not fitted on (the holdout) with its DeLong 95% interval, next to plain logistic
regression's and gradient boosting's on the same columns and split (with the paired interval
of the difference), the columns left out as leaks and the columns the suggestion leans on, and
whether the hot tier for the target met it on the holdout.

Exit status 1 when, on a real dataset, the suggestion is worse than logistic regression by more
than the paired-DeLong noise (the whole 95% interval of the difference is below 0), or when a
dataset cannot be loaded or suggested; 0 otherwise. Gradient boosting is reported, never
required: on bank's random split its edge comes from interactions that an additive rule set
cannot express; the "no interactions" row shows it, and for bank without ``duration`` the pair
analysis (:mod:`quality.pairs`) says which pairs of columns carry the gap, by how much on the
holdout, and how many readable two-column rules would be needed to come within 0.01 of it.
Bank is judged a second time with each call's date restored from the file's documented order
(:mod:`quality.dated`): held out are the latest quarter of calls, as for every dated export,
and there boosting's edge from the calendar (which past days went well) is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from funnel.cli import main as funnel
from quality.dated import write_dated

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
BANK = DATASETS / "uci_bank_marketing" / "bank-full.csv"
OLIST = DATASETS / "olist_marketing_funnel"
DEMO_LEADS = 30_000

NAMES = {
    "logistic_regression": "logistic regression",
    "gradient_boosting": "gradient boosting",
    "gradient_boosting_additive": "gradient boosting, no interactions",
}


@dataclass(frozen=True)
class Case:
    """One dataset as a user loads it, and the suggestion asked of it."""

    title: str
    dataset: str
    load: tuple[str, ...]  # funnel arguments that store it (without --db)
    target: float
    real: bool  # a real dataset: the suggestion must not lose to logistic regression
    suggest: tuple[str, ...] = ()
    needs: tuple[Path, ...] = field(default_factory=tuple)
    #: Also measure where the gap to gradient boosting is (:mod:`quality.pairs`, ~3 minutes).
    pairs: bool = False
    #: Writes the file to load (its path replaces DERIVED in ``load``), from the shared one.
    derive: Callable[[Path], Path] | None = None


DERIVED = "{derived file}"


CASES = (
    Case(
        "demo (generated, 30,000 leads)",
        "demo",
        ("demo", "--leads", str(DEMO_LEADS), "--seed", "7", "--dataset", "demo"),
        0.25,
        real=False,
    ),
    Case(
        "bank marketing, loaded with only --outcome y",
        "bank",
        ("load", str(BANK), "--outcome", "y", "--dataset", "bank"),
        0.5,
        real=True,
        needs=(BANK,),
    ),
    Case(
        "bank marketing, duration left out (known only after the call)",
        "bank",
        (),  # loaded by the case above
        0.5,
        real=True,
        suggest=("--exclude", "duration"),
        needs=(BANK,),
        pairs=True,
    ),
    Case(
        "bank marketing with its call dates (year restored from the file's order), duration "
        "left out: the latest quarter of calls held out",
        "bank_dated",
        (
            "load",
            DERIVED,
            "--outcome",
            "y",
            "--created",
            "call_date",
            "--dataset",
            "bank_dated",
        ),  # fmt: skip
        0.5,
        real=True,
        suggest=("--exclude", "duration"),
        needs=(BANK,),
        derive=lambda tmp: write_dated(BANK, tmp / "bank-dated.csv"),
    ),
    Case(
        "Olist marketing funnel (leads + closed deals)",
        "olist",
        (
            "load",
            str(OLIST / "olist_marketing_qualified_leads_dataset.csv"),
            "--outcomes",
            str(OLIST / "olist_closed_deals_dataset.csv"),
            "--dataset",
            "olist",
        ),
        0.2,
        real=True,
        needs=(
            OLIST / "olist_marketing_qualified_leads_dataset.csv",
            OLIST / "olist_closed_deals_dataset.csv",
        ),
    ),
)


def run(*argv: str | Path) -> tuple[int, str, str]:
    """``funnel ARGV`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = funnel([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def auc_text(auc: float | None, ci: Sequence[float] | None) -> str:
    if auc is None or ci is None:
        return "–"
    return f"{auc:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def diff_text(model: dict[str, Any]) -> str:
    d, ci = model.get("suggestion_minus_model"), model.get("difference_ci")
    if d is None or ci is None:
        return ""
    return f"suggestion {d:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]"


def report(case: Case, out: dict[str, Any], seconds: float) -> tuple[list[str], bool]:
    """The lines printed for one case, and whether it fails the gate."""
    hold = out["holdout"]
    where = "latest quarter by created date" if hold["split"] == "time" else "a seeded quarter"
    lines = [
        f"{case.title}",
        f"  holdout: {hold['n']:,} leads ({hold['won']:,} won), {where}; "
        f"{out['rules']} rules; {seconds:.0f} s",
        f"  {'suggestion':<36} {auc_text(hold['auc'], hold['auc_ci'])}",
    ]
    for m in out["models"]:
        name = NAMES.get(m["model"], m["model"])
        lines.append(f"  {name:<36} {auc_text(m['auc'], m['auc_ci'])}   {diff_text(m)}")
    failed = False
    lr = next((m for m in out["models"] if m["model"] == "logistic_regression"), None)
    if lr is None or lr["difference_ci"] is None:
        lines.append("  versus logistic regression: not measured")
        failed = case.real
    elif lr["difference_ci"][1] < 0:
        lines.append("  versus logistic regression: WORSE, beyond the paired-DeLong noise")
        failed = case.real
    elif lr["difference_ci"][0] > 0:
        lines.append("  versus logistic regression: better, beyond the noise")
    else:
        lines.append("  versus logistic regression: as good (the difference is within the noise)")
    hgb = next((m for m in out["models"] if m["model"] == "gradient_boosting"), None)
    flat = next((m for m in out["models"] if m["model"] == "gradient_boosting_additive"), None)
    if hgb is not None and hgb["difference_ci"] is not None and hgb["difference_ci"][1] < 0:
        gap = -hgb["suggestion_minus_model"]
        text = f"  versus gradient boosting: {gap:.3f} behind"
        if flat is not None and flat["auc"] is not None and hold["auc"] is not None:
            text += (
                f"; boosting without interactions scores {flat['auc']:.3f}, so its edge is "
                "interactions between columns, which points that add up cannot express"
            )
        lines.append(text)
    elif hgb is not None and hgb["difference_ci"] is not None and hgb["difference_ci"][0] > 0:
        lines.append(
            f"  versus gradient boosting: {hgb['suggestion_minus_model']:.3f} ahead, beyond "
            "the noise"
        )
    leaks: dict[str, list[str]] = {}  # the reason (without the column's name): the columns
    for x in out["left_out"]:
        if x["why"] == "leak":
            reason = x["reason"].removeprefix(f"{x['column']}: ")
            leaks.setdefault(reason, []).append(x["column"])
    lines.append("  leaks flagged:" + (" none" if not leaks else ""))
    lines += [f"    {', '.join(cols)}: {reason}" for reason, cols in leaks.items()]
    gates = out.get("knockouts") or []
    lines.append(
        "  knock-out gates suggested:"
        + (" none" if not gates else "")
        + "".join(
            f"\n    {k['column']} = {k['value']}: 0 of {k['in_sample']['n']:,} training leads "
            f"won ({k['expected_won_at_base_rate']:.1f} expected at the base rate); held out "
            f"{k['holdout']['won']:,} of {k['holdout']['n']:,}"
            for k in gates
        )
    )
    excluded = [x["column"] for x in out["left_out"] if x["why"] == "excluded"]
    if excluded:
        lines.append("  left out by the user: " + ", ".join(excluded))
    leaning = out["leans_on"]
    lines.append(
        "  leans on: "
        + (
            "; ".join(
                f"{x['column']} (holdout AUC {x['auc_with']:.3f} with it, "
                f"{x['auc_without']:.3f} without)"
                for x in leaning
            )
            if leaning
            else "no single column (no drop above 0.05 without any of the top 3)"
        )
    )
    if out["no_signal"]:
        lines.append("  no signal: the holdout AUC's interval includes 0.5; no hot tier")
    hot = out["hot_tier"]
    if hot is not None:
        target = f"{case.target:.0%}"
        low, high = hot["hot_rate_ci"]
        if hot["reachable"]:
            lines.append(
                f"  target {target}: met on the holdout: the hot tier converts "
                f"{hot['hot_rate']:.1%} [{low:.1%}, {high:.1%}] on {hot['hot_n']:,} held-out "
                f"leads (score ≥ {hot['threshold']:g})"
            )
        elif hot["best_threshold"] is not None:
            lines.append(
                f"  target {target}: NOT met on the holdout; the most reachable is "
                f"{hot['hot_rate']:.1%} [{low:.1%}, {high:.1%}] on {hot['hot_n']:,} held-out "
                f"leads (score ≥ {hot['best_threshold']:g})"
            )
        else:
            lines.append(f"  target {target}: NOT met on the holdout (no score qualifies)")
        if hot["few"]:
            lines.append("  (only a handful of held-out leads reach it)")
    return lines, failed


def gap(db: Path, case: Case, out: dict[str, Any]) -> list[str]:
    """Where the suggestion's gap to gradient boosting is, pair by pair (:mod:`quality.pairs`)."""
    from funnel.store import Store
    from funnel.suggest import suggest_rules
    from funnel.suggest.engine import split_frames
    from quality.pairs import lines, measure

    hgb = next((m for m in out["models"] if m["model"] == "gradient_boosting"), None)
    if hgb is None or hgb["auc"] is None or out["holdout"]["auc"] is None:
        return ["  where the gap is: not measured (no gradient boosting figure)"]
    pairs = zip(case.suggest, case.suggest[1:], strict=False)
    exclude = tuple(v for k, v in pairs if k == "--exclude")
    with Store(db, read_only=True) as store:
        info = store.require(case.dataset)
        suggestion = suggest_rules(store, info, exclude=exclude)
        frames = split_frames(store, info, suggestion)
    types = {c.column: c for c in suggestion.columns if c.scored}
    grids, rules = measure(frames, types)
    return lines(grids, rules, out["holdout"]["auc"], hgb["auc"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make quality", description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write every case's suggest JSON here")
    args = parser.parse_args(argv)
    print(
        'make quality: "Start from the data" judged on leads it was not fitted on (holdout); '
        "AUC with DeLong 95% intervals; the difference is the paired interval on the same leads"
    )
    failed: list[str] = []
    everything: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "funnel.duckdb"
        for case in CASES:
            print()
            missing = [p for p in case.needs if not p.exists()]
            if missing:
                print(f"{case.title}\n  cannot run: {', '.join(str(p) for p in missing)} missing")
                failed.append(case.title)
                continue
            if case.load:
                load: tuple[str | Path, ...] = case.load
                if case.derive is not None:
                    made = case.derive(Path(tmp))
                    load = tuple(made if a == DERIVED else a for a in load)
                code, _, err = run(*load, "--db", db)
                if code != 0:
                    print(f"{case.title}\n  could not load:\n{err}")
                    failed.append(case.title)
                    continue
            started = time.perf_counter()
            code, stdout, err = run(
                "suggest",
                "--dataset",
                case.dataset,
                "--out",
                Path(tmp) / "rules.yaml",
                "--json",
                "--compare",
                "--target-conversion",
                str(case.target),
                "--db",
                db,
                *case.suggest,
            )
            seconds = time.perf_counter() - started
            if code != 0:
                print(f"{case.title}\n  suggest failed:\n{err}")
                failed.append(case.title)
                continue
            out = json.loads(stdout)
            everything[case.title] = out
            lines, bad = report(case, out, seconds)
            print("\n".join(lines))
            if case.pairs:
                print("\n".join(gap(db, case, out)), flush=True)
            if bad:
                failed.append(case.title)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2, ensure_ascii=False), "utf-8")
    print()
    if failed:
        print("make quality FAILED: " + "; ".join(failed))
        return 1
    print("make quality passed: on every real dataset the suggestion is at least as good as")
    print("logistic regression on the same columns and split, within the paired-DeLong noise.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
