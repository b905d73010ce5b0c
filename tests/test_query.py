"""Filters, timeline and CSV export over events read back from a real GeoPackage."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from geo import query, store
from geo.models import Article, Dispute, Event, Source

PUBLISHED = dt.date(2024, 5, 10)


def _article(aid: str, text: str, outlet: str) -> Article:
    return Article(aid, f"{aid}.txt", outlet, PUBLISHED, f"Title {aid}", text)


def _source(article: Article, quote: str) -> Source:
    start = article.text.index(quote)
    end = start + len(quote)
    return Source(article.article_id, article.outlet, article.published, quote, start, end)


def _event(eid: str, *, layer: str = "incidents", event_type: str = "attack", start: dt.date,
           end: dt.date | None = None, actors: list[str], sources: list[Source],
           summary: str, geometry: object = None, disputes: list[Dispute] | None = None,
           fatalities: int | None = None) -> Event:
    return Event(
        id=eid, layer=layer, event_type=event_type,  # type: ignore[arg-type]
        acled_event_type=None, acled_sub_event_type=None,
        date=start, date_end=end or start, time_precision="day" if end is None else "week",
        place="Somewhere", place_id="gn:1", geo_precision=1, country="XK",
        actors=actors, fatalities=fatalities, summary=summary, sources=sources,
        disputed_by=disputes or [],
        geometry=geometry if geometry is not None else Point(20.9, 42.9),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> gpd.GeoDataFrame:
    a = _article("a", "Police clashed with protesters in Zvečan on Monday. "
                      "Serbian troops gathered near the line all week. "
                      "Vučić denied the build-up.", "=HYPERLINK(\"x\")")
    b = _article("b", "Protesters and police clashed in Zvecan. The army was seen near the line.",
                 "Second Outlet")
    c = _article("c", "Diplomats met in Brussels on Friday.", "Third")
    denial = "Vučić denied the build-up."
    items = [
        _event("clash", start=dt.date(2024, 5, 6), actors=["Kosovo Police", "Protesters"],
               sources=[_source(a, "Police clashed with protesters in Zvečan on Monday."),
                        _source(b, "Protesters and police clashed in Zvecan.")],
               summary="Clash in Zvečan", fatalities=0),
        _event("buildup", layer="troop_positions", event_type="military_buildup",
               start=dt.date(2024, 5, 3), end=dt.date(2024, 5, 9), actors=["Serbian troops"],
               sources=[_source(a, "Serbian troops gathered near the line all week."),
                        _source(b, "The army was seen near the line.")],
               disputes=[Dispute("Aleksandar Vučić", denial, "a", a.text.index(denial),
                                 a.text.index(denial) + len(denial))],
               summary="Build-up near the line",
               geometry=LineString([(-20.5, 43.2), (21.5, 42.8)])),
        _event("meeting", layer="diplomacy", event_type="meeting", start=dt.date(2024, 5, 10),
               actors=["EU envoy", "Kosovo Police"],
               sources=[_source(c, "Diplomats met in Brussels on Friday.")],
               summary="-1 talks in Brussels", geometry=Point(4.35, 50.85)),
        _event("old", start=dt.date(2023, 1, 2), actors=["Protesters"],
               sources=[_source(c, "Diplomats met in Brussels")], summary="Earlier protest"),
    ]
    path = tmp_path_factory.mktemp("query") / "events.gpkg"
    store.write_store(path, articles=[a, b, c], events=items)
    return store.read_events(path)


def _ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["id"])


def test_one_day_window_keeps_that_days_events_not_a_spanning_week(
    events: gpd.GeoDataFrame,
) -> None:
    day = {"start": dt.date(2024, 5, 6), "end": dt.date(2024, 5, 6)}
    assert _ids(query.filter_events(events, **day)) == ["clash"]
    # the week-long build-up overlaps that day: kept only in overlap mode
    assert _ids(query.filter_events(events, **day, dates="overlap")) == ["clash", "buildup"]
    week = {"start": dt.date(2024, 5, 3), "end": dt.date(2024, 5, 9)}
    assert _ids(query.filter_events(events, **week)) == ["clash", "buildup"]  # inclusive ends
    edge = {"start": dt.date(2024, 5, 9), "end": dt.date(2024, 5, 10)}
    assert _ids(query.filter_events(events, **edge)) == ["meeting"]
    assert _ids(query.filter_events(events, **edge, dates="overlap")) == ["buildup", "meeting"]
    assert _ids(query.filter_events(events, start=dt.date(2024, 5, 10))) == ["meeting"]
    assert _ids(query.filter_events(events, end=dt.date(2023, 12, 31))) == ["old"]
    with pytest.raises(ValueError, match="within"):
        query.filter_events(events, **day, dates="touching")  # type: ignore[arg-type]


def test_layers_and_types_none_means_all_empty_means_none(events: gpd.GeoDataFrame) -> None:
    assert len(query.filter_events(events, layers=None)) == 4
    assert query.filter_events(events, layers=[]).empty
    assert _ids(query.filter_events(events, layers=["troop_positions", "diplomacy"])) == [
        "buildup", "meeting"]
    assert _ids(query.filter_events(events, event_types=["attack"])) == ["clash", "old"]


def test_actor_filter_matches_any_named_actor(events: gpd.GeoDataFrame) -> None:
    assert _ids(query.filter_events(events, actors=["Kosovo Police"])) == ["clash", "meeting"]
    assert _ids(query.filter_events(events, actors=["Serbian troops", "EU envoy"])) == [
        "buildup", "meeting"]
    assert query.actor_options(events)[:2] == ["Kosovo Police", "Protesters"]


def test_min_sources_counts_articles(events: gpd.GeoDataFrame) -> None:
    assert _ids(query.filter_events(events, min_sources=2)) == ["clash", "buildup"]


def test_search_is_accent_and_case_blind_and_reads_quotes_and_disputes(
    events: gpd.GeoDataFrame,
) -> None:
    hay = query.search_haystack(events)
    assert _ids(query.filter_events(events, text="zvecan", haystack=hay)) == ["clash"]
    assert _ids(query.filter_events(events, text="VUCIC denied", haystack=hay)) == ["buildup"]
    assert _ids(query.filter_events(events, text='"near the line"', haystack=hay)) == ["buildup"]
    assert query.filter_events(events, text='"line near"', haystack=hay).empty
    assert _ids(query.filter_events(events, text="second outlet")) == ["clash", "buildup"]
    assert len(query.filter_events(events, text="   ")) == 4


def test_filters_combine(events: gpd.GeoDataFrame) -> None:
    shown = query.filter_events(events, start=dt.date(2024, 5, 1), layers=["incidents"],
                                actors=["Protesters"], min_sources=2, text="police")
    assert _ids(shown) == ["clash"]
    assert isinstance(shown, gpd.GeoDataFrame)


def test_date_bounds_and_layer_counts(events: gpd.GeoDataFrame) -> None:
    assert query.date_bounds(events) == (dt.date(2023, 1, 2), dt.date(2024, 5, 10))
    assert query.date_bounds(events.iloc[0:0]) is None
    counts = query.layer_counts(events, layers=("incidents", "troop_positions", "diplomacy"))
    assert counts == {"incidents": 2, "troop_positions": 1, "diplomacy": 1}


def test_timeline_counts_each_event_on_its_start_day(events: gpd.GeoDataFrame) -> None:
    recent = query.filter_events(events, start=dt.date(2024, 5, 1))
    line = query.timeline(recent)
    assert line["events"].sum() == len(recent)
    days = pd.date_range("2024-05-03", "2024-05-10", freq="D")
    assert set(line["date"]) == set(days)  # zero-filled over the span
    got = {(d.date().isoformat(), layer): n for d, layer, n in line.itertuples(index=False) if n}
    assert got == {("2024-05-03", "troop_positions"): 1, ("2024-05-06", "incidents"): 1,
                   ("2024-05-10", "diplomacy"): 1}
    assert query.timeline(events.iloc[0:0]).empty


def test_csv_has_one_row_per_event_and_defuses_formulas(events: gpd.GeoDataFrame) -> None:
    text = query.to_csv(events)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == list(events["id"])
    assert list(rows[0].keys()) == list(query.CSV_COLUMNS)
    clash, buildup, meeting = rows[0], rows[1], rows[2]
    assert clash["outlets"].startswith("'=HYPERLINK")  # spreadsheet would run it otherwise
    assert meeting["summary"] == "'-1 talks in Brussels"
    assert clash["fatalities"] == "0" and buildup["fatalities"] == ""
    assert clash["actors"] == "Kosovo Police; Protesters"
    assert float(buildup["lon"]) < 21.5 and not buildup["lon"].startswith("'")
    assert json.loads(buildup["disputed_by"])[0]["who"] == "Aleksandar Vučić"
    assert [s["article"] for s in json.loads(clash["sources"])] == ["a", "b"]
    assert buildup["geometry_wkt"].startswith("LINESTRING")


def test_csv_columns_keep_every_geojson_property() -> None:
    """The CSV adds columns (outlets, lon/lat, WKT) but must never drop a property
    the GeoJSON export has: a new event field has to reach both downloads."""
    from geo.export import EVENT_PROPERTIES

    assert set(EVENT_PROPERTIES) <= set(query.CSV_COLUMNS)


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.integers(0, 60), min_size=1, max_size=12),
    lengths=st.lists(st.integers(0, 10), min_size=12, max_size=12),
    window=st.tuples(st.integers(-5, 70), st.integers(0, 20)),
)
def test_date_filter_equals_interval_arithmetic(
    starts: list[int], lengths: list[int], window: tuple[int, int]
) -> None:
    base = dt.date(2024, 1, 1)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"e{i}" for i in range(len(starts))],
            "layer": "incidents",
            "date": [(base + dt.timedelta(days=s)).isoformat() for s in starts],
            "date_end": [
                (base + dt.timedelta(days=s + n)).isoformat()
                for s, n in zip(starts, lengths, strict=False)
            ],
        },
        geometry=[Point(0, 0)] * len(starts),
    )
    lo = base + dt.timedelta(days=window[0])
    hi = lo + dt.timedelta(days=window[1])
    spans = [
        (f"e{i}", base + dt.timedelta(days=s), base + dt.timedelta(days=s + n))
        for i, (s, n) in enumerate(zip(starts, lengths, strict=False))
    ]
    overlap = set(query.filter_events(frame, start=lo, end=hi, dates="overlap")["id"])
    assert overlap == {eid for eid, a, b in spans if a <= hi and b >= lo}
    within = set(query.filter_events(frame, start=lo, end=hi)["id"])
    assert within == {eid for eid, a, b in spans if lo <= a and b <= hi}
    assert within <= overlap


def test_search_terms_keep_quoted_phrases() -> None:
    assert query.search_terms('KFOR "armed  group" Vučić') == ["kfor", "armed  group", "vucic"]


def test_as_list_reads_json_text_and_arrays(tmp_path: Path) -> None:
    assert query.as_list('["a", "b"]') == ["a", "b"]
    assert query.as_list(None) == []
    assert query.as_list(float("nan")) == []
    assert query.as_list("plain") == ["plain"]
