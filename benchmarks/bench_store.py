"""Store queries and GeoJSON export over generated stores (10,000 and 100,000 events).

    python benchmarks/bench_store.py                    # both stores, 5 runs each
    python benchmarks/bench_store.py --events 100000 --runs 7

Figures (issue 5, targets at 100,000 events):

* ``filter_ms``: :func:`geo.store.read_events` with a date range (one month) and
  one layer, as the app and ``geo export --start/--end/--layer`` ask it: the
  SQL runs in SQLite on the date/layer indexes, and the rows come back decoded
  (lists as Python lists). Target under 200 ms.
* ``export``: a full RFC 7946 export to a file (encode, fsync, atomic rename),
  two ways that write the same bytes (checked every run):
  :func:`geo.store.export_geojson` (rows read straight from SQLite, verified
  against the store's fingerprint, JSON lists spliced as stored; what ``geo
  export -o`` calls) and ``read_events`` + :func:`geo.export.write_geojson` (the
  standard path, taken for filtered exports), with its read/write split; and
  ``geo export -o`` in a fresh process (start-up and imports included). Target
  under 2 s.

Each figure is the median of ``--runs`` runs; CPU time of this process is
reported beside wall time because the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import PYTHON, emit, ensure_store, run_timed, summary

from geo import export, store


def _timed(fn: Any) -> tuple[float, float, Any]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def bench(events: int, *, runs: int) -> dict[str, Any]:
    path = ensure_store(events)
    load_before = os.getloadavg()[0]
    start, end = dt.date(2024, 3, 1), dt.date(2024, 3, 31)
    store.read_events(path, start=start, end=end, layers=["incidents"])  # warm the OS cache
    fw, fc_, rows = [], [], 0
    for _ in range(runs):
        wall, cpu, frame = _timed(
            lambda: store.read_events(path, start=start, end=end, layers=["incidents"])
        )
        fw.append(wall * 1000)
        fc_.append(cpu * 1000)
        rows = len(frame)
    fast_w, fast_c, std_w, std_c, rw, ww = [], [], [], [], [], []
    size = 0
    with tempfile.TemporaryDirectory(prefix="geo-bench-export-") as tmp:
        out = Path(tmp) / "all.geojson"
        for _ in range(runs):
            # What `geo export -o` calls: store.export_geojson (verified fast path).
            wall, cpu, _ = _timed(lambda: store.export_geojson(path, out))
            fast_w.append(wall)
            fast_c.append(cpu)
            size = out.stat().st_size
            fast_bytes = out.read_bytes()
            # The standard path (filtered exports): read_events + write_geojson.
            t0, c0 = time.perf_counter(), time.process_time()
            frame = store.read_events(path)
            t1 = time.perf_counter()
            export.write_geojson(frame, out)
            t2 = time.perf_counter()
            del frame
            std_w.append(t2 - t0)
            std_c.append(time.process_time() - c0)
            rw.append(t1 - t0)
            ww.append(t2 - t1)
            if out.read_bytes() != fast_bytes:
                raise SystemExit("the fast and the standard export differ")
            del fast_bytes
        cli = [run_timed([PYTHON, "-m", "geo", "export", "--db", str(path), "-o", str(out)])
               for _ in range(max(1, runs // 2))]
    return {
        "events": events,
        "store_mb": round(path.stat().st_size / 1e6, 1),
        "filter": {"rows": rows, "wall_ms": summary(fw, 1), "cpu_ms": summary(fc_, 1)},
        "export": {
            "features": events,
            "geojson_mb": round(size / 1e6, 1),
            "export_geojson_wall_s": summary(fast_w, 3),
            "export_geojson_cpu_s": summary(fast_c, 3),
            "read_events_plus_write_geojson_wall_s": summary(std_w, 3),
            "read_events_plus_write_geojson_cpu_s": summary(std_c, 3),
            "of_which_read_events_s": summary(rw, 3),
            "of_which_write_geojson_s": summary(ww, 3),
            "cli_geo_export_wall_s": summary([r.wall_s for r in cli], 3),
            "same_bytes": True,
            "orjson": export._orjson is not None,
        },
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, action="append",
                    help="store size (repeatable; default 10000 and 100000)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="append results to this JSONL")
    args = ap.parse_args()
    results = [bench(n, runs=args.runs) for n in (args.events or [10000, 100000])]
    emit({"sizes": results}, name="store", out=args.out)


if __name__ == "__main__":
    main()
