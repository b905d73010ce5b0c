"""Event commands of ``python -m geo``: ``build``, ``events`` and ``export``.

``build`` turns a corpus folder into the event store, ``events`` prints the
merged events of a few files without any store, ``export`` writes filtered
events from the store. GeoJSON is always RFC 7946 (via :mod:`geo.export`).
Errors are one line on stderr; exit codes are those of :mod:`geo.cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.errors import InputError, StoreError
from geo.models import LAYERS

__all__ = ["register"]

_PROGRESS_MIN = 20
"""Corpora of at least this many articles get a progress bar on stderr."""


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"{value!r} is not a worker count; use 1 to 256")
    return n


_GPKG_MAGIC = b"SQLite format 3\x00"


def _check_replaceable(db: Path) -> None:
    """Refuse to replace a file that is not a GeoPackage: ``--db README.md`` must
    not destroy the README (a store is always an SQLite file)."""
    from geo.textio import display_name

    try:
        if not db.exists() or db.is_dir():
            return  # a directory is refused by the store with its own message
        with db.open("rb") as fh:
            head = fh.read(len(_GPKG_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read {display_name(str(db))}: {exc.strerror}") from None
    if head != _GPKG_MAGIC and db.stat().st_size > 0:
        raise StoreError(
            f"{display_name(str(db))} exists and is not a GeoPackage; refusing to overwrite "
            "it (delete it or choose another --db)"
        )


def _default_db() -> Path:
    from geo.store import DEFAULT_DB

    return DEFAULT_DB


def _progress_bar(label: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A tqdm bar on stderr that appears only for large corpora."""
    state: dict[str, Any] = {"bar": None}

    def update(done: int, total: int) -> None:
        if total < _PROGRESS_MIN:
            return
        bar = state["bar"]
        if bar is None:
            from tqdm import tqdm

            bar = state["bar"] = tqdm(total=total, desc=label, unit="article", file=sys.stderr,
                                      mininterval=0.5)
        bar.update(done - bar.n)  # tqdm redraws at most every mininterval

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return update, close


def _layer_counts(events: Any) -> str:
    counts = Counter(e.layer for e in events)
    return ", ".join(f"{layer} {counts.get(layer, 0)}" for layer in LAYERS)


def _cmd_build(args: argparse.Namespace) -> int:
    from geo.cli import EXIT_OK, EXIT_PARTIAL
    from geo.pipeline import build_store
    from geo.store import read_events

    db = Path(args.db) if args.db else _default_db()
    _check_replaceable(db)
    update, close = _progress_bar("parsing")
    started = time.perf_counter()
    try:
        report = build_store(args.seeds_dir, db, strict=args.strict, progress=update,
                             workers=args.workers)
    finally:
        close()
    elapsed = time.perf_counter() - started
    for line in report.refused:
        print(f"refused: {line}", file=sys.stderr)
    layers = read_events(db)["layer"].value_counts().to_dict()
    per_layer = ", ".join(f"{layer} {int(layers.get(layer, 0))}" for layer in LAYERS)
    print(
        f"built {db}: {report.articles} articles, {report.events} events ({per_layer}) "
        f"in {elapsed:.1f} s"
        + (f"; {len(report.refused)} refused" if report.refused else ""),
        file=sys.stderr,
    )
    return EXIT_PARTIAL if report.refused else EXIT_OK


def _cmd_events(args: argparse.Namespace) -> int:
    from geo.cli import EXIT_OK, EXIT_PARTIAL, terminal_safe
    from geo.corpus import article_from_text, article_id_for
    from geo.export import dumps_geojson, events_to_featurecollection
    from geo.pipeline import process_articles
    from geo.textio import read_article

    articles = []
    refused: list[str] = []
    used: set[str] = set()
    for name in args.files:
        try:
            text = read_article(name)
        except InputError as exc:
            refused.append(str(exc))
            continue
        path = Path(name)
        art = article_from_text(text, name=path.name, outlet=path.stem,
                                published=args.published)
        art_id = art.article_id
        n = 2
        while art_id in used:  # same file name in two folders
            art_id = f"{article_id_for(path.name)}-{n}"
            n += 1
        used.add(art_id)
        articles.append(
            art if art_id == art.article_id else article_from_text(
                text, name=f"{art_id}{path.suffix}", outlet=path.stem,
                published=args.published,
            )
        )
    if refused and args.strict:
        raise InputError(f"{refused[0]} (--strict: nothing printed)")
    for line in refused:
        print(f"error: {line}", file=sys.stderr)
    if not articles:
        raise InputError("no readable article among the given files")
    if args.published is None:
        print(
            "note: no --published date; relative dates ('on Friday') cannot be resolved",
            file=sys.stderr,
        )
    events, _ = process_articles(articles)
    sys.stdout.write(terminal_safe(dumps_geojson(events_to_featurecollection(events))))
    sys.stdout.write("\n")
    print(f"{len(events)} events ({_layer_counts(events)})", file=sys.stderr)
    return EXIT_PARTIAL if refused else EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from geo.cli import EXIT_OK, terminal_safe
    from geo.export import write_bytes_atomic
    from geo.store import store_geojson_bytes

    if args.start and args.end and args.start > args.end:
        raise InputError(f"--start {args.start} is after --end {args.end}; swap them")
    db = Path(args.db) if args.db else _default_db()
    data, count = store_geojson_bytes(db, start=args.start, end=args.end,
                                      layers=args.layer or None)
    if args.output and args.output != "-":
        write_bytes_atomic(args.output, data)
        print(f"wrote {count} events to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(terminal_safe(data.decode("utf-8")))
        sys.stdout.write("\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the build, events and export commands to ``python -m geo``."""
    p = sub.add_parser(
        "build",
        help="read a corpus folder and write the event store",
        description="Read SEEDS_DIR/articles.csv and its articles, extract and merge the "
        "events and replace the store atomically (a failure keeps the old store). Bad "
        "manifest rows and unreadable articles are refused on stderr, one line each, and "
        "the rest is built (exit 1) unless --strict stops the build (exit 2).",
    )
    p.add_argument("seeds_dir", nargs="?", default="seeds", metavar="SEEDS_DIR",
                   help="corpus folder with articles.csv (default: seeds)")
    p.add_argument("--db", default=None, help="GeoPackage path (default: var/geo-news.gpkg "
                   "or $GEO_DB)")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit 2, store untouched) at the first bad manifest row or "
                   "article instead of skipping it")
    p.add_argument("--workers", type=_workers, default=None,
                   help="parse in N processes (default: one per available core)")
    p.set_defaults(handler=_cmd_build)

    p = sub.add_parser(
        "events",
        help="print the merged events of article files as GeoJSON",
        description="Extract and merge the events of FILE... and print them as an RFC 7946 "
        "FeatureCollection on stdout; no store is read or written. The outlet is the file "
        "name.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="article text files")
    p.add_argument("--published", type=_iso_date, default=None,
                   help="publication date YYYY-MM-DD (resolves 'on Friday', 'last week')")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit 2, print nothing) if any file is refused")
    p.set_defaults(handler=_cmd_events)

    p = sub.add_parser(
        "export",
        help="write events from the store as RFC 7946 GeoJSON",
        description="Write the events of the store whose dates overlap [--start, --end], "
        "optionally only some layers, as RFC 7946 GeoJSON (lon/lat, no crs member).",
    )
    p.add_argument("--db", default=None, help="GeoPackage path (default: var/geo-news.gpkg "
                   "or $GEO_DB)")
    p.add_argument("--start", type=_iso_date, default=None, help="first day YYYY-MM-DD")
    p.add_argument("--end", type=_iso_date, default=None, help="last day YYYY-MM-DD")
    p.add_argument("--layer", action="append", choices=LAYERS, default=None,
                   help="keep only this layer (repeatable)")
    p.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    p.set_defaults(handler=_cmd_export)
