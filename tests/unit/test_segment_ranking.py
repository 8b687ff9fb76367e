"""Best and worst segments only when the data supports them.

Synthetic files with a known truth: every segment converting at the same rate (no best, and
the words say so), one segment clearly better (named, with its rate, interval and the rest's),
and a file too small to rank. The adjusted p-values are checked against an independent Holm
adjustment of scipy's one-sided Fisher tests written here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import fisher_exact

from funnel.cli import main
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.segments import holm, ranking_evidence, segment_table
from funnel.stats import wilson
from funnel.store import DatasetInfo, Store


def write_leads(path: Path, groups: dict[str, tuple[int, int]]) -> Path:
    """One row per lead: ``groups`` maps a segment to (leads, won)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "channel", "won"])
        for name, (n, won) in groups.items():
            for i in range(n):
                writer.writerow([f"{name}-{i}", name, "yes" if i < won else "no"])
    return path


#: Eight channels of 200 leads converting at 26–31%: what the old labels called best and worst.
SAME = {f"ch{i}": (200, won) for i, won in enumerate([56, 58, 60, 60, 61, 60, 59, 62])}
#: The same plus one channel converting at 60% on 200 leads.
ONE_BETTER = {**SAME, "partner": (200, 120)}
#: Twenty leads in four channels, one converting at 100%.
TINY = {"a": (5, 5), "b": (5, 1), "c": (5, 1), "d": (5, 0)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ranking")


@pytest.fixture(scope="module")
def store(folder: Path) -> Iterator[Store]:
    with Store(folder / "funnel.duckdb") as s:
        yield s


def load(store: Store, folder: Path, name: str, groups: dict[str, tuple[int, int]]) -> DatasetInfo:
    leads, _, _ = read_inputs(write_leads(folder / f"{name}.csv", groups))
    return load_files(store, name, leads, outcome_column="won").dataset


def central(group: tuple[int, int], total_n: int, total_won: int) -> float:
    """Two-sided Fisher p of a segment against the rest: twice the smaller one-sided p."""
    n, won = group
    table = [[won, n - won], [total_won - won, total_n - n - total_won + won]]
    one_sided = (fisher_exact(table, alternative=side).pvalue for side in ("less", "greater"))
    return min(1.0, 2 * min(one_sided))


def reference(groups: dict[str, tuple[int, int]], min_n: int = 30) -> dict[str, float]:
    """Holm-adjusted Fisher p of each segment with at least min_n leads against the rest."""
    total_n = sum(n for n, _ in groups.values())
    total_won = sum(w for _, w in groups.values())
    names = [k for k, (n, _) in groups.items() if n >= min_n]
    raw = np.array([central(groups[k], total_n, total_won) for k in names])
    order = np.argsort(raw)
    steps = np.maximum.accumulate((len(raw) - np.arange(len(raw))) * raw[order])
    adjusted = np.empty_like(raw)
    adjusted[order] = np.minimum(steps, 1.0)
    return dict(zip(names, adjusted.tolist(), strict=True))


def test_holm_matches_the_step_down_written_with_numpy() -> None:
    p = [0.001, 0.2, 0.012, 0.04, 0.5, 0.0049]
    order = np.argsort(p)
    steps = np.maximum.accumulate((len(p) - np.arange(len(p))) * np.asarray(p)[order])
    want = np.empty(len(p))
    want[order] = np.minimum(steps, 1.0)
    assert holm(p) == pytest.approx(want.tolist())


def test_segments_converting_alike_name_no_best_or_worst_and_say_so(
    store: Store, folder: Path
) -> None:
    info = load(store, folder, "same", SAME)
    table = segment_table(store, info, ["channel"])
    rates = [s.rate or 0.0 for s in table.segments]
    assert min(rates) == 0.28 and max(rates) == 0.31  # what used to be called worst and best
    assert not any(s.best or s.worst for s in table.segments)
    r = table.ranking
    assert (r.verdict, r.compared, r.best, r.worst) == ("no_difference", 8, None, None)
    want = reference(SAME)
    assert r.closest is not None
    assert r.closest.p_adjusted == pytest.approx(min(want.values()))
    assert r.closest.p_adjusted >= 0.05
    (line,) = ranking_evidence(table, "en")
    assert line.startswith(
        "No segment of channel converts differently from the rest beyond chance: "
        "none is called best or worst."
    )
    c = r.closest
    low, high = wilson(c.converted, c.n)
    assert f"{c.segment}, converts at {c.rate:.1%} (95% interval {low:.1%}–{high:.1%}" in line
    assert f"{c.rest_n:,} leads) for the rest" in line and "8 segments" in line
    (ja,) = ranking_evidence(table, "ja")
    assert "channel のどのセグメントも、偶然の範囲を超えて残りと異なる転換はしていません" in ja


def test_one_clearly_better_segment_is_named_best_with_its_evidence(
    store: Store, folder: Path
) -> None:
    info = load(store, folder, "better", ONE_BETTER)
    table = segment_table(store, info, ["channel"])
    assert [s.keys[0] for s in table.segments if s.best] == ["partner"]
    assert not any(s.worst for s in table.segments)  # the others are alike: none is worst
    r = table.ranking
    assert r.verdict == "ranked" and r.compared == 9 and r.best is not None
    b = r.best
    assert (b.segment, b.n, b.converted, b.rest_n, b.rest_converted) == (
        "partner",
        200,
        120,
        1600,
        476,
    )
    assert b.p_adjusted == pytest.approx(reference(ONE_BETTER)["partner"])
    assert b.p_adjusted < 0.001
    best, no_worst = ranking_evidence(table, "en")
    low, high = wilson(120, 200)
    rest_low, rest_high = wilson(476, 1600)
    assert best == (
        f"Best: partner converts at 60.0% (95% interval {low:.1%}–{high:.1%}, 200 leads) "
        f"against 29.8% ({rest_low:.1%}–{rest_high:.1%}, 1,600 leads) for the rest; "
        "Fisher's exact test of each of the 9 segments with at least 30 leads against the "
        "rest, Holm-adjusted: p < 0.001. It also converts above the next highest, ch7 at "
        "31.0% (200 leads): p < 0.001."
    )
    assert no_worst == t("ranking.no_worst", "en", by="channel")
    best_ja, _ = ranking_evidence(table, "ja")
    assert best_ja.startswith("最良: partner の転換率は 60.0%")


def test_a_tiny_file_names_nothing_and_says_it_has_too_few_leads(
    store: Store, folder: Path
) -> None:
    info = load(store, folder, "tiny", TINY)
    table = segment_table(store, info, ["channel"])
    assert not any(s.best or s.worst for s in table.segments)
    assert (table.ranking.verdict, table.ranking.compared) == ("too_few", 0)
    assert ranking_evidence(table, "en") == [
        "Too few leads to call any segment of channel best or worst: 0 segment(s) have at "
        "least 30 leads, and at least two are needed."
    ]
    # with the minimum lowered: 5 won of 5 is beyond chance against the rest (2 of 15) even
    # over 4 segments, but not against the next highest (1 of 5): nothing is named
    low = segment_table(store, info, ["channel"], min_n=5)
    want = reference(TINY, min_n=5)
    assert want["a"] < 0.05 < want["d"]
    r = low.ranking
    assert (r.verdict, r.best, r.worst, r.worst_not_apart) == ("not_apart", None, None, None)
    assert r.best_not_apart is not None and r.best_not_apart.next_segment == "b"
    assert r.best_not_apart.p_adjusted == pytest.approx(want["a"])
    assert not any(s.best or s.worst for s in low.segments)
    assert ranking_evidence(low, "en")[0].endswith("neither is called best.")


def test_the_cli_says_the_verdict_in_words_and_json(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = folder / "cli.duckdb"
    for name, groups in (("same", SAME), ("better", ONE_BETTER)):
        path = write_leads(folder / f"cli-{name}.csv", groups)
        argv = ["load", str(path), "--dataset", name, "--outcome", "won", "--db", str(db)]
        assert main(argv) == 0
    capsys.readouterr()

    assert main(["segments", "--dataset", "same", "--by", "channel", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    flags = (t("cli.flag.best", "en"), t("cli.flag.worst", "en"))
    assert not any(line.endswith(flags) for line in out.splitlines())
    assert "No segment of channel converts differently from the rest beyond chance" in out

    argv = ["segments", "--dataset", "same", "--by", "channel", "--db", str(db), "--json"]
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["best"] is None and record["worst"] is None
    assert record["ranking"]["verdict"] == "no_difference"
    assert record["ranking"]["test"] == "fisher_exact_central_vs_rest_holm"
    assert record["evidence"][0].startswith("No segment of channel converts differently")
    assert not any(s["best"] or s["worst"] for s in record["segments"])

    argv = ["segments", "--dataset", "better", "--by", "channel", "--db", str(db)]
    assert main([*argv, "--json", "--lang", "ja"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["best"] == "partner" and record["worst"] is None
    best = record["ranking"]["best"]
    assert (best["n"], best["converted"], best["rest_n"], best["rest_converted"]) == (
        200,
        120,
        1600,
        476,
    )
    assert best["p_adjusted"] < 0.001 and best["rate"] == 0.6
    assert record["evidence"][0].startswith("最良: partner の転換率は 60.0%")
    assert [s["segment"] for s in record["segments"] if s["best"]] == ["partner"]

    assert main(argv) == 0
    out = capsys.readouterr().out
    partner = next(line for line in out.splitlines() if line.startswith("partner"))
    assert partner.endswith(t("cli.flag.best", "en"))
    assert "Best: partner converts at 60.0%" in out


#: Three alike channels beside one far better: against the rest (pulled up by the better one)
#: the lowest looks worse, but it does not convert apart from its peers.
BESIDE_ONE_BETTER = {"ch0": (200, 56), "ch1": (200, 60), "ch2": (200, 62), "partner": (200, 120)}


def test_a_segment_below_the_rest_but_not_apart_from_its_peers_is_not_called_worst(
    store: Store, folder: Path
) -> None:
    info = load(store, folder, "beside", BESIDE_ONE_BETTER)
    table = segment_table(store, info, ["channel"])
    r = table.ranking
    assert r.verdict == "ranked" and r.best is not None and r.worst is None
    assert (r.best.segment, r.best.next_segment) == ("partner", "ch2")
    assert r.best.p_next is not None and r.best.p_next < 0.001
    unsure = r.worst_not_apart
    assert unsure is not None and (unsure.segment, unsure.next_segment) == ("ch0", "ch1")
    assert unsure.p_adjusted < 0.05 and unsure.p_next is not None and unsure.p_next >= 0.05
    assert [s.keys[0] for s in table.segments if s.best] == ["partner"]
    assert not any(s.worst for s in table.segments)
    best, worst = ranking_evidence(table, "en")
    assert best.endswith(
        "It also converts above the next highest, ch2 at 31.0% (200 leads): p < 0.001."
    )
    assert worst == (
        "ch0 converts worse than the rest of channel (28.0% of 200 leads against 40.3%; "
        f"Holm-adjusted p = {unsure.p_adjusted:.3f}) but not apart from ch1 (30.0% of 200 leads; "
        "p = 1.000): neither is called worst."
    )
    _, worst_ja = ranking_evidence(table, "ja")
    assert worst_ja.endswith("どちらも最悪とは呼びません。")


def test_japanese_names_a_best_and_a_worst_segment_with_one_pair_of_words() -> None:
    """最良/最悪 everywhere a segment is called best or worst (table, CLI, evidence)."""
    from funnel.i18n import MESSAGES

    keys = [
        k
        for k in MESSAGES
        if k.startswith("ranking.")
        or k in ("segments.best", "segments.worst", "cli.flag.best", "cli.flag.worst")
    ]
    said = {k: MESSAGES[k][1] for k in keys}
    assert said["segments.best"] == "最良" and said["segments.worst"] == "最悪"
    assert said["cli.flag.best"].strip() == "最良" and said["cli.flag.worst"].strip() == "最悪"
    assert said["ranking.best"].startswith("最良:") and said["ranking.worst"].startswith("最悪:")
    assert not [k for k, ja in said.items() if "最高" in ja or "最低" in ja]
