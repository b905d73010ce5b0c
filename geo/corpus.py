"""Reading a corpus: a folder with ``articles.csv`` and the article files it names.

The manifest has the columns ``file,outlet,published,title`` (``file`` and
``published`` required; ``published`` may be empty when unknown). Bad rows are
refused with a one-line reason naming the manifest, the row and the file; in
strict mode the first bad row stops the load instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

from geo.errors import InputError, ManifestError
from geo.models import Article
from geo.textio import read_article

__all__ = ["MANIFEST", "article_from_text", "article_id_for", "load_corpus"]

MANIFEST = "articles.csv"
_REQUIRED = ("file", "published")
_MAX_ROWS = 1_000_000


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
    try:
        fh = manifest.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ManifestError(
            f"{manifest}: no manifest; add an articles.csv with columns file,outlet,published,title"
        ) from None
    except OSError as exc:
        raise ManifestError(f"{manifest}: cannot read ({exc.strerror or exc})") from None
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            missing = [c for c in _REQUIRED if c not in header]
            if missing:
                raise ManifestError(
                    f"{manifest}: missing column(s) {', '.join(missing)}; "
                    "the header must be file,outlet,published,title"
                )
            for n, raw in enumerate(reader, start=2):
                if n > _MAX_ROWS:
                    raise ManifestError(f"{manifest}: more than {_MAX_ROWS} rows; split the corpus")
                row = {
                    (k or "").strip().lower(): (v if isinstance(v, str) else "").strip()
                    for k, v in raw.items()
                }
                if not any(row.values()):
                    continue
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise ManifestError(f"{manifest}: not UTF-8 text; re-save it as UTF-8 CSV") from None
        except csv.Error as exc:
            raise ManifestError(f"{manifest}: malformed CSV ({exc}); fix the quoting") from None


def _parse_published(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10] if len(value) > 10 and value[10] in "T " else value)
    except ValueError:
        raise ValueError(f"published {value!r} is not a real date; use YYYY-MM-DD") from None


def _resolve(folder: Path, file_name: str) -> Path:
    if not file_name:
        raise ValueError("empty file name")
    rel = Path(file_name)
    if rel.is_absolute() or file_name.startswith(("/", "\\")) or ":" in file_name[:3]:
        raise ValueError(
            f"file {file_name!r} is an absolute path; name files relative to the folder"
        )
    root = folder.resolve()
    target = (folder / rel).resolve()
    if target != root and root not in target.parents:
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
    seen_files: dict[Path, int] = {}
    seen_ids: dict[str, int] = {}
    seen_text: dict[str, int] = {}

    def refuse(line: int, file_name: str, why: str) -> None:
        msg = f"{manifest}:{line}: {file_name or '(no file)'}: {why}"
        if strict:
            raise ManifestError(msg)
        if refused is not None:
            refused.append(msg)

    for line, row in _rows(manifest):
        file_name = row.get("file", "")
        try:
            published = _parse_published(row.get("published", ""))
            path = _resolve(folder, file_name)
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
            prefix = f"{path}: "
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
                path=str(path.relative_to(folder.resolve())),
                outlet=row.get("outlet", "") or "unknown",
                published=published,
                title=row.get("title", ""),
                text=text,
            )
        )
    if not articles and not strict and refused is not None and not refused:
        refused.append(f"{manifest}: lists no articles; add rows file,outlet,published,title")
    return articles
