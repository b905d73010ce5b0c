"""RFC 7946 export: properties, geometry repair, HTML-safe JSON, GDAL read-back, validator."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    shape,
)
from shapely.geometry.base import BaseGeometry

from geo import export, store
from geo.errors import InputError
from geo.export import EVENT_PROPERTIES
from geo.models import LAYERS, Dispute, Event, Source

D = dt.date

QUOTE = 'Officials said <script>alert("x")</script> & «Київ» was hit — ٣ killed'


def _event(event_id: str, geometry: BaseGeometry, **changes: Any) -> Event:
    fields: dict[str, Any] = {
        "id": event_id,
        "layer": "incidents",
        "event_type": "shelling",
        "acled_event_type": "Explosions/Remote violence",
        "acled_sub_event_type": "Shelling/artillery/missile attack",
        "date": D(2024, 3, 1),
        "date_end": D(2024, 3, 2),
        "time_precision": "day",
        "place": "Kyiv / Київ",
        "place_id": "gn:703448",
        "geo_precision": 1,
        "country": "UA",
        "actors": ["Military Forces of Russia"],
        "fatalities": 3,
        "summary": "Strike on Kyiv",
        "sources": [
            Source("ukr-1", "Ukrainska Pravda", D(2024, 3, 2), QUOTE, 120, 120 + len(QUOTE)),
            Source("ukr-1", "Ukrainska Pravda", D(2024, 3, 2), "second quote", 300, 312),
            Source("bbc-7", "BBC", None, "Kyiv was hit overnight", 5, 27),
        ],
        "disputed_by": [Dispute("Russian MoD", "no strikes on the city", "tass-3", 40, 62)],
        "geometry": geometry,
        "notes": ["internal note, not exported"],
    }
    fields.update(changes)
    return Event(**fields)


SQUARE_CW = [(30.0, 50.0), (30.0, 51.0), (31.0, 51.0), (31.0, 50.0)]
HOLE_CCW = [(30.2, 50.2), (30.8, 50.2), (30.8, 50.8), (30.2, 50.8)]


def _sample_events() -> list[Event]:
    return [
        _event("evt-point", Point(30.5234, 50.4501)),
        _event(
            "evt-line", LineString([(37.7, 48.1), (37.8, 48.2), (37.9, 48.15)]), fatalities=None
        ),
        _event("evt-poly", Polygon(SQUARE_CW, [HOLE_CCW]), layer="diplomacy", country=None),
        _event(
            "evt-multi",
            MultiPolygon(
                [
                    Polygon([(31.5, 46.5), (31.5, 46.6), (31.7, 46.6), (31.7, 46.5)]),
                    Polygon([(32.1, 46.1), (31.9, 46.1), (32.1, 46.3)]),
                ]
            ),
            layer="troop_positions",
        ),
        _event("evt-fiji", Point(179.99999994, -16.5), sources=[], disputed_by=[]),
    ]


def _features(events: list[Event], **kwargs: Any) -> dict[str, dict[str, Any]]:
    fc = export.events_to_featurecollection(events, **kwargs)
    return {f["id"]: f for f in fc["features"]}


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    """Every position of a GeoJSON geometry, flattened."""
    if geometry["type"] == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in _positions(g)]

    def walk(value: Any) -> list[list[float]]:
        if value and isinstance(value[0], int | float):
            return [value]
        return [p for v in value for p in walk(v)]

    return walk(geometry["coordinates"])


# --------------------------------------------------------------------------- properties


def test_properties_exact_keys_order_and_json_ready() -> None:
    event = _sample_events()[0]
    props = export.event_properties(event)
    assert tuple(props) == EVENT_PROPERTIES
    assert json.loads(json.dumps(props, allow_nan=False)) == props  # plain JSON types only
    assert props["date"] == "2024-03-01" and props["date_end"] == "2024-03-02"
    assert props["n_sources"] == 2  # three quotes, two distinct articles
    assert [tuple(s) for s in props["sources"]] == [export.SOURCE_KEYS] * 3  # type: ignore[attr-defined]
    assert props["sources"][2]["published"] is None  # type: ignore[index]
    assert tuple(props["disputed_by"][0]) == export.DISPUTE_KEYS  # type: ignore[index]
    assert "notes" not in props


def test_feature_collection_members() -> None:
    fc = export.events_to_featurecollection(_sample_events())
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    assert [f["id"] for f in fc["features"]] == [e.id for e in _sample_events()]
    for feature in fc["features"]:
        assert feature["type"] == "Feature"
        assert feature["id"] == feature["properties"]["id"]
        assert "crs" not in feature and "crs" not in feature["geometry"]
    assert export.validate_rfc7946(fc) == []


# --------------------------------------------------------------------------- geometry


def test_polygon_rings_are_reoriented() -> None:
    feats = _features(_sample_events())
    shell, hole = feats["evt-poly"]["geometry"]["coordinates"]
    assert LinearRing(shell).is_ccw and not LinearRing(hole).is_ccw
    assert shell[0] == shell[-1] and hole[0] == hole[-1]
    assert Polygon(shell, [hole]).equals(Polygon(SQUARE_CW, [HOLE_CCW]))
    for polygon in feats["evt-multi"]["geometry"]["coordinates"]:
        assert LinearRing(polygon[0]).is_ccw


@pytest.mark.parametrize("precision", [6, 7])
def test_coordinates_are_rounded(precision: int) -> None:
    events = [_event("p", Point(30.123456789, 50.987654321))]
    events.append(_event("poly", Polygon([(30.11111111, 50.0), (31.0, 50.33333333), (30.5, 51.0)])))
    for feature in _features(events, precision=precision).values():
        for x, y in _positions(feature["geometry"]):
            assert round(x, precision) == x and round(y, precision) == y
    point = _features(events, precision=precision)["p"]["geometry"]["coordinates"]
    assert point == [round(30.123456789, precision), round(50.987654321, precision)]


@pytest.mark.parametrize("precision", [-1, 16, 6.0, True])
def test_precision_out_of_range(precision: Any) -> None:
    with pytest.raises(InputError):
        export.events_to_featurecollection(_sample_events(), precision=precision)


def test_duplicate_positions_after_rounding_are_dropped() -> None:
    line = LineString([(30.0, 50.0), (30.0000001, 50.0000002), (30.5, 50.5), (30.5, 50.5000004)])
    ring = [(30.0, 50.0), (31.0, 50.0), (31.0000002, 50.0000001), (31.0, 51.0)]
    feats = _features([_event("l", line), _event("r", Polygon(ring))])
    assert feats["l"]["geometry"]["coordinates"] == [[30.0, 50.0], [30.5, 50.5]]
    shell = feats["r"]["geometry"]["coordinates"][0]
    assert len(shell) == 4 and shell[0] == shell[-1]
    for feature in feats.values():
        positions = _positions(feature["geometry"])
        assert all(a != b for a, b in itertools.pairwise(positions))


def test_sub_precision_shapes_fall_back_without_degenerate_rings() -> None:
    tiny = Point(36.2304, 49.9935).buffer(1e-8)
    sliver = Polygon([(30.0, 50.0), (30.5, 50.0), (31.0, 50.0000001)])  # zero area at 6 dp
    short_line = LineString([(30.0, 50.0), (30.0000001, 50.0)])
    big = Polygon([(20.0, 40.0), (21.0, 40.0), (21.0, 41.0), (20.0, 41.0)])
    tiny_hole = Polygon(big.exterior.coords, [Point(20.5, 40.5).buffer(1e-8).exterior.coords])
    multi = MultiPolygon([big, Polygon(tiny.exterior.coords)])
    feats = _features(
        [
            _event("tiny", tiny),
            _event("sliver", sliver),
            _event("short", short_line),
            _event("hole", tiny_hole),
            _event("multi", multi),
        ]
    )
    assert feats["tiny"]["geometry"] == {"type": "Point", "coordinates": [36.2304, 49.9935]}
    assert feats["sliver"]["geometry"]["type"] == "Point"
    assert shape(feats["sliver"]["geometry"]).distance(sliver) < 1e-6
    assert feats["short"]["geometry"] == {"type": "Point", "coordinates": [30.0, 50.0]}
    assert len(feats["hole"]["geometry"]["coordinates"]) == 1  # the hole vanished, not the area
    assert len(feats["multi"]["geometry"]["coordinates"]) == 1  # the collapsed part is dropped
    fc = {"type": "FeatureCollection", "features": list(feats.values())}
    assert export.validate_rfc7946(fc) == []


def test_antimeridian_and_out_of_range_longitudes() -> None:
    spanning = Polygon([(170.0, -20.0), (190.0, -20.0), (190.0, -10.0), (170.0, -10.0)])
    feats = _features(
        [
            _event("edge", Point(179.99999994, -16.5)),
            _event("west", Point(-179.9999999, -16.5)),
            _event("wrapped", Point(190.0, -16.5)),
            _event("span", spanning),
            _event("line", LineString([(175.0, 60.0), (185.0, 62.0)])),
        ]
    )
    assert feats["edge"]["geometry"]["coordinates"] == [180.0, -16.5]
    assert feats["west"]["geometry"]["coordinates"] == [-180.0, -16.5]
    assert feats["wrapped"]["geometry"]["coordinates"] == [-170.0, -16.5]
    span = shape(feats["span"]["geometry"])
    assert feats["span"]["geometry"]["type"] == "MultiPolygon"
    assert span.area == pytest.approx(spanning.area)  # cut in two, nothing lost
    assert feats["line"]["geometry"]["type"] == "MultiLineString"
    fc = {"type": "FeatureCollection", "features": list(feats.values())}
    assert export.validate_rfc7946(fc) == []
    with pytest.raises(InputError, match="latitude"):
        export.events_to_featurecollection([_event("bad", Point(50.0, 95.0))])


def test_z_dropped_empty_geometry_null_and_collections() -> None:
    collection = GeometryCollection([Point(30, 50), Polygon(SQUARE_CW)])
    feats = _features(
        [
            _event("z", Point(30.5, 50.5, 120.0)),
            _event("empty", Polygon()),
            _event("gc", collection),
            _event("mp", MultiPoint([(30, 50), (30, 50), (31, 51)])),
        ]
    )
    assert feats["z"]["geometry"]["coordinates"] == [30.5, 50.5]
    assert feats["empty"]["geometry"] is None
    members = feats["gc"]["geometry"]["geometries"]
    assert [m["type"] for m in members] == ["Point", "Polygon"]
    assert LinearRing(members[1]["coordinates"][0]).is_ccw
    assert len(feats["mp"]["geometry"]["coordinates"]) == 3
    fc = {"type": "FeatureCollection", "features": list(feats.values())}
    assert export.validate_rfc7946(fc) == []


# --------------------------------------------------------------------------- serialisation


def test_dumps_is_compact_html_safe_and_lossless() -> None:
    fc = export.events_to_featurecollection(_sample_events())
    text = export.dumps_geojson(fc)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "Київ" in text  # ensure_ascii=False: readable, smaller
    assert ", " not in text.replace(QUOTE, "")  # compact separators
    assert json.loads(text) == fc


def test_write_geojson_reads_back_through_gdal(tmp_path: Path) -> None:
    path = tmp_path / "out" / "events.geojson"
    count = export.write_geojson(_sample_events(), path)
    assert count == len(_sample_events())
    assert (path.stat().st_mode & 0o777) == 0o644
    gdf = pyogrio.read_dataframe(path, DATE_AS_STRING=True)
    assert len(gdf) == count
    assert list(gdf.columns) == [*EVENT_PROPERTIES, "geometry"]
    assert gdf["id"].tolist() == [e.id for e in _sample_events()]
    assert gdf["place"].tolist() == ["Kyiv / Київ"] * count
    assert gdf["date"].tolist() == ["2024-03-01"] * count
    first_sources = gdf["sources"].iloc[0]
    decoded = json.loads(first_sources) if isinstance(first_sources, str) else first_sources
    assert decoded[0]["quote"] == QUOTE
    assert gdf.geometry.iloc[2].equals(Polygon(SQUARE_CW, [HOLE_CCW]))
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temp file left


def test_write_geojson_failure_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.geojson"
    export.write_geojson(_sample_events()[:1], path)
    before = path.read_bytes()

    def no_rename(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied", str(dst))

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", no_rename)
        with pytest.raises(PermissionError):
            export.write_geojson(_sample_events(), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_store_frame_exports_like_events(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    events = _sample_events()
    store.write_store(db, articles=[], events=events)
    gdf = store.read_events(db)
    assert export.events_to_featurecollection(gdf) == export.events_to_featurecollection(events)
    shown = gdf[gdf["layer"] == "incidents"]
    fc = export.events_to_featurecollection(shown)
    assert [f["id"] for f in fc["features"]] == [e.id for e in events if e.layer == "incidents"]
    projected = export.events_to_featurecollection(gdf.to_crs(3857))  # any CRS comes back
    for a, b in zip(
        projected["features"], export.events_to_featurecollection(gdf)["features"], strict=True
    ):
        assert shape(a["geometry"]).distance(shape(b["geometry"])) < 1e-5
    path = tmp_path / "filtered.geojson"
    assert export.write_geojson(shown, path) == len(shown)
    assert len(pyogrio.read_dataframe(path)) == len(shown)


def test_frame_row_without_geometry_exports_null(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    store.write_store(db, articles=[], events=_sample_events())
    gdf = store.read_events(db)
    gdf.loc[0, "geometry"] = None
    fc = export.events_to_featurecollection(gdf)
    assert fc["features"][0]["geometry"] is None
    assert fc["features"][1]["geometry"] is not None
    assert export.validate_rfc7946(fc) == []
    path = tmp_path / "nulls.geojson"
    export.write_geojson(gdf, path)
    back = pyogrio.read_dataframe(path)
    assert len(back) == len(gdf) and back.geometry.iloc[0] is None


def test_frame_without_required_columns_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    store.write_store(db, articles=[], events=_sample_events())
    gdf = store.read_events(db).drop(columns=["sources"])
    with pytest.raises(InputError, match="sources"):
        export.events_to_featurecollection(gdf)


# --------------------------------------------------------------------------- validator


def _valid_fc() -> dict[str, Any]:
    return export.events_to_featurecollection(_sample_events())


def _poly_feature(fc: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in fc["features"] if f["id"] == "evt-poly")


def _reverse_shell(fc: dict[str, Any]) -> None:
    _poly_feature(fc)["geometry"]["coordinates"][0].reverse()


def _reverse_hole(fc: dict[str, Any]) -> None:
    _poly_feature(fc)["geometry"]["coordinates"][1].reverse()


def _unclose(fc: dict[str, Any]) -> None:
    _poly_feature(fc)["geometry"]["coordinates"][0].pop()


def _triangle_ring(fc: dict[str, Any]) -> None:
    _poly_feature(fc)["geometry"]["coordinates"][0] = [[0, 0], [1, 0], [0, 0]]


def _lat_out(fc: dict[str, Any]) -> None:
    fc["features"][0]["geometry"]["coordinates"] = [50.45, 130.52]


def _lon_out(fc: dict[str, Any]) -> None:
    fc["features"][1]["geometry"]["coordinates"][0] = [181.0, 48.0]


def _crs_top(fc: dict[str, Any]) -> None:
    fc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}


def _crs_feature(fc: dict[str, Any]) -> None:
    fc["features"][0]["crs"] = {"type": "name"}


def _text_position(fc: dict[str, Any]) -> None:
    fc["features"][0]["geometry"]["coordinates"] = ["30.5", 50.4]


def _four_d(fc: dict[str, Any]) -> None:
    fc["features"][0]["geometry"]["coordinates"] = [30.5, 50.4, 10.0, 1.0]


def _nan_position(fc: dict[str, Any]) -> None:
    fc["features"][0]["geometry"]["coordinates"] = [math.nan, 50.4]


def _no_properties(fc: dict[str, Any]) -> None:
    del fc["features"][0]["properties"]


def _no_geometry(fc: dict[str, Any]) -> None:
    del fc["features"][0]["geometry"]


def _wrong_type(fc: dict[str, Any]) -> None:
    fc["type"] = "Feature"


def _unknown_geometry(fc: dict[str, Any]) -> None:
    fc["features"][0]["geometry"]["type"] = "Circle"


def _short_line(fc: dict[str, Any]) -> None:
    fc["features"][1]["geometry"]["coordinates"] = [[37.7, 48.1]]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_reverse_shell, "exterior ring is clockwise"),
        (_reverse_hole, "hole is counter-clockwise"),
        (_unclose, "not closed"),
        (_triangle_ring, "at least 4"),
        (_lat_out, "latitude 130.52"),
        (_lon_out, "longitude 181.0"),
        (_crs_top, "'crs'"),
        (_crs_feature, "'crs'"),
        (_text_position, "non-numeric"),
        (_four_d, "position must be"),
        (_nan_position, "non-finite"),
        (_no_properties, "missing 'properties'"),
        (_no_geometry, "missing 'geometry'"),
        (_wrong_type, "expected 'FeatureCollection'"),
        (_unknown_geometry, "unknown geometry type"),
        (_short_line, "at least 2"),
    ],
)
def test_validator_catches(mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    fc = _valid_fc()
    assert export.validate_rfc7946(fc) == []
    broken = copy.deepcopy(fc)
    mutate(broken)
    problems = export.validate_rfc7946(broken)
    assert any(expected in p for p in problems), problems


def test_validator_on_garbage_never_raises() -> None:
    for value in ([], "x", {"type": "FeatureCollection"}, {"features": [None, 3, {}]}):
        assert export.validate_rfc7946(value) != []  # type: ignore[arg-type]


# --------------------------------------------------------------------------- property test

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
_LON = st.floats(min_value=-180.0, max_value=180.0)
_LAT = st.floats(min_value=-90.0, max_value=90.0)


@st.composite
def _polygon(draw: st.DrawFn) -> Polygon:
    radius = draw(st.floats(min_value=1e-9, max_value=5.0))
    lon = draw(st.floats(min_value=-174.0, max_value=174.0))
    lat = draw(st.floats(min_value=-84.0, max_value=84.0))
    segments = draw(st.integers(min_value=1, max_value=6))
    outer = Point(lon, lat).buffer(radius, quad_segs=segments)
    holes = []
    if draw(st.booleans()):
        holes.append(Point(lon, lat).buffer(radius * 0.4, quad_segs=segments).exterior.coords)
    shell = list(outer.exterior.coords)
    if draw(st.booleans()):
        shell.reverse()  # either orientation on input
    return Polygon(shell, holes)


_GEOMETRY = st.one_of(
    st.builds(Point, _LON, _LAT),
    st.lists(st.tuples(_LON, _LAT), min_size=2, max_size=6).map(LineString),
    _polygon(),
    st.lists(_polygon(), min_size=1, max_size=3).map(MultiPolygon),
)


@st.composite
def _random_event(draw: st.DrawFn, index: int) -> Event:
    start = draw(st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)))
    quote = draw(_TEXT)
    return Event(
        id=f"evt-{index}-{draw(st.text(alphabet='abcdef0123456789', max_size=6))}",
        layer=draw(st.sampled_from(LAYERS)),
        event_type=draw(_TEXT),
        acled_event_type=draw(st.none() | _TEXT),
        acled_sub_event_type=draw(st.none() | _TEXT),
        date=start,
        date_end=start + dt.timedelta(days=draw(st.integers(0, 400))),
        time_precision=draw(st.sampled_from(["day", "week", "month", "year"])),
        place=draw(_TEXT),
        place_id=draw(_TEXT),
        geo_precision=draw(st.integers(1, 3)),
        country=draw(st.none() | _TEXT),
        actors=draw(st.lists(_TEXT, max_size=3)),
        fatalities=draw(st.none() | st.integers(0, 10**6)),
        summary=draw(_TEXT),
        sources=[
            Source(draw(_TEXT), draw(_TEXT), draw(st.none() | st.dates()), quote, 0, len(quote))
            for _ in range(draw(st.integers(0, 3)))
        ],
        disputed_by=[Dispute(draw(_TEXT), draw(_TEXT), draw(_TEXT), 0, 5)],
        geometry=draw(_GEOMETRY),
    )


@st.composite
def _random_events(draw: st.DrawFn) -> list[Event]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [draw(_random_event(i)) for i in range(count)]


def _assert_faithful(original: BaseGeometry, written: BaseGeometry, precision: int) -> None:
    """Written geometry lies on the original, and every part larger than the
    output precision is still there (smaller parts may be dropped or become points)."""
    step = 10.0**-precision
    assert not written.is_empty
    vertices = shapely.get_coordinates(original)
    for xy in shapely.get_coordinates(written):
        # GEOS returns inf for segments shorter than ~1e-160 (squared length
        # underflows); the nearest vertex is an upper bound that never fails so.
        nearest_vertex = float(np.hypot(*(vertices - xy).T).min())
        distance = min(original.distance(Point(xy)), nearest_vertex)
        assert distance <= step, "written vertex strays from the original"
    for part in shapely.get_parts(original):
        minx, miny, maxx, maxy = part.bounds
        if max(maxx - minx, maxy - miny) < 10 * step:
            continue
        for xy in shapely.get_coordinates(part):
            assert written.distance(Point(xy)) <= step, "a visible part was lost"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=_random_events(), precision=st.sampled_from([6, 7]))
def test_any_events_export_valid_geojson_that_gdal_reads(
    events: list[Event], precision: int
) -> None:
    fc = export.events_to_featurecollection(events, precision=precision)
    assert export.validate_rfc7946(fc) == []
    assert json.loads(export.dumps_geojson(fc)) == fc
    written = [shape(feature["geometry"]) for feature in fc["features"]]
    for event, geometry in zip(events, written, strict=True):
        _assert_faithful(event.geometry, geometry, precision)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.geojson"
        assert export.write_geojson(events, path, precision=precision) == len(events)
        gdf = pyogrio.read_dataframe(path, DATE_AS_STRING=True)
    assert len(gdf) == len(events)
    assert set(gdf.columns) == {*EVENT_PROPERTIES, "geometry"}
    assert gdf["id"].tolist() == [e.id for e in events]
    assert gdf["summary"].fillna("").tolist() == [e.summary for e in events]
    assert gdf["n_sources"].tolist() == [e.n_sources for e in events]
    for ours, gdals in zip(written, gdf.geometry, strict=True):
        assert shapely.equals_exact(ours, gdals, tolerance=0.0)
