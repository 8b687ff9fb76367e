"""Load cases: N browser sessions moving tuner sliders on one ``streamlit run`` at the same time.

Goal from issue #6 (read, never asserted): with 10 sessions, p95 of "slider release to updated
metrics" under 1 s at 1M leads.

Set-up (untimed): the run's demo store (``Workspace.demo_store``) is checkpointed and copied to a
scratch file; ``streamlit run app/main.py`` serves that copy on 127.0.0.1 (a free port, nothing
else is contacted); Debian's Chromium (``/usr/bin/chromium``, the flags of the e2e tests) opens
one browser context per session on the Tuner page. Session ``k`` moves its own weight slider
(rule ``k mod R`` of the R rules the page starts with), right for the first R sessions and left
for the next R; later sessions also set a second slider one step up first, so no two sessions
ever ask for the same rule set (each move is a cache miss on the server, and a session showing
another's state would be noticed). When both cases run, the 10-session case adds five sessions
to the five of the first case on the same server (opening a tab is the slow part of the set-up).
Without Chromium (or Playwright) a case fails at once with "skipped: no browser: ...".

One timed call is one round: every session presses ArrowRight/ArrowLeft on its slider's thumb at
the same moment, and the call returns when every session shows its updated hot-lead count. A
round is the harshest load N users can make: all of them release a slider at once.

A move's latency, measured inside the page on its own clock (``performance.now()``), so neither
Playwright nor the other sessions add to it: from the ``keyup`` of the arrow key (the slider's
"release"; the thumb moves on ``keydown``) to the first DOM change after which (a) the "Hot
leads" metric reads the count the library computes for that session's new rule set
(``score_histogram`` + ``evaluate`` on the bench's own store) and (b) the URL's ``rules`` parameter
is no longer the one before the key went up (the page writes it just before the metrics, so a
move that leaves the count unchanged is still caught at the run that drew it). Charts and the
comparison table further down the page may still be drawing then; before the next round every
session waits until its app is idle (no status widget for 300 ms), untimed.

Reported: ``median_ms`` in ``results.json`` is the median round (the slowest session of each
round); the harness's memory columns are the bench process's, not the server's. Per session
and over all sessions, the p50/p95/max of the single moves of the timed rounds (the harness's
warm-up round is left out) are printed under "load figures" in the bench output (stderr) once
the case is over, with the goal and the CPU seconds one move cost the server and the browsers
(from ``/proc``, from a round's start until every session is idle). After every round each
session is checked to show its own state — its slider values, the rule set in its URL and its
hot-lead count — and a mismatch fails the case.

Socket sessions (cases ``tuner_load_N_sockets``): the same sessions, moves, rounds, checks and
figures with no browser. Each session speaks Streamlit's websocket protocol as the browser's
script does (a rerun request carrying the slider's new value and its fragment), and its latency
runs from sending that request to receiving the "Hot leads" metric with the expected count
after a new URL rule set. That is the server's part of what a user waits for when their browser
runs on their own machine, as it does in a meeting; the browser cases add ten Chromium tabs
drawing on the server's two cores (~0.5 CPU-s each per move), which is the rig, not the product.
The isolation check reads the URL rule set and the hot count (sliders are not drawn).

Baseline: there is no pandas equivalent of N browsers, so the baseline is the library work one
slider move needs, run while the sessions are idle: ``score_histogram`` + ``evaluate`` for a new
weight on the same leads. ``ratio`` then reads "how many times the bare computation a user waits for
when N users move at once" (browser rendering, the websocket and Streamlit's rerun included).
The Chromium tabs run on the same 2 cores as the server, so the figures include their rendering.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode

import numpy as np

from bench.harness import Trial, Workspace, case
from bench.server import CHROMIUM, CHROMIUM_ARGS, Server, chromium_missing
from funnel.i18n import t
from funnel.mapping import unit_label
from funnel.renderers import label
from funnel.rules import RuleSet, decode_ruleset, encode_ruleset, labelled
from funnel.scoring.histogram import evaluate, score_histogram

ROOT = Path(__file__).resolve().parents[1]


def shown_label(rule: Any) -> str:
    """The rule's slider label as the Tuner shows it: a per-unit rule by the column's unit
    ("Each web visit"), as the mapping names it from the column's name."""
    column = getattr(rule, "column", "")
    unit = unit_label(column) if column else None
    return label(labelled(rule, {column: unit} if unit else None, LANG), LANG)


SESSION_COUNTS = (5, 10)
GOAL_SESSIONS = 10
GOAL_P95_MS = 1000.0
LANG = "en"
#: Longest wait for one page to load or one move to show; far above any figure worth reading.
MOVE_TIMEOUT_S = 180.0
IDLE_FOR_MS = 300
VIEWPORT = {"width": 1400, "height": 1000}

#: Runs in every page before its own scripts: stamps the arrow key's release and resolves
#: ``done`` at the first DOM change showing the expected hot count under a new URL rule set.
PAGE_PROBE = """
(() => {
  const label = %LABEL%;
  const probe = { keyupAt: null, rulesAtKeyup: null, armed: null, done: null };
  window.__funnelLoad = probe;
  const hotText = () => {
    for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
      const name = metric.querySelector('[data-testid="stMetricLabel"]');
      if (name && name.textContent.trim() === label) {
        const value = metric.querySelector('[data-testid="stMetricValue"]');
        return value ? value.textContent.trim() : null;
      }
    }
    return null;
  };
  const rules = () => new URLSearchParams(window.location.search).get("rules");
  probe.hotText = hotText;
  probe.rules = rules;
  const check = () => {
    const armed = probe.armed;
    if (armed === null || probe.keyupAt === null) return;
    if (hotText() === armed.expected && rules() !== probe.rulesAtKeyup) {
      probe.armed = null;
      armed.resolve({ ms: performance.now() - probe.keyupAt, hot: hotText(), rules: rules() });
    }
  };
  document.addEventListener("keyup", () => {
    probe.keyupAt = performance.now();
    probe.rulesAtKeyup = rules();
  }, true);
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  probe.arm = (expected) => {
    probe.keyupAt = null;
    probe.done = new Promise((resolve) => { probe.armed = { expected, resolve }; });
  };
  probe.idle = (quietMs) => new Promise((resolve) => {
    let since = performance.now();
    const tick = () => {
      if (document.querySelector('[data-testid="stStatusWidget"]')) since = performance.now();
      if (performance.now() - since >= quietMs) resolve(true); else setTimeout(tick, 50);
    };
    tick();
  });
})();
"""


class NoBrowser(RuntimeError):
    """Chromium or Playwright is not installed: the load cases cannot run here."""


def browser_missing() -> str | None:
    """Why the load cases cannot run here, or None when Chromium and Playwright are there."""
    reason = chromium_missing()
    if reason is not None:
        return f"{reason} (apt-get install -y chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolated linearly between the nearest values.

    >>> percentile([10, 20, 30, 40], 50), percentile([10, 20, 30, 40], 95)
    (25.0, 38.5)
    """
    return float(np.percentile(np.asarray(values, dtype=float), q))


# --- figures -----------------------------------------------------------------------------------


class _HasLatencies(Protocol):
    @property
    def latencies_ms(self) -> tuple[float, ...]: ...


class _Spread:
    """The p50, p95 and max of a figure's ``latencies_ms``."""

    @property
    def p50_ms(self: _HasLatencies) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95_ms(self: _HasLatencies) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def max_ms(self: _HasLatencies) -> float:
        return max(self.latencies_ms)


@dataclass(frozen=True)
class SessionFigures(_Spread):
    """One session's moves: which slider, which way, and its latencies in ms."""

    session: int
    slider: str
    direction: int
    latencies_ms: tuple[float, ...]

    @property
    def moves(self) -> int:
        return len(self.latencies_ms)


@dataclass(frozen=True)
class LoadFigures(_Spread):
    """A load run: per-session figures, the same over all moves, and the isolation check."""

    sessions: int
    rows: int
    per_session: tuple[SessionFigures, ...]
    rounds_ms: tuple[float, ...]
    isolation_checks: int
    #: CPU seconds per move (server, browsers), from each round's start until all are idle.
    cpu_per_move: tuple[float, float] | None = None
    #: "browser" (Chromium tabs on this machine) or "socket" (no browser: the server's part).
    kind: str = "browser"

    @property
    def latencies_ms(self) -> tuple[float, ...]:
        return tuple(ms for s in self.per_session for ms in s.latencies_ms)

    def lines(self) -> list[str]:
        """The figures as the bench prints them."""
        names = [f"{s.slider} ({'right' if s.direction > 0 else 'left'})" for s in self.per_session]
        w = max([6, *map(len, names)])
        what = (
            "browser sessions (Chromium on this machine)"
            if self.kind == "browser"
            else "socket sessions (no browser: the server's part of the wait)"
        )
        out = [
            f"load figures, {self.sessions} {what} on {self.rows:,} leads: "
            "slider release -> updated hot-lead count, ms",
            f"  {'session':<8} {'slider':<{w}} {'moves':>5} {'p50':>7} {'p95':>7} {'max':>7}",
        ]
        for s, name in zip(self.per_session, names, strict=True):
            out.append(
                f"  {s.session:<8} {name:<{w}} {s.moves:>5} "
                f"{s.p50_ms:>7,.0f} {s.p95_ms:>7,.0f} {s.max_ms:>7,.0f}"
            )
        out.append(
            f"  {'all':<8} {'':<{w}} {len(self.latencies_ms):>5} "
            f"{self.p50_ms:>7,.0f} {self.p95_ms:>7,.0f} {self.max_ms:>7,.0f}"
        )
        if self.rounds_ms:
            out.append(
                f"  median round (slowest session): {statistics.median(self.rounds_ms):,.0f}"
            )
        if self.cpu_per_move is not None:
            server, browsers = self.cpu_per_move
            out.append(
                f"  CPU per move: server {server:.2f} s, browsers {browsers:.2f} s "
                f"(both on this machine's {os.cpu_count()} cores)"
                if self.kind == "browser"
                else f"  CPU per move: server {server:.2f} s (on this machine's "
                f"{os.cpu_count()} cores)"
            )
        goal = f"goal: p95 < {GOAL_P95_MS:,.0f} ms at {GOAL_SESSIONS} sessions"
        if self.sessions == GOAL_SESSIONS:
            met = "met" if self.p95_ms < GOAL_P95_MS else "NOT met"
            out.append(f"  {goal}: {met} (p95 {self.p95_ms:,.0f} ms)")
        else:
            out.append(f"  {goal} (this run: {self.sessions} sessions)")
        out.append(
            f"  isolation: {self.isolation_checks} checks, every session showed only its own "
            + (
                "slider values, URL rule set and hot-lead count"
                if self.kind == "browser"
                else "URL rule set and hot-lead count"
            )
        )
        return out


# --- the server --------------------------------------------------------------------------------


def cpu_seconds(server_pid: int) -> tuple[float, float] | None:
    """CPU seconds used so far by the server's processes and by the browsers' (Linux only).

    The browsers are every other live descendant of this process (Playwright's driver and
    Chromium's); this process itself (the library work of the bench) is in neither.
    """
    me = os.getpid()
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(name)] = int(fields[1])
        used[int(name)] = (int(fields[11]) + int(fields[12])) / tick
    server = browsers = 0.0
    for pid, seconds in used.items():
        walk, seen = pid, 0
        while walk not in (server_pid, me, 0, 1) and seen < 64:
            walk, seen = parents.get(walk, 0), seen + 1
        if walk == server_pid:
            server += seconds
        elif walk == me and pid != me:
            browsers += seconds
    return server, browsers


# --- the sessions ------------------------------------------------------------------------------


@dataclass
class _Session:
    """One session on the Tuner page (a browser page or a socket) and the moves it made."""

    number: int
    page: Any  # a Playwright page, or a _Socket
    slider: int
    direction: int
    points: list[int]
    latencies: list[float] = field(default_factory=list)


class LoadRig:
    """A server and N sessions on its Tuner page; ``round()`` moves every session's slider at once.

    A kind of rig opens the sessions and arms, sends, checks and closes their moves:
    :class:`BrowserRig` in Chromium tabs, :class:`SocketRig` over Streamlit's websocket protocol.
    """

    kind = ""

    def __init__(self, ws: Workspace, sessions: int) -> None:
        self.ws = ws
        self.n = sessions
        self.store, self.info = ws.demo_store()
        self.hot_label = t("metric.hot", LANG)
        self.sessions: list[_Session] = []
        self.rounds_ms: list[float] = []
        self.rounds = 0
        self.checks = 0
        self.armed = False
        self._cpu_at_round: tuple[float, float] | None = None
        self._cpu: list[tuple[float, float]] = []
        self.base: RuleSet | None = None
        self._expected: dict[tuple[int, ...], str] = {}
        self._runner = asyncio.Runner()
        self.server: Server | None = None
        self.closed = False
        #: False while a round, a settle or a grow is under way or after one failed.
        self.healthy = False
        try:
            db = ws.memo("load_db", lambda: _copy_store(ws), close=_remove_store)
            with ws.step(f"starting streamlit on a copy of the demo store ({db.name})"):
                self.server = Server(db, ws.path(f"streamlit-{sessions}.log"))
            with ws.step(f"opening {sessions} {self.kind} sessions on the Tuner page"):
                self._run(self._open())
            self.healthy = True
        except BaseException:
            self.close()
            raise

    # -- what a kind of rig does

    async def _open_session(self, k: int) -> None:
        """Open session ``k`` on the Tuner page and :meth:`_register` it."""
        raise NotImplementedError

    async def _arm(self, session: _Session, index: int, direction: int) -> None:
        """Make ready to move a slider, so the round itself only sends the move."""
        raise NotImplementedError

    async def _send(self, session: _Session, index: int, direction: int) -> float:
        """Move the armed slider (``session.points`` already moved); return the latency in ms."""
        raise NotImplementedError

    async def _check(self, session: _Session) -> None:
        """Wait until the session is idle, then :meth:`_verify` what it shows."""
        raise NotImplementedError

    async def _shut(self) -> None:
        """Close the sessions (and whatever drives them)."""
        raise NotImplementedError

    # -- plumbing

    def _run(self, coro: Any) -> Any:
        return self._runner.run(asyncio.wait_for(coro, MOVE_TIMEOUT_S * 2))

    def _start_query(self) -> str:
        """The query string a session opens the Tuner page with.

        The tuner keeps its state per dataset, so a plain new tab shows the rules the sessions
        already open have moved to; each session here is a user of their own, so every session
        after the first opens a link to the rules the first one started from.
        """
        query = {"lang": LANG}
        if self.base is not None:
            query |= {"dataset": self.info.name, "rules": encode_ruleset(self.base)}
        return urlencode(query)

    def _hot(self, points: Sequence[int]) -> str:
        """The hot-lead count as the page prints it, computed by the library (memoised)."""
        key = tuple(points)
        if key not in self._expected:
            rs = self._ruleset(points)
            self._expected[key] = (
                f"{evaluate(score_histogram(self.store, self.info, rs), rs).tiers[0].n:,}"
            )
        return self._expected[key]

    def _ruleset(self, points: Sequence[int]) -> RuleSet:
        assert self.base is not None
        rs = self.base
        for i, p in enumerate(points):
            rs = rs.with_points(i, p)
        return rs

    # -- opening

    async def _open(self) -> None:
        await self._add_sessions(0)

    async def _add_sessions(self, first: int) -> None:
        """Open sessions ``first`` .. ``n - 1`` and check no two can ask for the same rules."""
        rest = range(max(first, 1), self.n)
        if first == 0:  # the first session fills the server's caches for the starting rules
            await self._open_session(0)
        await asyncio.gather(*(self._open_session(k) for k in rest))
        self.sessions.sort(key=lambda s: s.number)
        for session in self.sessions[first:]:  # past 2R sessions: a second slider tells apart
            rules = len(session.points)
            marker = (session.number - 1) // (2 * rules)
            if marker and rules > 1:
                for _ in range(marker):
                    await self._move(session, (session.slider + 1) % rules, +1)
                await self._check(session)
        states = [self._path(s, 8) for s in self.sessions]
        for i, a in enumerate(states):
            for b in states[i + 1 :]:
                if set(a) & set(b):
                    raise RuntimeError("two sessions would ask for the same rule set")

    def grow(self, sessions: int) -> None:
        """Open more sessions on the same server; the figures start again from the next round."""
        more = sessions - self.n
        with self.ws.step(f"opening {more} more {self.kind} sessions ({sessions} in all)"):
            first, self.n = self.n, sessions
            self.armed = self.healthy = False
            self._run(self._add_sessions(first))
        self.restart_figures()
        self.healthy = True

    def restart_figures(self) -> None:
        """Forget the moves measured so far (the next round is a warm-up again)."""
        self.rounds_ms.clear()
        self.rounds = 0
        self.checks = 0
        self._cpu.clear()
        self._cpu_at_round = None
        for session in self.sessions:
            session.latencies.clear()

    async def _register(self, k: int, page: Any, start: RuleSet) -> None:
        """Add session ``k`` (opened on rule set ``start``) and check what it shows."""
        if self.base is None:
            if not start.rules:
                raise RuntimeError("the Tuner page starts with no rules: nothing to move")
            self.base = start
        elif start != self.base:
            raise AssertionError(f"session {k + 1} started from another rule set: {start}")
        rules = len(self.base.rules)
        session = _Session(
            number=k + 1,
            page=page,
            slider=k % rules,
            direction=1 if (k // rules) % 2 == 0 else -1,
            points=[r.points for r in self.base.rules],
        )
        self.sessions.append(session)
        await self._check(session)

    def _path(self, session: _Session, moves: int) -> list[tuple[int, ...]]:
        out = []
        points = list(session.points)
        for _ in range(moves):
            points[session.slider] += session.direction
            out.append(tuple(points))
        return out

    async def _fire(self, session: _Session, index: int, direction: int) -> float:
        """Make the armed move; return its latency in ms."""
        session.points[index] += direction
        return await self._send(session, index, direction)

    async def _move(self, session: _Session, index: int, direction: int) -> float:
        await self._arm(session, index, direction)
        return await self._fire(session, index, direction)

    def _verify(
        self,
        session: _Session,
        rules: str | None,
        hot: str | None,
        shown: list[int] | None = None,
    ) -> None:
        """Fail unless the URL's ``rules``, the hot count and the sliders (if read) are its own.

        Passing counts as one isolation check.
        """
        url_points = [r.points for r in decode_ruleset(rules).rules] if rules else None
        expected = self._hot(session.points)
        if (
            (shown is not None and shown != session.points)
            or url_points != session.points
            or hot != expected
        ):
            sliders = "" if shown is None else f"sliders {shown}, "
            raise AssertionError(
                f"session {session.number} does not show its own state: {sliders}"
                f"URL rules {url_points}, hot {hot}; it set {session.points} (hot {expected})"
            )
        self.checks += 1

    # -- the timed part and what surrounds it

    def round(self, *, record: bool) -> None:
        """Every session presses its arrow key at once; returns when all show the result."""
        if not self.armed:
            raise RuntimeError("settle() must run before each round")
        self.armed = self.healthy = False

        async def fire_all() -> list[float]:
            moves = (self._fire(s, s.slider, s.direction) for s in self.sessions)
            return list(await asyncio.gather(*moves))

        assert self.server is not None
        self._cpu_at_round = cpu_seconds(self.server.process.pid) if record else None
        start = time.perf_counter()
        latencies = self._run(fire_all())
        elapsed = (time.perf_counter() - start) * 1000.0
        self.rounds += 1
        self.healthy = True
        if record:
            self.rounds_ms.append(elapsed)
            for session, ms in zip(self.sessions, latencies, strict=True):
                session.latencies.append(ms)

    def settle(self) -> None:
        """Wait until every session is idle and shows its own state; then compute (with the
        library) what each one's next move must show and focus its slider's thumb."""

        async def check_and_arm(session: _Session) -> None:
            await self._check(session)
            await self._arm(session, session.slider, session.direction)

        self.healthy = False
        for s in self.sessions:  # the library work first, so the sessions wait for none of it
            following = list(s.points)
            following[s.slider] += s.direction
            self._hot(following)

        async def all_sessions() -> None:
            await asyncio.gather(*(check_and_arm(s) for s in self.sessions))

        self._run(all_sessions())
        self.armed = self.healthy = True
        if self._cpu_at_round is not None and self.server is not None:
            now = cpu_seconds(self.server.process.pid)
            if now is not None:
                before, self._cpu_at_round = self._cpu_at_round, None
                self._cpu.append((now[0] - before[0], now[1] - before[1]))

    def figures(self) -> LoadFigures:
        assert self.base is not None
        return LoadFigures(
            sessions=self.n,
            rows=self.info.leads,
            per_session=tuple(
                SessionFigures(
                    s.number,
                    shown_label(self.base.rules[s.slider]),
                    s.direction,
                    tuple(s.latencies),
                )
                for s in self.sessions
            ),
            rounds_ms=tuple(self.rounds_ms),
            isolation_checks=self.checks,
            kind=self.kind,
            cpu_per_move=(
                (
                    sum(c[0] for c in self._cpu) / (len(self._cpu) * self.n),
                    sum(c[1] for c in self._cpu) / (len(self._cpu) * self.n),
                )
                if self._cpu
                else None
            ),
        )

    def close(self) -> None:
        """Close the sessions and stop the server (safe to call twice)."""
        if self.closed:
            return
        self.closed = True
        self.healthy = False
        try:
            self._runner.run(asyncio.wait_for(self._shut(), 60))
        finally:
            self._runner.close()
            if self.server is not None:
                self.server.stop()


class BrowserRig(LoadRig):
    """Sessions in Chromium: one browser context per session, driven by Playwright."""

    kind = "browser"

    def __init__(self, ws: Workspace, sessions: int) -> None:
        reason = browser_missing()
        if reason is not None:
            raise NoBrowser(f"skipped: no browser: {reason}")
        self._playwright: Any = None
        self._browser: Any = None
        super().__init__(ws, sessions)

    def _slider(self, session: _Session, index: int) -> Any:
        assert self.base is not None
        name = shown_label(self.base.rules[index])
        return session.page.get_by_test_id("stSlider").filter(has_text=name).get_by_role("slider")

    async def _open(self) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        await super()._open()

    async def _open_session(self, k: int) -> None:
        assert self.server is not None and self._browser is not None
        context = await self._browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(MOVE_TIMEOUT_S * 1000)
        await context.add_init_script(PAGE_PROBE.replace("%LABEL%", json.dumps(self.hot_label)))
        page = await context.new_page()
        await page.goto(f"{self.server.url}/tuner?{self._start_query()}")
        await page.wait_for_function(
            "() => window.__funnelLoad.hotText() && window.__funnelLoad.rules()"
        )
        await page.evaluate(f"() => window.__funnelLoad.idle({IDLE_FOR_MS})")
        start = decode_ruleset(await page.evaluate("() => window.__funnelLoad.rules()"))
        await self._register(k, page, start)

    async def _arm(self, session: _Session, index: int, direction: int) -> None:
        """Focus a slider's thumb and tell the page what its next move must show."""
        following = list(session.points)
        following[index] += direction
        thumb = self._slider(session, index)
        await thumb.focus()
        await session.page.evaluate("e => window.__funnelLoad.arm(e)", self._hot(following))
        if not await thumb.evaluate("el => el === document.activeElement"):
            raise RuntimeError(f"session {session.number}: the slider's thumb lost the focus")

    async def _send(self, session: _Session, index: int, direction: int) -> float:
        """Press the arrow key on the focused thumb; return the in-page latency in ms."""
        await session.page.keyboard.press("ArrowRight" if direction > 0 else "ArrowLeft")
        seen = await session.page.evaluate("() => window.__funnelLoad.done")
        return float(seen["ms"])

    async def _check(self, session: _Session) -> None:
        """Fail unless the session shows its own slider values, URL rule set and hot count."""
        page = session.page
        await page.evaluate(f"() => window.__funnelLoad.idle({IDLE_FOR_MS})")
        shown = [
            int(await self._slider(session, i).input_value()) for i in range(len(session.points))
        ]
        rules = await page.evaluate("() => window.__funnelLoad.rules()")
        hot = await page.evaluate("() => window.__funnelLoad.hotText()")
        self._verify(session, rules, hot, shown)

    async def _shut(self) -> None:
        for s in self.sessions:
            await s.page.context.close()
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()


# --- sessions without a browser ------------------------------------------------------------------


class _Socket:
    """One session speaking Streamlit's websocket protocol, as the browser's script does.

    It asks for the Tuner page, keeps what the server sends that the load case reads (the
    sliders' widget ids and fragment, the "Hot leads" metric, the URL query string) and moves
    a slider by sending its new value in a rerun request, the message the browser sends when
    a thumb is released. Nothing is rendered.
    """

    def __init__(self, ws: Any, hot_label: str) -> None:
        self.ws = ws
        self.hot_label = hot_label
        self.sliders: dict[str, tuple[str, str]] = {}  # label -> (widget id, fragment id)
        self.hot: str | None = None
        self.query = f"lang={LANG}"
        self.finished = asyncio.Event()
        self._wait: tuple[str, str | None, float, asyncio.Future[float]] | None = None
        self.reader = asyncio.ensure_future(self._read())

    def rules(self) -> str | None:
        return parse_qs(self.query).get("rules", [None])[0]

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "slider":
                    self.sliders[element.slider.label] = (element.slider.id, msg.delta.fragment_id)
                elif what == "metric" and element.metric.label == self.hot_label:
                    self.hot = element.metric.body
                    self._seen()
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "script_finished":
                self.finished.set()

    def _seen(self) -> None:
        if self._wait is None:
            return
        expected, rules_before, sent, done = self._wait
        if self.hot == expected and self.rules() != rules_before and not done.done():
            self._wait = None
            done.set_result((time.perf_counter() - sent) * 1000.0)

    async def run(self, widget: tuple[str, str] | None = None, value: float = 0.0) -> None:
        """Ask for a rerun (with one slider's new value), as the browser does."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        client = msg.rerun_script
        client.query_string = self.query
        client.page_name = "tuner"
        if widget is not None:
            widget_id, fragment = widget
            if fragment:
                client.fragment_id = fragment
            state = client.widget_states.widgets.add()
            state.id = widget_id
            state.double_array_value.data.append(value)
        self.finished.clear()
        await self.ws.send(msg.SerializeToString())

    async def move(self, widget: tuple[str, str], value: float, expected: str) -> float:
        """Send a slider's new value; return ms until the expected hot count shows."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._wait = (expected, self.rules(), time.perf_counter(), done)
        await self.run(widget, value)
        return await done

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


class SocketRig(LoadRig):
    """The same sessions and rounds with no browser: each session is a :class:`_Socket`.

    What a user waits for when their browser runs on their own machine, less that browser's
    drawing; the browser rig's figures include ten Chromium tabs drawing on the server's cores.
    """

    kind = "socket"

    async def _open_session(self, k: int) -> None:
        import websockets

        assert self.server is not None
        url = self.server.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        protocol = websockets.Subprotocol("streamlit")
        conn = await websockets.connect(url, subprotocols=[protocol], max_size=None)
        sock = _Socket(conn, self.hot_label)
        sock.query = self._start_query()
        await sock.run()
        await asyncio.wait_for(sock.finished.wait(), MOVE_TIMEOUT_S)
        rules = sock.rules()
        if not rules or sock.hot is None:
            raise RuntimeError("the Tuner page showed no rule set or no hot-lead count")
        await self._register(k, sock, decode_ruleset(rules))

    def _widget(self, session: _Session, index: int) -> tuple[str, str]:
        assert self.base is not None
        sock: _Socket = session.page
        return sock.sliders[shown_label(self.base.rules[index])]

    async def _arm(self, session: _Session, index: int, direction: int) -> None:
        self._widget(session, index)  # fails now, not mid-round, if the slider is missing

    async def _send(self, session: _Session, index: int, direction: int) -> float:
        sock: _Socket = session.page
        value = float(session.points[index])
        return await sock.move(self._widget(session, index), value, self._hot(session.points))

    async def _check(self, session: _Session) -> None:
        """Fail unless the session's URL rule set and hot count are its own."""
        sock: _Socket = session.page
        await asyncio.wait_for(sock.finished.wait(), MOVE_TIMEOUT_S)
        self._verify(session, sock.rules(), sock.hot)

    async def _shut(self) -> None:
        for s in self.sessions:
            await s.page.close()


def _copy_store(ws: Workspace) -> Path:
    """A copy of the demo store for the server (the bench process keeps the original open)."""
    store, _info = ws.demo_store()
    with store.cursor() as cur:
        cur.execute("CHECKPOINT")
    copy = ws.path("load.duckdb")
    shutil.copyfile(store.path, copy)
    return copy


def _remove_store(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


RIGS: dict[str, type[LoadRig]] = {"browser": BrowserRig, "socket": SocketRig}


def measure_load(
    ws: Workspace, sessions: int, moves: int, *, warmup: int = 1, kind: str = "browser"
) -> LoadFigures:
    """Open ``sessions`` sessions of a kind, make ``warmup`` + ``moves`` rounds, return figures."""
    rig = RIGS[kind](ws, sessions)
    try:
        for r in range(warmup + moves):
            rig.settle()
            rig.round(record=r >= warmup)
        rig.settle()
        return rig.figures()
    finally:
        rig.close()


# --- the cases -----------------------------------------------------------------------------------


class _Active:
    """The run's open rig: prints its figures when its case is over, closes it at the end."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.rig: LoadRig | None = None

    def report(self) -> None:
        """Print the figures of the case that just ended, then start them again."""
        if self.rig is not None and self.rig.rounds_ms:
            for line in self.rig.figures().lines():
                self.log(line)
            self.rig.restart_figures()

    def rig_for(self, ws: Workspace, sessions: int, kind: str) -> LoadRig:
        """A rig of ``sessions`` sessions of a kind: the open one grown (5 -> 10), or a new one
        (the open one is closed first: one server and its sessions at a time)."""
        self.report()
        rig = self.rig
        if rig is not None and rig.kind == kind and rig.healthy and rig.n <= sessions:
            if rig.n < sessions:
                rig.grow(sessions)
            return rig
        self.close()
        self.rig = RIGS[kind](ws, sessions)
        return self.rig

    def close(self) -> None:
        self.report()
        rig, self.rig = self.rig, None
        if rig is not None:
            rig.close()


def _load_case(sessions: int, kind: str) -> Callable[[Workspace], Trial]:
    def build(ws: Workspace) -> Trial:
        active = ws.memo("load_rig", lambda: _Active(ws.log), close=_Active.close)
        rig = active.rig_for(ws, sessions, kind)
        store, info = rig.store, rig.info
        assert rig.base is not None
        base = rig.base
        weights = iter(range(10**9))

        def baseline() -> object:
            rs = base.with_points(0, base.rules[0].points + 1 + next(weights) % 2)
            return evaluate(score_histogram(store, info, rs), rs)

        return Trial(
            run=lambda: rig.round(record=rig.rounds > 0),  # the harness's first call warms up
            baseline=baseline,
            reset=rig.settle,
        )

    return build


for _n in SESSION_COUNTS:
    case(
        f"tuner_load_{_n}_sessions",
        f"{_n} browser sessions move tuner sliders at once: release -> updated hot count "
        "(slowest session per round) vs score_histogram + evaluate alone",
    )(_load_case(_n, "browser"))
for _n in SESSION_COUNTS:
    case(
        f"tuner_load_{_n}_sockets",
        f"{_n} socket sessions (Streamlit's protocol, no browser) move tuner sliders at once: "
        "the server's part of release -> updated hot count vs score_histogram + evaluate alone",
    )(_load_case(_n, "socket"))
