"""Map building without a browser: styles, escaping, payload, offline assets, scaling."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import folium
import geopandas as gpd
import numpy as np
import pytest
from branca.element import Element
from folium.elements import JSCSSMixin
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geo import mapview, store
from geo.errors import RulesError
from geo.models import Article, Dispute, Event, Source

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'
PUBLISHED = dt.date(2024, 5, 10)


@pytest.fixture(scope="module")
def styles() -> mapview.MapStyles:
    return mapview.load_styles()


def _event(eid: str, *, layer: str, event_type: str, geometry: object, actors: list[str],
           article: Article, quote: str, fatalities: int | None = None,
           disputes: list[Dispute] | None = None, summary: str = "An event") -> Event:
    start = article.text.index(quote)
    return Event(
        id=eid, layer=layer, event_type=event_type,  # type: ignore[arg-type]
        acled_event_type="Battles" if layer == "incidents" else None,
        acled_sub_event_type="Armed clash" if layer == "incidents" else None,
        date=dt.date(2024, 5, 6), date_end=dt.date(2024, 5, 6), time_precision="day",
        place="Zvečan", place_id="gn:3", geo_precision=2, country="XK", actors=actors,
        fatalities=fatalities, summary=summary,
        sources=[Source(article.article_id, article.outlet, PUBLISHED, quote, start,
                        start + len(quote))],
        disputed_by=disputes or [], geometry=geometry,  # type: ignore[arg-type]
        notes=["placed at the town named in the sentence"],
    )


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> gpd.GeoDataFrame:
    text = ("Gunmen attacked police near Zvečan. " + HOSTILE
            + " Serbian troops massed on the line. "
            "KFOR deployed more troops. The envoy called Belgrade. Nobody was hurt.")
    art = Article("art", "art.txt", "Outlet <i>One</i>", PUBLISHED, "t", text)
    denial = "Nobody was hurt."
    items = [
        _event("attack", layer="incidents", event_type="attack", geometry=Point(20.84, 42.91),
               actors=["Serb gunmen", "Kosovo Police"], article=art,
               quote="Gunmen attacked police near Zvečan. " + HOSTILE, fatalities=4,
               summary="Attack " + HOSTILE,
               disputes=[Dispute("Official <b>X</b>", denial, "art", text.index(denial),
                                 text.index(denial) + len(denial))]),
        _event("line", layer="troop_positions", event_type="military_buildup",
               geometry=LineString([(20.6, 43.2), (21.2, 43.0), (21.6, 42.8)]),
               actors=["Serbian troops"], article=art, quote="Serbian troops massed on the line."),
        _event("area", layer="troop_positions", event_type="peacekeeping_deployment",
               geometry=Polygon([(20.4, 42.9), (21, 42.9), (21, 43.3), (20.4, 43.3)]),
               actors=["KFOR"], article=art, quote="KFOR deployed more troops."),
        _event("call", layer="diplomacy", event_type="brand_new_type",
               geometry=MultiPoint([(-77.04, 38.9), (20.46, 44.82)]),
               actors=["Unnamed caller"], article=art, quote="The envoy called Belgrade."),
    ]
    path = tmp_path_factory.mktemp("mapview") / "events.gpkg"
    store.write_store(path, articles=[art], events=items)
    return store.read_events(path)


class _TagCheck(HTMLParser):
    """Collects start tags and checks that every opened tag closes in order."""

    VOID: ClassVar[frozenset[str]] = frozenset(
        {"br", "img", "input", "meta", "link", "hr", "circle", "rect", "polygon"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


def test_styles_file_groups_actors_in_order(styles: mapview.MapStyles) -> None:
    assert styles.group_for(["Kosovo Police"]).id == "police"
    assert styles.group_for(["KFOR troops"]).id == "kfor_nato"
    assert styles.group_for(["Serbian Armed Forces"]).id == "serbian_forces"
    assert styles.group_for(["Serb gunmen", "Kosovo Police"]).id == "armed_groups"
    assert styles.group_for(["Someone", "NATO"]).id == "kfor_nato"
    # group order is priority, whatever the actor order
    assert styles.group_for(["Kosovo police", "Serbian forces"]).id == "serbian_forces"
    assert styles.group_for(["Antony Blinken (US)"]).id == "other"
    assert styles.group_for(["Antony Blinken (US)"], layer="diplomacy").id == "officials"
    assert styles.group_for(["Unknown person"]).id == "other"
    assert styles.group_for([]).id == "other"
    # word starts only: "Kfor" inside another word does not count
    assert styles.group_for(["Bigkforce"]).id == "other"
    assert styles.type_style("incidents", "attack").symbol == "star"
    assert styles.type_style("diplomacy", "brand_new_type").symbol == "circle"
    assert styles.type_style("diplomacy", "brand_new_type").label == "Brand new type"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[actor_groups]]\nid="a"\nlabel="A"\ncolour="red"\npatterns=["x"]\n', "colour"),
        ('[event_types]\nattack = { label = "A", symbol = "blob" }\n', "unknown symbol"),
        ("[layers\n", "invalid TOML"),
        ('[layers.x]\nlabel="X"\nsymbol="circle"\ndefault_group="nobody"\n', "default_group"),
    ],
)
def test_bad_styles_file_raises_rules_error(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "styles.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        mapview.load_styles(path)


def test_icon_size_grows_with_fatalities_and_is_capped() -> None:
    sizes = [mapview.icon_size(n) for n in (None, 0, 1, 4, 10, 50, 10_000)]
    assert sizes[0] == sizes[1] < sizes[2] < sizes[3] < sizes[4] <= sizes[5] == sizes[6]
    assert sizes[-1] <= 48
    assert mapview.icon_size(float("nan")) == sizes[0]


def test_popup_escapes_every_article_string(events: gpd.GeoDataFrame,
                                            styles: mapview.MapStyles) -> None:
    row = events.drop(columns="geometry").to_dict("records")[0]
    popup = mapview.popup_html(row, styles=styles)
    parser = _TagCheck()
    parser.feed(popup)
    assert parser.balanced
    assert "script" not in parser.tags and "img" not in parser.tags and "i" not in parser.tags
    assert "&lt;script&gt;" in popup and "onerror=&quot;alert(1)&quot;" in popup
    assert "Outlet &lt;i&gt;One&lt;/i&gt;" in popup
    assert "Official &lt;b&gt;X&lt;/b&gt;" in popup and "Nobody was hurt." in popup
    assert "2024-05-06 (exact day)" in popup
    assert "precision 2: near the named place" in popup
    assert "placed at the town named in the sentence" in popup  # why here?
    assert "Serb gunmen, Kosovo Police" in popup and "<td>4</td>" in popup
    assert "Sources (1)" in popup and "Battles / Armed clash" in popup
    tip = mapview.tooltip_text(row, styles=styles)
    assert tip == "Attack · 2024-05-06 · Zvečan"


def test_payload_has_one_entry_per_event_and_icons_per_anchor(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles
) -> None:
    payload = mapview.build_payload(events, styles=styles)
    assert payload.n_events == len(events) == 4
    assert payload.n_markers == 5  # the call is drawn at both ends
    assert [len(payload.layers[k].info) for k in ("incidents", "troop_positions", "diplomacy")] \
        == [1, 2, 1]
    shapes = payload.layers["troop_positions"].shapes
    assert [s["geometry"]["type"] for s in shapes] == ["LineString", "Polygon"]
    lat, lon = payload.layers["incidents"].rows[0][:2]
    assert (lat, lon) == (42.91, 20.84)  # folium order
    line_anchor = payload.layers["troop_positions"].rows[0]
    assert LineString([(20.6, 43.2), (21.2, 43.0), (21.6, 42.8)]).distance(
        Point(line_anchor[1], line_anchor[0])) < 1e-6
    groups = {"armed_groups", "serbian_forces", "kfor_nato", "officials"}
    assert set(payload.legend_groups) == groups
    sizes = {size for _, size in payload.icons}
    assert mapview.icon_size(4) in sizes and mapview.icon_size(None) in sizes


def test_events_without_geometry_are_counted_not_drawn(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles
) -> None:
    broken = events.copy()
    broken.loc[broken.index[0], "geometry"] = None
    payload = mapview.build_payload(broken, styles=styles)
    assert payload.skipped == 1 and payload.n_events == 3


def _walk(element: Element) -> list[Element]:
    found = [element]
    for child in element._children.values():
        found.extend(_walk(child))
    return found


def _rendered(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def _overlay_data(html_text: str) -> dict:
    """The event overlay's data as the browser parses it (``JSON.parse('…')``)."""
    found = re.search(r"var D = JSON\.parse\('((?:[^'\\]|\\.)*)'\);", html_text)
    assert found, "no event overlay in the map"
    literal = re.sub(r"\\(.)", r"\1", found.group(1))  # the JS string's own escapes
    data = json.loads(literal)
    assert isinstance(data, dict)
    return data


def _resolved(payload: mapview.EventPayload) -> dict[str, tuple[list, list, list]]:
    """Rows (icons as their SVG), info (strings resolved) and shapes, layer by layer."""
    strings = payload.strings

    def info(row: list) -> list:
        if payload.mode == mapview.MODE_COMPACT:
            return [row[0], strings[row[1]], strings[row[2]], strings[row[3]], *row[4:7],
                    strings[row[7]]]
        if payload.mode == mapview.MODE_AGGREGATED:
            return [strings[row[0]], strings[row[1]], strings[row[2]], row[3], strings[row[4]],
                    [[strings[s], k] for s, k in row[5]], row[6], row[7]]
        return row

    return {
        layer: ([[*r[:2], payload.icons[r[2]][0], *r[3:]] for r in part.rows],
                [info(r) for r in part.info], part.shapes)
        for layer, part in payload.layers.items()
    }


def test_map_uses_only_local_assets(events: gpd.GeoDataFrame, styles: mapview.MapStyles) -> None:
    fmap = mapview.build_map(events, styles=styles, reference=mapview.load_reference_layers(),
                             asset_base="/assets")
    html_text = _rendered(fmap)
    links = [url for el in _walk(fmap) if isinstance(el, JSCSSMixin)
             for _, url in (*el.default_js, *el.default_css)]
    assert links and all(url.startswith("/assets/") for url in links)  # what st_folium loads
    for url in links:
        assert (ROOT / "static" / "vendor" / url.removeprefix("/assets/")).is_file(), url
    assert not re.search(r"https?://(cdn|code\.jquery|netdna|cdnjs)", html_text)


def test_map_has_layers_legend_fullscreen_and_escaped_data(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles
) -> None:
    fmap = mapview.build_map(events, styles=styles, reference=mapview.load_reference_layers(),
                             mention_places=mapview.aggregate_mentions(
                                 gpd.GeoDataFrame({"place_id": ["gn:1", "gn:1"],
                                                   "name": ["A", "A"], "kind": ["town", "town"],
                                                   "country": ["XK", "XK"],
                                                   "article_id": ["x", "y"]},
                                                  geometry=[Point(1, 2), Point(1, 2)])))
    html_text = _rendered(fmap)
    for name in ("Natural Earth (offline)", "OpenStreetMap (web tiles)", "Country outlines",
                 "Administrative boundary line", "Incidents (1)", "Troop positions (2)",
                 "Diplomacy (1)", "Place mentions (1)"):
        assert name in html_text, name
    assert "L.control.fullscreen" in html_text and "L.control.layers" in html_text
    assert "ev-legend" in html_text and "Armed groups" in html_text
    assert "<script>alert" not in html_text and "onerror=\"alert" not in html_text
    # popup HTML is escaped, then travels as JSON with < and & escaped again (inside a
    # JS string), so it can neither open a tag nor close the script element carrying it
    assert "\\\\u0026lt;script\\\\u0026gt;" in html_text
    data = _overlay_data(html_text)
    popups = [row[2] for layer in data["layers"] for row in layer["info"]]
    assert any("&lt;script&gt;alert" in popup for popup in popups)
    assert data["cluster"]["maxClusterRadius"] == 3  # few events: only overlapping icons
    assert data["cluster"]["chunkedLoading"] is False
    assert "Armed groups" in data["legend"] and data["bounds"]
    assert "fitBounds" in html_text and "\"maxZoom\": 18" in html_text


def test_large_selection_is_clustered_and_compact(styles: mapview.MapStyles) -> None:
    rng = np.random.default_rng(7)
    n = 5000
    frame = gpd.GeoDataFrame(
        {
            "id": [f"e{i}" for i in range(n)],
            "layer": rng.choice(["incidents", "troop_positions", "diplomacy"], n),
            "event_type": "attack",
            "date": "2024-01-01",
            "date_end": "2024-01-01",
            "time_precision": "day",
            "place": "P",
            "place_id": "gn:1",
            "geo_precision": 1,
            "country": "XK",
            "actors": [["KFOR"]] * n,
            "fatalities": rng.integers(0, 20, n),
            "summary": "s " * 200,
            "sources": [[{"article": "a", "outlet": "o", "quote": "q" * 300}]] * n,
            "n_sources": 1,
            "disputed_by": [[]] * n,
        },
        geometry=gpd.points_from_xy(rng.uniform(19, 22, n), rng.uniform(41, 44, n)),
        crs="EPSG:4326",
    )
    fmap = mapview.build_map(frame, styles=styles, popup_detail_limit=1000,
                             cluster_threshold=1000)
    html_text = _rendered(fmap)
    data = _overlay_data(html_text)
    assert data["mode"] == mapview.MODE_COMPACT
    assert [layer["key"] for layer in data["layers"]] == ["incidents", "troop_positions",
                                                          "diplomacy"]
    assert sum(len(layer["rows"]) for layer in data["layers"]) == n
    assert data["cluster"]["chunkedLoading"] is True
    assert data["cluster"]["animate"] is False  # no per-zoom cluster animations
    assert html_text.count("L.marker(") == 1  # markers are built in the browser, not per event
    assert "q" * 300 not in html_text  # short popups above the detail limit
    assert len(html_text) / n < 1000  # bytes per event stay small


def test_focus_bounds_ignore_far_minority() -> None:
    balkans = [(20.8 + i * 0.01, 42.9 + i * 0.01) for i in range(8)]
    bounds = mapview.focus_bounds([*balkans, (-77.0, 38.9)])
    assert bounds is not None
    (south, west), (north, east) = bounds
    assert west > 20 and east < 22 and south > 42 and north < 44
    assert mapview.focus_bounds([]) is None
    two = mapview.focus_bounds([(-77.0, 38.9), (20.4, 44.8)])
    assert two is not None and two[0][1] < -77 and two[1][1] > 20.4
    # a call's far ends (4 of 14 points) stay out of the first view
    calls = [*balkans, (20.46, 44.82), (21.17, 42.67), *[(-77.04, 38.9)] * 4]
    view = mapview.focus_bounds(calls)
    assert view is not None and view[0][1] > 19 and view[1][0] > 44.8
    # evenly spread events are all kept
    spread = [(lon, lat) for lon in range(-150, 151, 30) for lat in (-40, 0, 40)]
    world = mapview.focus_bounds(spread)
    assert world is not None and world[0][1] < -150 and world[1][1] > 150


def test_reference_layers_offline(tmp_path: Path) -> None:
    ref = mapview.load_reference_layers()
    names = {f["properties"].get("_tip") for f in ref.land["features"]}
    assert "Kosovo" in names and "Serbia" in names and "Brazil" in names
    assert len(ref.land["features"]) == len(set(map(json.dumps, ref.land["features"])))
    assert ref.abl is not None and ref.abl["features"]
    zooms = {name: zoom for _, _, name, zoom in ref.labels}
    assert zooms["Russia"] < zooms["Serbia"] < zooms["Kosovo"] <= 7
    lat, lon = next((r[0], r[1]) for r in ref.labels if r[2] == "Kosovo")
    assert 41.8 < lat < 43.3 and 20.0 < lon < 21.8
    # without the curated file the Natural Earth disputed line is used
    shutil.copytree(ROOT / "data" / "naturalearth", tmp_path / "naturalearth")
    fallback = mapview.load_reference_layers(data_dir=tmp_path)
    assert fallback.abl is not None
    assert fallback.abl["features"][0]["properties"]["_tip"].startswith("Administrative")


def test_aggregate_mentions_counts_places_and_articles() -> None:
    frame = gpd.GeoDataFrame(
        {"place_id": ["a", "a", "a", "b"], "name": ["A", "A", "A", "B"],
         "kind": ["town"] * 4, "country": ["XK"] * 4, "article_id": ["1", "1", "2", "1"]},
        geometry=[Point(1, 2)] * 3 + [Point(3, 4)],
    )
    agg = mapview.aggregate_mentions(frame)
    assert list(agg["place_id"]) == ["a", "b"]
    assert list(agg["mentions"]) == [3, 1] and list(agg["articles"]) == [2, 1]
    assert (agg.loc[0, "lon"], agg.loc[0, "lat"]) == (1.0, 2.0)
    assert mapview.aggregate_mentions(frame.iloc[0:0]).empty


JINJA = "{{ 7*7 }} {% for i in range(3) %}x{% endfor %} {# hidden #} {{ config }}"


def test_jinja_syntax_in_article_text_is_never_evaluated(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles
) -> None:
    """branca compiles folium's output as Jinja again: data must not be template code."""
    hostile = events.copy()
    hostile["summary"] = JINJA
    hostile["place"] = JINJA
    hostile["sources"] = [[{**s, "quote": JINJA, "outlet": JINJA} for s in srcs]
                          for srcs in hostile["sources"]]
    for limit in (3000, 1):  # detailed and compact popups
        fmap = mapview.build_map(hostile, styles=styles, popup_detail_limit=limit)
        html_text = _rendered(fmap)  # a TemplateSyntaxError here would be a crash
        assert "{{" not in html_text and "{%" not in html_text and "{#" not in html_text
        assert "xxx" not in html_text and " 49 " not in html_text
        assert "\\u007b\\u007b 7*7 \\u007d\\u007d" in html_text or "#123;" in html_text


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from(
        list("{}%#<>&\"'\\ab \u2028\u2029é")), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(alphabet="{}%#ab\"", max_size=4), inner, max_size=4),
    max_leaves=12,
))
def test_js_json_round_trips_without_jinja_or_html_delimiters(value: object) -> None:
    text = mapview._js_json(value)
    assert json.loads(text) == value
    for bad in ("{{", "{%", "{#", "<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text


def _spot_frame(rows: list[tuple[str, str]], *, point: Point) -> gpd.GeoDataFrame:
    """Incidents at one place: (event type, actor) per event."""
    n = len(rows)
    return gpd.GeoDataFrame(
        {
            "id": [f"e{i}" for i in range(n)],
            "layer": "incidents",
            "event_type": [kind for kind, _ in rows],
            "date": [f"2024-01-{i + 1:02d}" for i in range(n)],
            "date_end": [f"2024-01-{i + 1:02d}" for i in range(n)],
            "time_precision": "day",
            "place": "Zvečan <b>",
            "place_id": "gn:1",
            "geo_precision": 1,
            "country": "XK",
            "actors": [[actor] for _, actor in rows],
            "fatalities": None,
            "summary": "s",
            "sources": [[]] * n,
            "n_sources": 1,
            "disputed_by": [[]] * n,
        },
        geometry=[point] * n,
        crs="EPSG:4326",
    )


def test_counted_marker_shows_the_most_frequent_type_with_its_count(
    styles: mapview.MapStyles,
) -> None:
    # 3 attacks by three different actor groups (three colours), 2 arrests by the police:
    # the most frequent look is a police arrest, the most frequent type is the attack
    frame = _spot_frame(
        [("attack", "Serbian forces"), ("attack", "KFOR"), ("attack", "Serb gunmen"),
         ("arrests", "Kosovo Police"), ("arrests", "Kosovo Police"),
         ("riot", "Protesters")],
        point=Point(20.84, 42.91),
    )
    payload = mapview.build_payload(frame, styles=styles, aggregate_threshold=1)
    assert payload.aggregated and payload.events_per_layer["incidents"] == 6
    rows, info, _ = _resolved(payload)["incidents"]
    assert len(rows) == len(info) == 1  # one counted marker for the spot
    top, when, where, count, colour, kinds, more, top_count = info[0]
    assert (top, top_count, count) == ("Attack", 3, 6)
    assert kinds == [["Attack", 3], ["Arrests", 2], ["Riot", 1]] and more is False
    assert when == "2024-01-01 – 2024-01-06" and where == "Zvečan &lt;b&gt;, XK"
    # the icon is the attack's symbol in the colour of one of the attacks
    assert rows[0][2] == mapview.symbol_svg("star", colour, mapview.icon_size(None))
    assert colour in {styles.group_for([a]).colour
                      for a in ("Serbian forces", "KFOR", "Serb gunmen")}
    assert rows[0][4] == 6
    html_text = _rendered(mapview.build_map(frame, styles=styles, aggregate_threshold=1))
    assert "Most frequent " in html_text  # the popup names it (assembled in the browser)


def test_counted_marker_ties_and_long_type_lists(styles: mapview.MapStyles) -> None:
    kinds = ["riot", "protest", "arson", "attack", "killing", "explosion", "arrests"]
    frame = _spot_frame([(k, "Someone") for k in kinds], point=Point(21.0, 42.6))
    payload = mapview.build_payload(frame, styles=styles, aggregate_threshold=1)
    _, info, _ = _resolved(payload)["incidents"]
    top, *_, listed, more, top_count = info[0]
    # all equally frequent: alphabetical, so the choice does not depend on row order
    assert (top, top_count) == ("Arrests", 1)
    assert [name for name, _ in listed] == ["Arrests", "Arson", "Attack", "Explosion",
                                            "Killing", "Protest"]
    assert more is True
    shuffled = mapview.build_payload(frame.iloc[::-1], styles=styles, aggregate_threshold=1)
    assert _resolved(shuffled)["incidents"][1] == info


@pytest.mark.parametrize("limits", [(3000, 20_000), (2, 20_000), (1, 2)])
def test_index_payload_of_a_selection_equals_a_fresh_build(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles, limits: tuple[int, int]
) -> None:
    """A filter change selects rows of the store's index: the same map as building anew."""
    detail, aggregate = limits
    index = mapview.EventIndex(events, styles=styles)
    for rows in ([0, 2, 3], [1], [3, 0]):
        shown = events.iloc[sorted(rows)]
        got = index.payload(index.positions_of(shown), popup_detail_limit=detail,
                            aggregate_threshold=aggregate)
        want = mapview.build_payload(shown, styles=styles, popup_detail_limit=detail,
                                     aggregate_threshold=aggregate)
        assert got.mode == want.mode
        assert _resolved(got) == _resolved(want)
        assert got.bounds == want.bounds and got.events_per_layer == want.events_per_layer
        assert got.legend_types.keys() == want.legend_types.keys()
    assert index.payload(np.zeros(0, dtype=np.int64)).n_markers == 0


def test_events_sharing_a_shape_draw_it_once(styles: mapview.MapStyles) -> None:
    area = Polygon([(20.4, 42.9), (21, 42.9), (21, 43.3), (20.4, 43.3)])
    frame = _spot_frame([("attack", "KFOR")] * 4, point=Point(0, 0))
    frame = frame.set_geometry([area] * 4, crs="EPSG:4326")
    payload = mapview.build_payload(frame, styles=styles)
    shapes = payload.layers["incidents"].shapes
    assert len(shapes) == 1 and shapes[0]["properties"]["e"] == [0, 1, 2, 3]
    assert len(payload.layers["incidents"].rows) == 4  # every event keeps its icon


def test_base_map_does_not_depend_on_the_events(
    events: gpd.GeoDataFrame, styles: mapview.MapStyles
) -> None:
    """st_folium keeps a map whose own script is unchanged: filters only swap the overlay."""
    reference = mapview.load_reference_layers()

    def script(shown: gpd.GeoDataFrame) -> tuple[str, str]:
        fmap = mapview.base_map(reference=reference)
        mapview.event_overlay(mapview.build_payload(shown, styles=styles),
                              styles=styles).add_to(fmap)
        html_text = _rendered(fmap)
        # ids differ per object; st_folium strips them the same way before comparing
        html_text = re.sub(r"_[0-9a-f]{32}", "_ID", html_text)
        overlay = html_text.index("var D = JSON.parse(")
        return html_text[:overlay], html_text[overlay:]

    (base_all, overlay_all), (base_one, overlay_one) = script(events), script(events.iloc[:1])
    assert base_all == base_one and overlay_all != overlay_one


def test_script_bundle_serves_leaflet_plugins_and_land_in_one_file(tmp_path: Path) -> None:
    reference = mapview.load_reference_layers()
    bundle = mapview.script_bundle(reference)
    for name in ("leaflet/leaflet.js", "leaflet.markercluster/leaflet.markercluster.js",
                 "leaflet.fullscreen/Control.FullScreen.js"):
        assert (ROOT / "static" / "vendor" / name).read_text(encoding="utf-8") in bundle
    assert f"var {mapview.LAND_VAR} = JSON.parse(" in bundle
    fmap = mapview.base_map(reference=reference, asset_base="/assets", bundle_url="/b.js")
    html_text = _rendered(fmap)
    scripts = re.findall(r'<script src="([^"]+)"', html_text)
    assert scripts == ["/b.js"]  # one request before the map can start
    assert all(url.startswith("/assets/") for url in re.findall(r'href="([^"]+\.css)"',
                                                               html_text))
    assert f"L.geoJSON({mapview.LAND_VAR}," in html_text  # land from the bundle...
    inline = _rendered(mapview.base_map(reference=reference, asset_base="/assets"))
    assert len(inline) - len(html_text) > 200_000  # ...not in the map's own script
