"""Reading a corpus: a folder with ``articles.csv`` and the article files it names.

The manifest has the columns ``file,outlet,published,title`` (``file`` and
``published`` required; ``published`` may be empty when unknown). Bad rows are
refused with a one-line reason naming the manifest, the row and the file; in
strict mode the first bad row stops the load instead.

The manifest is decoded like an article (UTF-8, BOM'd UTF-16, or an
unambiguous Windows-1252/1250 file as Excel saves it) and parsed with strict
CSV quoting: an unbalanced quote would otherwise swallow every later row
without a word, so it stops the load with the line number instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

from geo.errors import InputError, ManifestError
from geo.models import Article
from geo.textio import decode_text, display_name, read_article, read_bytes

__all__ = [
    "EARLIEST",
    "MANIFEST",
    "MAX_FIELD",
    "article_from_text",
    "article_id_for",
    "clean_field",
    "load_corpus",
]

MANIFEST = "articles.csv"
_REQUIRED = ("file", "published")
_MAX_ROWS = 1_000_000
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_FIELD = 1000
"""Longest outlet or title kept: longer ones are a broken quote, not a title."""
EARLIEST = dt.date(1800, 1, 1)
"""Earliest publication date accepted; anything before is a typo in the year."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def article_id_for(file_name: str) -> str:
    """The stable id of an article: its file name without the extension."""
    name = Path(file_name).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem or name


def article_from_text(
    text: str,
    *,
    name: str,
    outlet: str = "",
    published: dt.date | None = None,
    title: str = "",
) -> Article:
    """Wrap already-decoded text as an Article (uploads, the ``events`` command)."""
    return Article(
        article_id=article_id_for(name),
        path=name,
        outlet=outlet or "unknown",
        published=published,
        title=title,
        text=text,
    )


def _rows(manifest: Path) -> Iterator[tuple[int, dict[str, str]]]:
    shown = display_name(str(manifest))
    if not manifest.exists():
        raise ManifestError(
            f"{shown}: no manifest; add an articles.csv with columns file,outlet,published,title"
        )
    try:
        text = decode_text(read_bytes(manifest, limit=_MAX_MANIFEST_BYTES), name=str(manifest),
                           limit=_MAX_MANIFEST_BYTES)
    except InputError as exc:
        raise ManifestError(f"{exc} (the manifest)") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise ManifestError(
                f"{shown}: missing column(s) {', '.join(missing)}; "
                "the header must be file,outlet,published,title"
            )
        for n, raw in enumerate(reader, start=2):
            if n > _MAX_ROWS:
                raise ManifestError(f"{shown}: more than {_MAX_ROWS} rows; split the corpus")
            row = {
                (k or "").strip().lower(): (v if isinstance(v, str) else "").strip()
                for k, v in raw.items()
            }
            if not any(row.values()):
                continue
            yield reader.line_num, row
    except csv.Error as exc:
        raise ManifestError(
            f"{shown}:{reader.line_num}: malformed CSV ({exc}); fix the quoting (an unbalanced \" "
            "swallows the rows after it)"
        ) from None


def clean_field(value: str) -> str:
    """Outlet and title are shown on one line: control characters become spaces
    (the manifest and the app's upload form both use this)."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _parse_published(value: str, *, today: dt.date) -> dt.date | None:
    """The publication date, refusing impossible ones (Feb 30, year 0, the future)."""
    if not value:
        return None
    shown = display_name(value[:40])
    try:
        day = dt.date.fromisoformat(value[:10] if len(value) > 10 and value[10] in "T " else value)
    except ValueError:
        raise ValueError(f"published {shown!r} is not a real date; use YYYY-MM-DD") from None
    if day < EARLIEST:
        raise ValueError(f"published {shown!r} is before {EARLIEST.year}; check the year")
    if day > today + dt.timedelta(days=1):
        raise ValueError(f"published {shown!r} is in the future; check the date")
    return day


def _resolve(folder: str, file_name: str, *, root: str) -> str:
    """The real path of ``file_name`` inside ``folder`` (whose real path is ``root``),
    or ValueError. Plain strings: 10,000 rows through pathlib took a second."""
    if not file_name:
        raise ValueError("empty file name")
    if _CONTROL.search(file_name):
        raise ValueError("the file name contains control characters or line breaks "
                         "(an unbalanced quote?); fix the row")
    if os.path.isabs(file_name) or file_name.startswith(("/", "\\")) or ":" in file_name[:3]:
        raise ValueError(
            f"file {file_name!r} is an absolute path; name files relative to the folder"
        )
    try:
        target = os.path.realpath(os.path.join(folder, file_name))
    except (OSError, RuntimeError, ValueError) as exc:  # name too long, loop, NUL
        raise ValueError(f"file {file_name!r} cannot be resolved ({exc}); fix the row") from None
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        raise ValueError(f"file {file_name!r} points outside the corpus folder; move it inside")
    return target


def load_corpus(
    seeds_dir: Path | str,
    *,
    strict: bool = False,
    refused: list[str] | None = None,
) -> list[Article]:
    """Read the manifest and its articles.

    A bad row (impossible date, missing or unreadable file, a file listed twice
    or identical to an earlier article, a path outside the folder) is refused:
    its one-line reason is appended to ``refused`` and the row skipped, or, when
    ``strict``, raised as :class:`ManifestError`.
    """
    folder = Path(seeds_dir)
    if not folder.is_dir():
        raise ManifestError(f"{folder}: not a folder; pass the corpus folder holding {MANIFEST}")
    manifest = folder / MANIFEST
    articles: list[Article] = []
    seen_files: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    seen_text: dict[str, int] = {}

    today = dt.date.today()
    root = os.path.realpath(folder)
    inside = len(root.rstrip(os.sep)) + 1  # a resolved file's path relative to root starts here

    def refuse(line: int, file_name: str, why: str) -> None:
        shown = display_name(file_name) if file_name else "(no file)"
        msg = f"{display_name(str(manifest))}:{line}: {shown}: {why}"
        if strict:
            raise ManifestError(msg)
        if refused is not None:
            refused.append(msg)

    for line, row in _rows(manifest):
        file_name = row.get("file", "")
        try:
            published = _parse_published(row.get("published", ""), today=today)
            path = _resolve(str(folder), file_name, root=root)
            outlet = clean_field(row.get("outlet", ""))
            title = clean_field(row.get("title", ""))
            if len(outlet) > MAX_FIELD or len(title) > MAX_FIELD:
                raise ValueError(f"outlet or title longer than {MAX_FIELD} characters; "
                                 "check the CSV quoting")
        except ValueError as exc:
            refuse(line, file_name, str(exc))
            continue
        if path in seen_files:
            refuse(line, file_name, f"duplicate of row {seen_files[path]}; list each file once")
            continue
        seen_files[path] = line
        art_id = article_id_for(file_name)
        if art_id in seen_ids:
            refuse(
                line, file_name,
                f"article id {art_id!r} already used by row {seen_ids[art_id]}; rename the file",
            )
            continue
        try:
            text = read_article(path)
        except InputError as exc:
            reason = str(exc)
            prefix = f"{display_name(path)}: "
            refuse(line, file_name, reason[len(prefix):] if reason.startswith(prefix) else reason)
            continue
        digest = hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()
        if digest in seen_text:
            refuse(line, file_name, f"same text as row {seen_text[digest]}; drop the duplicate")
            continue
        seen_ids[art_id] = line
        seen_text[digest] = line
        articles.append(
            Article(
                article_id=art_id,
                path=path[inside:],
                outlet=outlet or "unknown",
                published=published,
                title=title,
                text=text,
            )
        )
    if not articles and not strict and refused is not None and not refused:
        refused.append(
            f"{display_name(str(manifest))}: lists no articles; "
            "add rows file,outlet,published,title"
        )
    return articles
