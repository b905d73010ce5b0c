"""Store queries and GeoJSON export over generated stores (10,000 and 100,000 events).

    python benchmarks/bench_store.py                    # both stores, 5 runs each
    python benchmarks/bench_store.py --events 100000 --runs 7

Figures (issue 5, targets at 100,000 events):

* ``filter_ms``: :func:`geo.store.read_events` with a date range (one month) and
  one layer, as the app and ``geo export --start/--end/--layer`` ask it: the
  SQL runs in SQLite on the date/layer indexes, and the rows come back decoded
  (lists as Python lists). Target under 200 ms.
* ``export_s``: a full RFC 7946 export, ``read_events`` of every event plus
  :func:`geo.export.write_geojson` (encode, fsync, atomic rename) - what
  ``geo export -o FILE`` does after start-up. Target under 2 s. The split
  (read / feature building / encoding and writing) is reported too, and the
  same export through the CLI in a fresh process (``cli_export_s``, start-up and
  imports included).

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
    ew, ec, rw, bw, ww = [], [], [], [], []
    size = 0
    with tempfile.TemporaryDirectory(prefix="geo-bench-export-") as tmp:
        out = Path(tmp) / "all.geojson"
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            frame = store.read_events(path)
            t1 = time.perf_counter()
            fc = export.events_to_featurecollection(frame)
            t2 = time.perf_counter()
            data = export._geojson_bytes(fc)
            out.write_bytes(data)
            t3 = time.perf_counter()
            del fc, data, frame
            ew.append(t3 - t0)
            ec.append(time.process_time() - c0)
            rw.append(t1 - t0)
            bw.append(t2 - t1)
            ww.append(t3 - t2)
            size = out.stat().st_size
        # The whole public path once more, as the CLI calls it (fsync and rename included).
        wall_api, _, _ = _timed(lambda: export.write_geojson(store.read_events(path), out))
        cli = [run_timed([PYTHON, "-m", "geo", "export", "--db", str(path), "-o", str(out)])
               for _ in range(max(1, runs // 2))]
    return {
        "events": events,
        "store_mb": round(path.stat().st_size / 1e6, 1),
        "filter": {"rows": rows, "wall_ms": summary(fw, 1), "cpu_ms": summary(fc_, 1)},
        "export": {
            "features": events,
            "geojson_mb": round(size / 1e6, 1),
            "wall_s": summary(ew, 3),
            "cpu_s": summary(ec, 3),
            "read_events_s": summary(rw, 3),
            "features_s": summary(bw, 3),
            "encode_write_s": summary(ww, 3),
            "write_geojson_api_s": round(wall_api, 3),
            "cli_export_s": summary([r.wall_s for r in cli], 3),
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
