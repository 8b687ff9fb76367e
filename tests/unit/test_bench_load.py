"""The load benchmark (bench/cases_load.py) runs end to end on tiny numbers.

Only the shape of its figures is checked; the goal (p95 under 1 s at 10 sessions) is for people to
read in ``make bench``, never asserted. The browser rig drives Debian's Chromium against a real
``streamlit run`` on 127.0.0.1, so like the e2e tests it is skipped without ``/usr/bin/chromium``
unless ``FUNNEL_REQUIRE_BROWSER=1`` (CI), where it fails instead; the socket rig speaks
Streamlit's websocket protocol to the same kind of server and needs no browser.
"""

from __future__ import annotations

import doctest
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cases_load(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ sits beside src/, not inside the package
    from bench import cases_load

    return cases_load


@pytest.fixture
def chromium(cases_load: ModuleType) -> None:
    reason = cases_load.browser_missing()
    if reason is None:
        return
    if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FUNNEL_REQUIRE_BROWSER=1: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.mark.e2e
def test_two_sessions_moving_sliders_report_p50_and_p95_per_session_and_overall(
    cases_load: ModuleType, chromium: None, tmp_path: Path
) -> None:
    from bench.harness import Workspace

    log: list[str] = []
    ws = Workspace(20_000, tmp_path, log.append)
    try:
        # a thread of its own: the e2e tests' sync Playwright may hold this thread's event loop
        with ThreadPoolExecutor(1) as pool:
            figures = pool.submit(cases_load.measure_load, ws, sessions=2, moves=2).result()
    finally:
        ws.release()

    assert figures.sessions == 2 and figures.rows == 20_000
    assert [s.session for s in figures.per_session] == [1, 2]
    assert len({s.slider for s in figures.per_session}) == 2  # each moves its own slider
    for s in figures.per_session:
        assert s.moves == 2
        assert 0 < s.p50_ms <= s.p95_ms <= s.max_ms
    assert len(figures.latencies_ms) == 4 and len(figures.rounds_ms) == 2
    assert 0 < figures.p50_ms <= figures.p95_ms <= figures.max_ms
    # every session was checked to show its own state when opened and after every round
    assert figures.isolation_checks >= 2 * (1 + 1 + 2)
    printed = "\n".join(figures.lines())
    assert "p50" in printed and "p95" in printed
    assert "goal: p95 < 1,000 ms at 10 sessions" in printed
    assert not list(tmp_path.glob("load.duckdb*"))  # the server's copy went with the workspace


@pytest.mark.e2e
def test_socket_sessions_speak_streamlits_protocol_and_see_only_their_own_state(
    cases_load: ModuleType, tmp_path: Path
) -> None:
    """No browser: three sessions over the websocket protocol, the third moving a second
    slider first so no two ask for the same rules; each round is checked per session."""
    from bench.harness import Workspace

    log: list[str] = []
    ws = Workspace(20_000, tmp_path, log.append)
    try:
        with ThreadPoolExecutor(1) as pool:
            figures = pool.submit(
                cases_load.measure_load, ws, sessions=3, moves=2, kind="socket"
            ).result()
    finally:
        ws.release()

    assert figures.kind == "socket" and figures.sessions == 3
    assert [s.moves for s in figures.per_session] == [2, 2, 2]
    assert 0 < figures.p50_ms <= figures.p95_ms <= figures.max_ms
    assert figures.isolation_checks >= 3 * (1 + 1 + 2)
    printed = "\n".join(figures.lines())
    assert "socket sessions (no browser" in printed and "browsers" not in printed


def test_a_socket_session_that_sees_another_sessions_count_fails_the_check(
    cases_load: ModuleType,
) -> None:
    """The isolation check is real: a hot count other than the session's own is an error."""
    import asyncio

    rig = cases_load.SocketRig.__new__(cases_load.SocketRig)
    rig.checks = 0
    rig._expected = {(1, 2): "1,000"}

    class Sock:
        finished = asyncio.Event()
        hot = "999"

        def rules(self) -> str:
            from funnel.rules import CountRule, RuleSet, encode_ruleset

            return encode_ruleset(RuleSet(rules=(CountRule("a", 1, 1), CountRule("b", 1, 2))))

    session = cases_load._Session(1, Sock(), 0, 1, [1, 2])

    async def check() -> None:
        Sock.finished.set()
        await rig._check(session)

    def run_check() -> None:
        asyncio.run(check())

    # a thread of its own: the e2e tests' sync Playwright may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(AssertionError, match="does not show its own state"):
            pool.submit(run_check).result()
        Sock.hot = "1,000"
        pool.submit(run_check).result()
    assert rig.checks == 1


def test_the_load_cases_run_5_and_10_sessions(cases_load: ModuleType) -> None:
    from bench.harness import CASES

    assert cases_load.SESSION_COUNTS == (5, 10)
    assert {"tuner_load_5_sessions", "tuner_load_10_sessions"} <= set(CASES)
    assert {"tuner_load_5_sockets", "tuner_load_10_sockets"} <= set(CASES)


def test_without_chromium_the_load_case_says_skipped_no_browser(
    cases_load: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bench import server
    from bench.harness import CASES, Workspace

    monkeypatch.setattr(server, "CHROMIUM", tmp_path / "no-chromium")
    ws = Workspace(1000, tmp_path, lambda _line: None)
    try:
        with pytest.raises(cases_load.NoBrowser, match=r"^skipped: no browser: no Chromium at"):
            CASES["tuner_load_5_sessions"].build(ws)
    finally:
        ws.release()
    assert not (tmp_path / "demo.duckdb").exists()  # nothing was set up first


def test_load_bench_doctests_pass(cases_load: ModuleType) -> None:
    assert doctest.testmod(cases_load).failed == 0
