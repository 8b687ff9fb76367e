"""Time each case's funnel implementation against a plain-pandas baseline of the same work.

A case is a function registered with :func:`case`. It receives the run's :class:`Workspace`
(row count, scratch directory, shared inputs generated once per run), does its untimed setup
and returns a :class:`Trial`: the funnel callable, the baseline callable and an optional untimed
``reset`` run before every call of either (e.g. deleting last repeat's database file).

Both callables run once as a warm-up, then ``repeat`` times each, interleaved (funnel,
baseline, funnel, ...) so that drift on the machine hits both alike. Each result records the
medians, ``ratio = median_ms / baseline_median_ms`` (above 1: funnel is slower), min/max, and
the peak resident memory a call added over what the process held before it.

Adding a case: create ``bench/cases_<topic>.py`` (every ``cases_*`` module is imported
automatically) and write::

    from bench.harness import Trial, Workspace, case

    @case("score_leads", "funnel's scoring vs the same rules as pandas masks")
    def score_leads(ws: Workspace) -> Trial:
        frame = pd.read_csv(ws.demo_csv(), dtype=str)  # untimed setup
        return Trial(run=lambda: score(frame), baseline=lambda: masks(frame))

Inputs several cases need go through :meth:`Workspace.memo`, so they are built once per run
(and dropped once no case of the module that built them is left to run).
Speed goals are never asserted anywhere: the numbers are for people to read.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib
import json
import os
import pkgutil
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from funnel.demo import generate_leads
from funnel.ingest import load_demo
from funnel.store import DatasetInfo, Store

DEFAULT_ROWS = 1_000_000
DEFAULT_REPEAT = 5
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"
DEMO_SEED = 7

Log = Callable[[str], None]
T = TypeVar("T")


def _nothing() -> None:
    return None


def log_stderr(message: str) -> None:
    """Print a progress line on stderr (stdout holds only the result table)."""
    print(message, file=sys.stderr, flush=True)


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """The two timed callables of a case; ``reset`` runs untimed before every call of either."""

    run: Callable[[], object]
    baseline: Callable[[], object]
    reset: Callable[[], None] = _nothing


#: A case: untimed setup on the run's workspace, returning what to time.
Factory = Callable[["Workspace"], Trial]


@dataclass(frozen=True)
class Case:
    """A registered benchmark: its name, one line on what is compared, and its factory."""

    name: str
    summary: str
    build: Factory


#: Every registered case by name, in registration order.
CASES: dict[str, Case] = {}


def case(name: str, summary: str) -> Callable[[Factory], Factory]:
    """Register a case factory under ``name``; the summary says what funnel is compared with."""

    def register(build: Factory) -> Factory:
        if name in CASES:
            raise ValueError(f"benchmark case {name!r} is registered twice")
        CASES[name] = Case(name, summary, build)
        return build

    return register


def load_cases() -> dict[str, Case]:
    """Import every ``bench/cases_*.py`` module (each registers its cases) and return them."""
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        if module.name.startswith("cases_"):
            importlib.import_module(f"{package}.{module.name}")
    return CASES


def select(
    cases: dict[str, Case], only: Sequence[str] | None, skip: Sequence[str] | None = None
) -> list[Case]:
    """Keep the cases whose name contains one of the ``only`` substrings (all when empty),
    minus those whose name contains one of the ``skip`` substrings."""
    chosen = [c for c in cases.values() if not only or any(part in c.name for part in only)]
    return [c for c in chosen if not any(part in c.name for part in skip or ())]


# --- shared inputs ---------------------------------------------------------------------------


class Workspace:
    """A run's row count, scratch directory and shared inputs (each built once, on first use)."""

    def __init__(self, rows: int, root: Path, log: Log = log_stderr) -> None:
        self.rows = rows
        self.root = root
        self.log = log
        self._memo: dict[str, Any] = {}
        #: The module of the case being set up; each input remembers the one that built it.
        self.topic = ""
        self._built_by: dict[str, str] = {}
        self._closers: dict[str, Callable[[Any], None]] = {}

    def memo(
        self,
        key: str,
        make: Callable[[], T],
        close: Callable[[T], None] | None = None,
        *,
        whole_run: bool = False,
    ) -> T:
        """Return the input stored under ``key``, building it with ``make`` the first time.

        ``close`` (if given) releases what the input holds open when it is dropped. A
        ``whole_run`` input is kept until the run ends rather than released with its module.
        """
        if key not in self._memo:
            self._memo[key] = make()
            self._built_by[key] = "" if whole_run else self.topic
            if close is not None:
                self._closers[key] = close
        value: T = self._memo[key]
        return value

    def release(self, keep: Collection[str] | None = None) -> None:
        """Drop the inputs built by cases of modules not in ``keep`` (every input when None).

        At 10M rows the inputs of one module take gigabytes (the ingest frames, the analysis
        frame), so they are dropped once no case of that module is left to run; an input
        another module asks for later is simply built again. ``whole_run`` inputs stay.
        """
        dropped = [
            k
            for k, topic in self._built_by.items()
            if keep is None or (topic and topic not in keep)
        ]
        for key in dropped:
            value = self._memo.pop(key)
            del self._built_by[key]
            close = self._closers.pop(key, None)
            if close is not None:
                close(value)
            del value

    def path(self, name: str) -> Path:
        """Return a path inside the scratch directory (removed when the run ends)."""
        return self.root / name

    def demo_frame(self) -> pd.DataFrame:
        """The demo leads (``generate_leads(rows, seed=7)``), typed as the generator returns."""

        return self.memo("demo_frame", self._generate_demo)

    def _generate_demo(self) -> pd.DataFrame:
        with self.step(f"generating {self.rows:,} demo leads (seed {DEMO_SEED})"):
            return generate_leads(self.rows, seed=DEMO_SEED)

    def demo_csv(self) -> Path:
        """The demo leads written as CSV, dates as ``YYYY-MM-DD``, as a CRM export would."""

        def make() -> Path:
            # The same frame as demo_frame(), but not kept just for writing the file (at 10M
            # rows it holds ~6.5 GB that the cases reading the CSV would carry for nothing).
            frame = self._memo.get("demo_frame")
            if frame is None:
                frame = self._generate_demo()
            csv = self.path("leads.csv")
            with self.step(f"writing {csv.name}"):
                frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
            self.log(f"  {csv.name}: {csv.stat().st_size / 1e6:,.1f} MB")
            return csv

        return self.memo("demo_csv", make)

    def demo_store(self) -> tuple[Store, DatasetInfo]:
        """The demo leads stored by ``funnel.ingest.load_demo`` (seed 7) in a scratch DuckDB file.

        Loaded once per run, through the real mapping, validation and storage, so the analysis
        cases query exactly the table a ``funnel demo`` user gets. Kept for the whole run: the
        analysis and tuner cases both query it, reloading takes ~3 min at 10M rows (peaking at
        ~11 GB), and the open store holds only ~200 MB once loaded.
        """

        def make() -> tuple[Store, DatasetInfo]:
            db = self.path("demo.duckdb")
            for stale in (db, db.with_name(db.name + ".wal")):  # from an earlier, released load
                stale.unlink(missing_ok=True)
            store = Store(db)
            start = time.perf_counter()

            def progress(stage: str, fraction: float) -> None:
                self.log(
                    f"  load_demo: {stage} ({fraction:.0%}) at {time.perf_counter() - start:.1f} s"
                )

            with self.step(f"loading {self.rows:,} demo leads into {db.name} (load_demo)"):
                result = load_demo(
                    store, "demo", leads=self.rows, seed=DEMO_SEED, progress=progress
                )
            self.log(f"  {db.name}: {db.stat().st_size / 1e6:,.1f} MB")
            return store, result.dataset

        return self.memo("demo_store", make, close=lambda built: built[0].close(), whole_run=True)

    def step(self, what: str) -> _Step:
        """Log ``what`` on entry and the seconds it took on exit."""
        return _Step(what, self.log)


class _Step:
    def __init__(self, what: str, log: Log) -> None:
        self.what = what
        self.log = log
        self.start = 0.0

    def __enter__(self) -> None:
        self.log(f"{self.what} ...")
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.log(f"  {self.what}: {time.perf_counter() - self.start:.1f} s")


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed call: wall time and the peak memory it added (None where unmeasurable)."""

    ms: float
    peak_rss_mb: float | None


def _proc_status_kib(key: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process's RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _max_rss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _release_free_memory() -> None:
    """Return memory freed by earlier calls to the OS, so the next call cannot reuse it unseen."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # glibc only
    except (OSError, AttributeError):
        pass


def measure(fn: Callable[[], object], reset: Callable[[], None] = _nothing) -> Sample:
    """Time one call of ``fn`` and the peak RSS it added over the process's RSS before it.

    On Linux the kernel's peak counter is reset before the call. Pages the process still holds
    (freed but not returned to the OS) can be reused without counting, so the figure is a close
    lower bound. Elsewhere it falls back to the growth of ``ru_maxrss``, a much looser lower
    bound (zero unless the call goes above the process's earlier peak).
    """
    reset()
    _release_free_memory()
    exact = _reset_peak_rss()
    before_kib = _proc_status_kib("VmRSS") if exact else None
    before_max = None if before_kib is not None else _max_rss_bytes()
    start = time.perf_counter()
    fn()
    ms = (time.perf_counter() - start) * 1000.0
    peak: float | None = None
    if before_kib is not None:
        after_kib = _proc_status_kib("VmHWM")
        if after_kib is not None:
            peak = max(after_kib - before_kib, 0) / 1024
    elif before_max is not None:
        after_max = _max_rss_bytes()
        if after_max is not None:
            peak = (after_max - before_max) / (1024 * 1024)
    return Sample(ms, peak)


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One case's summary; ``as_json`` is one entry of ``results.json``."""

    name: str
    rows: int
    median_ms: float
    baseline_median_ms: float
    ratio: float
    repeats: int
    min_ms: float
    max_ms: float
    baseline_min_ms: float
    baseline_max_ms: float
    peak_rss_mb: float | None
    baseline_peak_rss_mb: float | None
    summary: str
    machine: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise(
    bench_case: Case,
    rows: int,
    funnel: Sequence[Sample],
    baseline: Sequence[Sample],
    machine: dict[str, Any],
) -> Result:
    """Reduce the timed samples of one case to medians, extremes and the ratio."""
    ms = [s.ms for s in funnel]
    base = [s.ms for s in baseline]
    median, base_median = statistics.median(ms), statistics.median(base)
    return Result(
        name=bench_case.name,
        rows=rows,
        median_ms=median,
        baseline_median_ms=base_median,
        ratio=median / base_median,
        repeats=len(ms),
        min_ms=min(ms),
        max_ms=max(ms),
        baseline_min_ms=min(base),
        baseline_max_ms=max(base),
        peak_rss_mb=_peak(funnel),
        baseline_peak_rss_mb=_peak(baseline),
        summary=bench_case.summary,
        machine=machine,
    )


def _peak(samples: Sequence[Sample]) -> float | None:
    peaks = [s.peak_rss_mb for s in samples if s.peak_rss_mb is not None]
    return max(peaks) if peaks else None


def machine_info() -> dict[str, Any]:
    """Where and with what the numbers were taken (kept in every result entry)."""
    versions: dict[str, str | None] = {}
    for package in ("pandas", "pyarrow", "duckdb", "pandera", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        **versions,
    }


# --- running ---------------------------------------------------------------------------------


def _run_one(
    bench_case: Case,
    label: str,
    ws: Workspace,
    rows: int,
    repeat: int,
    machine: dict[str, Any],
    log: Log,
) -> Result:
    """Set up one case, warm both sides up, then time ``repeat`` interleaved calls of each."""
    with ws.step(f"{label}: setup"):
        trial = bench_case.build(ws)
    log(f"{label}: warm-up")
    measure(trial.run, trial.reset)
    measure(trial.baseline, trial.reset)
    funnel: list[Sample] = []
    baseline: list[Sample] = []
    for r in range(1, repeat + 1):
        funnel.append(measure(trial.run, trial.reset))
        baseline.append(measure(trial.baseline, trial.reset))
        log(
            f"{label}: repeat {r}/{repeat}: funnel {funnel[-1].ms:,.0f} ms, "
            f"baseline {baseline[-1].ms:,.0f} ms"
        )
    trial.reset()
    return summarise(bench_case, rows, funnel, baseline, machine)


def run_cases(
    cases: Sequence[Case], *, rows: int, repeat: int, log: Log = log_stderr
) -> list[Result]:
    """Run every case (one warm-up, then ``repeat`` interleaved timed calls of each side)."""
    machine = machine_info()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="funnel-bench-", ignore_cleanup_errors=True) as tmp:
        ws = Workspace(rows, Path(tmp), log)
        try:
            for i, bench_case in enumerate(cases, start=1):
                label = f"[{i}/{len(cases)}] {bench_case.name}"
                ws.topic = bench_case.build.__module__
                try:
                    results.append(_run_one(bench_case, label, ws, rows, repeat, machine, log))
                except Exception as exc:  # one broken case must not lose the others' results
                    log(f"{label}: FAILED: {type(exc).__name__}: {exc}")
                ws.release(keep={c.build.__module__ for c in cases[i:]})
        finally:
            ws.release()
    return results


def format_table(results: Sequence[Result]) -> str:
    """Render the results as a fixed-width text table."""
    headers = (
        "case",
        "rows",
        "median ms",
        "min ms",
        "max ms",
        "baseline ms",
        "b.min ms",
        "b.max ms",
        "ratio",
        "peak MB",
        "b.peak MB",
    )

    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    lines = [
        (
            r.name,
            f"{r.rows:,}",
            f"{r.median_ms:,.1f}",
            f"{r.min_ms:,.1f}",
            f"{r.max_ms:,.1f}",
            f"{r.baseline_median_ms:,.1f}",
            f"{r.baseline_min_ms:,.1f}",
            f"{r.baseline_max_ms:,.1f}",
            f"{r.ratio:.2f}",
            mb(r.peak_rss_mb),
            mb(r.baseline_peak_rss_mb),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [headers, *lines]) for i in range(len(headers))]

    def render(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([render(headers), rule, *(render(row) for row in lines)])


def write_results(results: Sequence[Result], out: Path) -> None:
    """Write ``results.json``: a JSON list with one object per case."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n")


def _positive_int(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time funnel against a plain-pandas baseline of the same work.",
    )
    parser.add_argument("--rows", type=_positive_int, default=DEFAULT_ROWS, help="rows of data")
    parser.add_argument(
        "--repeat", type=_positive_int, default=DEFAULT_REPEAT, help="timed calls per side"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME_SUBSTRING",
        help="run only cases whose name contains this (repeatable)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        metavar="NAME_SUBSTRING",
        help="leave out cases whose name contains this (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON path")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected cases, print the table on stdout and write the JSON results."""
    args = parse_args(argv)
    cases = load_cases()
    if args.list:
        for c in cases.values():
            print(f"{c.name}: {c.summary}")
        return 0
    chosen = select(cases, args.only, args.skip)
    if not chosen:
        log_stderr(f"no case matches {args.only}; cases: {', '.join(cases)}")
        return 2
    results = run_cases(chosen, rows=args.rows, repeat=args.repeat)
    write_results(results, args.out)
    print(format_table(results))
    log_stderr(f"wrote {args.out}")
    return 0
