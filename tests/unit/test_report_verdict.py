"""The meeting report labels its figures in-sample and says how the definition ranks the leads
held out (the latest quarter); with no signal it says plainly that no hot tier means anything,
in English and Japanese."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.backtest import Verdict, holdout, verdict
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.meeting import report_bytes
from funnel.readers import SourceFile
from funnel.report import ReportInput, build_report
from funnel.rules import CategoryRule, CountRule, Gate, RuleSet, Tier
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.stats import AucInterval
from funnel.store import DatasetInfo, Store
from funnel.suggest import logistic_beside
from funnel.versions.history import list_versions, save_version

RULES = RuleSet(
    name="spring",
    rules=(CategoryRule("industry", "IT", 15), CountRule("visits", 3, 20)),
    tiers=(Tier("hot", 20), Tier("warm", 10), Tier("cold", -math.inf)),
)


def _leads(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    industry = rng.choice(["IT", "Retail", "Food"], n)
    visits = rng.poisson(2, n)
    days = pd.to_timedelta(rng.integers(0, 300, n), "D")
    p = 0.05 + 0.25 * (industry == "IT") + 0.03 * np.minimum(visits, 6)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": pd.Timestamp("2026-01-01") + days,
            "industry": industry,
            "visits": visits,
            "converted": np.where(rng.random(n) < p, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DatasetInfo]]:
    db = tmp_path_factory.mktemp("verdict") / "funnel.duckdb"
    with Store(db) as store:
        info = load_files(store, "leads", SourceFile("leads.csv", _leads(), "csv")).dataset
        save_version(store, info, RULES, author="Aki")
    yield db, info


def _text(html: str, element_id: str) -> str | None:
    found = re.search(rf'<p class="(\w+)" id="{element_id}">(.*?)</p>', html, re.S)
    return None if found is None else f"{found.group(1)}: {unescape(found.group(2))}"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_report_says_how_the_definition_ranks_the_held_out_leads(
    loaded: tuple[Path, DatasetInfo], lang: str
) -> None:
    db, info = loaded
    with Store(db) as store:
        (version,) = list_versions(store, info.name)
        html = report_bytes(store, info, version, lang=lang).decode("utf-8")
        v = verdict(store, info, RULES)
    assert v.auc is not None and not v.no_signal
    assert _text(html, "holdout") == f"note: {v.sentence(lang)}"
    assert _text(html, "no-signal") is None
    assert t("report.in_sample", lang) in unescape(html)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_report_sets_plain_logistic_regression_beside_the_rules_on_the_same_leads(
    loaded: tuple[Path, DatasetInfo], lang: str
) -> None:
    db, info = loaded
    with Store(db) as store:
        (version,) = list_versions(store, info.name)
        html = report_bytes(store, info, version, lang=lang).decode("utf-8")
        v = verdict(store, info, RULES)
        lr = logistic_beside(store, info, RULES, part=v.holdout)
    assert lr is not None and lr.auc is not None and lr.difference is not None
    assert lr.auc.auc > 0.6  # industry and visits carry the signal for it too
    assert lr.difference.auc == pytest.approx(v.auc.auc - lr.auc.auc)  # type: ignore[union-attr]
    said = _text(html, "logistic")
    assert said == f"note: {lr.sentence(lang)}"
    assert t("cli.suggest.name.logistic_regression", lang) in said
    assert f"{lr.auc.auc:.3f}" in said and f"{lr.difference.auc:+.3f}" in said


def test_with_a_gate_the_comparison_is_taken_on_the_ranking_whose_auc_is_shown(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    # A knocked-out lead ranks below every open one in the holdout AUC; the paired difference
    # from logistic regression must be taken on that ranking too (it read scores alone).
    db, info = loaded
    gated = replace(RULES, gates=(Gate("industry", ("Food",)),))
    with Store(db) as store:
        v = verdict(store, info, gated)
        plain = verdict(store, info, RULES)
        lr = logistic_beside(store, info, gated, part=v.holdout)
    assert v.auc is not None and plain.auc is not None and v.auc.auc != plain.auc.auc
    assert lr is not None and lr.auc is not None and lr.difference is not None
    assert lr.difference.auc == pytest.approx(v.auc.auc - lr.auc.auc)


def test_rules_reading_no_usable_column_get_no_comparison(
    loaded: tuple[Path, DatasetInfo],
) -> None:
    db, info = loaded
    on_ids = RuleSet(
        name="ids",
        rules=(CategoryRule("lead_id", "L00001", 5),),
        tiers=(Tier("hot", 5), Tier("cold", -math.inf)),
    )
    with Store(db) as store:
        assert logistic_beside(store, info, on_ids) is None  # an identifier is never a feature


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_with_no_signal_the_report_says_no_hot_tier_means_anything(
    loaded: tuple[Path, DatasetInfo], lang: str
) -> None:
    db, info = loaded
    with Store(db) as store:
        part = holdout(store, info)
        ev = evaluate(score_histogram(store, info, RULES), RULES)
    chance = Verdict(part, 1000, 100, AucInterval(0.51, 0.47, 0.55, 0.02))
    assert chance.no_signal
    data = ReportInput(
        title="T", lang=lang, ruleset=RULES, evaluation=ev, dataset_name=info.name, verdict=chance
    )
    html = build_report(data).decode("utf-8")
    said = _text(html, "no-signal")
    assert said == f"warning: {chance.sentence(lang)} {t('report.no_hot_tier', lang)}"
    assert _text(html, "holdout") is None
