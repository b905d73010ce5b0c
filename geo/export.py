"""RFC 7946 GeoJSON: the one writer behind the CLI export and the app's download button.

Why a hand-written encoder instead of ``GeoDataFrame.to_json``: RFC 7946 asks for
things generic writers do not guarantee — counter-clockwise exterior rings and
clockwise holes, longitudes inside [-180, 180], a sane precision (6 decimals is
about 10 cm) and no ``crs`` member — and rounding can itself break geometries
(duplicate consecutive positions, rings that collapse to zero area). Every
feature goes through :func:`_encode_geometry`, which rounds first and then
repairs, so what is written is what :func:`validate_rfc7946` accepts.

Each feature carries ``id`` both as the Feature id and as the first property
(GDAL and folium read the property; other clients read the member). The
properties are JSON-ready and are also the row encoding of the event store
(:mod:`geo.store`), so :func:`event_properties` and :func:`_event_from_record`
are the single encoder/decoder pair for both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import importlib
import itertools
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.affinity import translate
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geo.errors import InputError
from geo.models import LAYERS, Dispute, Event, Source, TimePrecision

EVENT_PROPERTIES: tuple[str, ...] = (
    "id",
    "layer",
    "event_type",
    "acled_event_type",
    "acled_sub_event_type",
    "date",
    "date_end",
    "time_precision",
    "place",
    "place_id",
    "geo_precision",
    "country",
    "actors",
    "fatalities",
    "summary",
    "sources",
    "n_sources",
    "disputed_by",
)

#: Keys of one ``sources`` entry, in output order.
SOURCE_KEYS: tuple[str, ...] = ("article", "outlet", "published", "quote", "start", "end")
#: Keys of one ``disputed_by`` entry, in output order.
DISPUTE_KEYS: tuple[str, ...] = ("who", "quote", "article", "start", "end")

_MIN_PRECISION = 0
_MAX_PRECISION = 15
_TIME_PRECISIONS = ("day", "week", "month", "year")
_GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
# Characters that are legal inside JSON strings but dangerous when the JSON is
# pasted into an HTML page or a <script> block (article text is untrusted).
_HTML_SAFE_ESCAPES: dict[str, str | int | None] = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_HTML_SAFE_TABLE = str.maketrans(_HTML_SAFE_ESCAPES)

Position = list[float]

try:  # optional speed-up for large exports; output is identical without it
    _orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _orjson = None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a bulk step builds or decodes
    hundreds of thousands of small containers: each generation-0 pass would
    rescan them (JSON decoding of a 100,000-event store ran 3x slower). The
    collector's previous state is restored on exit."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- properties


def event_properties(event: Event) -> dict[str, object]:
    """The JSON-ready properties of one event, keys in :data:`EVENT_PROPERTIES` order."""
    return {
        "id": event.id,
        "layer": event.layer,
        "event_type": event.event_type,
        "acled_event_type": event.acled_event_type,
        "acled_sub_event_type": event.acled_sub_event_type,
        "date": event.date.isoformat(),
        "date_end": event.date_end.isoformat(),
        "time_precision": event.time_precision,
        "place": event.place,
        "place_id": event.place_id,
        "geo_precision": int(event.geo_precision),
        "country": event.country,
        "actors": [str(actor) for actor in event.actors],
        "fatalities": None if event.fatalities is None else int(event.fatalities),
        "summary": event.summary,
        "sources": [_source_record(source) for source in event.sources],
        "n_sources": event.n_sources,
        "disputed_by": [_dispute_record(dispute) for dispute in event.disputed_by],
    }


def _source_record(source: Source) -> dict[str, object]:
    return {
        "article": source.article_id,
        "outlet": source.outlet,
        "published": None if source.published is None else source.published.isoformat(),
        "quote": source.quote,
        "start": int(source.start),
        "end": int(source.end),
    }


def _dispute_record(dispute: Dispute) -> dict[str, object]:
    return {
        "who": dispute.who,
        "quote": dispute.quote,
        "article": dispute.article_id,
        "start": int(dispute.start),
        "end": int(dispute.end),
    }


def _is_missing(value: object) -> bool:
    """None, NaN, pd.NA or NaT — what a DataFrame cell holds for 'no value'."""
    if value is None:
        return True
    if isinstance(value, str | int | list | dict | tuple):  # the common cells, fast
        return False
    if isinstance(value, float):
        return math.isnan(value)
    if not pd.api.types.is_scalar(value):  # arrays are values
        return False
    return bool(pd.isna(cast(Any, value)))


def _opt_str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return None if _is_missing(value) else str(value)


def _req_str(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if _is_missing(value) else str(value)


def _to_date(value: object, *, what: str) -> dt.date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return cast(dt.date, value.date())
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise InputError(f"{what}: {value!r} is not an ISO date (YYYY-MM-DD); rebuild the store")


def _opt_date(value: object, *, what: str) -> dt.date | None:
    return None if _is_missing(value) else _to_date(value, what=what)


def _as_list(value: object, *, what: str) -> list[Any]:
    """Lists come back from the store as lists; also accept JSON text and arrays."""
    if isinstance(value, list):
        return value
    if _is_missing(value):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"{what}: not a JSON list ({exc.msg}); rebuild the store") from exc
    if hasattr(value, "tolist") and not isinstance(value, list):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        raise InputError(f"{what}: expected a list, got {type(value).__name__}")
    return list(value)


def _event_from_record(
    record: Mapping[str, object], geometry: BaseGeometry, notes: object = None
) -> Event:
    """Inverse of :func:`event_properties` (``n_sources`` is recomputed, not read)."""
    event_id = _req_str(record.get("id"))
    what = f"event {event_id!r}"
    layer = _req_str(record.get("layer"))
    if layer not in LAYERS:
        raise InputError(f"{what}: unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    time_precision = _req_str(record.get("time_precision"))
    if time_precision not in _TIME_PRECISIONS:
        raise InputError(f"{what}: unknown time_precision {time_precision!r}")
    fatalities = record.get("fatalities")
    sources = [
        Source(
            article_id=_req_str(item.get("article")),
            outlet=_req_str(item.get("outlet")),
            published=_opt_date(item.get("published"), what=f"{what} source"),
            quote=_req_str(item.get("quote")),
            start=int(item["start"]),
            end=int(item["end"]),
        )
        for item in _as_list(record.get("sources"), what=f"{what} sources")
    ]
    disputes = [
        Dispute(
            who=_req_str(item.get("who")),
            quote=_req_str(item.get("quote")),
            article_id=_req_str(item.get("article")),
            start=int(item["start"]),
            end=int(item["end"]),
        )
        for item in _as_list(record.get("disputed_by"), what=f"{what} disputed_by")
    ]
    return Event(
        id=event_id,
        layer=layer,
        event_type=_req_str(record.get("event_type")),
        acled_event_type=_opt_str(record.get("acled_event_type")),
        acled_sub_event_type=_opt_str(record.get("acled_sub_event_type")),
        date=_to_date(record.get("date"), what=f"{what} date"),
        date_end=_to_date(record.get("date_end"), what=f"{what} date_end"),
        time_precision=cast(TimePrecision, time_precision),
        place=_req_str(record.get("place")),
        place_id=_req_str(record.get("place_id")),
        geo_precision=int(cast(Any, record.get("geo_precision"))),
        country=_opt_str(record.get("country")),
        actors=[str(actor) for actor in _as_list(record.get("actors"), what=f"{what} actors")],
        fatalities=None if _is_missing(fatalities) else int(cast(Any, fatalities)),
        summary=_req_str(record.get("summary")),
        sources=sources,
        disputed_by=disputes,
        geometry=geometry,
        notes=[str(note) for note in _as_list(notes, what=f"{what} notes")],
    )


def _events_from_gdf(gdf: gpd.GeoDataFrame) -> Iterator[Event]:
    """Rows of a store frame (``geo.store.read_events``) back to events, in lon/lat."""
    missing = [name for name in EVENT_PROPERTIES if name != "n_sources" and name not in gdf]
    if missing:
        raise InputError(f"event frame lacks columns {missing}; pass a frame from read_events")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    has_notes = "notes" in gdf
    columns = [name for name in EVENT_PROPERTIES if name != "n_sources"]
    values = {name: gdf[name].tolist() for name in columns}
    geometries = gdf.geometry.tolist()
    notes = gdf["notes"].tolist() if has_notes else [None] * len(gdf)
    for i, geometry in enumerate(geometries):
        record = {name: values[name][i] for name in columns}
        yield _event_from_record(record, geometry, notes[i])


# --------------------------------------------------------------------------- geometry


def _check_precision(precision: int) -> int:
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise InputError(f"precision must be an int, got {precision!r}")
    if not _MIN_PRECISION <= precision <= _MAX_PRECISION:
        raise InputError(
            f"precision {precision} out of range {_MIN_PRECISION}..{_MAX_PRECISION}; "
            "RFC 7946 recommends 6"
        )
    return precision


def _fit_world(geom: BaseGeometry, *, what: str) -> BaseGeometry:
    """Bring longitudes into [-180, 180] the RFC 7946 way (cut at the antimeridian).

    Gazetteer geometries are sometimes drawn with continuous longitudes past
    180 (e.g. 170..190). Points wrap; anything else is cut at ±180 and the part
    beyond is shifted by 360 degrees. Latitudes outside [-90, 90] are data
    errors and raise.
    """
    minx, miny, maxx, maxy = geom.bounds
    if not math.isfinite(minx + miny + maxx + maxy):
        raise InputError(f"{what}: geometry has non-finite coordinates")
    if miny < -90.0 or maxy > 90.0:
        raise InputError(f"{what}: latitude outside [-90, 90]; check the (lon, lat) order")
    if minx >= -180.0 and maxx <= 180.0:
        return geom
    if isinstance(geom, Point | MultiPoint):

        def wrap(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            lon = xy[:, 0]
            outside = (lon < -180.0) | (lon > 180.0)
            xy[:, 0] = np.where(outside, ((lon + 180.0) % 360.0) - 180.0, lon)
            return xy

        return cast(BaseGeometry, shapely.transform(geom, wrap))
    pieces = []
    for turns in range(math.floor((minx + 180.0) / 360.0), math.floor((maxx + 180.0) / 360.0) + 1):
        shifted = translate(geom, xoff=-360.0 * turns)
        piece = shapely.clip_by_rect(shifted, -180.0, -90.0, 180.0, 90.0)
        if not piece.is_empty:
            pieces.append(piece)
    if not pieces:
        return geom
    return shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]


def _round_point(geom: Point, precision: int) -> Position:
    x, y = geom.coords[0][:2]
    return [round(x, precision), round(y, precision)]


def _round_positions(geom: BaseGeometry, precision: int) -> list[Position]:
    """Round and drop consecutive duplicates (RFC 7946 positions, lon/lat only)."""
    xy = np.round(shapely.get_coordinates(geom), precision)
    if len(xy) > 1:
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = (xy[1:] != xy[:-1]).any(axis=1)
        xy = xy[keep]
    return cast(list[Position], xy.tolist())


def _ring_signed_area(ring: Sequence[Sequence[float]]) -> float:
    """Shoelace area of a closed ring: > 0 counter-clockwise, < 0 clockwise."""
    if not ring:
        return 0.0
    ox, oy = ring[0][0], ring[0][1]  # relative to a vertex: no cancellation near ±180
    total = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        total += (x0 - ox) * (y1 - oy) - (x1 - ox) * (y0 - oy)
    return total / 2.0


def _encode_ring(ring: LinearRing, precision: int, *, ccw: bool) -> list[Position] | None:
    positions = _round_positions(ring, precision)
    if len(positions) > 1 and positions[0] == positions[-1]:
        positions.pop()
    if len(positions) < 3:
        return None
    positions.append(list(positions[0]))
    area = _ring_signed_area(positions)
    if area == 0.0:
        return None
    if (area > 0.0) != ccw:
        positions.reverse()
    return positions


def _encode_polygon(polygon: Polygon, precision: int) -> list[list[Position]] | None:
    polygon = orient(polygon, sign=1.0)  # CCW shell, CW holes before rounding
    shell = _encode_ring(polygon.exterior, precision, ccw=True)
    if shell is None:
        return None
    holes = [_encode_ring(hole, precision, ccw=False) for hole in polygon.interiors]
    return [shell, *(hole for hole in holes if hole is not None)]


def _encode_line(line: LineString, precision: int) -> list[Position] | None:
    positions = _round_positions(line, precision)
    return positions if len(positions) >= 2 else None


def _encode_exact(geom: BaseGeometry, precision: int) -> dict[str, Any] | None:
    """GeoJSON geometry, or None when rounding collapses it (caller falls back)."""
    if geom.is_empty:
        return None
    if isinstance(geom, Point):
        return {"type": "Point", "coordinates": _round_point(geom, precision)}
    if isinstance(geom, MultiPoint):
        points = [_round_point(cast(Point, p), precision) for p in geom.geoms]
        return {"type": "MultiPoint", "coordinates": points}
    if isinstance(geom, LineString):  # LinearRing included: written as a line
        line = _encode_line(geom, precision)
        return None if line is None else {"type": "LineString", "coordinates": line}
    if isinstance(geom, MultiLineString):
        parts = [p for p in (_encode_line(g, precision) for g in geom.geoms) if p is not None]
        return {"type": "MultiLineString", "coordinates": parts} if parts else None
    if isinstance(geom, Polygon):
        rings = _encode_polygon(geom, precision)
        return None if rings is None else {"type": "Polygon", "coordinates": rings}
    if isinstance(geom, MultiPolygon):
        polys = [p for p in (_encode_polygon(g, precision) for g in geom.geoms) if p is not None]
        return {"type": "MultiPolygon", "coordinates": polys} if polys else None
    if isinstance(geom, GeometryCollection):
        members = [_encode_geometry(g, precision) for g in geom.geoms if not g.is_empty]
        kept = [m for m in members if m is not None]
        return {"type": "GeometryCollection", "geometries": kept} if kept else None
    raise InputError(f"unsupported geometry type {geom.geom_type}")


def _encode_geometry(geom: BaseGeometry, precision: int) -> dict[str, Any] | None:
    """Rounded, repaired GeoJSON geometry; degenerate shapes fall back to a point."""
    if geom.is_empty:
        return None
    encoded = _encode_exact(geom, precision)
    if encoded is not None:
        return encoded
    # Smaller than the output precision (a ~10 cm area or line): a point on it says it all.
    anchor = geom.representative_point()
    if anchor.is_empty:
        anchor = Point(shapely.get_coordinates(geom)[0])
    return _encode_exact(anchor, precision)


def _geometry_json(geom: object, what: str, precision: int) -> dict[str, Any] | None:
    geometry: dict[str, Any] | None = None  # RFC 7946 3.2: null for an unlocated feature
    if geom is None:  # a frame row with no geometry; Event itself always has one
        pass
    elif not isinstance(geom, BaseGeometry):
        raise InputError(f"{what}: geometry is {type(geom).__name__}, not a shapely geometry")
    elif not geom.is_empty:
        if geom.has_z:
            geom = shapely.force_2d(geom)  # altitude means nothing for a news event
        geom = _fit_world(geom, what=what)
        geometry = _encode_geometry(geom, precision)
    return geometry


def _feature(event: Event, precision: int) -> dict[str, Any]:
    geometry = _geometry_json(event.geometry, f"event {event.id!r}", precision)
    return {
        "type": "Feature",
        "id": event.id,
        "geometry": geometry,
        "properties": event_properties(event),
    }


class _IsoDates(dict[str, str]):
    """ISO text of ``_to_date(value)`` per distinct date string: a store of 100,000
    events holds a few hundred distinct days (errors are never memoised)."""

    def iso(self, value: object, *, what: str) -> str:
        if type(value) is str:
            cached = self.get(value)
            if cached is None:
                cached = self[value] = _to_date(value, what=what).isoformat()
            return cached
        return _to_date(value, what=what).isoformat()


def _properties_of_row(
    values: Mapping[str, list[Any]], i: int, notes: object, dates: _IsoDates
) -> dict[str, object]:
    """``event_properties(_event_from_record(row i, ..., notes))`` without building the
    Event: the same checks, in the same order, and the same values. The common cell
    types (str, int, list, None) are handled inline; anything else goes through the
    same helpers as the Event path."""
    v: Any = values["id"][i]
    event_id = v if type(v) is str else _req_str(v)
    what = f"event {event_id!r}"
    v = values["layer"][i]
    layer = v if type(v) is str else _req_str(v)
    if layer not in LAYERS:
        raise InputError(f"{what}: unknown layer {layer!r}; expected one of {', '.join(LAYERS)}")
    v = values["time_precision"][i]
    time_precision = v if type(v) is str else _req_str(v)
    if time_precision not in _TIME_PRECISIONS:
        raise InputError(f"{what}: unknown time_precision {time_precision!r}")
    fatalities = values["fatalities"][i]
    sources: list[dict[str, object]] = []
    items = values["sources"][i]
    for item in items if type(items) is list else _as_list(items, what=f"{what} sources"):
        v = item.get("article")
        article = v if type(v) is str else _req_str(v)
        v = item.get("outlet")
        outlet = v if type(v) is str else _req_str(v)
        v = item.get("published")
        if v is None:
            published = None
        elif type(v) is str and (cached := dates.get(v)) is not None:
            published = cached
        else:
            published = None if _is_missing(v) else dates.iso(v, what=f"{what} source")
        v = item.get("quote")
        quote = v if type(v) is str else _req_str(v)
        v = item["start"]
        start = v if type(v) is int else int(v)
        v = item["end"]
        sources.append({
            "article": article,
            "outlet": outlet,
            "published": published,
            "quote": quote,
            "start": start,
            "end": v if type(v) is int else int(v),
        })
    disputes: list[dict[str, object]] = []
    items = values["disputed_by"][i]
    for item in items if type(items) is list else _as_list(items, what=f"{what} disputed_by"):
        who = _req_str(item.get("who"))
        quote = _req_str(item.get("quote"))
        article = _req_str(item.get("article"))
        start = int(item["start"])
        disputes.append(
            {"who": who, "quote": quote, "article": article, "start": start,
             "end": int(item["end"])}
        )
    v = values["event_type"][i]
    event_type = v if type(v) is str else _req_str(v)
    acled = _opt_str(values["acled_event_type"][i])
    acled_sub = _opt_str(values["acled_sub_event_type"][i])
    v = values["date"][i]
    date = (type(v) is str and dates.get(v)) or dates.iso(v, what=f"{what} date")
    v = values["date_end"][i]
    date_end = (type(v) is str and dates.get(v)) or dates.iso(v, what=f"{what} date_end")
    v = values["place"][i]
    place = v if type(v) is str else _req_str(v)
    v = values["place_id"][i]
    place_id = v if type(v) is str else _req_str(v)
    v = values["geo_precision"][i]
    geo_precision = v if type(v) is int else int(v)
    country = _opt_str(values["country"][i])
    v = values["actors"][i]
    listed = v if type(v) is list else _as_list(v, what=f"{what} actors")
    actors = [str(actor) for actor in listed]
    killed = None if _is_missing(fatalities) else int(cast(Any, fatalities))
    v = values["summary"][i]
    summary = v if type(v) is str else _req_str(v)
    if type(notes) is not list:
        for note in _as_list(notes, what=f"{what} notes"):
            str(note)
    return {
        "id": event_id,
        "layer": layer,
        "event_type": event_type,
        "acled_event_type": acled,
        "acled_sub_event_type": acled_sub,
        "date": date,
        "date_end": date_end,
        "time_precision": time_precision,
        "place": place,
        "place_id": place_id,
        "geo_precision": geo_precision,
        "country": country,
        "actors": actors,
        "fatalities": killed,
        "summary": summary,
        "sources": sources,
        "n_sources": len({src["article"] for src in sources}),
        "disputed_by": disputes,
    }


_SOURCE_KEYS_TUPLE = tuple(SOURCE_KEYS)
_DISPUTE_KEYS_TUPLE = tuple(DISPUTE_KEYS)
_OPT_TEXT = (str, type(None))


def _canonical_row(
    values: Mapping[str, list[Any]], i: int, notes: object, dates: _IsoDates
) -> dict[str, object] | None:
    """The properties of row ``i`` if every cell is already in the form the store
    writer produces (then :func:`_properties_of_row` would rebuild equal values), with
    the row's own lists reused; None otherwise. For encoding only: the result shares
    lists with the frame."""
    event_id, layer, tp = values["id"][i], values["layer"][i], values["time_precision"][i]
    date, date_end = values["date"][i], values["date_end"][i]
    fatalities, geo_precision = values["fatalities"][i], values["geo_precision"][i]
    sources, disputes, actors = (
        values["sources"][i], values["disputed_by"][i], values["actors"][i]
    )
    if not (
        type(event_id) is str and type(layer) is str and layer in LAYERS
        and type(tp) is str and tp in _TIME_PRECISIONS
        and type(date) is str and dates.get(date) == date
        and type(date_end) is str and dates.get(date_end) == date_end
        and type(geo_precision) is int
        and (fatalities is None or fatalities is pd.NA or type(fatalities) is int)
        and type(sources) is list and type(disputes) is list and type(actors) is list
        and type(notes) is list
    ):
        return None
    for x in (values["event_type"][i], values["place"][i], values["place_id"][i],
              values["summary"][i]):
        if type(x) is not str:
            return None
    for x in (values["acled_event_type"][i], values["acled_sub_event_type"][i],
              values["country"][i]):
        if type(x) not in _OPT_TEXT:
            return None
    for actor in actors:
        if type(actor) is not str:
            return None
    articles = set()
    for item in sources:
        if type(item) is not dict or tuple(item) != _SOURCE_KEYS_TUPLE:
            return None
        article, outlet, published, quote, start, end = item.values()
        if not (type(article) is str and type(outlet) is str and type(quote) is str
                and type(start) is int and type(end) is int
                and (published is None or (type(published) is str
                                           and dates.get(published) == published))):
            return None
        articles.add(article)
    for item in disputes:
        if type(item) is not dict or tuple(item) != _DISPUTE_KEYS_TUPLE:
            return None
        who, quote, article, start, end = item.values()
        if not (type(who) is str and type(quote) is str and type(article) is str
                and type(start) is int and type(end) is int):
            return None
    return {
        "id": event_id,
        "layer": layer,
        "event_type": values["event_type"][i],
        "acled_event_type": values["acled_event_type"][i],
        "acled_sub_event_type": values["acled_sub_event_type"][i],
        "date": date,
        "date_end": date_end,
        "time_precision": tp,
        "place": values["place"][i],
        "place_id": values["place_id"][i],
        "geo_precision": geo_precision,
        "country": values["country"][i],
        "actors": actors,
        "fatalities": None if fatalities is pd.NA else fatalities,
        "summary": values["summary"][i],
        "sources": sources,
        "n_sources": len(articles),
        "disputed_by": disputes,
    }


class _Features(list[dict[str, Any]]):
    """The features list of a collection built here: every coordinate is finite
    (checked while encoding), so :func:`dumps_geojson` may use the fast encoder."""


def _features_of_frame(gdf: gpd.GeoDataFrame, precision: int) -> _Features:
    """Features of a store frame, column-wise: the same output as converting each row
    to an :class:`Event` and back, at a fraction of the cost (100,000 rows)."""
    with _gc_paused():
        return _Features(_iter_frame_features(gdf, precision))


class _Shapes:
    """GeoJSON geometry per row of a column of shapely geometries.

    Plain points (most events) are encoded from vectorised coordinates. With
    ``fragments`` (orjson only) every other shape is encoded once per distinct
    shape (same WKB, same output) and handed out as an ``orjson.Fragment``: a
    store repeats the same areas, border strips and capital pairs thousands of
    times.
    """

    def __init__(self, geometries: Sequence[object], precision: int, *, fragments: bool) -> None:
        self.geometries = geometries
        self.precision = precision
        n = len(geometries)
        self.plain = np.zeros(n, dtype=bool)
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.wkbs: list[bytes | None] = [None] * n
        self.cache: dict[bytes, Any] = {}
        # For encoding only (fragments): points at the same spot share one dict.
        self.points: dict[tuple[float, float], dict[str, Any]] | None = {} if fragments else None
        if not n or not all(g is None or isinstance(g, BaseGeometry) for g in geometries):
            return
        array = np.asarray(geometries, dtype=object)
        x, y = shapely.get_x(array), shapely.get_y(array)
        with np.errstate(invalid="ignore"):
            self.plain = (
                (shapely.get_type_id(array) == 0)
                & ~shapely.has_z(array)
                & np.isfinite(x) & np.isfinite(y)
                & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
            )
        self.xs, self.ys = x.tolist(), y.tolist()
        if fragments:
            rest = np.flatnonzero(~self.plain & (shapely.get_type_id(array) >= 0))
            if len(rest):
                encoded = shapely.to_wkb(array[rest])
                for i, wkb in zip(rest.tolist(), encoded.tolist(), strict=True):
                    self.wkbs[i] = wkb

    def tiny_points(self) -> bool:
        """Any plain point with a coordinate so close to 0 that the fast encoder would
        write it differently (see :func:`_tiny_float_token`)."""
        if not self.xs:
            return False
        xy = np.abs(np.asarray([self.xs, self.ys]))[:, self.plain]
        return bool(((xy > 0.0) & (xy < 1.1e-4)).any())

    def __call__(self, i: int, event_id: str) -> Any:
        """The geometry of row ``i`` (``event_id`` names it in error messages)."""
        if self.plain[i]:
            p = self.precision
            if self.points is None:
                return {"type": "Point",
                        "coordinates": [round(self.xs[i], p), round(self.ys[i], p)]}
            key = (self.xs[i], self.ys[i])
            point = self.points.get(key)
            if point is None:
                point = self.points[key] = {
                    "type": "Point", "coordinates": [round(key[0], p), round(key[1], p)]
                }
            return point
        wkb = self.wkbs[i]
        if wkb is None:
            return _geometry_json(self.geometries[i], f"event {event_id!r}", self.precision)
        shape = self.cache.get(wkb)
        if shape is None:  # same bytes, same shape, same encoding
            encoded = _orjson.dumps(
                _geometry_json(self.geometries[i], f"event {event_id!r}", self.precision)
            )
            if _tiny_float_token(encoded):
                raise _NotFast
            shape = self.cache[wkb] = _orjson.Fragment(encoded)
        return shape


class _NotFast(Exception):
    """The fast encoder cannot promise the standard encoder's bytes here."""


def _iter_frame_features(
    gdf: gpd.GeoDataFrame, precision: int, *, fragments: bool = False
) -> Iterator[dict[str, Any]]:
    """Features of a store frame in order (``fragments``: see :class:`_Shapes`; the
    properties then reuse the frame's lists when they are already canonical)."""
    missing = [name for name in EVENT_PROPERTIES if name != "n_sources" and name not in gdf]
    if missing:
        raise InputError(f"event frame lacks columns {missing}; pass a frame from read_events")
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    columns = [name for name in EVENT_PROPERTIES if name != "n_sources"]
    values = {name: gdf[name].tolist() for name in columns}
    geometries = gdf.geometry.tolist()
    notes = gdf["notes"].tolist() if "notes" in gdf else [None] * len(gdf)
    shapes = _Shapes(geometries, precision, fragments=fragments)
    if fragments and shapes.tiny_points():
        raise _NotFast
    dates = _IsoDates()
    for i in range(len(geometries)):
        props = (fragments and _canonical_row(values, i, notes[i], dates)) or (
            _properties_of_row(values, i, notes[i], dates)
        )
        geometry = shapes(i, str(props["id"]))
        yield {"type": "Feature", "id": props["id"], "geometry": geometry, "properties": props}


_GPKG_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WKB_POINT_LE = b"\x01\x01\x00\x00\x00"


def stored_shapes(blobs: Sequence[bytes | None]) -> _Shapes | None:
    """Geometries of GeoPackage geometry blobs, for :func:`encode_store_rows`; None if
    a blob is not a plain standard one (the caller then takes the standard path).

    2D little-endian points (nearly every event) are decoded straight into
    coordinate arrays, without a shapely object each.
    """
    wkbs: list[bytes | None] = []
    for blob in blobs:
        if blob is None:
            wkbs.append(None)
            continue
        flags = blob[3] if len(blob) > 8 and blob[:2] == b"GP" else 0xFF
        envelope = _GPKG_ENVELOPE_BYTES.get((flags >> 1) & 0x07)
        if envelope is None or flags & 0x30:  # empty or extended geometry
            return None
        wkbs.append(blob[8 + envelope :])
    n = len(wkbs)
    is_point = np.fromiter(
        (w is not None and len(w) == 21 and w[:5] == _WKB_POINT_LE for w in wkbs),
        dtype=bool, count=n,
    )
    xy = np.full((n, 2), np.nan)
    if is_point.any():
        joined = b"".join(w[5:] for w, p in zip(wkbs, is_point, strict=True) if p and w)
        xy[is_point] = np.frombuffer(joined, dtype="<f8").reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        plain = (
            is_point & np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1])
            & (np.abs(xy[:, 0]) <= 180.0) & (np.abs(xy[:, 1]) <= 90.0)
        )
    # Everything else is decoded once per distinct shape (stores repeat them).
    geometries: list[Any] = [None] * n
    distinct: dict[bytes, Any] = {}
    try:
        for i in np.flatnonzero(~plain).tolist():
            wkb = wkbs[i]
            if wkb is not None:
                geom = distinct.get(wkb)
                if geom is None:
                    geom = distinct[wkb] = shapely.from_wkb(wkb)
                geometries[i] = geom
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        return None
    shapes = _Shapes([], 6, fragments=True)
    shapes.geometries = geometries
    shapes.plain = plain
    shapes.xs, shapes.ys = xy[:, 0].tolist(), xy[:, 1].tolist()
    shapes.wkbs = [None if plain[i] else w for i, w in enumerate(wkbs)]
    return shapes


def encode_store_rows(
    rows: Sequence[Sequence[Any]],
    lists: Sequence[Sequence[bytes]],
    shapes: _Shapes,
    *,
    precision: int,
    escape: bool = True,
) -> tuple[bytes, int] | None:
    """GeoJSON bytes of verified store rows (``rows``: the scalar columns of
    :data:`EVENT_PROPERTIES` in order; ``lists``: actors, sources and disputed_by as
    the store's JSON text in UTF-8), or None when this fast path cannot promise
    exactly what the standard path writes (no orjson, tiny coordinates).

    Only for rows the caller has checked are the store writer's canonical output
    (:func:`geo.store.export_geojson` checks a digest): the JSON text is then
    spliced as is instead of being decoded and encoded again. ``escape=False``
    when the caller knows no text holds a character that needs HTML escaping.
    """
    if _orjson is None:
        return None
    precision = _check_precision(precision)
    shapes.precision = precision
    fragment = _orjson.Fragment
    features: list[dict[str, Any]] = []
    try:
        if shapes.tiny_points():
            return None
        with _gc_paused():
            for i, (row, (actors, sources, disputed)) in enumerate(
                zip(rows, lists, strict=True)
            ):
                (event_id, layer, event_type, acled, acled_sub, date, date_end, tp, place,
                 place_id, geo_precision, country, fatalities, summary, n_sources) = row
                features.append({
                    "type": "Feature",
                    "id": event_id,
                    "geometry": shapes(i, event_id),
                    "properties": {
                        "id": event_id,
                        "layer": layer,
                        "event_type": event_type,
                        "acled_event_type": acled,
                        "acled_sub_event_type": acled_sub,
                        "date": date,
                        "date_end": date_end,
                        "time_precision": tp,
                        "place": place,
                        "place_id": place_id,
                        "geo_precision": geo_precision,
                        "country": country,
                        "actors": fragment(actors),
                        "fatalities": fatalities,
                        "summary": summary,
                        "sources": fragment(sources),
                        "n_sources": n_sources,
                        "disputed_by": fragment(disputed),
                    },
                })
            data: bytes = _orjson.dumps({"type": "FeatureCollection", "features": features})
    except (_NotFast, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        return None
    return (_html_safe(data) if escape else data), len(features)


def events_to_featurecollection(
    events: Iterable[Event] | gpd.GeoDataFrame, *, precision: int = 6
) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection of events (or of the rows of a store frame)."""
    precision = _check_precision(precision)
    if isinstance(events, gpd.GeoDataFrame):
        features = _features_of_frame(events, precision)
    else:
        features = _Features(_feature(event, precision) for event in events)
    return {"type": "FeatureCollection", "features": features}


_WORDISH = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.")
_DIGITS = frozenset(b"0123456789")


def _tiny_float_token(data: bytes) -> bool:
    """True if the JSON may hold a float below 1e-4 ("0.00001", "2.5e-7"): orjson writes
    those differently from json.dumps ("1e-05", "2.5e-07"); every other float, string
    and integer comes out byte for byte the same. Two memchr-speed scans; a match
    inside a string only costs a slower, still correct, encoding."""
    i = data.find(b"0.0000")
    while i != -1:
        if i == 0 or data[i - 1] not in _WORDISH:
            return True
        i = data.find(b"0.0000", i + 1)
    n = len(data)
    i = data.find(b"e-")
    while i != -1:
        if (
            i > 0 and data[i - 1] in _DIGITS and i + 2 < n and data[i + 2] in _DIGITS
            and (i + 3 >= n or data[i + 3] not in _DIGITS)
        ):
            return True
        i = data.find(b"e-", i + 1)
    return False
_HTML_SAFE_BYTES = tuple((ch.encode("utf-8"), str(esc).encode("ascii"))
                         for ch, esc in _HTML_SAFE_ESCAPES.items())


def _fast_json(fc: dict[str, Any]) -> bytes | None:
    """The collection encoded by orjson, or None when its bytes could differ from the
    standard encoder's (no orjson, a foreign collection, tiny floats, odd values)."""
    if _orjson is None or not isinstance(fc, dict) or type(fc.get("features")) is not _Features:
        return None
    try:
        data: bytes = _orjson.dumps(fc)
    except (TypeError, ValueError):  # e.g. integers beyond 64 bits: json.dumps copes
        return None
    if _tiny_float_token(data):
        return None
    return _html_safe(data)


def _geojson_bytes(fc: dict[str, Any]) -> bytes:
    data = _fast_json(fc)
    return data if data is not None else dumps_geojson(fc).encode("utf-8")


def _html_safe(data: bytes) -> bytes:
    for raw, escaped in _HTML_SAFE_BYTES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


def _streamed(gdf: gpd.GeoDataFrame, precision: int) -> tuple[bytes, int] | None:
    """A store frame encoded feature by feature (nothing but the bytes is kept): exactly
    ``dumps_geojson(events_to_featurecollection(gdf))`` encoded, or None when the fast
    encoder cannot promise that."""
    if _orjson is None:
        return None
    dumps = _orjson.dumps
    parts: list[bytes] = []
    try:
        # Properties hold no floats (ints, text, null); coordinates are checked by
        # _Shapes, so the whole text needs no scan for tiny floats.
        for feature in _iter_frame_features(gdf, precision, fragments=True):
            parts.append(dumps(feature))
    except (_NotFast, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        return None
    data = b'{"type":"FeatureCollection","features":[' + b",".join(parts) + b"]}"
    return _html_safe(data), len(parts)


def dumps_geojson(fc: dict[str, Any]) -> str:
    """Compact, valid JSON; ``<``, ``>``, ``&`` escaped so it is safe inside HTML.

    Collections from :func:`events_to_featurecollection` are encoded by orjson when it
    is installed (about ten times faster; the same text, see ``_fast_json``).
    """
    data = _fast_json(fc)
    if data is not None:
        return data.decode("utf-8")
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if any(ch in text for ch in _HTML_SAFE_ESCAPES):
        text = text.translate(_HTML_SAFE_TABLE)
    return text


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_geojson(
    events: Iterable[Event] | gpd.GeoDataFrame, path: Path | str, *, precision: int = 6
) -> int:
    """Write the GeoJSON atomically (temp file, fsync, rename); return the feature count."""
    data, count = geojson_bytes(events, precision=precision)
    write_bytes_atomic(path, data)
    return count


def geojson_bytes(
    events: Iterable[Event] | gpd.GeoDataFrame, *, precision: int = 6
) -> tuple[bytes, int]:
    """The UTF-8 text :func:`write_geojson` writes, and the feature count: one encoder
    for files, downloads and stdout, so they never drift apart."""
    if isinstance(events, gpd.GeoDataFrame):
        streamed = _streamed(events, _check_precision(precision))
        if streamed is not None:
            return streamed
    fc = events_to_featurecollection(events, precision=precision)
    return _geojson_bytes(fc), len(fc["features"])


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file 0600; a download is meant to be shared like any output.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)


# --------------------------------------------------------------------------- validation


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_position(value: object, where: str, problems: list[str]) -> bool:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        problems.append(f"{where}: a position must be [lon, lat] or [lon, lat, alt]")
        return False
    if not all(_is_number(v) for v in value):
        problems.append(f"{where}: position {list(value)!r} has a non-numeric or non-finite value")
        return False
    lon, lat = float(value[0]), float(value[1])
    ok = True
    if not -180.0 <= lon <= 180.0:
        problems.append(f"{where}: longitude {lon} outside [-180, 180]")
        ok = False
    if not -90.0 <= lat <= 90.0:
        problems.append(f"{where}: latitude {lat} outside [-90, 90] (lon/lat swapped?)")
        ok = False
    return ok


def _check_positions(value: object, where: str, problems: list[str], minimum: int) -> bool:
    if not isinstance(value, list | tuple):
        problems.append(f"{where}: expected an array of positions")
        return False
    if len(value) < minimum:
        problems.append(f"{where}: {len(value)} positions, at least {minimum} required")
        return False
    return all([_check_position(p, f"{where}[{i}]", problems) for i, p in enumerate(value)])


def _check_ring(value: object, where: str, problems: list[str], *, exterior: bool) -> None:
    if not _check_positions(value, where, problems, minimum=4):
        return
    ring = cast(Sequence[Sequence[float]], value)
    if list(ring[0]) != list(ring[-1]):
        problems.append(f"{where}: ring is not closed (first and last positions differ)")
        return
    area = _ring_signed_area([(float(p[0]), float(p[1])) for p in ring])
    if area == 0.0:
        problems.append(f"{where}: ring is degenerate (zero area)")
    elif exterior and area < 0.0:
        problems.append(f"{where}: exterior ring is clockwise; RFC 7946 wants counter-clockwise")
    elif not exterior and area > 0.0:
        problems.append(f"{where}: hole is counter-clockwise; RFC 7946 wants clockwise")


def _check_polygon(value: object, where: str, problems: list[str]) -> None:
    if not isinstance(value, list | tuple) or not value:
        problems.append(f"{where}: a polygon needs at least one ring")
        return
    for i, ring in enumerate(value):
        _check_ring(ring, f"{where} ring {i}", problems, exterior=i == 0)


def _check_bbox(owner: Mapping[str, object], where: str, problems: list[str]) -> None:
    if "bbox" not in owner:
        return
    bbox = owner["bbox"]
    if (
        not isinstance(bbox, list | tuple)
        or len(bbox) not in (4, 6)
        or not all(_is_number(v) for v in bbox)
    ):
        problems.append(f"{where}: bbox must be 4 or 6 finite numbers")


def _check_geometry(geometry: object, where: str, problems: list[str]) -> None:
    if geometry is None:
        return  # RFC 7946 3.2: an unlocated feature has "geometry": null
    if not isinstance(geometry, Mapping):
        problems.append(f"{where}: geometry must be an object or null")
        return
    if "crs" in geometry:
        problems.append(f"{where}: 'crs' member is not allowed in RFC 7946")
    _check_bbox(geometry, where, problems)
    kind = geometry.get("type")
    if kind not in _GEOMETRY_TYPES:
        problems.append(f"{where}: unknown geometry type {kind!r}")
        return
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list | tuple):
            problems.append(f"{where}: GeometryCollection needs a 'geometries' array")
            return
        for i, member in enumerate(members):
            if member is None:
                problems.append(f"{where} member {i}: null inside a GeometryCollection")
            else:
                _check_geometry(member, f"{where} member {i}", problems)
        return
    if "coordinates" not in geometry:
        problems.append(f"{where}: {kind} has no 'coordinates'")
        return
    coords = geometry["coordinates"]
    if kind == "Point":
        _check_position(coords, where, problems)
    elif kind == "MultiPoint":
        _check_positions(coords, where, problems, minimum=0)
    elif kind == "LineString":
        _check_positions(coords, where, problems, minimum=2)
    elif kind in ("MultiLineString", "Polygon", "MultiPolygon"):
        if not isinstance(coords, list | tuple):
            problems.append(f"{where}: {kind} coordinates must be an array")
        elif kind == "MultiLineString":
            for i, line in enumerate(coords):
                _check_positions(line, f"{where} line {i}", problems, minimum=2)
        elif kind == "Polygon":
            _check_polygon(coords, where, problems)
        else:
            for i, polygon in enumerate(coords):
                _check_polygon(polygon, f"{where} polygon {i}", problems)


def validate_rfc7946(fc: dict[str, Any]) -> list[str]:
    """Human-readable RFC 7946 problems of a FeatureCollection; ``[]`` means valid."""
    problems: list[str] = []
    if not isinstance(fc, Mapping):
        return [f"top level must be a JSON object, got {type(fc).__name__}"]
    if fc.get("type") != "FeatureCollection":
        problems.append(f"top level: type is {fc.get('type')!r}, expected 'FeatureCollection'")
    if "crs" in fc:
        problems.append("top level: 'crs' member is not allowed in RFC 7946 (always WGS 84)")
    _check_bbox(fc, "top level", problems)
    features = fc.get("features")
    if not isinstance(features, list | tuple):
        problems.append("top level: 'features' must be an array")
        return problems
    for i, feature in enumerate(features):
        where = f"feature {i}"
        if not isinstance(feature, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        if "id" in feature:
            where = f"feature {i} (id {feature['id']!r})"
            if not isinstance(feature["id"], str) and not _is_number(feature["id"]):
                problems.append(f"{where}: id must be a string or a number")
        if feature.get("type") != "Feature":
            problems.append(f"{where}: type is {feature.get('type')!r}, expected 'Feature'")
        if "crs" in feature:
            problems.append(f"{where}: 'crs' member is not allowed in RFC 7946")
        _check_bbox(feature, where, problems)
        if "properties" not in feature:
            problems.append(f"{where}: missing 'properties' member")
        elif feature["properties"] is not None and not isinstance(feature["properties"], Mapping):
            problems.append(f"{where}: properties must be an object or null")
        if "geometry" not in feature:
            problems.append(f"{where}: missing 'geometry' member")
        else:
            _check_geometry(feature["geometry"], where, problems)
    return problems


def geometry_to_geojson(geom: BaseGeometry, *, precision: int = 6) -> dict[str, Any] | None:
    """One shapely geometry as an RFC 7946 geometry object (lon/lat, CCW rings).

    Shared by every GeoJSON this package writes (events, place mentions).
    """
    return _encode_geometry(geom, _check_precision(precision))
