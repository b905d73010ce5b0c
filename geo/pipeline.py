"""The whole pipeline: articles -> mentions -> events -> merged events -> store.

Used by the CLI (``python -m geo build``) and the app (first-run build, uploads).
Every write goes through :func:`geo.store.write_store`, which replaces the file
atomically: a failed build or upload leaves the previous store as it was.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from geo.corpus import load_corpus
from geo.errors import GeoError, InputError
from geo.events import extract_events
from geo.export import _gc_paused
from geo.merge import merge_events
from geo.models import Article, Event, Mention

if TYPE_CHECKING:
    from geo.store import MentionColumns

__all__ = [
    "BuildReport",
    "add_articles",
    "build_store",
    "default_workers",
    "process_articles",
    "warm_up",
]

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    """What a build or upload did: articles now in the store, merged events written,
    and one line per refused input (manifest row or article)."""

    articles: int
    events: int
    refused: list[str] = field(default_factory=list)


_WARM_TEXT = (
    "PRISTINA, Kosovo (Wire) - Gunmen attacked a police patrol near Zvecan on Sunday, "
    "killing one officer, police said. Serbian President Aleksandar Vucic denied the reports."
)


def warm_up() -> None:
    """Load what parsing needs once per process (gazetteer index, rules, compiled
    patterns) by parsing one short text.

    The worker pool runs it as each worker's initialiser, and the parent runs it
    before starting the pool, so workers forked from it start warm and share its
    memory pages.
    """
    import datetime as dt

    _process_one(Article("warm-up", "", "", dt.date(2024, 1, 1), "", _WARM_TEXT))


_POOL_MIN_ARTICLES = 64
"""Below this many articles one process wins: parsing them takes less time (a few
tenths of a second) than starting and feeding a pool."""


def default_workers(total: int) -> int:
    """Worker processes for ``total`` articles: one per core this process may use,
    or one for small corpora."""
    if total < _POOL_MIN_ARTICLES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def _chunksize(total: int, workers: int) -> int:
    """Articles per task: big enough that a place shared by a task's articles is
    pickled once and the pool's overhead vanishes, small enough to balance load."""
    return max(1, min(64, total // (workers * 16)))


def _process_one(article: Article) -> tuple[list[Event], list[tuple[str, Mention]]]:
    from geo.mentions import find_mentions

    try:
        mentions = find_mentions(article.text, published=article.published)
        events = extract_events(article, mentions=mentions)
    except GeoError:
        raise
    except Exception as exc:  # a bug met on one article: name it, one line, no traceback
        raise InputError(
            f"{article.path or article.article_id}: event extraction failed "
            f"({type(exc).__name__}: {exc}); please report this article"
        ) from exc
    return events, [(article.article_id, m) for m in mentions]


_Parsed = tuple[list[Event], list[tuple[str, Mention]]]


def _process_guarded(article: Article) -> _Parsed | str:
    """:func:`_process_one`, with a failure on this article returned as its one-line
    reason so the other articles still get processed (issue 6)."""
    try:
        return _process_one(article)
    except InputError as exc:
        return " ".join(str(exc).split())


_Stored = tuple[list[Event], "MentionColumns"]
"""One article's events and its mentions as the store keeps them."""


def _for_store(parsed: _Parsed) -> _Stored:
    """Mentions reduced to the store's columns: no alternatives, no shapes (a
    country's polygon travelled back with every mention of it), no objects."""
    from geo.store import MentionColumns

    events, mentions = parsed
    return events, MentionColumns.of(mentions)


def _process_stored(article: Article) -> _Stored:
    return _for_store(_process_one(article))


def _process_guarded_stored(article: Article) -> _Stored | str:
    parsed = _process_guarded(article)
    return parsed if isinstance(parsed, str) else _for_store(parsed)


def process_articles(
    articles: Sequence[Article],
    *,
    progress: Progress | None = None,
    workers: int = 1,
    skipped: dict[str, str] | None = None,
) -> tuple[list[Event], list[tuple[str, Mention]]]:
    """Extract and merge the events of ``articles``; also return every place mention.

    ``progress(done, total)`` is called after each article. ``workers > 1``
    parses articles in that many processes (the merge itself is one pass).
    Without ``skipped`` the first article that fails raises InputError; with
    it, a failing article is left out and ``skipped[article_id]`` says why.
    """
    task: Callable[[Article], _Parsed | str] = (
        _process_one if skipped is None else _process_guarded
    )
    reports: list[Event] = []
    mentions: list[tuple[str, Mention]] = []
    for events, found in _collect(
        task, articles, progress=progress, workers=workers, skipped=skipped
    ):
        reports.extend(events)
        mentions.extend(found)
    return merge_events(reports), mentions


def _parse_for_store(
    articles: Sequence[Article],
    *,
    progress: Progress | None,
    workers: int,
    skipped: dict[str, str] | None,
) -> tuple[list[Event], MentionColumns]:
    """Every article's own events (not merged yet) and its mentions as store columns."""
    from geo.store import MentionColumns

    task: Callable[[Article], _Stored | str] = (
        _process_stored if skipped is None else _process_guarded_stored
    )
    reports: list[Event] = []
    columns = MentionColumns()
    for events, found in _collect(
        task, articles, progress=progress, workers=workers, skipped=skipped
    ):
        reports.extend(events)
        columns.extend(found)
    return reports, columns


_T = TypeVar("_T")


def _collect(
    task: Callable[[Article], _T | str],
    articles: Sequence[Article],
    *,
    progress: Progress | None,
    workers: int,
    skipped: dict[str, str] | None,
) -> Iterator[_T]:
    """Each article's result, in article order; a failure (a str, only when
    ``skipped`` is given) is recorded there instead."""
    total = len(articles)
    if progress is not None:
        progress(0, total)
    for done, (article, result) in enumerate(
        zip(articles, _results(task, articles, workers=workers), strict=True), 1
    ):
        if isinstance(result, str):
            if skipped is not None:
                skipped[article.article_id] = result
        else:
            yield result
        if progress is not None:
            progress(done, total)


_FORKED_ARTICLES: Sequence[Article] = ()
"""The articles forked pool workers inherit (set while the pool runs)."""


def _on_inherited(task: Callable[[Article], _T], index: int) -> _T:
    return task(_FORKED_ARTICLES[index])


def _results(
    task: Callable[[Article], _T], articles: Sequence[Article], *, workers: int
) -> Iterator[_T]:
    """``task`` of each article, in order: in this process, or in a worker pool."""
    global _FORKED_ARTICLES
    if workers <= 1 or len(articles) <= 1:
        yield from map(task, articles)
        return
    warm_up()
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    # Forked workers then share the warm parent's pages: frozen objects are never
    # scanned by a collection, so no worker copies them just to touch GC headers.
    gc.freeze()
    try:
        with cf.ProcessPoolExecutor(
            max_workers=workers, initializer=warm_up, mp_context=context
        ) as pool:
            chunks = _chunksize(len(articles), workers)
            with _gc_paused():  # unpickling 10,000 results: no collector passes
                if fork:  # workers inherit the articles: only their indexes are sent
                    _FORKED_ARTICLES = articles
                    yield from pool.map(
                        partial(_on_inherited, task), range(len(articles)), chunksize=chunks
                    )
                else:
                    yield from pool.map(task, articles, chunksize=chunks)
    finally:
        _FORKED_ARTICLES = ()
        gc.unfreeze()


_PENDING_REPORTS: list[Event] = []
"""The reports a forked merge process inherits (set just before the fork)."""


def _merge_pending() -> list[Event]:
    return merge_events(_PENDING_REPORTS)


class _MergeElsewhere:
    """A merge running in a forked process while the caller writes the store.

    Calling the object waits for the merged events. The child inherits the
    reports through fork (nothing is pickled on the way in); only the merged
    events, a fraction of the reports, come back.
    """

    def __init__(self, reports: list[Event]) -> None:
        global _PENDING_REPORTS
        _PENDING_REPORTS = reports
        try:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("fork")
            )
            self._future = self._pool.submit(_merge_pending)  # forks here
        finally:
            _PENDING_REPORTS = []
        self.events: list[Event] | None = None

    def __call__(self) -> list[Event]:
        if self.events is None:
            try:
                self.events = self._future.result()
            finally:
                self._pool.shutdown()
        return self.events

    def cancel(self) -> None:
        """Stop waiting (the write failed); the child exits when its merge ends."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def build_store(
    seeds_dir: Path | str,
    db: Path | str,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int | None = 1,
) -> BuildReport:
    """Read the corpus at ``seeds_dir`` and replace the store at ``db`` with its events.

    Bad manifest rows are refused (listed in the report) unless ``strict``, in
    which case the first one raises ManifestError and nothing is written.
    ``workers=None`` picks :func:`default_workers` for the corpus size (the CLI
    does; a multithreaded caller such as the app should not fork, so 1 is the default).
    """
    from geo.store import write_store

    refused: list[str] = []
    articles = load_corpus(seeds_dir, strict=strict, refused=refused)
    if not articles:
        reason = refused[0] if refused else f"{seeds_dir}: no articles"
        raise InputError(f"no usable articles, store left unchanged ({reason})")
    # Strict: an article that fails to parse raises, nothing is written.
    skipped: dict[str, str] | None = None if strict else {}
    if workers is None:
        workers = default_workers(len(articles))
    reports, mentions = _parse_for_store(
        articles, progress=progress, workers=workers, skipped=skipped
    )
    if skipped:
        refused.extend(skipped.values())
        articles = [a for a in articles if a.article_id not in skipped]
        if not articles:
            raise InputError(f"no usable articles, store left unchanged ({refused[0]})")
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        # The merge runs on the second core while this one writes the articles
        # and mentions layers (10,000 articles: about 2.5 s off the build).
        merged = _MergeElsewhere(reports)
        del reports
        try:
            write_store(db, articles=articles, events=merged, mentions=mentions)
        finally:
            merged.cancel()
        n_events = len(merged())
    else:
        events = merge_events(reports)
        write_store(db, articles=articles, events=events, mentions=mentions)
        n_events = len(events)
    return BuildReport(articles=len(articles), events=n_events, refused=refused)


def _text_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def add_articles(
    db: Path | str,
    articles: Sequence[Article],
    *,
    progress: Progress | None = None,
) -> BuildReport:
    """Add ``articles`` to the store at ``db`` and re-merge everything.

    Under the store lock: read the stored articles, append the new ones (an
    article already stored, by id or by identical text, is refused), reprocess
    all of them so new reports merge with old ones, and write atomically.
    Raises InputError when nothing new remains, leaving the store unchanged.
    """
    from geo.store import read_articles, store_lock, write_store

    path = Path(db)
    with store_lock(path):
        stored = read_articles(path) if path.exists() else []
        ids = {a.article_id for a in stored}
        texts = {_text_key(a.text) for a in stored}
        refused: list[str] = []
        fresh: list[Article] = []
        for art in articles:
            name = art.path or art.article_id
            if not art.text.strip():
                refused.append(f"{name}: the article is empty")
                continue
            if "\x00" in art.text:
                refused.append(f"{name}: contains NUL bytes; not article text")
                continue
            try:  # lone surrogates (text decoded with surrogateescape) cannot be stored
                for value in (art.text, art.title, art.outlet, art.article_id, art.path):
                    value.encode("utf-8")
            except UnicodeEncodeError:
                refused.append(f"{name}: contains unpaired surrogates; decode it with "
                               "geo.textio.decode_article")
                continue
            key = _text_key(art.text)
            if key in texts:
                refused.append(f"{name}: the same text is already in the store; skipped")
                continue
            if art.article_id in ids:
                refused.append(
                    f"{name}: article id {art.article_id!r} is already in the store; "
                    "rename the file"
                )
                continue
            ids.add(art.article_id)
            texts.add(key)
            fresh.append(art)
        if not fresh:
            raise InputError(
                "no new articles to add: " + ("; ".join(refused) or "nothing was given")
            )
        everything = [*stored, *fresh]
        skipped: dict[str, str] = {}
        reports, mentions = _parse_for_store(
            everything, progress=progress, workers=1, skipped=skipped
        )
        events = merge_events(reports)
        failed = [a for a in fresh if a.article_id in skipped]
        if failed:  # stored articles stay stored even if they no longer parse
            refused.extend(skipped[a.article_id] for a in failed)
            if len(failed) == len(fresh):
                raise InputError("no new articles to add: " + "; ".join(refused))
            gone = {a.article_id for a in failed}
            everything = [a for a in everything if a.article_id not in gone]
        write_store(path, articles=everything, events=events, mentions=mentions)
    return BuildReport(articles=len(everything), events=len(events), refused=refused)
