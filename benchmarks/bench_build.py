"""`geo build` wall time, CPU time and peak memory on generated corpora.

    python benchmarks/bench_build.py                         # 1,000 and 10,000 articles
    python benchmarks/bench_build.py --articles 1000 --runs 5 --workers 2

Each run is a fresh ``python -m geo build CORPUS --db TMP --workers N`` process
(gazetteer index already compiled, as after the first run of the app), so the
figure includes start-up, corpus reading, parsing in the worker pool, the
cross-article merge and the atomic GeoPackage write. Memory is sampled every
50 ms over the whole process tree (parent and workers): peak summed PSS (pages
shared by forked workers counted once, split fairly) and peak summed RSS.

Targets (issue 5): 10,000 articles in under 30 s on 2 cores, peak memory under
1 GB, time linear in the corpus size (the per-article time is reported so the
two sizes can be compared).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, emit, ensure_corpus, run_timed, summary


def bench(articles: int, *, runs: int, workers: int) -> dict[str, Any]:
    corpus = ensure_corpus(articles)
    corpus_mb = sum(p.stat().st_size for p in corpus.glob("*.txt")) / 1e6
    walls, cpus, pss, rss, root = [], [], [], [], []
    last = ""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="geo-bench-build-") as tmp:
        for i in range(runs):
            db = Path(tmp) / f"run{i}.gpkg"
            run = run_timed([PYTHON, "-m", "geo", "build", str(corpus), "--db", str(db),
                             "--workers", str(workers)])
            walls.append(run.wall_s)
            cpus.append(run.cpu_s)
            pss.append(run.peak_pss_mb)
            rss.append(run.peak_rss_mb)
            root.append(run.peak_root_rss_mb)
            last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
            db.unlink(missing_ok=True)
    wall = summary(walls, 2)
    return {
        "articles": articles,
        "corpus_mb": round(corpus_mb, 2),
        "workers": workers,
        "wall_s": wall,
        "cpu_s": summary(cpus, 2),
        "wall_ms_per_article": round(1000 * wall["median"] / articles, 2),
        "peak_pss_mb": summary(pss, 0),
        "peak_rss_sum_mb": summary(rss, 0),
        "peak_parent_rss_mb": summary(root, 0),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "build_output": last,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, action="append",
                    help="corpus size (repeatable; default 1000 and 10000)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", type=Path, default=None, help="append results to this JSONL")
    args = ap.parse_args()
    sizes = args.articles or [1000, 10000]
    results = [bench(n, runs=args.runs, workers=args.workers) for n in sizes]
    extra: dict[str, Any] = {"sizes": results}
    if len(results) >= 2:
        a, b = results[0], results[-1]
        extra["linearity"] = {
            "articles_ratio": round(b["articles"] / a["articles"], 1),
            "wall_ratio": round(b["wall_s"]["median"] / a["wall_s"]["median"], 2),
            "cpu_ratio": round(b["cpu_s"]["median"] / a["cpu_s"]["median"], 2),
        }
    emit(extra, name="build", out=args.out)


if __name__ == "__main__":
    main()
