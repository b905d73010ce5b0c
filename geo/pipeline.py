"""The whole pipeline: articles -> mentions -> events -> merged events -> store.

Used by the CLI (``python -m geo build``) and the app (first-run build, uploads).
Every write goes through :func:`geo.store.write_store`, which replaces the file
atomically: a failed build or upload leaves the previous store as it was.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.corpus import load_corpus
from geo.errors import GeoError, InputError
from geo.events import extract_events
from geo.merge import merge_events
from geo.models import Article, Event, Mention

__all__ = ["BuildReport", "add_articles", "build_store", "process_articles"]

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    """What a build or upload did: articles now in the store, merged events written,
    and one line per refused input (manifest row or article)."""

    articles: int
    events: int
    refused: list[str] = field(default_factory=list)


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


def process_articles(
    articles: Sequence[Article],
    *,
    progress: Progress | None = None,
    workers: int = 1,
) -> tuple[list[Event], list[tuple[str, Mention]]]:
    """Extract and merge the events of ``articles``; also return every place mention.

    ``progress(done, total)`` is called after each article. ``workers > 1``
    parses articles in that many processes (the merge itself is one pass).
    """
    total = len(articles)
    per_article: list[tuple[list[Event], list[tuple[str, Mention]]]] = []
    if progress is not None:
        progress(0, total)
    if workers > 1 and total > 1:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            for done, result in enumerate(pool.map(_process_one, articles, chunksize=4), 1):
                per_article.append(result)
                if progress is not None:
                    progress(done, total)
    else:
        for done, article in enumerate(articles, 1):
            per_article.append(_process_one(article))
            if progress is not None:
                progress(done, total)
    events = [e for evs, _ in per_article for e in evs]
    mentions = [m for _, ms in per_article for m in ms]
    return merge_events(events), mentions


def build_store(
    seeds_dir: Path | str,
    db: Path | str,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    workers: int = 1,
) -> BuildReport:
    """Read the corpus at ``seeds_dir`` and replace the store at ``db`` with its events.

    Bad manifest rows are refused (listed in the report) unless ``strict``, in
    which case the first one raises ManifestError and nothing is written.
    """
    from geo.store import write_store

    refused: list[str] = []
    articles = load_corpus(seeds_dir, strict=strict, refused=refused)
    if not articles:
        reason = refused[0] if refused else f"{seeds_dir}: no articles"
        raise InputError(f"no usable articles, store left unchanged ({reason})")
    events, mentions = process_articles(articles, progress=progress, workers=workers)
    write_store(db, articles=articles, events=events, mentions=mentions)
    return BuildReport(articles=len(articles), events=len(events), refused=refused)


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
        events, mentions = process_articles(everything, progress=progress)
        write_store(path, articles=everything, events=events, mentions=mentions)
    return BuildReport(articles=len(everything), events=len(events), refused=refused)
