"""The GeoPackage event store: round trips, filters, atomicity, locking, errors.

Every test writes a real GeoPackage through GDAL in a temporary directory; no
part of the store is mocked. Failure injection patches only Python-level I/O
(``pyogrio.write_dataframe``, ``os.replace``) around a real write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from geo import store
from geo.errors import InputError, StoreError
from geo.export import EVENT_PROPERTIES
from geo.models import LAYERS, Article, Dispute, Event, Mention, Place, Source

D = dt.date
REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- fixtures

_TEXTS = {
    "kyiv-1": (
        "KHARKIV, March 1 — Russian forces shelled the Saltivka district of Kharkiv "
        "overnight, killing three civilians, the regional governor said. "
        "«Вибухи лунали всю ніч», said one resident of Харків. "
        "Moscow's defence ministry denied targeting residential areas. "
        'A post read <script>alert("x")</script> & was removed.'
    ),
    "bbc-2": (
        "Ukrainian officials said the front line near Avdiivka shifted west during "
        "February as troops withdrew to new positions. In Kharkiv, the shelling of "
        "Saltivka continued on March 1, officials said."
    ),
    "aj-3": (
        "الأمم المتحدة: Delegations met in Geneva on 5–6 March for talks on a "
        "humanitarian corridor around the Zaporizhzhia plant 🕊️. "
        "Observers also visited the exclusion zone."
    ),
    "rnz-4": (
        "SUVA — Fiji's navy reported a vessel incident near Vanua Levu's eastern "
        "reefs on 2 March, close to the 180th meridian."
    ),
}

_OUTLETS = {"kyiv-1": "Kyiv Independent", "bbc-2": "BBC", "aj-3": "Al Jazeera", "rnz-4": "RNZ"}
_PUBLISHED = {"kyiv-1": D(2024, 3, 1), "bbc-2": D(2024, 3, 2), "aj-3": D(2024, 3, 7), "rnz-4": None}


def _articles() -> list[Article]:
    return [
        Article(
            article_id=article_id,
            path=f"seeds/{article_id}.txt",
            outlet=_OUTLETS[article_id],
            published=_PUBLISHED[article_id],
            title=text.split(" — ")[0][:40],
            text=text,
        )
        for article_id, text in _TEXTS.items()
    ]


def _source(article_id: str, quote: str) -> Source:
    start = _TEXTS[article_id].index(quote)
    return Source(
        article_id=article_id,
        outlet=_OUTLETS[article_id],
        published=_PUBLISHED[article_id],
        quote=quote,
        start=start,
        end=start + len(quote),
    )


def _dispute(article_id: str, who: str, quote: str) -> Dispute:
    start = _TEXTS[article_id].index(quote)
    return Dispute(who=who, quote=quote, article_id=article_id, start=start, end=start + len(quote))


def _events() -> list[Event]:
    """One event per geometry kind, with the awkward values real data has."""
    saltivka = _source("kyiv-1", "Russian forces shelled the Saltivka district of Kharkiv")
    return [
        Event(
            id="evt-kharkiv-shelling-20240301",
            layer="incidents",
            event_type="shelling",
            acled_event_type="Explosions/Remote violence",
            acled_sub_event_type="Shelling/artillery/missile attack",
            date=D(2024, 3, 1),
            date_end=D(2024, 3, 1),
            time_precision="day",
            place="Kharkiv",
            place_id="gn:706483",
            geo_precision=1,
            country="UA",
            actors=["Military Forces of Russia", "Civilians (Ukraine)"],
            fatalities=3,
            summary="Shelling of Saltivka, Kharkiv: 3 killed «Вибухи»",
            sources=[
                saltivka,
                _source("kyiv-1", "«Вибухи лунали всю ніч», said one resident of Харків."),
                _source("bbc-2", "the shelling of Saltivka continued on March 1"),
                _source("kyiv-1", 'A post read <script>alert("x")</script> & was removed.'),
            ],
            disputed_by=[
                _dispute(
                    "kyiv-1",
                    "Russian Ministry of Defence",
                    "Moscow's defence ministry denied targeting residential areas.",
                )
            ],
            geometry=Point(36.3437, 50.0264),
            notes=["date from dateline", "<b>not html</b>"],
        ),
        Event(
            id="evt-avdiivka-front-202402",
            layer="troop_positions",
            event_type="front_line_shift",
            acled_event_type=None,
            acled_sub_event_type=None,
            date=D(2024, 2, 1),
            date_end=D(2024, 2, 29),
            time_precision="month",
            place="Avdiivka front line",
            place_id="cur:avdiivka-front",
            geo_precision=3,
            country=None,
            actors=[],
            fatalities=None,
            summary="Front line near Avdiivka shifted west",
            sources=[_source("bbc-2", "the front line near Avdiivka shifted west during February")],
            disputed_by=[],
            geometry=LineString([(37.70, 48.10), (37.74, 48.14), (37.77, 48.17), (37.80, 48.20)]),
        ),
        Event(
            id="evt-zaporizhzhia-zone",
            layer="diplomacy",
            event_type="talks",
            acled_event_type="Strategic developments",
            acled_sub_event_type="Agreement",
            date=D(2024, 3, 5),
            date_end=D(2024, 3, 6),
            time_precision="day",
            place="Zaporizhzhia NPP exclusion zone",
            place_id="cur:znpp-zone",
            geo_precision=2,
            country="UA",
            actors=["United Nations", "IAEA"],
            fatalities=0,
            summary="Talks on a corridor around the plant",
            sources=[_source("aj-3", "Delegations met in Geneva on 5–6 March")],
            disputed_by=[],
            # Exterior clockwise and hole counter-clockwise on purpose: the store
            # keeps what it was given, the exporter fixes orientation.
            geometry=Polygon(
                [(34.0, 47.0), (34.0, 48.0), (35.0, 48.0), (35.0, 47.0)],
                [[(34.3, 47.3), (34.7, 47.3), (34.7, 47.7), (34.3, 47.7)]],
            ),
        ),
        Event(
            id="evt-fiji-reefs",
            layer="incidents",
            event_type="maritime_incident",
            acled_event_type="Strategic developments",
            acled_sub_event_type="Other",
            date=D(2024, 3, 2),
            date_end=D(2024, 3, 2),
            time_precision="day",
            place="Vanua Levu reefs",
            place_id="gn:2194367",
            geo_precision=2,
            country="FJ",
            actors=["Fiji Navy"],
            fatalities=None,
            summary="Vessel incident near the 180th meridian",
            sources=[_source("rnz-4", "a vessel incident near Vanua Levu's eastern reefs")],
            disputed_by=[],
            geometry=Point(179.99999994, -16.5),
        ),
        Event(
            id="evt-islands-patrol",
            layer="troop_positions",
            event_type="deployment",
            acled_event_type=None,
            acled_sub_event_type=None,
            date=D(2023, 12, 30),
            date_end=D(2024, 1, 2),
            time_precision="week",
            place="Kinburn spit and Tendra",
            place_id="cur:kinburn",
            geo_precision=3,
            country="UA",
            actors=["Naval Infantry"],
            fatalities=None,
            summary="Two separate patrol areas",
            sources=[],
            disputed_by=[],
            geometry=MultiPolygon(
                [
                    Polygon([(31.5, 46.5), (31.7, 46.5), (31.7, 46.6), (31.5, 46.6)]),
                    Polygon([(31.9, 46.1), (32.1, 46.1), (32.1, 46.3)]),
                ]
            ),
        ),
        Event(
            id="evt-dnipro-crossings",
            layer="incidents",
            event_type="river_crossing",
            acled_event_type="Battles",
            acled_sub_event_type="Armed clash",
            date=D(2024, 1, 15),
            date_end=D(2024, 1, 21),
            time_precision="week",
            place="Dnipro river",
            place_id="cur:dnipro",
            geo_precision=3,
            country="UA",
            actors=["Military Forces of Ukraine"],
            fatalities=12,
            summary="Crossings at two points",
            sources=[],
            disputed_by=[],
            geometry=MultiLineString([[(33.0, 46.6), (33.2, 46.7)], [(33.5, 46.8), (33.6, 46.9)]]),
        ),
    ]


def _mentions() -> list[tuple[str, Mention]]:
    kharkiv = Place("gn:706483", "Kharkiv", "city", "UA", 36.25, 49.98, 1_430_885)
    abl = Place("cur:abl", "administrative boundary line", "line", None, 20.9, 42.9, 0, "curated")
    text = _TEXTS["kyiv-1"]
    start = text.index("Kharkiv")
    return [
        ("kyiv-1", Mention("Kharkiv", start, start + 7, kharkiv, 0.92, "city, population")),
        ("bbc-2", Mention("Kharkiv", 100, 107, kharkiv, 0.85, "context")),
        ("O'Brien's notes", Mention("ABL", 0, 3, abl, 0.5, "curated alias")),
    ]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "var" / "geo-news.gpkg"
    store.write_store(path, articles=_articles(), events=_events(), mentions=_mentions())
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _overlaps(event: Event, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or event.date_end >= start) and (end is None or event.date <= end)


def _temp_leftovers(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


# --------------------------------------------------------------------------- round trips


def test_events_round_trip_exactly(db: Path) -> None:
    back = store.events_from_frame(store.read_events(db))
    assert back == _events()  # dataclass equality: every field, exact coordinates


def test_articles_round_trip_with_offsets_intact(db: Path) -> None:
    articles = store.read_articles(db)
    assert articles == _articles()
    texts = {a.article_id: a.text for a in articles}
    for event in store.events_from_frame(store.read_events(db)):
        for source in event.sources:
            assert texts[source.article_id][source.start : source.end] == source.quote


def test_read_events_frame_shape(db: Path) -> None:
    gdf = store.read_events(db)
    assert list(gdf.columns) == [*EVENT_PROPERTIES, "notes", "geometry"]
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    row = gdf.set_index("id").loc["evt-kharkiv-shelling-20240301"]
    assert row["date"] == "2024-03-01"
    assert row["actors"] == ["Military Forces of Russia", "Civilians (Ukraine)"]
    assert row["n_sources"] == 2  # four quotes from two distinct articles
    assert row["sources"][3]["quote"] == 'A post read <script>alert("x")</script> & was removed.'
    assert set(row["sources"][0]) == {"article", "outlet", "published", "quote", "start", "end"}
    assert row["disputed_by"][0]["who"] == "Russian Ministry of Defence"
    assert row["notes"] == ["date from dateline", "<b>not html</b>"]
    front = gdf.set_index("id").loc["evt-avdiivka-front-202402"]
    assert front["country"] is None and front["acled_event_type"] is None
    assert pd.isna(front["fatalities"])
    assert front["geometry"].geom_type == "LineString"


def test_geopackage_is_standard_for_gdal(db: Path) -> None:
    layers = {name: kind for name, kind in pyogrio.list_layers(db)}
    assert layers == {"events": "Unknown", "articles": None, "mentions": "Point"}
    info = pyogrio.read_info(db, layer="events")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == len(_events())
    kinds = set(pyogrio.read_dataframe(db, layer="events").geometry.geom_type)
    assert kinds == {"Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"}


def test_mentions_round_trip_and_filter(db: Path) -> None:
    mentions = store.read_mentions(db)
    assert list(mentions.columns) == [*store.MENTION_COLUMNS, "geometry"]
    assert len(mentions) == len(_mentions())
    for (article_id, mention), row in zip(_mentions(), mentions.itertuples(), strict=True):
        assert row.article_id == article_id
        assert (row.start, row.end, row.text) == (mention.start, mention.end, mention.text)
        assert (row.place_id, row.name, row.kind) == (
            mention.place.place_id,
            mention.place.name,
            mention.place.kind,
        )
        assert row.country == mention.place.country
        assert row.score == pytest.approx(mention.score)
        assert row.geometry.equals(Point(mention.place.lon, mention.place.lat))
    one = store.read_mentions(db, article_id="O'Brien's notes")  # quote in the value
    assert one["text"].tolist() == ["ABL"]
    assert one["country"].tolist() == [None]
    assert store.read_mentions(db, article_id="nobody").empty


def test_empty_store_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    store.write_store(path, articles=[], events=[])
    gdf = store.read_events(path)
    assert gdf.empty
    assert list(gdf.columns) == [*EVENT_PROPERTIES, "notes", "geometry"]
    assert gdf.crs is not None and gdf.crs.to_epsg() == 4326
    assert store.read_events(path, start=D(2024, 1, 1), layers=["incidents"]).empty
    assert store.events_from_frame(gdf) == []
    assert store.read_articles(path) == []
    assert store.read_mentions(path).empty
    assert dict(pyogrio.list_layers(path))["events"] == "Unknown"


def test_rewrite_replaces_content(db: Path) -> None:
    kept = _events()[:2]
    store.write_store(db, articles=_articles()[:2], events=kept)
    assert store.events_from_frame(store.read_events(db)) == kept
    assert [a.article_id for a in store.read_articles(db)] == ["kyiv-1", "bbc-2"]
    assert store.read_mentions(db).empty


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (D(2024, 3, 1), D(2024, 3, 1)),
        (D(2024, 2, 20), D(2024, 3, 1)),
        (D(2024, 2, 29), None),
        (None, D(2024, 1, 1)),
        (D(2024, 1, 1), D(2024, 1, 1)),
        (D(2024, 3, 3), D(2024, 3, 4)),
        (D(2025, 1, 1), None),
    ],
)
def test_date_filter_is_interval_overlap(db: Path, start: dt.date, end: dt.date) -> None:
    got = store.read_events(db, start=start, end=end)["id"].tolist()
    expected = [e.id for e in _events() if _overlaps(e, start, end)]
    assert got == expected


def test_multi_day_event_kept_when_window_starts_inside_it(db: Path) -> None:
    ids = store.read_events(db, start=D(2024, 2, 20), end=D(2024, 2, 21))["id"].tolist()
    assert ids == ["evt-avdiivka-front-202402"]  # 1–29 Feb overlaps 20–21 Feb


def test_layer_filter(db: Path) -> None:
    for layer in LAYERS:
        got = store.read_events(db, layers=[layer])["id"].tolist()
        assert got == [e.id for e in _events() if e.layer == layer]
    both = store.read_events(db, layers=("incidents", "diplomacy"))
    assert set(both["layer"]) == {"incidents", "diplomacy"}
    assert store.read_events(db, layers="diplomacy")["id"].tolist() == ["evt-zaporizhzhia-zone"]
    assert store.read_events(db, layers=[]).empty


def test_bbox_filter_uses_exact_geometry(db: Path) -> None:
    inside_hole = (34.4, 47.4, 34.6, 47.6)  # in the polygon's envelope, not in the polygon
    assert store.read_events(db, bbox=inside_hole).empty
    on_ring = (34.25, 47.25, 34.35, 47.35)
    assert store.read_events(db, bbox=on_ring)["id"].tolist() == ["evt-zaporizhzhia-zone"]
    ukraine = (22.0, 44.0, 40.5, 52.5)
    expected = [e.id for e in _events() if e.geometry.intersects(box(*ukraine))]
    assert store.read_events(db, bbox=ukraine)["id"].tolist() == expected


def test_bbox_across_antimeridian(db: Path) -> None:
    pacific = (170.0, -20.0, -170.0, -10.0)  # min_lon > max_lon wraps through 180
    assert store.read_events(db, bbox=pacific)["id"].tolist() == ["evt-fiji-reefs"]
    assert store.read_events(db, bbox=(-179.0, -20.0, 179.0, -10.0)).empty


def test_filters_combine_like_brute_force(tmp_path: Path) -> None:
    """Many windows and layer sets over a few hundred events: SQL equals Python."""
    base = _events()[0]
    events = []
    for i in range(300):
        start = D(2024, 1, 1) + dt.timedelta(days=(i * 7) % 90)
        events.append(
            dataclasses.replace(
                base,
                id=f"evt-{i:03d}",
                layer=LAYERS[i % 3],
                date=start,
                date_end=start + dt.timedelta(days=(i * 13) % 40 if i % 4 == 0 else 0),
                geometry=Point(22 + (i * 0.37) % 18, 44 + (i * 0.53) % 8),
            )
        )
    path = tmp_path / "many.gpkg"
    store.write_store(path, articles=_articles(), events=events)
    bb = (25.0, 45.0, 33.0, 50.0)
    for offset in range(0, 100, 9):
        start = D(2023, 12, 25) + dt.timedelta(days=offset)
        end = start + dt.timedelta(days=offset % 11)
        for layers in (None, ["incidents"], ["troop_positions", "diplomacy"]):
            got = store.read_events(path, start=start, end=end, layers=layers)["id"].tolist()
            want = [
                e.id
                for e in events
                if _overlaps(e, start, end) and (layers is None or e.layer in layers)
            ]
            assert got == want, (start, end, layers)
        got = store.read_events(path, start=start, bbox=bb)["id"].tolist()
        want = [
            e.id for e in events if _overlaps(e, start, None) and e.geometry.intersects(box(*bb))
        ]
        assert got == want


def test_date_filter_is_pushed_down_to_an_index(db: Path) -> None:
    where = store._events_where(D(2024, 3, 1), D(2024, 3, 7), ["incidents"])
    assert where is not None
    with sqlite3.connect(db) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        plan = connection.execute(f"EXPLAIN QUERY PLAN SELECT fid FROM events WHERE {where}")
        details = " ".join(str(row[-1]) for row in plan)
    assert {"events_layer_date_idx", "events_date_idx", "events_span_idx"} <= names
    assert "USING INDEX events_layer_date_idx" in details


@pytest.mark.parametrize(
    "kwargs",
    [
        {"layers": ["incident"]},
        {"start": D(2024, 3, 2), "end": D(2024, 3, 1)},
        {"start": "2024-03-01"},
        {"bbox": (10.0, 50.0, 20.0, 40.0)},
        {"bbox": (10.0, float("nan"), 20.0, 40.0)},
    ],
)
def test_bad_filters_raise_input_error(db: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        store.read_events(db, **kwargs)


# --------------------------------------------------------------------------- errors


def _assert_store_error(path: Path, exc: BaseException) -> None:
    message = str(exc)
    assert "\n" not in message
    assert str(path) in message
    assert "python -m geo build" in message


def test_missing_store(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "geo-news.gpkg"
    for read in (store.read_events, store.read_articles, store.read_mentions):
        with pytest.raises(StoreError) as info:
            read(path)
        _assert_store_error(path, info.value)


def test_corrupt_stores(tmp_path: Path, db: Path) -> None:
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(os.urandom(8192))
    empty = tmp_path / "empty-file.gpkg"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.gpkg"
    truncated.write_bytes(db.read_bytes()[:8192])
    directory = tmp_path / "dir.gpkg"
    directory.mkdir()
    no_events = tmp_path / "no-events.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), no_events, layer="other", driver="GPKG")
    for path in (garbage, empty, truncated, directory, no_events):
        with pytest.raises(StoreError) as info:
            store.read_events(path)
        _assert_store_error(path, info.value)


def test_store_with_wrong_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    old = gpd.GeoDataFrame({"id": ["x"]}, geometry=[Point(1, 2)], crs="EPSG:4326")
    pyogrio.write_dataframe(old, path, layer="events", driver="GPKG")
    with pytest.raises(StoreError, match="lacks columns") as info:
        store.read_events(path)
    _assert_store_error(path, info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda evs: [*evs, evs[0]], "duplicate event id"),
        (lambda evs: [dataclasses.replace(evs[0], layer="incident")], "unknown layer"),
        (lambda evs: [dataclasses.replace(evs[0], date_end=D(2024, 2, 1))], "before date"),
        (lambda evs: [dataclasses.replace(evs[0], summary="a\x00b")], "NUL"),
        (lambda evs: [dataclasses.replace(evs[0], geometry=Point(50.0, 91.0))], "latitude"),
        (lambda evs: [dataclasses.replace(evs[0], geometry=None)], "not shapely"),
        (lambda evs: [dataclasses.replace(evs[0], geometry=Point(1, float("nan")))], "NaN"),
    ],
)
def test_invalid_events_are_refused_before_writing(db: Path, change: Any, message: str) -> None:
    before = _digest(db)
    with pytest.raises(InputError, match=message):
        store.write_store(db, articles=_articles(), events=change(_events()))
    assert _digest(db) == before
    assert _temp_leftovers(db) == []


def _bad_mention(field: str, value: Any) -> list[tuple[str, Mention]]:
    article_id, mention = _mentions()[1]
    if field in ("text", "reason"):
        mention = dataclasses.replace(mention, **{field: value})
    else:
        mention = dataclasses.replace(
            mention, place=dataclasses.replace(mention.place, **{field: value})
        )
    return [*_mentions(), (article_id, mention)]


@pytest.mark.parametrize("as_columns", [False, True])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text", "Khar\x00kiv", "NUL"),
        ("reason", "context \udce9", "unpaired surrogates"),
        ("country", "U\x00A", "NUL"),
        ("lat", 91.0, "latitude"),
        ("lon", float("inf"), "infinite"),
    ],
)
def test_invalid_mentions_are_refused_before_writing(
    db: Path, field: str, value: Any, message: str, as_columns: bool
) -> None:
    """The column-wise check finds the bad mention and names it; nothing is written."""
    before = _digest(db)
    bad = _bad_mention(field, value)
    mentions = store.MentionColumns.of(bad) if as_columns else bad
    with pytest.raises(InputError, match=message) as info:
        store.write_store(db, articles=_articles(), events=_events(), mentions=mentions)
    assert "of article 'bbc-2'" in str(info.value)
    assert _digest(db) == before


def test_mention_columns_write_the_same_layer_as_pairs(tmp_path: Path) -> None:
    pairs, columns = tmp_path / "pairs.gpkg", tmp_path / "columns.gpkg"
    store.write_store(pairs, articles=_articles(), events=[], mentions=_mentions())
    merged = store.MentionColumns.of(_mentions()[:1])
    merged.extend(store.MentionColumns.of(_mentions()[1:]))
    assert len(merged) == len(_mentions())
    store.write_store(columns, articles=_articles(), events=[], mentions=merged)
    a, b = store.read_mentions(pairs), store.read_mentions(columns)
    assert len(a) == 3
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert a.geometry.geom_equals(b.geometry).all()


# --------------------------------------------------------------------------- atomicity


def test_exception_mid_write_keeps_previous_store(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events layer really lands in the temp file; the next layer's write fails."""
    before_bytes = _digest(db)
    before = store.read_events(db)
    real_write = pyogrio.write_dataframe
    written: list[str] = []

    def write_then_fail(df: Any, path: Any, **kwargs: Any) -> None:
        if written:
            raise OSError(28, "No space left on device")
        real_write(df, path, **kwargs)
        written.append(str(path))
        assert Path(path).stat().st_size > 0

    monkeypatch.setattr(pyogrio, "write_dataframe", write_then_fail)
    bigger = [*_events(), dataclasses.replace(_events()[0], id="evt-new")]
    with pytest.raises(StoreError, match="No space left") as info:
        store.write_store(db, articles=_articles(), events=bigger)
    assert str(db) in str(info.value) and "\n" not in str(info.value)
    assert written and written[0] != str(db)  # the real write went to a temp file
    assert _digest(db) == before_bytes
    pd.testing.assert_frame_equal(store.read_events(db), before)
    assert _temp_leftovers(db) == []


def test_failed_rename_keeps_previous_store(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _digest(db)

    def no_rename(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied", str(dst))

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", no_rename)
        with pytest.raises(StoreError, match="Permission denied"):
            store.write_store(db, articles=[], events=[])
    assert _digest(db) == before
    assert store.events_from_frame(store.read_events(db)) == _events()
    assert _temp_leftovers(db) == []


_BIG_WRITER = textwrap.dedent(
    """
    import dataclasses, datetime as dt, sys
    from pathlib import Path
    from shapely.geometry import Point
    from geo import store
    from geo.models import Article
    path = Path(sys.argv[1])
    template = store.events_from_frame(store.read_events(path))[0]
    events = [
        dataclasses.replace(template, id=f"bulk-{i}", summary="x" * 400,
                            geometry=Point(20 + i % 200 / 10, 45 + i % 70 / 10))
        for i in range(60000)
    ]
    articles = [Article(f"a{i}", f"a{i}.txt", "o", dt.date(2024, 1, 1), "t", "word " * 40000)
                for i in range(100)]
    print("ready", flush=True)
    store.write_store(path, articles=articles, events=events)
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_sigkill_mid_write_keeps_previous_store(db: Path) -> None:
    before_bytes = _digest(db)
    before = store.read_events(db)
    child = subprocess.Popen(
        [sys.executable, "-c", _BIG_WRITER, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        started = False
        while time.monotonic() < deadline and child.poll() is None:
            partial = [p / "store.gpkg" for p in _temp_leftovers(db)]
            if any(p.exists() and p.stat().st_size > 0 for p in partial):
                started = True
                break
            time.sleep(0.002)
        assert started, "the writer never started writing its temp file"
        assert child.poll() is None, "the writer finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _temp_leftovers(db), "the killed writer should have left its temp dir behind"
    assert _digest(db) == before_bytes
    pd.testing.assert_frame_equal(store.read_events(db), before)
    assert store.read_articles(db) == _articles()
    # The next write clears the dead writer's leftovers.
    store.write_store(db, articles=_articles(), events=_events())
    assert _temp_leftovers(db) == []


# --------------------------------------------------------------------------- locking


def test_lock_excludes_other_processes(db: Path) -> None:
    probe = textwrap.dedent(
        """
        import fcntl, os, sys
        fd = os.open(sys.argv[1], os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("busy")
        else:
            print("free")
        """
    )
    lock_file = Path(f"{db}.lock")

    def probe_state() -> str:
        run = subprocess.run(
            [sys.executable, "-c", probe, str(lock_file)], capture_output=True, text=True
        )
        return run.stdout.strip()

    with store.store_lock(db):
        assert probe_state() == "busy"
        with store.store_lock(db):  # re-entrant: write_store inside a caller's lock
            store.write_store(db, articles=_articles(), events=_events()[:1])
        assert probe_state() == "busy"
    assert probe_state() == "free"
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # really released
    finally:
        os.close(fd)


_APPENDER = textwrap.dedent(
    """
    import dataclasses, sys, time
    from pathlib import Path
    from geo import store
    path, tag, rounds, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    while not go.exists():
        time.sleep(0.005)
    for i in range(rounds):
        with store.store_lock(path):
            events = store.events_from_frame(store.read_events(path))
            articles = store.read_articles(path)
            time.sleep(0.05)  # widen the race: without the lock updates get lost
            events.append(dataclasses.replace(events[0], id=f"{tag}-{i}"))
            store.write_store(path, articles=articles, events=events)
    """
)


@pytest.mark.slow
def test_concurrent_read_modify_write_both_land(db: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    rounds = 5
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(db), tag, str(rounds), str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("upload-a", "upload-b")
    ]
    go.touch()
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    ids = store.read_events(db)["id"].tolist()
    added = sorted(i for i in ids if i.startswith("upload-"))
    assert added == sorted(f"upload-{t}-{i}" for t in "ab" for i in range(rounds))
    assert len(ids) == len(_events()) + 2 * rounds


# --------------------------------------------------------------------------- location


def test_default_db_location_and_env_override(tmp_path: Path) -> None:
    assert store.DEFAULT_DB.name.endswith(".gpkg")
    code = "from geo.store import DEFAULT_DB; print(DEFAULT_DB)"
    env = {k: v for k, v in os.environ.items() if k != "GEO_DB"}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert Path(default.stdout.strip()) == REPO / "var" / "geo-news.gpkg"
    custom = tmp_path / "elsewhere.gpkg"
    env["GEO_DB"] = str(custom)
    override = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert Path(override.stdout.strip()) == custom


def test_write_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.gpkg"
    store.write_store(path, articles=[], events=_events()[:1])
    assert store.read_events(path)["id"].tolist() == [_events()[0].id]
    assert shapely.equals(store.read_events(path).geometry.iloc[0], _events()[0].geometry)
