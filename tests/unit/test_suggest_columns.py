"""How the suggestion reads each column, from its values: identifiers, generated keys, empty
and constant columns are never scored; whole numbers with few values are codes; a number
mostly 0 gets '0' and 'above 0'; a value most leads hold gets a range of its own. Each
decision is said in a sentence, in English and Japanese."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from funnel.i18n import t
from funnel.suggest.columns import type_column

RNG = np.random.default_rng(5)
N = 2000


def test_a_unique_column_is_an_identifier_never_scored() -> None:
    kind = type_column("customer_id", pd.Series(RNG.permutation(N) + 100_000))
    assert kind.kind == "identifier" and not kind.scored
    assert kind.evidence() == (
        "customer_id: 2,000 different values for 2,000 leads (100% unique) — an identifier, "
        "never scored"
    )


def test_hex_hashes_are_generated_keys_even_when_they_repeat() -> None:
    hashes = [hashlib.md5(f"lp{i}".encode()).hexdigest() for i in range(130)]
    series = pd.Series([hashes[i % 130] for i in range(N)])
    kind = type_column("landing_page", series)
    assert kind.kind == "generated_key" and not kind.scored
    assert kind.evidence().startswith("landing_page: 100% of values look like generated keys")
    assert "130 different" in kind.evidence()
    # a 400-lead file with 26 hashes still has more values than any code list
    small = type_column("session_hash", pd.Series([hashes[i % 26] for i in range(400)]))
    assert small.kind == "generated_key"


def test_whole_numbers_with_few_values_are_codes_scored_as_categories() -> None:
    kind = type_column("region_code", pd.Series(RNG.integers(1, 10, N)))
    assert kind.kind == "code" and kind.scored and not kind.numeric
    assert kind.evidence() == (
        "region_code: whole numbers with only 9 different values (1–9) — read as codes "
        "(categories), not amounts"
    )
    prefectures = type_column("pref_code", pd.Series(RNG.integers(1, 48, N)))
    assert prefectures.kind == "code" and prefectures.message == "code_named"
    visits = type_column("web_visits", pd.Series(RNG.integers(0, 9, N)))
    assert visits.numeric  # named like a count: a quantity, even with few values


def test_a_number_mostly_zero_gets_zero_and_above_zero_apart() -> None:
    values = np.where(RNG.random(N) < 0.85, 0, 1 + RNG.poisson(2.0, N))
    kind = type_column("pricing_visits", pd.Series(values))
    assert kind.kind == "mostly_zero" and kind.numeric and 0.0 in kind.spikes
    share = f"{(values == 0).mean():.0%}"
    assert kind.evidence() == (
        f"pricing_visits: 0 for {share} of leads — '0' and 'above 0' are scored separately"
    )
    basket = np.where(RNG.random(N) < 0.9, 0.0, np.round(RNG.lognormal(4, 1, N), 2))
    assert type_column("basket_value", pd.Series(basket)).kind == "mostly_zero"


def test_a_value_most_leads_hold_gets_its_own_range() -> None:
    values = np.where(RNG.random(N) < 0.4, 1, RNG.integers(2, 60, N))
    kind = type_column("campaign", pd.Series(values))
    assert kind.kind == "number" and kind.spikes == (1.0,)
    assert "1 holds 4" in kind.evidence() and kind.evidence().endswith("gets a range of its own")


def test_empty_constant_and_two_valued_columns() -> None:
    empty = type_column("has_company", pd.Series([None] * (N - 5) + ["yes"] * 5))
    assert empty.kind == "empty" and not empty.scored
    assert empty.evidence() == "has_company: filled for only 0.2% of leads — too empty to score"
    constant = type_column("country", pd.Series(["JP"] * N))
    assert constant.kind == "constant" and not constant.scored
    flag = type_column("default", pd.Series(RNG.choice(["yes", "no"], N)))
    assert (flag.kind, flag.scored, flag.numeric) == ("flag", True, False)


def test_a_marital_status_column_is_an_ordinary_category() -> None:
    kind = type_column("Marital_Status", pd.Series(RNG.choice(["married", "single", "x"], N)))
    assert (kind.kind, kind.scored) == ("category", True)


@pytest.mark.parametrize(
    ("name", "series"),
    [
        ("customer_id", pd.Series(RNG.permutation(N))),
        ("region_code", pd.Series(RNG.integers(1, 10, N))),
        ("pricing_visits", pd.Series(np.where(RNG.random(N) < 0.8, 0, 3))),
        ("has_company", pd.Series([None] * N)),
    ],
)
def test_every_sentence_reads_in_japanese_with_the_same_figures(
    name: str, series: pd.Series
) -> None:
    kind = type_column(name, series)
    key = f"suggest.type.{kind.message or kind.kind}"
    assert kind.evidence("ja") == t(key, "ja", column=name, **kind.params)
    assert kind.evidence("ja") != kind.evidence("en")
    assert kind.evidence("ja").startswith(f"{name}: ")
