"""The folium map of events: layers, symbols, popups, legend, offline base map.

Why a custom layer element instead of one folium Marker per event: a store of
100,000 events must still render, so event data travels to the browser as one
compact JSON array and Leaflet builds the markers there (in marker clusters,
with lazy popups); lines and areas are drawn on a canvas.

Why local assets: the app must work with no internet, so Leaflet and its
plugins are served by Streamlit from ``static/vendor`` (``asset_base``)
instead of folium's CDN links.

Everything that came from an article (summaries, quotes, places, actors,
outlets, ids) is HTML-escaped here before it reaches the page; the JSON that
carries it is escaped again for ``<``, ``>`` and ``&`` so nothing can close a
script element.

Coordinates: shapely is (lon, lat); Leaflet/folium take (lat, lon). Names below
say which.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from shapely.geometry import LineString, MultiLineString, mapping
from shapely.geometry.base import BaseGeometry

from geo.errors import GazetteerError, RulesError
from geo.models import LAYERS

ROOT: Final = Path(__file__).resolve().parent.parent
DATA_DIR: Final = ROOT / "data"
DEFAULT_STYLES: Final = DATA_DIR / "map_styles.toml"
DEFAULT_ASSET_BASE: Final = "/app/static/vendor"
"""Where Streamlit serves ``static/vendor`` (``server.enableStaticServing``)."""

CLUSTER_THRESHOLD: Final = 1000
"""Above this many markers, cluster widely; below, cluster only overlapping icons."""
POPUP_DETAIL_LIMIT: Final = 3000
"""Above this many events, popups are short (sources stay in the table/export)."""
AGGREGATE_THRESHOLD: Final = 20_000
"""Above this many events, events of one type, actor colour and icon size at one spot
travel as one counted marker (server-side aggregation): 100,000 browser markers
take seconds to cluster, a few thousand counted ones do not."""

SYMBOLS: Final = frozenset(
    {"circle", "square", "triangle", "diamond", "star", "cross", "hexagon", "pentagon", "chevron"}
)
PRECISION_TEXT: Final[Mapping[int, str]] = {
    1: "the named place",
    2: "near the named place, or part of a region",
    3: "a region or border area",
}
TIME_PRECISION_TEXT: Final[Mapping[str, str]] = {
    "day": "exact day",
    "week": "within a week",
    "month": "within a month",
    "year": "within a year",
}

_MIN_ICON = 18
_MAX_ICON = 48
_COORD_DECIMALS = 6
_REF_DECIMALS = 4
_SUMMARY_SHORT = 64


# --------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class ActorGroup:
    """A colour for events whose actor matches one of ``patterns``."""

    id: str
    label: str
    colour: str
    patterns: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, actor: str) -> bool:
        """True if a pattern starts at a word boundary of ``actor``."""
        return self._regex is not None and self._regex.search(_fold(actor)) is not None


@dataclass(frozen=True, slots=True)
class TypeStyle:
    """Label and symbol of one event type or layer (layers may name a default group)."""

    label: str
    symbol: str
    default_group: str | None = None


@dataclass(frozen=True, slots=True)
class MapStyles:
    """The symbology read from ``data/map_styles.toml``."""

    layers: Mapping[str, TypeStyle]
    event_types: Mapping[str, TypeStyle]
    actor_groups: tuple[ActorGroup, ...]
    other: ActorGroup

    def group_for(self, actors: Iterable[Any], *, layer: str | None = None) -> ActorGroup:
        """The first group (file order = priority) matching any actor.

        Failing that, the layer's ``default_group``, else ``other``.
        """
        names = [str(a) for a in actors]
        for group in self.actor_groups:
            if any(group.matches(name) for name in names):
                return group
        layer_style = self.layers.get(layer) if layer else None
        if layer_style is not None and layer_style.default_group:
            for group in self.actor_groups:
                if group.id == layer_style.default_group:
                    return group
        return self.other

    def layer_label(self, layer: str) -> str:
        """Human label of a layer (the raw name if unknown)."""
        style = self.layers.get(layer)
        return style.label if style else layer.replace("_", " ").capitalize()

    def type_style(self, layer: str, event_type: str) -> TypeStyle:
        """Symbol and label of an event type, falling back to its layer's symbol."""
        style = self.event_types.get(event_type)
        if style is not None:
            return style
        layer_style = self.layers.get(layer)
        symbol = layer_style.symbol if layer_style else "circle"
        label = event_type.replace("_", " ").capitalize() if event_type else "Event"
        return TypeStyle(label=label, symbol=symbol)


@functools.lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _group(entry: Mapping[str, Any], *, where: str) -> ActorGroup:
    colour = str(entry.get("colour", ""))
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise RulesError(f"{where}: colour {colour!r} is not #rrggbb; fix it in the styles file")
    patterns = tuple(_fold(str(p)) for p in entry.get("patterns", ()) if str(p).strip())
    regex = (
        re.compile(r"\b(?:" + "|".join(re.escape(p) for p in patterns) + ")")
        if patterns
        else None
    )
    return ActorGroup(
        id=str(entry.get("id", "other")),
        label=str(entry.get("label", "Other")),
        colour=colour,
        patterns=patterns,
        _regex=regex,
    )


def _type_style(entry: Any, *, where: str) -> TypeStyle:
    if not isinstance(entry, Mapping):
        raise RulesError(f"{where}: expected a table with label and symbol")
    symbol = str(entry.get("symbol", "circle"))
    if symbol not in SYMBOLS:
        raise RulesError(
            f"{where}: unknown symbol {symbol!r}; use one of {', '.join(sorted(SYMBOLS))}"
        )
    default_group = entry.get("default_group")
    return TypeStyle(
        label=str(entry.get("label", "")),
        symbol=symbol,
        default_group=str(default_group) if default_group else None,
    )


def load_styles(path: Path = DEFAULT_STYLES) -> MapStyles:
    """Read the symbology file, or raise RulesError naming what to fix."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(
            f"{path}: cannot read map styles ({exc.strerror}); restore the file"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: invalid TOML ({exc}); fix the syntax") from exc
    layers = {
        name: _type_style(entry, where=f"{path} [layers.{name}]")
        for name, entry in raw.get("layers", {}).items()
    }
    event_types = {
        name: _type_style(entry, where=f"{path} [event_types.{name}]")
        for name, entry in raw.get("event_types", {}).items()
    }
    groups = tuple(
        _group(entry, where=f"{path} [[actor_groups]] #{i + 1}")
        for i, entry in enumerate(raw.get("actor_groups", []))
    )
    other_entry = {"id": "other", **raw.get("other", {"colour": "#546e7a"})}
    other = _group(other_entry, where=f"{path} [other]")
    known = {g.id for g in groups}
    for name, style in layers.items():
        if style.default_group and style.default_group not in known:
            raise RulesError(
                f"{path} [layers.{name}]: default_group {style.default_group!r} is not an "
                "actor group id; use one of " + ", ".join(sorted(known))
            )
    return MapStyles(layers=layers, event_types=event_types, actor_groups=groups, other=other)


def icon_size(fatalities: Any) -> int:
    """Icon diameter in pixels: grows with the square root of fatalities, capped."""
    number = _number(fatalities)
    if number is None or number <= 0:
        return _MIN_ICON
    return int(min(_MAX_ICON, round(_MIN_ICON + 6 * math.sqrt(number))))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


_SHAPES: Final[Mapping[str, str]] = {
    "circle": '<circle cx="12" cy="12" r="9"/>',
    "square": '<rect x="3.5" y="3.5" width="17" height="17" rx="2"/>',
    "triangle": '<polygon points="12,2.5 22,20.5 2,20.5"/>',
    "diamond": '<polygon points="12,1.5 22.5,12 12,22.5 1.5,12"/>',
    "star": '<polygon points="12,1.5 14.8,8.6 22.5,9.2 16.6,14.1 18.5,21.8 12,17.6 '
    '5.5,21.8 7.4,14.1 1.5,9.2 9.2,8.6"/>',
    "cross": '<polygon points="6,2.5 12,8.5 18,2.5 21.5,6 15.5,12 21.5,18 18,21.5 12,15.5 '
    '6,21.5 2.5,18 8.5,12 2.5,6"/>',
    "hexagon": '<polygon points="12,1.5 21.5,7 21.5,17 12,22.5 2.5,17 2.5,7"/>',
    "pentagon": '<polygon points="12,1.5 22.5,9.2 18.5,21.5 5.5,21.5 1.5,9.2"/>',
    "chevron": '<polygon points="12,1.5 22.5,12 17,12 17,22 7,22 7,12 1.5,12"/>',
}


def symbol_svg(symbol: str, colour: str, size: int) -> str:
    """An inline SVG icon; ``colour`` is validated #rrggbb, so nothing to escape."""
    shape = _SHAPES.get(symbol, _SHAPES["circle"])
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        colour = "#546e7a"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 24 24" fill="{colour}" stroke="#ffffff" stroke-width="1.6" '
        f'stroke-linejoin="round">{shape}</svg>'
    )


# --------------------------------------------------------------------------- popups


_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


def _esc(value: Any) -> str:
    """HTML-escape, and turn braces into entities so no Jinja delimiter survives.

    branca re-compiles every rendered script/html block as a Jinja template,
    so an article quoting ``{{ ... }}`` must never reach folium verbatim.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).translate(_BRACES)


def _as_list(value: Any) -> list[Any]:
    from geo.query import as_list

    return as_list(value)


def _date_text(row: Mapping[str, Any]) -> str:
    start, end = str(row.get("date") or ""), str(row.get("date_end") or "")
    precision = str(row.get("time_precision") or "")
    span = start if not end or end == start else f"{start} – {end}"
    label = TIME_PRECISION_TEXT.get(precision, precision)
    return f"{_esc(span)} ({_esc(label)})" if label else _esc(span)


def _place_text(row: Mapping[str, Any]) -> str:
    place = _esc(row.get("place")) or "unnamed place"
    country = _esc(row.get("country"))
    return f"{place}, {country}" if country else place


def _why_here(row: Mapping[str, Any]) -> str:
    precision = _number(row.get("geo_precision"))
    level = int(precision) if precision is not None else None
    text = PRECISION_TEXT.get(level, "unknown") if level is not None else "unknown"
    why = f"precision {level}: {text}" if level is not None else "precision unknown"
    notes = [str(n) for n in _as_list(row.get("notes")) if str(n).strip()]
    if notes:
        why += "; " + "; ".join(notes)
    place_id = row.get("place_id")
    if place_id:
        why += f" [{place_id}]"
    return _esc(why)


def _fatality_text(value: Any) -> str:
    number = _number(value)
    return "not reported" if number is None else str(int(number))


def tooltip_text(row: Mapping[str, Any], *, styles: MapStyles) -> str:
    """One escaped line: type · date · place."""
    style = styles.type_style(str(row.get("layer") or ""), str(row.get("event_type") or ""))
    parts = [style.label, str(row.get("date") or ""), str(row.get("place") or "")]
    return _esc(" · ".join(p for p in parts if p))


def popup_html(row: Mapping[str, Any], *, styles: MapStyles) -> str:
    """The popup of one event, built from escaped pieces."""
    layer = str(row.get("layer") or "")
    style = styles.type_style(layer, str(row.get("event_type") or ""))
    group = styles.group_for(_as_list(row.get("actors")), layer=layer)
    summary = str(row.get("summary") or "")
    sources = [s for s in _as_list(row.get("sources")) if isinstance(s, Mapping)]
    disputes = [d for d in _as_list(row.get("disputed_by")) if isinstance(d, Mapping)]
    acled = " / ".join(
        str(v) for v in (row.get("acled_event_type"), row.get("acled_sub_event_type")) if v
    )
    out = [
        '<div class="ev-pop">',
        f'<div class="ev-head"><span class="ev-badge" style="background:{group.colour}">'
        f"{_esc(style.label)}</span> <span class=\"ev-layer\">{_esc(styles.layer_label(layer))}"
        "</span></div>",
        f'<p class="ev-summary">{_esc(summary)}</p>',
        '<table class="ev-facts">',
        f"<tr><th>When</th><td>{_date_text(row)}</td></tr>",
        f"<tr><th>Where</th><td>{_place_text(row)}</td></tr>",
        f"<tr><th>Why here?</th><td>{_why_here(row)}</td></tr>",
    ]
    actors = [str(a) for a in _as_list(row.get("actors"))]
    out.append(f"<tr><th>Actors</th><td>{_esc(', '.join(actors)) or 'not named'}</td></tr>")
    out.append(f"<tr><th>Fatalities</th><td>{_fatality_text(row.get('fatalities'))}</td></tr>")
    if acled:
        out.append(f"<tr><th>ACLED</th><td>{_esc(acled)}</td></tr>")
    out.append("</table>")
    n_sources = len({s.get("article") for s in sources}) or int(_number(row.get("n_sources")) or 0)
    out.append(f'<div class="ev-sec">Sources ({n_sources})</div><ol class="ev-sources">')
    for src in sources:
        published = f" ({_esc(src.get('published'))})" if src.get("published") else ""
        out.append(
            f"<li><b>{_esc(src.get('outlet') or 'unknown outlet')}</b>{published}: "
            f"<q>{_esc(src.get('quote'))}</q></li>"
        )
    out.append("</ol>")
    if disputes:
        out.append(f'<div class="ev-sec ev-disputed">Disputed by ({len(disputes)})</div><ul>')
        for dispute in disputes:
            out.append(
                f"<li><b>{_esc(dispute.get('who') or 'unknown')}</b>: "
                f"<q>{_esc(dispute.get('quote'))}</q></li>"
            )
        out.append("</ul>")
    out.append(f'<div class="ev-id">{_esc(row.get("id"))}</div></div>')
    return "".join(out)


# --------------------------------------------------------------------------- geometry


def _line_anchor(geom: BaseGeometry) -> BaseGeometry:
    if isinstance(geom, MultiLineString):
        geom = max(geom.geoms, key=lambda g: g.length)
    if isinstance(geom, LineString) and geom.length > 0:
        return geom.interpolate(0.5, normalized=True)
    return geom.representative_point()


def anchors_lonlat(geom: BaseGeometry | None) -> list[tuple[float, float]]:
    """Where an event's icon goes, as (lon, lat): each point, or one point on a shape."""
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Point":
        return [(geom.x, geom.y)]
    if kind == "MultiPoint":
        return [(p.x, p.y) for p in geom.geoms if not p.is_empty]
    point = _line_anchor(geom) if "LineString" in kind else geom.representative_point()
    return [(point.x, point.y)]


def _round_coords(value: Any, decimals: int) -> Any:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) for v in value):
            return [round(float(v), decimals) for v in value]
        return [_round_coords(v, decimals) for v in value]
    return value


def _geojson_geometry(geom: BaseGeometry, decimals: int) -> dict[str, Any]:
    raw = dict(mapping(geom))
    if raw.get("type") == "GeometryCollection":
        raw["geometries"] = [_geojson_geometry(g, decimals) for g in geom.geoms]
        return raw
    raw["coordinates"] = _round_coords(raw["coordinates"], decimals)
    return raw


def _km_from(lonlat: np.ndarray, lon0: float, lat0: float) -> np.ndarray:
    """Great-circle distance in km from (lon0, lat0) to each row (haversine)."""
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    lon0r, lat0r = math.radians(lon0), math.radians(lat0)
    h = np.sin((lat - lat0r) / 2) ** 2 + np.cos(lat) * math.cos(lat0r) * np.sin(
        (lon - lon0r) / 2
    ) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def focus_bounds(
    lonlat: Sequence[tuple[float, float]], *, min_radius_km: float = 500.0
) -> list[list[float]] | None:
    """Bounds [[south, west], [north, east]] around where most events are.

    Points farther from the median than ``max(min_radius_km, 3 × the median
    distance)`` are left out of the initial view when at least half the points
    remain, so the far end of a Washington–Belgrade phone call does not zoom a
    Balkan map out to the Atlantic. Evenly spread data keeps everything.
    """
    if not lonlat:
        return None
    arr = np.asarray(lonlat, dtype=float)
    if len(arr) > 2:
        dist = _km_from(arr, float(np.median(arr[:, 0])), float(np.median(arr[:, 1])))
        radius = max(min_radius_km, 3 * float(np.median(dist)))
        near = arr[dist <= radius]
        if len(near) * 2 >= len(arr):
            arr = near
    south, north = float(arr[:, 1].min()), float(arr[:, 1].max())
    west, east = float(arr[:, 0].min()), float(arr[:, 0].max())
    pad_lat = max(0.05, (north - south) * 0.1)
    pad_lon = max(0.05, (east - west) * 0.1)
    return [[south - pad_lat, west - pad_lon], [north + pad_lat, east + pad_lon]]


# --------------------------------------------------------------------------- payload


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _no_braces(match: re.Match[str]) -> str:
    return match.group(0).replace("{", "\\u007b").replace("}", "\\u007d")


def _js_json(value: Any) -> str:
    """JSON safe to embed in a script element that branca renders as a Jinja template.

    No raw ``<``, ``>``, ``&`` or line separators (cannot close the script),
    and no brace inside a string (cannot form ``{{``, ``{%`` or ``{#``: folium
    output is compiled and rendered by Jinja again, so data with Jinja
    syntax would otherwise be executed on the server). JSON's own braces
    never pair up as ``{{``, ``{%`` or ``{#``.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if "{" in text or "}" in text:
        text = _JSON_STRING.sub(_no_braces, text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@dataclass(slots=True)
class LayerPayload:
    """What the browser needs to draw one event layer."""

    rows: list[list[Any]] = field(default_factory=list)
    """[lat, lon, icon index, event index] per marker."""
    info: list[list[Any]] = field(default_factory=list)
    """Per event: detailed ``[id, tooltip html, popup html]``, or compact
    ``[id, type, when, where, short summary html, n sources, n disputes, colour]``
    where type/when/where/colour index :attr:`EventPayload.strings`."""
    shapes: list[dict[str, Any]] = field(default_factory=list)
    """GeoJSON features of line/area geometries; properties {e: event, c: colour}."""
    _encoded: tuple[str, str, str] | None = field(default=None, repr=False, compare=False)

    def encoded(self) -> tuple[str, str, str]:
        """Script-safe JSON of rows, info and shapes, computed once per payload."""
        if self._encoded is None:
            self._encoded = (
                _js_json(self.rows),
                _js_json(self.info),
                _js_json({"type": "FeatureCollection", "features": self.shapes}),
            )
        return self._encoded


@dataclass(slots=True)
class EventPayload:
    """All event layers plus the shared icon table and the view to open on."""

    layers: dict[str, LayerPayload]
    icons: list[list[Any]]
    """[svg html, size] per distinct icon."""
    anchors_lonlat: list[tuple[float, float]]
    legend_types: dict[str, TypeStyle]
    legend_groups: dict[str, ActorGroup]
    compact: bool = False
    """Large selections: popups are assembled in the browser from short fields."""
    aggregated: bool = False
    """Very large selections: one counted marker per layer and spot; ``info`` rows are
    ``[main type, when (from – to), where, count, colour, types with counts]``
    (string indexes but the count) and markers carry the count as a fifth value."""
    events_per_layer: dict[str, int] = field(default_factory=dict)
    """Events (not markers or aggregates) per layer, for the layer control."""
    strings: list[str] = field(default_factory=list)
    """Escaped strings shared by compact rows (types, dates, places, colours)."""
    skipped: int = 0
    """Events without a usable geometry (not drawn)."""

    @property
    def n_markers(self) -> int:
        return sum(len(p.rows) for p in self.layers.values())

    @property
    def n_events(self) -> int:
        return sum(len(p.info) for p in self.layers.values())


_COMPACT_COLUMNS: Final = (
    "id", "layer", "event_type", "actors", "fatalities", "date", "date_end",
    "time_precision", "place", "country", "summary", "n_sources", "disputed_by",
)


def _rows(events: gpd.GeoDataFrame, compact: bool) -> Iterable[dict[str, Any]]:
    """Row dicts: every column for full popups, only what compact popups need else."""
    if not compact:
        yield from events.drop(columns="geometry").to_dict("records")
        return
    names = [c for c in _COMPACT_COLUMNS if c in events.columns]
    columns = [events[c].tolist() for c in names]
    for values in zip(*columns, strict=True):
        yield dict(zip(names, values, strict=True))


def _anchors(geoms: Sequence[BaseGeometry | None]) -> list[list[tuple[float, float]]]:
    """Anchors per geometry; plain points (the bulk of large stores) vectorised."""
    arr = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(arr)
    points = arr.copy()
    points[kinds != 0] = None
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    out: list[list[tuple[float, float]]] = []
    for i, geom in enumerate(geoms):
        if kinds[i] == 0 and not (math.isnan(xs[i]) or math.isnan(ys[i])):
            out.append([(float(xs[i]), float(ys[i]))])
        else:
            out.append(anchors_lonlat(geom))
    return out


def _aggregate_payload(events: gpd.GeoDataFrame, *, styles: MapStyles) -> EventPayload:
    """One counted marker per layer and spot, column-wise.

    Spots are the icon anchors rounded to 4 decimals (~10 m); lines and areas keep
    their shape, once per distinct geometry. A marker shows the icon of its most
    frequent type, colour and size; its popup gives the count, the types, the
    place and the date range. At this size the table and the exports carry the
    detail, and narrowing the filters brings single events back.
    """
    layer_names = list(dict.fromkeys([*LAYERS, *map(str, events["layer"].dropna().unique())]))
    payload = EventPayload(
        layers={name: LayerPayload() for name in layer_names},
        icons=[],
        anchors_lonlat=[],
        legend_types={},
        legend_groups={},
        aggregated=True,
        compact=True,
    )
    string_index: dict[str, int] = {}

    def intern(text: str) -> int:
        if text not in string_index:
            string_index[text] = len(payload.strings)
            payload.strings.append(text)
        return string_index[text]

    n = len(events)
    layers = events["layer"].fillna("").astype(str).tolist()
    types = events["event_type"].fillna("").astype(str).tolist()
    actors = events["actors"].tolist()
    fatalities = events["fatalities"].tolist() if "fatalities" in events else [None] * n
    dates = events["date"].fillna("").astype(str).tolist()
    ends = events["date_end"].fillna("").astype(str).tolist()
    places = events["place"].tolist()
    countries = events["country"].tolist() if "country" in events else [None] * n
    array = np.asarray(events.geometry.to_numpy(), dtype=object)
    geoms = array.tolist()
    kinds = shapely.get_type_id(array)
    points = array.copy()
    points[kinds != 0] = None
    xs, ys = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
    wkbs: list[bytes | None] = [None] * n
    others = np.flatnonzero(kinds > 0)
    if len(others):
        for i, wkb in zip(others.tolist(), shapely.to_wkb(array[others]).tolist(), strict=True):
            wkbs[i] = wkb
    # Per event: its look (type label, symbol, colour, size) and place text, computed
    # once per distinct (layer, type, actors, fatalities) and (place, country).
    who = [tuple(map(str, a)) if type(a) is list else tuple(str(x) for x in _as_list(a))
           for a in actors]
    fat_keys = [None if (f is None or f is pd.NA or (isinstance(f, float) and math.isnan(f)))
                else f for f in fatalities]
    combo_codes, combos = pd.factorize(
        pd.Series(list(zip(layers, types, who, fat_keys, strict=True)), dtype=object)
    )
    look_index: dict[tuple[str, str, str, int], int] = {}
    looks: list[tuple[str, str, str, int]] = []
    look_of_combo: list[int] = []
    for layer, kind, names, fat in combos:
        style = styles.type_style(layer, kind)
        group = styles.group_for(names, layer=layer)
        look = (style.label, style.symbol, group.colour, icon_size(fat))
        if look not in look_index:
            look_index[look] = len(looks)
            looks.append(look)
        look_of_combo.append(look_index[look])
        payload.legend_types.setdefault(style.label, style)
        payload.legend_groups.setdefault(group.id, group)
    look_no = np.asarray(look_of_combo, dtype=np.int64)[combo_codes]
    where_codes, wheres = pd.factorize(
        pd.Series(list(zip(places, countries, strict=True)), dtype=object)
    )
    where_no = np.asarray(
        [intern(_place_text({"place": p, "country": c})) for p, c in wheres], dtype=np.int64
    )[where_codes]
    # Plain points (the bulk) column-wise; multi-points, lines and areas one by one.
    xs_arr, ys_arr = np.asarray(xs), np.asarray(ys)
    plain = (kinds == 0) & ~np.isnan(xs_arr) & ~np.isnan(ys_arr)
    idx = np.flatnonzero(plain)
    parts = [pd.DataFrame({
        "event": idx, "lon": xs_arr[idx], "lat": ys_arr[idx],
        "shape": np.full(len(idx), -1, dtype=np.int64),
    })]
    shape_index: dict[bytes, int] = {}
    shape_geoms: list[BaseGeometry] = []
    anchors_of: list[list[tuple[float, float]]] = []
    extra: list[tuple[int, float, float, int]] = []
    for i in np.flatnonzero(~plain).tolist():
        geom, wkb = geoms[i], wkbs[i]
        if geom is None or wkb is None or geom.is_empty:
            payload.skipped += 1
            continue
        shape_no = shape_index.get(wkb)
        if shape_no is None:
            shape_no = shape_index[wkb] = len(shape_geoms)
            shape_geoms.append(geom)
            anchors_of.append(anchors_lonlat(geom))
        if not anchors_of[shape_no]:
            payload.skipped += 1
            continue
        shaped = shape_no if geom.geom_type not in ("Point", "MultiPoint") else -1
        extra.extend((i, lon, lat, shaped) for lon, lat in anchors_of[shape_no])
    if extra:
        parts.append(pd.DataFrame(extra, columns=["event", "lon", "lat", "shape"]))
    frame = pd.concat(parts, ignore_index=True).sort_values("event", kind="stable")
    if frame.empty:
        return payload
    ev = frame["event"].to_numpy()
    frame["layer"] = np.asarray(layers, dtype=object)[ev]
    frame["look"] = look_no[ev]
    frame["where"] = where_no[ev]
    frame["lat_r"] = frame["lat"].round(4)
    frame["lon_r"] = frame["lon"].round(4)
    frame["date"] = np.asarray(dates, dtype=object)[ev]
    frame["end"] = np.asarray([e or d for e, d in zip(ends, dates, strict=True)], dtype=object)[ev]
    keys = ["layer", "lat_r", "lon_r", "shape"]
    counted = frame.groupby(keys, sort=False).agg(
        count=("event", "size"), first=("date", "min"), last=("end", "max"),
        where=("where", "first"), lon=("lon", "first"), lat=("lat", "first"),
    )
    per_look = frame.groupby([*keys, "look"], sort=False).size()
    for lay, count in frame.groupby("layer", sort=False)["event"].nunique().items():
        payload.events_per_layer[str(lay)] = int(count)
    looks_of: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for (*key, look_no), k in per_look.items():
        looks_of.setdefault(tuple(key), []).append((int(look_no), int(k)))
    icon_index: dict[tuple[str, str, int], int] = {}
    for key, row in zip(counted.index, counted.itertuples(index=False), strict=True):
        layer, lat_r, lon_r, shape = key
        found = looks_of[tuple(key)]
        top = max(found, key=lambda lk: lk[1])[0]  # first of the most frequent looks
        label, symbol, colour, size = looks[top]
        icon_key = (symbol, colour, size)
        icon = icon_index.get(icon_key)
        if icon is None:
            icon = icon_index[icon_key] = len(payload.icons)
            payload.icons.append([symbol_svg(symbol, colour, size), size])
        by_type: Counter[str] = Counter()
        for look_no, k in found:
            by_type[looks[look_no][0]] += k
        kinds_text = " · ".join(f"{k} {_esc(lab)}" for lab, k in by_type.most_common(6))
        if len(by_type) > 6:
            kinds_text += " · …"
        target = payload.layers.setdefault(layer, LayerPayload())
        no = len(target.info)
        first, last = row.first, row.last
        when = _esc(first if first == last else f"{first} – {last}")
        count = int(row.count)
        target.info.append(
            [intern(_esc(label)), intern(when), int(row.where), count, intern(colour),
             intern(kinds_text)]
        )
        target.rows.append([float(lat_r), float(lon_r), icon, no, count])
        payload.anchors_lonlat.append((float(row.lon), float(row.lat)))
        if shape >= 0:
            target.shapes.append(
                {
                    "type": "Feature",
                    "properties": {"e": no, "c": colour},
                    "geometry": _geojson_geometry(shape_geoms[int(shape)], 5),
                }
            )
    return payload


def build_payload(
    events: gpd.GeoDataFrame,
    *,
    styles: MapStyles,
    popup_detail_limit: int = POPUP_DETAIL_LIMIT,
    aggregate_threshold: int = AGGREGATE_THRESHOLD,
) -> EventPayload:
    """Turn the events frame into compact, escaped per-layer arrays."""
    if len(events) > aggregate_threshold:
        return _aggregate_payload(events, styles=styles)
    layer_names = list(dict.fromkeys([*LAYERS, *map(str, events["layer"].dropna().unique())]))
    payload = EventPayload(
        layers={name: LayerPayload() for name in layer_names},
        icons=[],
        anchors_lonlat=[],
        legend_types={},
        legend_groups={},
    )
    if events.empty:
        return payload
    payload.compact = len(events) > popup_detail_limit
    decimals = _COORD_DECIMALS - 1 if payload.compact else _COORD_DECIMALS  # ~1 m is plenty
    icon_index: dict[tuple[str, str, int], int] = {}
    string_index: dict[str, int] = {}

    def intern(text: str) -> int:
        if text not in string_index:
            string_index[text] = len(payload.strings)
            payload.strings.append(text)
        return string_index[text]

    group_cache: dict[tuple[str, ...], ActorGroup] = {}
    text_cache: dict[tuple[Any, ...], int] = {}

    def cached_text(kind: str, row: Mapping[str, Any], *keys: str) -> int:
        """Interned escaped text for fields that repeat (dates, places)."""
        values = tuple(row.get(k) for k in keys)
        cache_key = (kind, *values, *([None] * (3 - len(values))))
        if cache_key not in text_cache:
            text = _date_text(row) if kind == "when" else _place_text(row)
            text_cache[cache_key] = intern(text)
        return text_cache[cache_key]

    geoms = list(events.geometry)
    for row, geom, anchors in zip(_rows(events, payload.compact), geoms, _anchors(geoms),
                                  strict=True):
        layer = str(row.get("layer") or "")
        if not anchors:
            payload.skipped += 1
            continue
        target = payload.layers.setdefault(layer, LayerPayload())
        style = styles.type_style(layer, str(row.get("event_type") or ""))
        actors = (layer, *(str(a) for a in _as_list(row.get("actors"))))
        group = group_cache.get(actors)
        if group is None:
            group = group_cache[actors] = styles.group_for(actors[1:], layer=layer)
        payload.legend_types.setdefault(style.label, style)
        payload.legend_groups.setdefault(group.id, group)
        size = icon_size(row.get("fatalities"))
        key = (style.symbol, group.colour, size)
        if key not in icon_index:
            icon_index[key] = len(payload.icons)
            payload.icons.append([symbol_svg(style.symbol, group.colour, size), size])
        event_no = len(target.info)
        if payload.compact:
            summary = str(row.get("summary") or "")
            if len(summary) > _SUMMARY_SHORT:
                summary = summary[: _SUMMARY_SHORT - 1].rstrip() + "…"
            target.info.append(
                [
                    str(row.get("id") or ""),
                    intern(_esc(style.label)),
                    cached_text("when", row, "date", "date_end", "time_precision"),
                    cached_text("where", row, "place", "country"),
                    _esc(summary),
                    int(_number(row.get("n_sources")) or 0),
                    len(_as_list(row.get("disputed_by"))),
                    intern(group.colour),
                ]
            )
        else:
            target.info.append(
                [
                    str(row.get("id") or ""),
                    tooltip_text(row, styles=styles),
                    popup_html(row, styles=styles),
                ]
            )
        for lon, lat in anchors:
            lat_r, lon_r = round(lat, decimals), round(lon, decimals)
            target.rows.append([lat_r, lon_r, icon_index[key], event_no])
            payload.anchors_lonlat.append((lon, lat))
        if geom is not None and geom.geom_type not in ("Point", "MultiPoint"):
            target.shapes.append(
                {
                    "type": "Feature",
                    "properties": {"e": event_no, "c": group.colour},
                    "geometry": _geojson_geometry(geom, 5),
                }
            )
    return payload


# --------------------------------------------------------------------------- elements


class EventLayer(JSCSSMixin, Layer):
    """One toggleable layer of events: clustered icons, and shapes on a canvas."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var rows = {{ this.rows_json }};
            var info = {{ this.info_json }};
            var S = {{ this.strings_json }};
            var compact = {{ this.compact_json }};
            var aggregated = {{ this.aggregated_json }};
            var shapes = {{ this.shapes_json }};
            function esc(t) {
                return String(t).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function tipOf(r) {
                if (aggregated) {
                    return S[r[0]] + ' · ' + r[3] + (r[3] > 1 ? ' events' : ' event') +
                        ' · ' + S[r[2]];
                }
                return compact ? S[r[1]] + ' · ' + S[r[2]] + ' · ' + S[r[3]] : r[1];
            }
            function popupOf(r) {
                if (aggregated) {
                    return '<div class="ev-pop"><div class="ev-head"><span class="ev-badge" ' +
                        'style="background:' + S[r[4]] + '">' + S[r[0]] + '</span></div>' +
                        '<p class="ev-summary">' + r[3] + (r[3] > 1 ? ' events' : ' event') +
                        ' here: ' + S[r[5]] + '</p><table class="ev-facts">' +
                        '<tr><th>When</th><td>' + S[r[1]] + '</td></tr>' +
                        '<tr><th>Where</th><td>' + S[r[2]] + '</td></tr></table>' +
                        '<div class="ev-sec">Too many events to map one by one: narrow the ' +
                        'filters to see each event, or use the table and exports</div></div>';
                }
                if (!compact) { return r[2]; }
                return '<div class="ev-pop"><div class="ev-head"><span class="ev-badge" ' +
                    'style="background:' + S[r[7]] + '">' + S[r[1]] + '</span></div>' +
                    '<p class="ev-summary">' + r[4] + '</p><table class="ev-facts">' +
                    '<tr><th>When</th><td>' + S[r[2]] + '</td></tr>' +
                    '<tr><th>Where</th><td>' + S[r[3]] + '</td></tr></table>' +
                    '<div class="ev-sec">' + r[5] + ' source(s)' +
                    (r[6] ? ', disputed by ' + r[6] : '') +
                    ' — narrow the filters to see quotes here, or use the table and exports' +
                    '</div><div class="ev-id">' + esc(r[0]) + '</div></div>';
            }
            var icons = {{ this.icons_json }}.map(function(ic){
                return L.divIcon({html: ic[0], className: 'ev-icon', iconSize: [ic[1], ic[1]],
                                  iconAnchor: [ic[1] / 2, ic[1] / 2],
                                  popupAnchor: [0, -ic[1] / 2], tooltipAnchor: [0, -ic[1] / 2]});
            });
            var group = L.featureGroup();
            function lazy(layer, open) {
                if (!layer || layer._evBound || layer.options.ev === undefined) { return; }
                layer._evBound = true;
                var item = info[layer.options.ev];
                layer.bindPopup(popupOf(item), {maxWidth: 380, maxHeight: 320});
                layer.bindTooltip(tipOf(item), {direction: 'top', sticky: layer instanceof L.Path});
                if (open === 'popup') { layer.openPopup(); } else { layer.openTooltip(); }
            }
            if (shapes.features.length) {
                var renderer = L.canvas({padding: 0.2});
                var shapeLayer = L.geoJSON(shapes, {
                    renderer: renderer,
                    style: function (f) {
                        var area = f.geometry.type.indexOf('Polygon') >= 0;
                        return {color: f.properties.c, weight: area ? 2 : 5, opacity: 0.85,
                                fillColor: f.properties.c, fillOpacity: area ? 0.18 : 0,
                                dashArray: area ? null : '10 6'};
                    },
                    onEachFeature: function (f, l) { l.options.ev = f.properties.e; }
                });
                group.addLayer(shapeLayer);
            }
            function tag() {
                if (this._icon && !aggregated) {
                    this._icon.setAttribute('data-ev', info[this.options.ev][0]);
                }
            }
            var markers = new Array(rows.length);
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                var m = L.marker([r[0], r[1]], {icon: icons[r[2]], ev: r[3], n: r[4] || 1,
                                                keyboard: false});
                m.on('add', tag);
                markers[i] = m;
            }
            // Always clustered: identical places (both ends of many calls) spiderfy
            // instead of hiding each other; a large store keeps few DOM icons.
            var options = {{ this.cluster_options }};
            if (aggregated) {  // a cluster counts events, not the counted markers inside it
                options.iconCreateFunction = function (cluster) {
                    var n = 0, kids = cluster.getAllChildMarkers();
                    for (var k = 0; k < kids.length; k++) { n += kids[k].options.n; }
                    var size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large';
                    return L.divIcon({html: '<div><span>' + n + '</span></div>',
                                      className: 'marker-cluster marker-cluster-' + size,
                                      iconSize: L.point(40, 40)});
                };
            }
            group.evLoaded = false;
            options.chunkProgress = function (done, total) { group.evLoaded = done >= total; };
            var markerLayer = L.markerClusterGroup(options);
            // Add the markers once the cluster group is on the map: before that,
            // markercluster checks each new marker against its whole pending list
            // (quadratic: about 4 s for 33,000 markers).
            markerLayer.once('add', function () {
                markerLayer.addLayers(markers);
                if (!options.chunkedLoading) { group.evLoaded = true; }
            });
            group.addLayer(markerLayer);
            group.on('click', function (e) { lazy(e.layer, 'popup'); });
            group.on('mouseover', function (e) { lazy(e.layer, 'tooltip'); });
            group.evCount = info.length;
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: LayerPayload,
        icons: list[list[Any]],
        *,
        strings: list[str],
        compact: bool,
        name: str,
        large: bool,
        asset_base: str,
        show: bool = True,
        aggregated: bool = False,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "EventLayer"
        self.rows_json, self.info_json, self.shapes_json = payload.encoded()
        self.icons_json = _js_json(icons)
        self.strings_json = _js_json(strings if compact else [])
        self.compact_json = "true" if compact else "false"
        self.aggregated_json = "true" if aggregated else "false"
        options: dict[str, Any] = {
            "showCoverageOnHover": False,
            "spiderfyOnMaxZoom": True,
            # few events: group only icons at (nearly) the same spot; many: real clusters
            "maxClusterRadius": 80 if large else 3,
            "chunkedLoading": large,
            "chunkInterval": 120,
            # cluster split/merge animations cost seconds per zoom with many markers
            "animate": not large,
        }
        self.cluster_options = _js_json(options)
        self.default_js = [
            ("markercluster", f"{asset_base}/leaflet.markercluster/leaflet.markercluster.js")
        ]
        self.default_css = [
            ("markercluster_css", f"{asset_base}/leaflet.markercluster/MarkerCluster.css"),
            (
                "markercluster_default_css",
                f"{asset_base}/leaflet.markercluster/MarkerCluster.Default.css",
            ),
        ]


class StaticGeoJson(Layer):
    """A reference layer (country fills, outlines, the ABL) with one fixed style."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {% if this.data_json %}var {{ this.data_var }} = {{ this.data_json }};{% endif %}
        var {{ this.get_name() }} = L.geoJSON({{ this.data_var }}, {
            renderer: L.canvas({padding: 0.3}),
            interactive: {{ this.interactive_json }},
            attribution: {{ this.attribution_json }},
            style: function () { return {{ this.style_json }}; },
            onEachFeature: function (f, l) {
                if (f.properties && f.properties._tip) {
                    l.bindTooltip(f.properties._tip, {sticky: true});
                }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        name: str,
        style: Mapping[str, Any],
        overlay: bool = True,
        show: bool = True,
        interactive: bool = False,
        attribution: str = "",
        same_data_as: StaticGeoJson | None = None,
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "StaticGeoJson"
        # A second layer over the same features (the outlines over the offline base)
        # reuses the first one's data instead of shipping it to the browser twice.
        self.data_var: str
        if same_data_as is not None:
            self.data_var = same_data_as.data_var
            self.data_json = ""
        else:
            self.data_var = f"{self.get_name()}_data"
            self.data_json = _js_json(data)
        self.style_json = _js_json(dict(style))
        self.interactive_json = "true" if interactive else "false"
        self.attribution_json = _js_json(attribution)


class LabelLayer(Layer):
    """Country names as plain text, each shown from the zoom its size allows."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var rows = {{ this.rows_json }};
            var group = L.layerGroup();
            var labels = rows.map(function (r) {
                return {zoom: r[3], marker: L.marker([r[0], r[1]], {
                    interactive: false, keyboard: false,
                    icon: L.divIcon({className: 'ev-country', html: '<span>' + r[2] + '</span>',
                                     iconSize: [0, 0]})})};
            });
            function update(map) {
                var z = map.getZoom();
                labels.forEach(function (l) {
                    var on = z >= l.zoom;
                    if (on && !group.hasLayer(l.marker)) { group.addLayer(l.marker); }
                    if (!on && group.hasLayer(l.marker)) { group.removeLayer(l.marker); }
                });
            }
            group.on('add', function () {
                var map = group._map;
                update(map);
                map.on('zoomend', function () { if (map.hasLayer(group)) { update(map); } });
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LabelLayer"
        self.rows_json = _js_json(rows)


class MentionLayer(Layer):
    """Places named in the articles, one small circle per place (off by default)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var rows = {{ this.rows_json }};
            var renderer = L.canvas({padding: 0.2});
            var group = L.featureGroup();
            for (var i = 0; i < rows.length; i++) {
                var r = rows[i];
                L.circleMarker([r[0], r[1]], {renderer: renderer, radius: r[2], weight: 1,
                    color: '#263238', fillColor: '#fdd835', fillOpacity: 0.9, tip: r[3]})
                 .addTo(group);
            }
            group.on('mouseover', function (e) {
                var l = e.layer;
                if (l._evBound) { return; }
                l._evBound = true;
                l.bindTooltip(l.options.tip);
                l.openTooltip();
            });
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, places: pd.DataFrame, *, name: str, show: bool = False) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MentionLayer"
        rows = []
        for rec in places.to_dict("records"):
            count = int(rec.get("mentions") or 0)
            tip = (
                f"<b>{_esc(rec.get('name'))}</b> ({_esc(rec.get('kind'))}"
                f"{', ' + _esc(rec.get('country')) if rec.get('country') else ''}): "
                f"{count} mention(s) in {int(rec.get('articles') or 0)} article(s)"
            )
            radius = round(3 + 1.5 * math.log1p(count), 1)
            rows.append([round(float(rec["lat"]), 5), round(float(rec["lon"]), 5), radius, tip])
        self.rows_json = _js_json(rows)


class Legend(MacroElement):
    """A collapsible legend: symbols by event type, colours by actor, size by fatalities."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="ev-legend leaflet-control">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, *, types: Mapping[str, TypeStyle], groups: Iterable[ActorGroup]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        parts = ['<details open><summary>Legend</summary><div class="ev-leg-sec">Event type</div>']
        for label, style in sorted(types.items()):
            parts.append(
                f'<div class="ev-leg-row">{symbol_svg(style.symbol, "#455a64", 16)}'
                f"<span>{_esc(label)}</span></div>"
            )
        parts.append('<div class="ev-leg-sec">Actor</div>')
        for group in groups:
            parts.append(
                f'<div class="ev-leg-row"><span class="ev-swatch" '
                f'style="background:{group.colour}"></span><span>{_esc(group.label)}</span></div>'
            )
        parts.append('<div class="ev-leg-sec">Fatalities</div><div class="ev-leg-sizes">')
        for deaths in (0, 1, 10, 50):
            size = icon_size(deaths)
            label = "0 / ?" if deaths == 0 else str(deaths)
            parts.append(
                f'<span class="ev-leg-size">{symbol_svg("circle", "#90a4ae", size)}'
                f"<span>{label}</span></span>"
            )
        parts.append(
            '</div><div class="ev-leg-note">Dashed lines and shaded areas: events placed '
            "along a line or over a region.</div></details>"
        )
        self.body = "".join(parts)


class MapStyleSheet(MacroElement):
    """CSS for icons, popups and the legend (no external fonts or images)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .leaflet-container { background: #c9dceb; font-family: system-ui, sans-serif; }
        .ev-icon { background: none; border: none; }
        .ev-country { pointer-events: none; }
        .ev-country span { display: inline-block; transform: translate(-50%, -50%);
                           color: #6d5d4b; font: 600 11px system-ui, sans-serif;
                           white-space: nowrap; text-transform: uppercase; letter-spacing: .04em;
                           text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
        .ev-icon svg { filter: drop-shadow(0 0 1.5px rgba(0,0,0,.75)); display: block; }
        .ev-pop { font-size: 12.5px; line-height: 1.35; }
        .ev-head { margin-bottom: 4px; }
        .ev-badge { color: #fff; border-radius: 3px; padding: 1px 6px; font-weight: 600; }
        .ev-layer { color: #546e7a; }
        .ev-summary { margin: 4px 0 6px 0; font-weight: 500; }
        .ev-facts th { text-align: left; padding-right: 8px; vertical-align: top;
                       color: #455a64; white-space: nowrap; }
        .ev-sec { font-weight: 600; margin-top: 6px; }
        .ev-disputed { color: #b71c1c; }
        .ev-sources, .ev-pop ul { margin: 2px 0 0 0; padding-left: 18px; }
        .ev-sources li, .ev-pop ul li { margin-bottom: 3px; }
        .ev-id { color: #90a4ae; font-size: 10.5px; margin-top: 4px; }
        .leaflet-control-layers { font-size: 12px; line-height: 1.5; }
        .ev-legend { position: absolute; right: 10px; bottom: 24px; z-index: 1000;
                     background: rgba(255,255,255,.92); padding: 4px 8px; border-radius: 6px;
                     box-shadow: 0 1px 5px rgba(0,0,0,.35); font: 11px system-ui, sans-serif;
                     max-height: 55%; overflow: auto; }
        .ev-legend summary { font-weight: 700; cursor: pointer; }
        .ev-leg-sec { font-weight: 600; margin-top: 5px; color: #37474f; }
        .ev-leg-row { display: flex; align-items: center; gap: 5px; margin: 1px 0; }
        .ev-swatch { width: 14px; height: 14px; border-radius: 3px; display: inline-block;
                     border: 1px solid rgba(0,0,0,.3); }
        .ev-leg-sizes { display: flex; align-items: flex-end; gap: 6px; }
        .ev-leg-size { display: flex; flex-direction: column; align-items: center; }
        .ev-leg-note { color: #607d8b; max-width: 170px; margin-top: 3px; font-size: 10.5px; }
        </style>
        {% endmacro %}
        """
    )


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True, slots=True)
class ReferenceLayers:
    """Offline context: land polygons, country outlines and the ABL, as GeoJSON dicts."""

    land: dict[str, Any]
    abl: dict[str, Any] | None
    labels: list[list[Any]] = field(default_factory=list)
    """[lat, lon, escaped name, min zoom] per country: names readable offline."""


def _read_geojson(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GazetteerError(f"{path}: cannot read reference layer ({exc}); restore data/") from exc
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise GazetteerError(f"{path}: not a GeoJSON FeatureCollection; restore data/")
    return data


def _slim(feature: Mapping[str, Any], *, tip: str | None) -> dict[str, Any]:
    geometry = feature.get("geometry") or {}
    coords = _round_coords(geometry.get("coordinates", []), _REF_DECIMALS)
    props = {"_tip": _esc(tip)} if tip else {}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": geometry.get("type"), "coordinates": coords},
    }


def load_reference_layers(*, data_dir: Path = DATA_DIR) -> ReferenceLayers:
    """World countries (1:110m, Balkans at 1:50m) and the ABL, coordinates rounded."""
    ne = data_dir / "naturalearth"
    world = _read_geojson(ne / "ne_110m_admin_0_countries.geojson")
    balkans = _read_geojson(ne / "ne_50m_admin_0_countries_balkans.geojson")
    detailed = {f["properties"].get("ADM0_A3") for f in balkans["features"]}
    kept = [f for f in world["features"] if f["properties"].get("ADM0_A3") not in detailed]
    features = [
        _slim(f, tip=f["properties"].get("NAME_LONG") or f["properties"].get("NAME"))
        for f in [*kept, *balkans["features"]]
    ]
    land = {"type": "FeatureCollection", "features": features}
    labels = [
        label
        for label in map(_country_label, [*kept, *balkans["features"]])
        if label is not None
    ]
    return ReferenceLayers(land=land, abl=_abl(data_dir), labels=labels)


def _country_label(feature: Mapping[str, Any]) -> list[Any] | None:
    """Where and from which zoom a country's name is shown: big countries first."""
    name = feature["properties"].get("NAME")
    try:
        geom = shapely.geometry.shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not name or geom.is_empty:
        return None
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    point = largest.representative_point()
    min_zoom = int(min(7, max(2, round(6 - math.log2(max(largest.area, 1e-6)) / 2))))
    return [round(point.y, 3), round(point.x, 3), _esc(name), min_zoom]


def _abl(data_dir: Path) -> dict[str, Any] | None:
    curated = data_dir / "curated_geometries.geojson"
    features: list[dict[str, Any]] = []
    if curated.exists():
        for f in _read_geojson(curated)["features"]:
            props = f.get("properties") or {}
            if "cur:abl" in (f.get("id"), props.get("place_id"), props.get("id")):
                features.append(_slim(f, tip=props.get("name") or "Administrative boundary line"))
    if not features:
        lines = data_dir / "naturalearth" / "ne_10m_admin_0_boundary_lines_land_balkans.geojson"
        if lines.exists():
            disputed = [
                f
                for f in _read_geojson(lines)["features"]
                if str(f["properties"].get("featurecla", "")).startswith("Disputed")
            ]
            kosovo = [
                f
                for f in disputed
                if "Kosovo" in (f["properties"].get("adm0_left"), f["properties"].get("adm0_right"))
            ]
            features = [
                _slim(f, tip="Administrative boundary line (Natural Earth)")
                for f in (kosovo or disputed)
            ]
    return {"type": "FeatureCollection", "features": features} if features else None


def aggregate_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    """One row per mentioned place: name, kind, country, mentions, articles, lon, lat."""
    columns = ["place_id", "name", "kind", "country", "mentions", "articles", "lon", "lat"]
    if mentions is None or mentions.empty or "geometry" not in mentions.columns:
        return pd.DataFrame(columns=columns)
    frame = mentions[mentions.geometry.notna() & ~mentions.geometry.is_empty].copy()
    if frame.empty:
        return pd.DataFrame(columns=columns)
    points = shapely.point_on_surface(np.asarray(frame.geometry.values))
    frame["lon"] = shapely.get_x(points)
    frame["lat"] = shapely.get_y(points)
    grouped = frame.groupby("place_id", sort=True).agg(
        name=("name", "first"),
        kind=("kind", "first"),
        country=("country", "first"),
        mentions=("place_id", "size"),
        articles=("article_id", "nunique"),
        lon=("lon", "first"),
        lat=("lat", "first"),
    )
    return grouped.reset_index()[columns]


# --------------------------------------------------------------------------- the map


def _layer_label(styles: MapStyles, layer: str, count: int) -> str:
    return f"{styles.layer_label(layer)} ({count})"


def build_map(
    events: gpd.GeoDataFrame,
    *,
    styles: MapStyles,
    reference: ReferenceLayers | None = None,
    mention_places: pd.DataFrame | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    cluster_threshold: int = CLUSTER_THRESHOLD,
    popup_detail_limit: int = POPUP_DETAIL_LIMIT,
) -> folium.Map:
    """The whole map: offline base, web tiles, event layers, reference layers, legend.

    The view fits where most events are (see :func:`focus_bounds`); with no
    events it shows the Balkans.
    """
    payload = build_payload(events, styles=styles, popup_detail_limit=popup_detail_limit)
    return map_from_payload(
        payload,
        styles=styles,
        reference=reference,
        mention_places=mention_places,
        asset_base=asset_base,
        cluster_threshold=cluster_threshold,
    )


def map_from_payload(
    payload: EventPayload,
    *,
    styles: MapStyles,
    reference: ReferenceLayers | None = None,
    mention_places: pd.DataFrame | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    cluster_threshold: int = CLUSTER_THRESHOLD,
) -> folium.Map:
    """The map for a payload built earlier (the app caches payloads per filter)."""
    fmap = folium.Map(
        location=[43.0, 20.9],
        zoom_start=7,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        world_copy_jump=True,
        # the offline base is vector, so no tile layer sets these for the clusters
        maxZoom=18,
        minZoom=2,
    )
    fmap.default_js = [("leaflet", f"{asset_base}/leaflet/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{asset_base}/leaflet/leaflet.css")]
    fmap.add_child(MapStyleSheet())  # type: ignore[no-untyped-call]
    base: StaticGeoJson | None = None
    if reference is not None:
        base = StaticGeoJson(
            reference.land,
            name="Natural Earth (offline)",
            overlay=False,
            style={"color": "#8d8d8d", "weight": 0.8, "fillColor": "#f3efe4", "fillOpacity": 1},
            interactive=False,
            # Event and mention points come from GeoNames (CC BY 4.0 asks for this credit).
            attribution="Natural Earth (public domain) | places: GeoNames (CC BY 4.0)",
        )
        base.add_to(fmap)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap (web tiles)", overlay=False, show=False
    ).add_to(fmap)
    if reference is not None:
        StaticGeoJson(
            reference.land,
            name="Country outlines",
            style={"color": "#5d4037", "weight": 1.2, "fill": False, "opacity": 0.9},
            interactive=True,
            same_data_as=base,
        ).add_to(fmap)
        if reference.abl is not None:
            StaticGeoJson(
                reference.abl,
                name="Administrative boundary line",
                style={"color": "#212121", "weight": 2.5, "dashArray": "2 6", "opacity": 0.9},
                interactive=True,
            ).add_to(fmap)
        if reference.labels:
            LabelLayer(reference.labels, name="Country names").add_to(fmap)
    large = payload.n_markers > cluster_threshold
    for layer, layer_payload in payload.layers.items():
        EventLayer(
            layer_payload,
            payload.icons,
            strings=payload.strings,
            compact=payload.compact,
            name=_layer_label(
                styles, layer,
                payload.events_per_layer.get(layer, 0) if payload.aggregated
                else len(layer_payload.info),
            ),
            large=large,
            asset_base=asset_base,
            aggregated=payload.aggregated,
        ).add_to(fmap)
    if mention_places is not None:
        MentionLayer(mention_places, name=f"Place mentions ({len(mention_places)})").add_to(fmap)
    if payload.legend_types or payload.legend_groups:
        groups = [g for g in (*styles.actor_groups, styles.other) if g.id in payload.legend_groups]
        fmap.add_child(Legend(types=payload.legend_types, groups=groups))
    fullscreen = folium.plugins.Fullscreen(position="topleft")  # type: ignore[no-untyped-call]
    fullscreen.default_js = [
        ("Control.Fullscreen.js", f"{asset_base}/leaflet.fullscreen/Control.FullScreen.js")
    ]
    fullscreen.default_css = [
        ("Control.FullScreen.css", f"{asset_base}/leaflet.fullscreen/Control.FullScreen.css")
    ]
    fullscreen.add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    bounds = focus_bounds(payload.anchors_lonlat)
    if bounds is not None:
        fmap.fit_bounds(bounds, max_zoom=11)
    return fmap
