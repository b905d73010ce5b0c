"""Place-mention throughput beside geotext, cold start and peak memory.

    python benchmarks/bench_mentions.py [--mb 2] [--runs 5] [--no-geotext]

Two corpora, each processed article by article (as a build does):

* ``seeds``: the five seed articles repeated to ``--mb`` megabytes (the figure this
  script has always reported);
* ``generated``: the articles of ``var/bench/corpus-1000`` (benchmarks/gen_corpus.py),
  about 2.6 MB of varied text, so no article repeats.

For each, :func:`geo.mentions.find_mentions` and geotext (the ``bench`` extra,
``pip install -e '.[bench]'``) run on the same texts in the same process, in
alternation, ``--runs`` times; the median MB/s is reported from CPU time (the
machine may be shared) and from wall time, with the ratio ours/geotext.
geotext only matches a fixed list of city and country names, without
positions, context or disambiguation; it is the speed reference, not an
accuracy one (accuracy: tests/test_geoparser_accuracy.py).

``generated_first_pass`` runs the generated corpus once per fresh process (ours
then geotext), so the geoparser's cross-article memos start empty: the figure
for a one-off build, where the in-process runs show the steady state.

Cold start is measured in fresh subprocesses: import + gazetteer open + first
result, with the on-disk index already compiled (it is compiled once per data
version). Target (issue 5): under 1 s.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, emit, ensure_corpus, summary


def seeds_corpus(mb: float) -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    out: list[str] = []
    size = 0
    while size < mb * 1e6:
        for s in seeds:
            out.append(s)
            size += len(s.encode("utf-8"))
    return out


def generated_corpus() -> list[str]:
    folder = ensure_corpus(1000)
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]


def _ours(*, pure_python: bool = False) -> Callable[[list[str]], int]:
    from geo import mentions

    find = mentions.find_mentions_py if pure_python else mentions.find_mentions

    def run(docs: list[str]) -> int:
        return sum(len(find(d)) for d in docs)

    return run


def _geotext() -> Callable[[list[str]], int] | None:
    try:
        from geotext import GeoText
    except ImportError:
        return None

    def run(docs: list[str]) -> int:
        n = 0
        for d in docs:
            g = GeoText(d)
            n += len(g.cities) + len(g.countries)
        return n

    return run


def _timed(fn: Callable[[list[str]], int], docs: list[str]) -> tuple[float, float, int]:
    t, c = time.perf_counter(), time.process_time()
    n = fn(docs)
    return time.perf_counter() - t, time.process_time() - c, n


def throughput(
    docs: list[str], runs: int, *, geotext: bool, pure_python: bool = False
) -> dict[str, Any]:
    """Ours and geotext alternating; with ``pure_python`` the Python reference
    geoparser (find_mentions_py) in the same alternation, for the ratio the
    compiled one (geo/_cmentions.pyx) buys."""
    from geo import mentions

    size_mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    ours = _ours()
    slow = _ours(pure_python=True) if pure_python else None
    peer = _geotext() if geotext else None
    for fn in (ours, slow, peer):
        if fn is not None:
            fn(docs[:1])  # warm: gazetteer open, regexes compiled
    o_wall, o_cpu, p_wall, p_cpu, s_cpu = [], [], [], [], []
    n_ours = n_peer = 0
    for _ in range(runs):  # alternate, so all see the same machine load
        wall, cpu, n_ours = _timed(ours, docs)
        o_wall.append(size_mb / wall)
        o_cpu.append(size_mb / cpu)
        if peer is not None:
            wall, cpu, n_peer = _timed(peer, docs)
            p_wall.append(size_mb / wall)
            p_cpu.append(size_mb / cpu)
        if slow is not None:
            s_cpu.append(size_mb / _timed(slow, docs)[1])
    out: dict[str, Any] = {
        "corpus_mb": round(size_mb, 2),
        "articles": len(docs),
        "implementation": mentions.implementation(),
        "mentions": n_ours,
        "mb_per_s_cpu": summary(o_cpu, 2),
        "mb_per_s_wall": summary(o_wall, 2),
        "s_per_mb_cpu": round(1 / statistics.median(o_cpu), 3),
    }
    if slow is not None:
        out["pure_python_mb_per_s_cpu"] = summary(s_cpu, 2)
        out["compiled_times_faster"] = round(statistics.median(o_cpu) / statistics.median(s_cpu), 1)
    if peer is not None:
        out["geotext"] = {
            "mentions": n_peer,
            "mb_per_s_cpu": summary(p_cpu, 2),
            "mb_per_s_wall": summary(p_wall, 2),
        }
        out["ratio_vs_geotext_cpu"] = round(
            statistics.median(o_cpu) / statistics.median(p_cpu), 3
        )
        out["geotext_times_faster"] = round(
            statistics.median(p_cpu) / statistics.median(o_cpu), 1
        )
    return out


_FIRST_PASS = """
import json, sys, time
from pathlib import Path
docs = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
from geo.mentions import find_mentions
find_mentions("Police in Pristina said on Monday.")  # gazetteer and regexes loaded, memos empty
out = {}
c = time.process_time()
for d in docs:
    find_mentions(d)
out["ours"] = time.process_time() - c
try:
    from geotext import GeoText
except ImportError:
    pass
else:
    GeoText("Police in Pristina said on Monday.")
    c = time.process_time()
    for d in docs:
        GeoText(d)
    out["geotext"] = time.process_time() - c
print(json.dumps(out))
"""


def first_pass(runs: int) -> dict[str, Any]:
    """The generated corpus once, in a fresh process: the geoparser's memos (names
    and runs of capitalised words seen before) start empty, as in a one-off
    ``geo build``. The in-process figures above are the steady state."""
    folder = ensure_corpus(1000)
    size_mb = sum(p.stat().st_size for p in folder.glob("*.txt")) / 1e6
    cmd = [PYTHON, "-c", _FIRST_PASS, str(folder)]
    ours: list[float] = []
    peer: list[float] = []
    for _ in range(runs):
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        secs = json.loads(out)
        ours.append(size_mb / secs["ours"])
        if "geotext" in secs:
            peer.append(size_mb / secs["geotext"])
    result: dict[str, Any] = {"mb_per_s_cpu": summary(ours, 2)}
    if peer:
        result["geotext_mb_per_s_cpu"] = summary(peer, 2)
        result["ratio_vs_geotext_cpu"] = round(statistics.median(ours) / statistics.median(peer), 3)
    return result


_COLD = (
    "import time, resource; t=time.perf_counter();"
    "from geo.mentions import find_mentions;"
    "find_mentions(open({path!r}, encoding='utf-8').read());"
    "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def cold_start(runs: int) -> dict[str, Any]:
    path = str(sorted((ROOT / "seeds").glob("*.txt"))[0])
    cmd = [PYTHON, "-c", _COLD.format(path=path)]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)  # index compiled, OS cache warm
    secs, rss = [], []
    for _ in range(runs):
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        first, second = out.split()
        secs.append(float(first))
        rss.append(float(second) / 1024)
    return {"first_result_s": summary(secs, 3), "rss_mb": round(statistics.median(rss), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=2.0, help="size of the repeated-seeds corpus")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-geotext", dest="geotext", action="store_false")
    ap.add_argument("--out", type=Path, default=None, help="append results to this JSONL")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    result: dict[str, Any] = {
        "seeds": throughput(seeds_corpus(args.mb), args.runs, geotext=args.geotext),
        "generated": throughput(
            generated_corpus(), args.runs, geotext=args.geotext, pure_python=True
        ),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "generated_first_pass": first_pass(args.runs),
        "cold_start": cold_start(args.runs),
        "runs": args.runs,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    emit(result, name="mentions", out=args.out)


if __name__ == "__main__":
    main()
