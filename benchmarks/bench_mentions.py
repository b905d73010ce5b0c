"""Place-mention throughput, cold start and peak memory.

    python benchmarks/bench_mentions.py [--mb 2] [--runs 5] [--geotext]

Corpus: the five seed articles repeated to ``--mb`` megabytes (as separate
articles, the way a corpus is processed). Reports the median of ``--runs``.
Cold start is measured in fresh subprocesses: import + gazetteer open + first
result, with the on-disk index already compiled (it is compiled once per data
version). ``--geotext`` runs the geotext package on the same text in the same
run, for a ratio (pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpus(mb: float) -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    out: list[str] = []
    size = 0
    while size < mb * 1e6:
        for s in seeds:
            out.append(s)
            size += len(s.encode("utf-8"))
    return out


def throughput(docs: list[str], runs: int) -> tuple[float, int]:
    from geo.mentions import find_mentions

    find_mentions(docs[0])  # warm: gazetteer open, regexes compiled
    size = sum(len(d.encode("utf-8")) for d in docs)
    times = []
    n = 0
    for _ in range(runs):
        t = time.perf_counter()
        n = sum(len(find_mentions(d)) for d in docs)
        times.append(time.perf_counter() - t)
    return size / 1e6 / statistics.median(times), n


def geotext_throughput(docs: list[str], runs: int) -> tuple[float, int]:
    """The peer: geotext's regex + dictionary lookup, on the same articles."""
    from geotext import GeoText

    GeoText(docs[0])
    size = sum(len(d.encode("utf-8")) for d in docs)
    times = []
    n = 0
    for _ in range(runs):
        t = time.perf_counter()
        n = 0
        for d in docs:
            g = GeoText(d)
            n += len(g.cities) + len(g.countries)
        times.append(time.perf_counter() - t)
    return size / 1e6 / statistics.median(times), n


_COLD = (
    "import time, resource; t=time.perf_counter();"
    "from geo.mentions import find_mentions;"
    "find_mentions(open({path!r}, encoding='utf-8').read());"
    "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def cold_start(runs: int) -> tuple[float, float]:
    path = str(sorted((ROOT / "seeds").glob("*.txt"))[0])
    subprocess.run([sys.executable, "-c", _COLD.format(path=path)], check=True, capture_output=True)
    secs, rss = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _COLD.format(path=path)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
        ).stdout.split()
        secs.append(float(out[0]))
        rss.append(float(out[1]) / 1024)
    return statistics.median(secs), statistics.median(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--geotext", action="store_true")
    args = ap.parse_args()
    docs = corpus(args.mb)
    mbps, n = throughput(docs, args.runs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cold, cold_rss = cold_start(args.runs)
    result: dict[str, object] = {
        "corpus_mb": round(sum(len(d.encode()) for d in docs) / 1e6, 2),
        "articles": len(docs),
        "mentions": n,
        "throughput_mb_s": round(mbps, 2),
        "peak_rss_mb": round(peak, 1),
        "cold_start_s": round(cold, 3),
        "cold_start_rss_mb": round(cold_rss, 1),
        "runs": args.runs,
        "cores": os.cpu_count(),
    }
    if args.geotext:
        gmbps, gn = geotext_throughput(docs, args.runs)
        result["geotext_mb_s"] = round(gmbps, 2)
        result["geotext_mentions"] = gn
        result["ratio_vs_geotext"] = round(mbps / gmbps, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
