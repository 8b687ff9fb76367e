"""The load benchmark's parts that need no server: its isolation check, its cases, doctests.

Its runs against a real ``streamlit run`` (a browser rig and a socket rig) are end-to-end tests:
tests/e2e/test_bench_load.py.
"""

from __future__ import annotations

import doctest
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
