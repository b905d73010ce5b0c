"""Embedded GeoPackage event store: one file the CLI writes and the app reads.

Why GeoPackage: a single SQLite file that GDAL, QGIS and ``sqlite3`` all open,
with an R-tree for bounding-box queries and plain SQL indexes for the date and
layer filters, and no server to run.

The schema (tables ``events``, ``articles``, ``mentions``, their columns and
indexes) is documented in ``data/README.md``, section "Event store". In short:
``events`` holds all three map layers in one table with a generic geometry
column; its columns are the GeoJSON export properties plus ``notes``, lists
are JSON text and dates ISO text, so a date/layer filter is a ``WHERE`` clause
SQLite answers from an index.

Location: ``var/geo-news.gpkg`` under the repository root (git-ignored), or the
path in the environment variable ``GEO_DB`` (read at import time).

Writes replace the whole file atomically (temp file in the same directory,
fsync, ``os.replace``): readers never see a half-written store and a crash
leaves the previous one intact. Wrap read-modify-write cycles in
:func:`store_lock` so concurrent writers do not lose each other's events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib
import importlib.util
import json
import math
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from geo.errors import InputError, StoreError
from geo.export import (
    EVENT_PROPERTIES,
    _events_from_gdf,
    _gc_paused,
    encode_store_rows,
    event_properties,
    geojson_bytes,
    stored_shapes,
    write_bytes_atomic,
)
from geo.models import LAYERS, Article, Event, Mention

_REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_db() -> Path:
    configured = os.environ.get("GEO_DB", "").strip()
    if configured:
        return Path(configured).expanduser()
    return _REPO_ROOT / "var" / "geo-news.gpkg"


DEFAULT_DB: Path = _default_db()

EVENTS_LAYER = "events"
ARTICLES_LAYER = "articles"
MENTIONS_LAYER = "mentions"

#: Columns of the frame ``read_events`` returns (plus ``geometry``).
EVENT_COLUMNS: tuple[str, ...] = (*EVENT_PROPERTIES, "notes")
ARTICLE_COLUMNS: tuple[str, ...] = ("article_id", "path", "outlet", "published", "title", "text")
MENTION_COLUMNS: tuple[str, ...] = (
    "article_id",
    "start",
    "end",
    "text",
    "place_id",
    "name",
    "kind",
    "country",
    "score",
    "reason",
)

_JSON_COLUMNS = ("actors", "sources", "disputed_by", "notes")
_OPTIONAL_TEXT = ("acled_event_type", "acled_sub_event_type", "country")
_CRS = "EPSG:4326"
_REBUILD = "run `python -m geo build` to rebuild it"
# Longest event in days. Indexed, so MAX() is one B-tree lookup; it bounds the
# start of the date range, which lets SQLite scan only the window on "date".
_SPAN_DAYS = '(julianday("date_end") - julianday("date"))'
_INDEXES = (
    'CREATE UNIQUE INDEX "events_id_idx" ON "events"("id")',
    'CREATE INDEX "events_layer_date_idx" ON "events"("layer", "date")',
    'CREATE INDEX "events_date_idx" ON "events"("date")',
    'CREATE INDEX "events_date_end_idx" ON "events"("date_end")',
    f'CREATE INDEX "events_span_idx" ON "events"({_SPAN_DAYS})',
    'CREATE UNIQUE INDEX "articles_id_idx" ON "articles"("article_id")',
    'CREATE INDEX "mentions_article_idx" ON "mentions"("article_id")',
    "ANALYZE",
)
_GDAL_ERRORS: tuple[type[Exception], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    pyogrio.errors.FeatureError,
)
_WRITE_ERRORS: tuple[type[Exception], ...] = (*_GDAL_ERRORS, OSError, sqlite3.Error)
# What GDAL raises on a corrupt or foreign file varies with the damage.
# Arrow reads are ~2x faster; pyarrow comes with streamlit but is not required.
_USE_ARROW = importlib.util.find_spec("pyarrow") is not None
_READ_ERRORS: tuple[type[Exception], ...] = (*_GDAL_ERRORS, OSError, RuntimeError, ValueError)
try:  # fingerprints and the fast export need it; everything works without
    _orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _orjson = None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --------------------------------------------------------------------------- locking


@dataclass
class _HeldLock:
    """Per-path state: an in-process RLock over one inter-process flock."""

    guard: threading.RLock = field(default_factory=threading.RLock)
    fd: int | None = None
    depth: int = 0


_LOCKS: dict[str, _HeldLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_path(path: Path | str) -> Path:
    return Path(f"{Path(path).expanduser().absolute()}.lock")


@contextlib.contextmanager
def store_lock(path: Path | str) -> Iterator[None]:
    """Exclusive lock for read-modify-write of the store at ``path``.

    ``fcntl.flock`` on ``<path>.lock`` excludes other processes; a per-path
    RLock excludes other threads and makes the lock re-entrant, so
    :func:`write_store` (which always locks) can run inside a caller's lock.
    """
    lock_file = _lock_path(path)
    with _LOCKS_GUARD:
        held = _LOCKS.setdefault(str(lock_file), _HeldLock())
    with held.guard:
        if held.depth == 0:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(
                    f"cannot create lock file {lock_file}: {exc.strerror}; "
                    "check the directory permissions"
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                fd, held.fd = held.fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)


# --------------------------------------------------------------------------- writing


def _check_text(value: str | None, what: str) -> None:
    # GDAL hands strings to SQLite as C strings: a NUL would silently cut the
    # text and break every quote offset after it.
    if value is not None and "\x00" in value:
        raise InputError(f"{what} contains a NUL character; strip control characters on input")
    if value is not None and not value.isascii():
        try:  # SQLite stores UTF-8: a lone surrogate would fail mid-write (issue 6)
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{what} contains unpaired surrogates; decode text strictly "
                             "on input") from None


def _check_geometry(geometry: object, what: str) -> None:
    if not isinstance(geometry, BaseGeometry):
        raise InputError(f"{what}: geometry is {type(geometry).__name__}, not shapely")
    if geometry.is_empty:
        return
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InputError(f"{what}: geometry has NaN or infinite coordinates")
    if (np.abs(coords[:, 1]) > 90.0).any():
        raise InputError(f"{what}: latitude outside [-90, 90]; geometries are (lon, lat)")


def _validate_event(event: Event) -> None:
    what = f"event {event.id!r}"
    if not event.id:
        raise InputError("an event has an empty id; ids must be stable and unique")
    if event.layer not in LAYERS:
        raise InputError(f"{what}: unknown layer {event.layer!r}; use one of {', '.join(LAYERS)}")
    if event.date_end < event.date:
        raise InputError(f"{what}: date_end {event.date_end} is before date {event.date}")
    _check_geometry(event.geometry, what)
    texts: list[str | None] = [
        event.id,
        event.event_type,
        event.acled_event_type,
        event.acled_sub_event_type,
        event.place,
        event.place_id,
        event.country,
        event.summary,
        *event.actors,
        *event.notes,
    ]
    for source in event.sources:
        texts += [source.article_id, source.outlet, source.quote]
    for dispute in event.disputed_by:
        texts += [dispute.who, dispute.quote, dispute.article_id]
    for text in texts:
        _check_text(text, what)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _events_frame(events: Sequence[Event]) -> gpd.GeoDataFrame:
    """Events as table rows: export properties, JSON text for lists, ISO dates."""
    seen: set[str] = set()
    for event in events:
        _validate_event(event)
        if event.id in seen:
            raise InputError(f"duplicate event id {event.id!r}; event ids must be unique")
        seen.add(event.id)
    records = [event_properties(event) for event in events]
    data: dict[str, Any] = {}
    for name in EVENT_PROPERTIES:
        values = [record[name] for record in records]
        if name in _JSON_COLUMNS:
            data[name] = pd.Series([_dumps(v) for v in values], dtype=object)
        elif name == "fatalities":
            data[name] = pd.array(values, dtype="Int64")
        elif name in ("geo_precision", "n_sources"):
            data[name] = np.asarray(values, dtype=np.int64)
        else:
            data[name] = pd.Series(values, dtype=object)
    data["notes"] = pd.Series([_dumps(list(event.notes)) for event in events], dtype=object)
    geometry = gpd.GeoSeries([event.geometry for event in events], crs=_CRS)
    frame = gpd.GeoDataFrame(data, geometry=geometry, crs=_CRS)
    scalars = [[record[name] for record in records]
               for name in EVENT_PROPERTIES if name not in _JSON_COLUMNS]
    texts: list[list[str]] = [data[name].tolist()
                              for name in EVENT_PROPERTIES if name in _JSON_COLUMNS]
    frame.attrs["geo_digest"] = _digest(
        list(zip(*scalars, strict=True)),
        [("\x00".join(column).encode("utf-8")) for column in texts],
    )[0]
    return frame


# The exported columns' exact stored values are fingerprinted at write time and the
# fingerprint kept in the events layer's gpkg_contents description. A store whose
# rows still match it holds exactly what the writer produced (JSON text in the
# writer's canonical form), so export_geojson may splice that text into the
# GeoJSON instead of decoding and re-encoding every list.
_FORMAT = "geo-news events v1"
# Characters export escapes for HTML (export._HTML_SAFE_ESCAPES), as UTF-8.
_HTML_UNSAFE = tuple(ch.encode("utf-8") for ch in ("<", ">", "&", "\u2028", "\u2029"))


def _digest(
    scalar_rows: list[tuple[Any, ...]], json_columns: list[bytes]
) -> tuple[str | None, list[bytes]]:
    """blake2b of the scalar columns (row tuples of str, int or None) and of the JSON
    list columns (each the NUL-joined UTF-8 of its cells: stored text has no NUL), and
    the byte strings it was taken of; (None, []) without orjson."""
    if _orjson is None:
        return None, []
    try:
        parts = [_orjson.dumps(scalar_rows), *json_columns]
    except TypeError:
        return None, []
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
        h.update(b"\x1f")
    return h.hexdigest(), parts


def _articles_frame(articles: Sequence[Article]) -> pd.DataFrame:
    seen: set[str] = set()
    for article in articles:
        what = f"article {article.article_id!r}"
        if article.article_id in seen:
            raise InputError(f"duplicate {what}; article ids must be unique")
        seen.add(article.article_id)
        for text in (article.article_id, article.path, article.outlet, article.title):
            _check_text(text, what)
        _check_text(article.text, f"{what} text ({article.path})")
    columns: dict[str, list[Any]] = {
        "article_id": [a.article_id for a in articles],
        "path": [a.path for a in articles],
        "outlet": [a.outlet for a in articles],
        "published": [None if a.published is None else a.published.isoformat() for a in articles],
        "title": [a.title for a in articles],
        "text": [a.text for a in articles],
    }
    return pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})


@dataclass(slots=True)
class MentionColumns:
    """Place mentions as the mentions layer stores them: one list per column.

    Why: a 10,000-article build sends ~300,000 mentions back from its worker
    processes; lists of plain values unpickle several times faster than as many
    ``Mention`` and ``Place`` objects, take a fraction of their memory, and the
    layer is written column by column anyway. ``(lon, lat)`` is the place's point.
    """

    article_id: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    place_id: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    country: list[str | None] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, mentions: Iterable[tuple[str, Mention]]) -> MentionColumns:
        """Columns of ``(article_id, mention)`` pairs (alternatives and shapes dropped)."""
        pairs = list(mentions)
        places = [m.place for _, m in pairs]
        return cls(
            [a for a, _ in pairs],
            [m.text for _, m in pairs],
            [m.start for _, m in pairs],
            [m.end for _, m in pairs],
            [p.place_id for p in places],
            [p.name for p in places],
            [p.kind for p in places],
            [p.country for p in places],
            [p.lon for p in places],
            [p.lat for p in places],
            [m.score for _, m in pairs],
            [m.reason for _, m in pairs],
        )

    def _columns(self) -> tuple[list[Any], ...]:
        return (
            self.article_id, self.text, self.start, self.end, self.place_id, self.name,
            self.kind, self.country, self.lon, self.lat, self.score, self.reason,
        )

    def __len__(self) -> int:
        return len(self.article_id)

    def extend(self, other: MentionColumns) -> None:
        for mine, theirs in zip(self._columns(), other._columns(), strict=True):
            mine.extend(theirs)

    def rows(self, start: int = 0, stop: int | None = None) -> MentionColumns:
        """Rows ``start:stop`` as new columns (for batched writes)."""
        return MentionColumns(*(column[start:stop] for column in self._columns()))


def _check_mentions(mentions: MentionColumns) -> None:
    """Per mention: text that SQLite can store, a finite (lon, lat) point; the first
    bad one raises."""
    for i, article_id in enumerate(mentions.article_id):
        what = f"mention {mentions.text[i]!r} of article {article_id!r}"
        for text in (article_id, mentions.text[i], mentions.place_id[i], mentions.name[i],
                     mentions.reason[i], mentions.country[i]):
            _check_text(text, what)
        _check_geometry(Point(mentions.lon[i], mentions.lat[i]), what)


def _storable(values: list[str | None]) -> bool:
    """No NUL and no lone surrogate in any of ``values`` (checked in C, all at once)."""
    try:
        joined = "\x01".join(cast(list[str], values))
    except TypeError:  # None among them
        joined = "\x01".join(v for v in values if v is not None)
    if "\x00" in joined:
        return False
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate_mentions(mentions: MentionColumns) -> None:
    """The per-mention checks of :func:`_check_mentions`, column-wise; the slow
    per-mention pass runs only to name the first bad mention."""
    lon = np.asarray(mentions.lon, dtype=np.float64)
    lat = np.asarray(mentions.lat, dtype=np.float64)
    texts: tuple[list[str | None], ...] = (
        cast(list[str | None], mentions.article_id),
        cast(list[str | None], mentions.text),
        cast(list[str | None], mentions.place_id),
        cast(list[str | None], mentions.name),
        cast(list[str | None], mentions.reason),
        mentions.country,
    )
    if (
        not np.isfinite(lon).all()
        or not np.isfinite(lat).all()
        or bool((np.abs(lat) > 90.0).any())
        or not all(_storable(column) for column in texts)
    ):
        _check_mentions(mentions)  # raises the same error, for the first bad mention


_MENTION_BATCH = 100_000
"""Mentions per write: a 10,000-article store holds ~300,000, and building them as
one frame (plus its Arrow copy) would double the build's peak memory."""


def _mentions_frame(mentions: MentionColumns) -> gpd.GeoDataFrame:
    # Column-wise: a store of 10,000 articles holds ~300,000 mentions, and one
    # shapely Point plus checks per row took most of the write.
    lonlat = np.column_stack(
        (np.asarray(mentions.lon, dtype=np.float64), np.asarray(mentions.lat, dtype=np.float64))
    )
    data: dict[str, Any] = {
        "article_id": pd.Series(mentions.article_id, dtype=object),
        "start": np.asarray(mentions.start, dtype=np.int64),
        "end": np.asarray(mentions.end, dtype=np.int64),
        "text": pd.Series(mentions.text, dtype=object),
        "place_id": pd.Series(mentions.place_id, dtype=object),
        "name": pd.Series(mentions.name, dtype=object),
        "kind": pd.Series(mentions.kind, dtype=object),
        "country": pd.Series(mentions.country, dtype=object),
        "score": np.asarray(mentions.score, dtype=np.float64),
        "reason": pd.Series(mentions.reason, dtype=object),
    }
    geometry = gpd.GeoSeries(shapely.points(lonlat), crs=_CRS)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=_CRS)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.tmp-"


def _remove_stale_temps(target: Path) -> None:
    """Temp dirs left by a killed writer (only called under the store lock)."""
    for stale in target.parent.glob(f"{_temp_prefix(target)}*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if directory:  # some filesystems refuse to open directories for fsync
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _write_text_layers(
    tmp: Path,
    articles: pd.DataFrame,
    mentions: MentionColumns,
) -> None:
    """The articles and mentions layers (everything but the events)."""
    # The Arrow path writes the same tables (same schema, same rows) 1.7x faster.
    pyogrio.write_dataframe(articles, tmp, layer=ARTICLES_LAYER, driver="GPKG",
                            use_arrow=_USE_ARROW)
    # Mentions (validated already) go in batches appended to one layer: the same
    # table as one write, without the whole frame in memory at once.
    for start in range(0, max(1, len(mentions)), _MENTION_BATCH):
        with _gc_paused():
            frame = _mentions_frame(mentions.rows(start, start + _MENTION_BATCH))
        pyogrio.write_dataframe(
            frame, tmp, layer=MENTIONS_LAYER, driver="GPKG", geometry_type="Point",
            use_arrow=_USE_ARROW, append=start > 0,
            # Read per article, never by area: an R-tree would only slow the write.
            layer_options=None if start > 0 else {"SPATIAL_INDEX": "NO"},
        )
        del frame


def _write_event_layer(tmp: Path, events: gpd.GeoDataFrame) -> None:
    """The events layer, then every index and the export fingerprint."""
    digest = events.attrs.get("geo_digest")
    pyogrio.write_dataframe(
        events,
        tmp,
        layer=EVENTS_LAYER,
        driver="GPKG",
        geometry_type="Unknown",
        promote_to_multi=False,
        use_arrow=_USE_ARROW,
    )
    connection = sqlite3.connect(tmp)
    try:
        with connection:
            for statement in _INDEXES:
                connection.execute(statement)
            if digest:
                connection.execute(
                    "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                    (f"{_FORMAT}; digest {digest}", EVENTS_LAYER),
                )
    finally:
        connection.close()


def write_store(
    path: Path | str,
    *,
    articles: Sequence[Article],
    events: Sequence[Event] | Callable[[], Sequence[Event]],
    mentions: Sequence[tuple[str, Mention]] | MentionColumns = (),
) -> None:
    """Replace the store at ``path`` atomically with these articles, events and mentions.

    Inputs are validated before anything touches the target (``InputError``);
    I/O failures raise ``StoreError``. Either way the previous store, if any,
    is left exactly as it was. ``events`` may be a callable: it is called once
    the articles and mentions are written to the temporary file, so a merge
    running in another process overlaps with that write (``geo build``).
    """
    target = Path(path).expanduser()
    with _gc_paused():  # hundreds of thousands of rows: no collector passes over them
        events_gdf = None if callable(events) else _events_frame(list(events))
        articles_df = _articles_frame(list(articles))
        mention_list = (
            mentions if isinstance(mentions, MentionColumns) else MentionColumns.of(mentions)
        )
        _validate_mentions(mention_list)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create {target.parent}: {exc.strerror}; check permissions"
        ) from exc
    if target.is_dir():
        raise StoreError(f"event store path {target} is a directory; point GEO_DB at a file")
    with store_lock(target):
        _remove_stale_temps(target)
        tmp_dir = Path(tempfile.mkdtemp(dir=target.parent, prefix=_temp_prefix(target)))
        try:
            tmp = tmp_dir / "store.gpkg"
            try:
                _write_text_layers(tmp, articles_df, mention_list)
            except _WRITE_ERRORS as exc:
                raise _write_error(target, exc) from exc
            if events_gdf is None:
                assert callable(events)
                with _gc_paused():
                    events_gdf = _events_frame(list(events()))
            try:
                _write_event_layer(tmp, events_gdf)
                _fsync_path(tmp)
                os.replace(tmp, target)
            except _WRITE_ERRORS as exc:
                raise _write_error(target, exc) from exc
            _fsync_path(target.parent, directory=True)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def _write_error(target: Path, exc: BaseException) -> StoreError:
    return StoreError(
        f"cannot write event store {target}: {_one_line(exc)}; "
        f"check free space and permissions in {target.parent}"
    )


# --------------------------------------------------------------------------- reading


def _existing_store(path: Path | str) -> Path:
    store = Path(path).expanduser()
    if not store.exists():
        raise StoreError(f"no event store at {store}; {_REBUILD} (or set GEO_DB)")
    if not store.is_file():
        raise StoreError(f"event store {store} is not a file; {_REBUILD}")
    return store


def _read_table(
    store: Path,
    layer: str,
    columns: Sequence[str],
    *,
    where: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    read_geometry: bool = True,
) -> pd.DataFrame:
    """One pyogrio read with errors turned into StoreError naming the file."""
    try:
        frame = pyogrio.read_dataframe(
            store,
            layer=layer,
            where=where,
            bbox=bbox,
            read_geometry=read_geometry,
            fid_as_index=True,
            use_arrow=_USE_ARROW,
        )
    except _READ_ERRORS as exc:
        raise StoreError(
            f"event store {store} is unreadable (layer {layer!r}: {_one_line(exc)}); "
            f"delete it and {_REBUILD}"
        ) from exc
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise StoreError(
            f"event store {store} lacks columns {missing} in layer {layer!r} "
            f"(written by another version); {_REBUILD}"
        )
    return frame


def _decode_json_column(series: pd.Series) -> list[Any]:
    """One json.loads over the whole column: ~10x faster than a call per row."""
    texts = ["[]" if not isinstance(v, str) else v for v in series.tolist()]
    if not texts:
        return []
    with _gc_paused():
        decoded = json.loads("[" + ",".join(texts) + "]")
    if not isinstance(decoded, list) or len(decoded) != len(texts):
        raise ValueError("JSON column does not hold one value per row")
    return decoded


def _optional_text(series: pd.Series) -> pd.Series:
    values = [v if isinstance(v, str) else None for v in series.tolist()]
    return pd.Series(values, index=series.index, dtype=object)


def _decode_events(raw: pd.DataFrame, store: Path) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {}
    index = pd.RangeIndex(len(raw))
    raw = raw.reset_index(drop=True)
    for name in EVENT_COLUMNS:
        column = raw[name]
        if name in _JSON_COLUMNS:
            try:
                data[name] = pd.Series(_decode_json_column(column), index=index, dtype=object)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                raise StoreError(
                    f"event store {store} has a corrupt {name!r} column ({_one_line(exc)}); "
                    f"{_REBUILD}"
                ) from exc
        elif name in _OPTIONAL_TEXT:
            data[name] = _optional_text(column)
        elif name == "fatalities":
            data[name] = column.astype("Int64")
        elif name in ("geo_precision", "n_sources"):
            data[name] = column.fillna(0).astype(np.int64)
        else:
            data[name] = column.fillna("").astype(str)
    geometry = raw["geometry"] if "geometry" in raw else gpd.GeoSeries([None] * len(raw))
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=_CRS), crs=_CRS)


def _as_date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InputError(f"{name} must be a datetime.date, got {value!r}")


def _events_where(
    start: dt.date | None, end: dt.date | None, layers: Iterable[str] | None
) -> str | None:
    """SQL pushed down to SQLite. Values are validated dates and layer names only."""
    clauses: list[str] = []
    if start is not None and end is not None and start > end:
        raise InputError(f"start {start} is after end {end}")
    if end is not None:
        clauses.append(f"\"date\" <= '{end.isoformat()}'")
    if start is not None:
        iso = start.isoformat()
        clauses.append(f"\"date_end\" >= '{iso}'")
        # Redundant for correctness (date_end - date <= longest span) but turns
        # the "date" index scan into a bounded range instead of half the table.
        clauses.append(
            f"\"date\" >= (SELECT date('{iso}', '-' || "
            f"CAST(COALESCE(MAX({_SPAN_DAYS}), 0) AS INTEGER) || ' days') FROM \"events\")"
        )
    if layers is not None:
        wanted = [layers] if isinstance(layers, str) else list(layers)
        unknown = [layer for layer in wanted if layer not in LAYERS]
        if unknown:
            raise InputError(f"unknown layers {unknown}; use some of {', '.join(LAYERS)}")
        quoted = ", ".join(f"'{layer}'" for layer in sorted(set(wanted)))
        clauses.append(f'"layer" IN ({quoted})' if quoted else "0")
    return " AND ".join(clauses) if clauses else None


def _bbox_parts(
    bbox: tuple[float, float, float, float] | None,
) -> list[tuple[float, float, float, float] | None]:
    """One pyogrio bbox, or two when ``minx > maxx`` (a box across the antimeridian)."""
    if bbox is None:
        return [None]
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bbox must be (min_lon, min_lat, max_lon, max_lat), got {bbox!r}"
        ) from exc
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or miny > maxy:
        raise InputError(f"bbox {bbox!r} is not (min_lon, min_lat, max_lon, max_lat)")
    if minx <= maxx:
        return [(minx, miny, maxx, maxy)]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def read_events(
    path: Path | str = DEFAULT_DB,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    layers: Iterable[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Events as a GeoDataFrame (columns :data:`EVENT_COLUMNS` + geometry), store order.

    ``start``/``end`` keep events whose ``[date, date_end]`` overlaps the
    range; ``layers`` keeps those layers; ``bbox`` (lon/lat; ``min_lon >
    max_lon`` crosses the antimeridian) keeps geometries that intersect it.
    Dates are ISO strings, list columns hold Python lists.
    """
    store = _existing_store(path)
    where = _events_where(
        None if start is None else _as_date(start, "start"),
        None if end is None else _as_date(end, "end"),
        layers,
    )
    parts = _bbox_parts(bbox)
    frames = [_read_table(store, EVENTS_LAYER, EVENT_COLUMNS, where=where, bbox=p) for p in parts]
    raw = frames[0] if len(frames) == 1 else pd.concat(frames)
    # An index scan returns rows in index order; the store's order is the fid.
    raw = raw[~raw.index.duplicated()].sort_index()
    if bbox is not None:
        area = shapely.union_all([box(*p) for p in parts if p is not None])
        raw = raw[raw.geometry.intersects(area)]
    return _decode_events(raw, store)


def _verified_rows(store: Path) -> tuple[list[Any], list[Any], Any, bool] | None:
    """Every event row in store order — its scalar export columns, its JSON list
    columns as stored bytes, its geometry (for :func:`geo.export.encode_store_rows`) —
    and whether any text needs HTML escaping, if the rows still match the fingerprint
    written with them; None otherwise."""
    if _orjson is None:
        return None
    scalar_names = ", ".join(f'"{n}"' for n in EVENT_PROPERTIES if n not in _JSON_COLUMNS)
    # JSON lists come back as their stored UTF-8 bytes: spliced as they are.
    list_names = ", ".join(f'CAST("{n}" AS BLOB)' for n in EVENT_PROPERTIES
                           if n in _JSON_COLUMNS)
    try:
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            described = connection.execute(
                "SELECT description FROM gpkg_contents WHERE table_name = ?", (EVENTS_LAYER,)
            ).fetchone()
            if not described or not str(described[0]).startswith(_FORMAT + "; digest "):
                return None
            with _gc_paused():
                rows = connection.execute(
                    f'SELECT {scalar_names} FROM "{EVENTS_LAYER}" ORDER BY "fid"'
                ).fetchall()
                lists = connection.execute(
                    f'SELECT {list_names} FROM "{EVENTS_LAYER}" ORDER BY "fid"'
                ).fetchall()
                blobs = [b for (b,) in connection.execute(
                    f'SELECT "geom" FROM "{EVENTS_LAYER}" ORDER BY "fid"'
                )]
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    try:
        json_columns = [b"\x00".join(cells) for cells in zip(*lists, strict=True)]
    except TypeError:  # a NULL list cell: not what the writer writes
        return None
    if not lists:
        json_columns = [b"" for n in EVENT_PROPERTIES if n in _JSON_COLUMNS]
    digest, digested = _digest(rows, json_columns)
    if digest is None or digest != str(described[0]).rsplit(" ", 1)[-1]:
        return None
    shapes = stored_shapes(blobs)
    if shapes is None:
        return None
    unsafe = any(ch in part for part in digested for ch in _HTML_UNSAFE)
    return rows, lists, shapes, unsafe


def export_geojson(
    path: Path | str = DEFAULT_DB,
    output: Path | str = "events.geojson",
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    layers: Iterable[str] | None = None,
    precision: int = 6,
) -> int:
    """Write the store's events (all, or those :func:`read_events` selects) as RFC 7946
    GeoJSON at ``output``, atomically; return the number of features."""
    data, count = store_geojson_bytes(path, start=start, end=end, layers=layers,
                                      precision=precision)
    write_bytes_atomic(output, data)
    return count


def store_geojson_bytes(
    path: Path | str = DEFAULT_DB,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    layers: Iterable[str] | None = None,
    precision: int = 6,
) -> tuple[bytes, int]:
    """The store's events (all, or those :func:`read_events` selects) as RFC 7946
    GeoJSON text, and the feature count.

    The bytes are exactly ``geojson_bytes(read_events(path, ...))``'s. A full export
    of a store whose rows match their write-time fingerprint takes a fast path (a
    100,000-event export in about a second): the rows are read straight from SQLite
    and their JSON lists spliced in as stored.
    """
    store = _existing_store(path)
    if start is None and end is None and layers is None:
        verified = _verified_rows(store)
        if verified is not None:
            rows, lists, shapes, unsafe = verified
            encoded = encode_store_rows(rows, lists, shapes, precision=precision,
                                        escape=unsafe)
            if encoded is not None:
                return encoded
    return geojson_bytes(read_events(store, start=start, end=end, layers=layers),
                         precision=precision)


def events_from_frame(gdf: gpd.GeoDataFrame) -> list[Event]:
    """Rows of :func:`read_events` (possibly filtered) back to :class:`Event` objects."""
    return list(_events_from_gdf(gdf))


def read_articles(path: Path | str = DEFAULT_DB) -> list[Article]:
    """All articles in store order, with the exact text the quote offsets refer to."""
    store = _existing_store(path)
    raw = _read_table(store, ARTICLES_LAYER, ARTICLE_COLUMNS, read_geometry=False).sort_index()
    articles: list[Article] = []
    for row in raw.itertuples(index=False):
        published = row.published if isinstance(row.published, str) else None
        try:
            published_date = None if published is None else dt.date.fromisoformat(published)
        except ValueError as exc:
            raise StoreError(
                f"event store {store} has a bad published date {published!r}; {_REBUILD}"
            ) from exc
        articles.append(
            Article(
                article_id=str(row.article_id),
                path=_text(row.path),
                outlet=_text(row.outlet),
                published=published_date,
                title=_text(row.title),
                text=_text(row.text),
            )
        )
    return articles


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def read_mentions(
    path: Path | str = DEFAULT_DB, *, article_id: str | None = None
) -> gpd.GeoDataFrame:
    """Place mentions (Points), all or one article's, columns :data:`MENTION_COLUMNS`."""
    store = _existing_store(path)
    where = None
    if article_id is not None:
        where = "\"article_id\" = '{}'".format(str(article_id).replace("'", "''"))
    raw = _read_table(store, MENTIONS_LAYER, MENTION_COLUMNS, where=where)
    raw = raw.sort_index().reset_index(drop=True)
    data: dict[str, Any] = {}
    for name in MENTION_COLUMNS:
        column = raw[name]
        if name in ("start", "end"):
            data[name] = column.fillna(0).astype(np.int64)
        elif name == "score":
            data[name] = column.astype(np.float64)
        elif name == "country":
            data[name] = _optional_text(column)
        else:
            data[name] = column.fillna("").astype(str)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(raw["geometry"], crs=_CRS), crs=_CRS)
