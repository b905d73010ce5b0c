"""The app in a real browser: time to the first drawn map, to a redrawn map after a
date-filter change, and the bytes sent to the browser; beside it the naive approach.

    python benchmarks/bench_app.py                              # seeds, 10,000, 100,000
    python benchmarks/bench_app.py --events 100000 --runs 5 --naive 1000 --naive 10000

For each store the app runs under ``streamlit run app.py`` (GEO_DB pointing at
the store, a free localhost port, the flags of the browser tests) and Debian's
Chromium is driven by Playwright with the browser tests' launch arguments
(``launch_chromium`` in ``tests/browser/browser_support.py``).

* ``first_map_s``: from ``page.goto`` to the map iframe's Leaflet map loaded with
  its events drawn: every shown event layer of the app's event overlay has all
  its markers added (``evDrawn()``; for the naive app, a Leaflet map with its
  markers) and markers or clusters are in the DOM. ``cold`` is the first visit
  after the server starts (the store is read into the server's cache); ``warm``
  are later visits in fresh browser contexts (median of ``--runs``).
* ``filter_s``: from a date-filter change (the start thumb of the date slider
  moved one step with the keyboard, i.e. one rerun) to the script run finished
  and the map redrawn: a newer event overlay than before the change (or a new
  Leaflet map, should the app rebuild it) with all its markers added and in the
  DOM (median of ``--runs``).
* ``ws_mb``: WebSocket bytes the server sent for the first page (the map's
  script and event data travel inside Streamlit's messages); ``map_document_mb``:
  the map iframe's document (the event overlay is evaluated, not part of it);
  ``map_files_mb``: the files the map iframe fetched (component code, Leaflet and
  the land polygons, stylesheets), which browsers cache between visits.
* The naive approach (``benchmarks/naive_app.py``: one folium.Marker per event
  through st_folium) is timed the same way at the ``--naive`` sizes, on stores
  of that many events, and the ratio naive/app is reported.

Targets (issue 5): first map under 3 s and a filter change under 1 s at 100,000 events.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "browser"))

from _common import PYTHON, ROOT, emit, ensure_store
from browser_support import MAP_IFRAME, launch_chromium

_DRAWN_JS = """() => {
    // st_folium exposes the Leaflet map as window.map (the app's and the naive one).
    const map = window.map;
    if (!map || !map._loaded || !document.querySelector('.leaflet-container')) return -1;
    if (map.evControl) {
        // The app: its event overlay, newer than the one seen before a filter change,
        // with every shown event layer's markers added (chunked loading finished).
        const overlay = map._evOverlay;
        if (!overlay || overlay.evGeneration <= (window.__benchGeneration || 0)
                || !overlay.evDrawn()) return -1;
    } else if (map.__benchOld) {
        return -1;  // the naive app: wait for a new map object
    }
    return document.querySelectorAll(
        '.leaflet-marker-icon, .marker-cluster, path.leaflet-interactive').length;
}"""
_FETCHED_JS = """() => performance.getEntriesByType('resource')
    .reduce((n, e) => n + (e.encodedBodySize || 0), 0)"""
_BEFORE_CHANGE_JS = """() => {
    window.map.__benchOld = true;
    window.__benchGeneration = window.map._evOverlay ? window.map._evOverlay.evGeneration : 0;
}"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(script: Path, db: Path, *, cwd: Path) -> Iterator[str]:
    """``streamlit run script`` on a free port with GEO_DB=db; yields the URL."""
    port = _free_port()
    env = {**os.environ, "GEO_DB": str(db), "GEO_ROOT": str(ROOT)}
    cmd = [PYTHON, "-m", "streamlit", "run", str(script),
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.fileWatcherType", "none",
           "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"]
    fd, log_name = tempfile.mkstemp(prefix="geo-bench-app-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"streamlit exited: {Path(log_name).read_text()[-2000:]}")
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise SystemExit("streamlit did not start in 120 s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # only the session this script started
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        Path(log_name).unlink(missing_ok=True)


def _map_frame(page: Any, timeout: float = 120.0) -> tuple[Any, int]:
    """The visible map frame once its (new) Leaflet map shows event markers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for handle in page.query_selector_all(MAP_IFRAME):
            with contextlib.suppress(Exception):
                if not handle.is_visible():
                    continue
                frame = handle.content_frame()
                n = frame.evaluate(_DRAWN_JS) if frame is not None else -1
                if n > 0:
                    return frame, n
        time.sleep(0.02)
    raise SystemExit("the map did not draw within the timeout")


def _script_idle(page: Any) -> None:
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const state = app && app.getAttribute('data-test-script-state');
            return state && state !== 'running' && state !== 'initial';
        }""",
        timeout=120_000,
        polling=20,
    )


def _visit(browser: Any, url: str, *, change_filter: bool) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    received = [0]

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.__setitem__(
            0, received[0] + len(payload if isinstance(payload, bytes) else payload.encode())))

    page.on("websocket", on_ws)
    try:
        t0 = time.perf_counter()
        page.goto(url)
        frame, markers = _map_frame(page)
        first = time.perf_counter() - t0
        ws_bytes = received[0]
        doc = frame.evaluate("() => document.documentElement.outerHTML.length")
        assets = frame.evaluate(_FETCHED_JS)
        out: dict[str, Any] = {"first_map_s": first, "markers_in_dom": markers,
                               "ws_mb": ws_bytes / 1e6, "map_document_mb": doc / 1e6,
                               "map_files_mb": assets / 1e6}
        if change_filter:
            _script_idle(page)
            frame.evaluate(_BEFORE_CHANGE_JS)
            thumb = page.locator('input[type="range"][aria-label="Dates — start"]')
            thumb.focus()
            t1 = time.perf_counter()
            page.keyboard.press("ArrowRight")
            _map_frame(page)
            _script_idle(page)
            out["filter_s"] = time.perf_counter() - t1
        return out
    finally:
        context.close()


def _measure(script: Path, db: Path, *, cwd: Path, runs: int, change_filter: bool,
             browser: Any) -> dict[str, Any]:
    with serve(script, db, cwd=cwd) as url:
        cold = _visit(browser, url, change_filter=False)
        warm = [_visit(browser, url, change_filter=change_filter) for _ in range(runs)]

    def med(key: str) -> float | None:
        vals = [w[key] for w in warm if key in w]
        return round(statistics.median(vals), 3) if vals else None

    return {
        "first_map_cold_s": round(cold["first_map_s"], 3),
        "first_map_warm_s": med("first_map_s"),
        "first_map_warm_runs": [round(w["first_map_s"], 3) for w in warm],
        "filter_s": med("filter_s"),
        "filter_runs": [round(w["filter_s"], 3) for w in warm if "filter_s" in w],
        "ws_mb": round(cold["ws_mb"], 2),
        "map_document_mb": round(cold["map_document_mb"], 2),
        "map_files_mb": round(cold["map_files_mb"], 2),
        "markers_in_dom": cold["markers_in_dom"],
    }


def _seed_store(tmp: Path) -> Path:
    from geo.pipeline import build_store

    db = tmp / "seeds.gpkg"
    build_store(ROOT / "seeds", db)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, action="append",
                    help="store size; 0 means the seed corpus (default 0, 10000, 100000)")
    ap.add_argument("--naive", type=int, action="append",
                    help="sizes for the naive approach (default 1000 and 10000)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive approach")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="append results to this JSONL")
    args = ap.parse_args()
    sizes = args.events if args.events is not None else [0, 10000, 100000]
    naive_sizes = [] if args.no_naive else args.naive if args.naive is not None else [1000, 10000]
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {"app": {}, "naive": {}, "ratio_naive_over_app": {}}
    with tempfile.TemporaryDirectory(prefix="geo-bench-app-") as tmp_name, \
            sync_playwright() as pw:
        tmp = Path(tmp_name)
        browser = launch_chromium(pw)
        naive_dir = tmp / "naive"
        naive_dir.mkdir()
        shutil.copy(ROOT / "benchmarks" / "naive_app.py", naive_dir / "naive_app.py")
        shutil.copytree(ROOT / "static", naive_dir / "static")  # served only if real files
        for n in sorted(set(sizes) | set(naive_sizes)):
            db = _seed_store(tmp) if n == 0 else ensure_store(n)
            label = "seeds" if n == 0 else str(n)
            if n in sizes or n in naive_sizes:
                results["app"][label] = _measure(ROOT / "app.py", db, cwd=ROOT, runs=args.runs,
                                                 change_filter=True, browser=browser)
                print(label, "app", results["app"][label], file=sys.stderr)
            if n in naive_sizes:
                results["naive"][label] = _measure(naive_dir / "naive_app.py", db, cwd=naive_dir,
                                                   runs=args.runs, change_filter=False,
                                                   browser=browser)
                print(label, "naive", results["naive"][label], file=sys.stderr)
                app_t = results["app"][label]["first_map_warm_s"]
                naive_t = results["naive"][label]["first_map_warm_s"]
                results["ratio_naive_over_app"][label] = round(naive_t / app_t, 2)
        browser.close()
    results["load_before"] = round(load_before, 2)
    results["load_after"] = round(os.getloadavg()[0], 2)
    emit(results, name="app", out=args.out)


if __name__ == "__main__":
    main()
