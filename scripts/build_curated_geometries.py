"""Build data/curated_geometries.geojson from the Natural Earth extracts in data/naturalearth/.

Why a script: the curated line and area geometries must be reproducible from
public-domain inputs that ship with the repository, with no network. Run it
after changing a rule below and commit the output:

    python scripts/build_curated_geometries.py

Rules (documented in data/README.md, section "Curated geometries"):

* ``cur:abl``: the Natural Earth 1:10m land boundary whose featurecla starts
  with "Disputed", adm0_left "Republic of Serbia", adm0_right "Kosovo"; its
  parts are merged with shapely.ops.linemerge into one LineString.
* ``cur:northern-kosovo``: the Kosovo polygon (polygonized from every 10m line
  with Kosovo on one side) cut to latitude >= 42.885 (just south of the Ibar
  bridge in Mitrovica, 42.8917 N) and longitude <= 21.0 E. An approximation of
  the four Serb-majority municipalities Leposavić, Zvečan, Zubin Potok and
  North Mitrovica, not their legal boundaries.
* ``cur:western-balkans``: union of the 1:50m polygons of AL, BA, XK, ME, MK, RS.
* ``cur:balkans``: the Western Balkans plus HR, BG and GR (1:50m), simplified.

Output: an RFC 7946 FeatureCollection, lon/lat rounded to 6 decimals, exterior
rings counter-clockwise and holes clockwise. Each feature carries ``place_id``,
``name``, ``rule`` and its representative point ``rep_lon``/``rep_lat`` (the
same point data/places_curated.csv gives for that place).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import linemerge, polygonize, unary_union

REPO = Path(__file__).resolve().parent.parent
NE_DIR = REPO / "data" / "naturalearth"
LINES_10M = NE_DIR / "ne_10m_admin_0_boundary_lines_land_balkans.geojson"
COUNTRIES_50M = NE_DIR / "ne_50m_admin_0_countries_balkans.geojson"
OUT = REPO / "data" / "curated_geometries.geojson"

NORTH_KOSOVO_MIN_LAT = 42.885
NORTH_KOSOVO_MAX_LON = 21.0
WESTERN_BALKANS = ("AL", "BA", "XK", "ME", "MK", "RS")
BALKANS = (*WESTERN_BALKANS, "HR", "BG", "GR")
# Wikipedia "Balkans" infobox coordinates (42°N 22°E): the cited point for cur:balkans.
BALKANS_POINT_LON_LAT = (22.0, 42.0)
# Holes smaller than this (deg²) are slivers between neighbouring 1:50m polygons.
_SLIVER_DEG2 = 1e-3
_BALKANS_SIMPLIFY_DEG = 0.005


class BuildError(RuntimeError):
    """The Natural Earth input no longer matches the rules above."""


def _load_features(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BuildError(f"{path}: missing; restore data/naturalearth/ from git")
    data = json.loads(path.read_text(encoding="utf-8"))
    features: list[dict[str, Any]] = data["features"]
    return features


def build_abl(line_features: list[dict[str, Any]]) -> LineString:
    """The Serbia–Kosovo 'Disputed' 10m line, merged into one LineString."""
    parts = [
        shape(f["geometry"])
        for f in line_features
        if str(f["properties"].get("featurecla", "")).startswith("Disputed")
        and f["properties"].get("adm0_left") == "Republic of Serbia"
        and f["properties"].get("adm0_right") == "Kosovo"
    ]
    if not parts:
        raise BuildError(f"{LINES_10M}: no Disputed Serbia/Kosovo line; check the extract")
    merged = linemerge(unary_union(parts))
    if not isinstance(merged, LineString):
        raise BuildError(f"{LINES_10M}: the ABL parts do not merge into one line")
    return merged


def build_kosovo(line_features: list[dict[str, Any]]) -> Polygon:
    """Kosovo as the one polygon its 10m boundary lines enclose."""
    lines = [
        shape(f["geometry"])
        for f in line_features
        if "Kosovo" in (f["properties"].get("adm0_left"), f["properties"].get("adm0_right"))
    ]
    polygons = list(polygonize(unary_union(lines)))
    if not polygons:
        raise BuildError(f"{LINES_10M}: the Kosovo lines enclose no polygon")
    return max(polygons, key=lambda p: p.area)


def build_northern_kosovo(kosovo: Polygon) -> Polygon:
    """Kosovo north of the Ibar at Mitrovica and west of 21°E (see module doc)."""
    cut = kosovo.intersection(box(18.0, NORTH_KOSOVO_MIN_LAT, NORTH_KOSOVO_MAX_LON, 44.0))
    if isinstance(cut, MultiPolygon):
        cut = max(cut.geoms, key=lambda p: p.area)
    if not isinstance(cut, Polygon) or cut.is_empty:
        raise BuildError("northern Kosovo cut is empty; check NORTH_KOSOVO_* constants")
    return cut


def _drop_slivers(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Remove the tiny holes left where 1:50m neighbours do not quite touch."""
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    cleaned = [
        Polygon(p.exterior, [r for r in p.interiors if Polygon(r).area >= _SLIVER_DEG2])
        for p in polys
        if isinstance(p, Polygon)
    ]
    return cleaned[0] if len(cleaned) == 1 else MultiPolygon(cleaned)


def build_union(
    country_features: list[dict[str, Any]], isos: tuple[str, ...], *, simplify_deg: float = 0.0
) -> Polygon | MultiPolygon:
    """Union of the listed countries' 1:50m polygons."""
    by_iso = {f["properties"].get("ISO_A2"): shape(f["geometry"]) for f in country_features}
    missing = [iso for iso in isos if iso not in by_iso]
    if missing:
        raise BuildError(f"{COUNTRIES_50M}: no polygon for {', '.join(missing)}")
    union = unary_union([by_iso[iso].buffer(0) for iso in isos])
    if simplify_deg:
        union = union.simplify(simplify_deg, preserve_topology=True)
    return _drop_slivers(union)


def _representative_lon_lat(geom: BaseGeometry) -> tuple[float, float]:
    """Centroid when it falls inside, else shapely's point on surface; lines: midpoint."""
    if isinstance(geom, LineString):
        mid = geom.interpolate(0.5, normalized=True)
        return (round(mid.x, 6), round(mid.y, 6))
    centroid = geom.centroid
    point = centroid if geom.contains(centroid) else geom.representative_point()
    return (round(point.x, 6), round(point.y, 6))


def _round_ring(coords: Any) -> list[list[float]]:
    return [[round(x, 6), round(y, 6)] for x, y, *_ in coords]


def _polygon_coords(poly: Polygon) -> list[list[list[float]]]:
    oriented = orient(poly, sign=1.0)  # exterior CCW, holes CW (RFC 7946 §3.1.6)
    return [_round_ring(oriented.exterior.coords)] + [
        _round_ring(r.coords) for r in oriented.interiors
    ]


def to_geojson_geometry(geom: BaseGeometry) -> dict[str, Any]:
    """RFC 7946 geometry with 6-decimal lon/lat."""
    if isinstance(geom, LineString):
        return {"type": "LineString", "coordinates": _round_ring(geom.coords)}
    if isinstance(geom, MultiLineString):
        return {
            "type": "MultiLineString",
            "coordinates": [_round_ring(g.coords) for g in geom.geoms],
        }
    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": _polygon_coords(geom)}
    if isinstance(geom, MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": [_polygon_coords(p) for p in geom.geoms]}
    raise BuildError(f"unsupported geometry type {geom.geom_type}")


def _feature(
    place_id: str,
    name: str,
    rule: str,
    geom: BaseGeometry,
    *,
    rep_lon_lat: tuple[float, float] | None = None,
) -> dict[str, Any]:
    rep_lon, rep_lat = rep_lon_lat or _representative_lon_lat(geom)
    if geom.distance(Point(rep_lon, rep_lat)) > 1e-5:
        raise BuildError(f"{place_id}: representative point falls outside the geometry")
    return {
        "type": "Feature",
        "properties": {
            "place_id": place_id,
            "name": name,
            "rule": rule,
            "rep_lon": rep_lon,
            "rep_lat": rep_lat,
        },
        "geometry": to_geojson_geometry(geom),
    }


def build() -> dict[str, Any]:
    """All curated geometries as one FeatureCollection."""
    line_features = _load_features(LINES_10M)
    country_features = _load_features(COUNTRIES_50M)
    abl = build_abl(line_features)
    northern = build_northern_kosovo(build_kosovo(line_features))
    western = build_union(country_features, WESTERN_BALKANS)
    balkans = build_union(country_features, BALKANS, simplify_deg=_BALKANS_SIMPLIFY_DEG)
    features = [
        _feature(
            "cur:abl",
            "Administrative boundary line (Kosovo–Serbia)",
            "Natural Earth 10m 'Disputed' line Republic of Serbia / Kosovo, linemerged",
            abl,
        ),
        _feature(
            "cur:northern-kosovo",
            "Northern Kosovo",
            f"Kosovo (polygonized NE 10m lines) with lat >= {NORTH_KOSOVO_MIN_LAT}"
            f" and lon <= {NORTH_KOSOVO_MAX_LON}",
            northern,
        ),
        _feature(
            "cur:western-balkans",
            "Western Balkans",
            "union of NE 50m polygons of " + ", ".join(WESTERN_BALKANS),
            western,
        ),
        _feature(
            "cur:balkans",
            "Balkans",
            "union of NE 50m polygons of "
            + ", ".join(BALKANS)
            + f", simplified {_BALKANS_SIMPLIFY_DEG} deg",
            balkans,
            rep_lon_lat=BALKANS_POINT_LON_LAT,
        ),
    ]
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str] | None = None) -> int:
    """Write the FeatureCollection (or print a summary with --check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output path")
    args = parser.parse_args(argv)
    try:
        collection = build()
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    for feature in collection["features"]:
        props = feature["properties"]
        print(f"{props['place_id']}: rep lat {props['rep_lat']} lon {props['rep_lon']}")
    print(f"wrote {args.out} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
