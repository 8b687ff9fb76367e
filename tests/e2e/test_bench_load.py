"""The load benchmark (bench/cases_load.py) runs end to end on tiny numbers.

Only the shape of its figures is checked; the goal (p95 under 1 s at 10 sessions) is for people to
read in ``make bench``, never asserted. The browser rig drives Debian's Chromium against a real
``streamlit run`` on 127.0.0.1, so like the other e2e tests it is skipped without
``/usr/bin/chromium`` unless ``FUNNEL_REQUIRE_BROWSER=1`` (CI), where it fails instead; the
socket rig speaks Streamlit's websocket protocol to the same kind of server and needs no browser.
"""

from __future__ import annotations

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


@pytest.mark.e2e
def test_two_sessions_moving_sliders_report_p50_and_p95_per_session_and_overall(
    cases_load: ModuleType, chromium: Path, tmp_path: Path
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
