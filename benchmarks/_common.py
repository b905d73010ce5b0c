"""Shared helpers of the benchmark scripts: machine facts, medians, process-tree memory.

Why CPU time as well as wall time: the benchmark machine is shared, so wall
time moves with other people's load while CPU time (user + system, of the
process and its children) mostly does not. Every figure is the median of
``--runs`` repetitions, reported together with the load average before and
after, so a reader can tell a quiet run from a noisy one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
PYTHON = sys.executable


def machine() -> dict[str, Any]:
    """Cores, memory, load average, Python and the repository commit."""
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=False,
        ).stdout.strip()
        dirty = bool(subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=False,
        ).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "commit": commit + ("+dirty" if dirty else ""),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Median, min and max of repeated measurements, and all of them."""
    return {
        "median": round(median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children so far."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            kids = [int(x) for x in fh.read().split()]
    except OSError:
        return out
    for kid in kids:
        out.append(kid)
        out.extend(_children(kid))
    return out


def _kb(pid: int, fname: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{fname}", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class TreeMemory:
    """Samples a process tree every ``interval`` s: peak summed RSS and PSS, peak
    RSS of the root. PSS splits pages shared by forked workers fairly, so it is
    the honest "how much memory does this build use" figure; summed RSS counts
    shared pages once per process and overstates."""

    pid: int
    interval: float = 0.05
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0
    peak_root_rss_mb: float = 0.0
    peak_processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeMemory:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [self.pid, *_children(self.pid)]
            rss = sum(_kb(p, "status", "VmRSS:") for p in pids) / 1024
            pss = sum(_kb(p, "smaps_rollup", "Pss:") for p in pids) / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)
            self.peak_root_rss_mb = max(self.peak_root_rss_mb, _kb(self.pid, "status", "VmRSS:")
                                        / 1024)
            self.peak_processes = max(self.peak_processes, len(pids))
            self._stop.wait(self.interval)


@dataclass
class Run:
    """One timed subprocess: wall and CPU seconds (children included), peak memory."""

    wall_s: float
    cpu_s: float
    peak_pss_mb: float
    peak_rss_mb: float
    peak_root_rss_mb: float
    processes: int
    stdout: str
    stderr: str


def run_timed(cmd: Sequence[str], *, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion, sampling its process tree's memory."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with TreeMemory(proc.pid) as mem:
        out, err = proc.communicate()
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return Run(wall, cpu, mem.peak_pss_mb, mem.peak_rss_mb, mem.peak_root_rss_mb,
               mem.peak_processes, out, err)


def ensure_corpus(articles: int, seed: int | None = None) -> Path:
    """The generated corpus of ``articles`` articles under var/bench, made if missing."""
    folder = BENCH_DIR / f"corpus-{articles}"
    if not (folder / "manifest.json").exists():
        cmd = [PYTHON, str(ROOT / "benchmarks" / "gen_corpus.py"), "--articles", str(articles)]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return folder


def ensure_store(events: int) -> Path:
    """The generated store of ``events`` events under var/bench, made if missing."""
    path = BENCH_DIR / f"store-{events}.gpkg"
    if not path.exists():
        subprocess.run(
            [PYTHON, str(ROOT / "benchmarks" / "gen_events.py"), "--events", str(events)],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )
    return path


def emit(result: dict[str, Any], *, name: str, out: Path | None) -> None:
    """Print the result as JSON and append it to var/bench/results.jsonl (or ``out``)."""
    result = {"benchmark": name, "machine": machine(), **result}
    text = json.dumps(result, indent=2)
    print(text)
    target = out or BENCH_DIR / "results.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")
