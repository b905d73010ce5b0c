"""The folium map of events: layers, symbols, popups, legend, offline base map.

Why a custom layer element instead of one folium Marker per event: a store of
100,000 events must still render, so event data travels to the browser as one
compact JSON array and Leaflet builds the markers there (in marker clusters,
with lazy popups); lines and areas are drawn on a canvas.

Why two parts: :func:`base_map` (base, reference layers, controls) does not
depend on the filters, and :class:`EventOverlay` carries every event layer and
the legend. The app hands the overlay to st_folium as ``feature_group_to_add``,
so a filter change swaps the overlay on the live Leaflet map instead of
rebuilding the map. :class:`EventIndex` derives what the map needs of every
event once per store, so a filter change only selects and groups rows.

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

import contextlib
import functools
import html
import importlib
import json
import math
import re
import tomllib
import unicodedata
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
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement, JSCSSMixin
from folium.map import FeatureGroup, Layer, LayerControl
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
VENDOR_DIR: Final = ROOT / "static" / "vendor"
_BUNDLED_SCRIPTS: Final = (
    "leaflet/leaflet.js",
    "leaflet.markercluster/leaflet.markercluster.js",
    "leaflet.fullscreen/Control.FullScreen.js",
)

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


def _esc(value: Any) -> str:
    """HTML-escape, and turn braces into entities so no Jinja delimiter survives.

    branca re-compiles every rendered script/html block as a Jinja template,
    so an article quoting ``{{ ... }}`` must never reach folium verbatim.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    if "{" in text or "}" in text:
        text = text.replace("{", "&#123;").replace("}", "&#125;")
    return text


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
    lonlat: Sequence[tuple[float, float]] | np.ndarray, *, min_radius_km: float = 500.0
) -> list[list[float]] | None:
    """Bounds [[south, west], [north, east]] around where most events are.

    Points farther from the median than ``max(min_radius_km, 3 × the median
    distance)`` are left out of the initial view when at least half the points
    remain, so the far end of a Washington–Belgrade phone call does not zoom a
    Balkan map out to the Atlantic. Evenly spread data keeps everything.
    """
    if len(lonlat) == 0:
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
try:
    _orjson: Any = importlib.import_module("orjson")
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _orjson = None


def _no_braces(match: re.Match[str]) -> str:
    return match.group(0).replace("{", "\\u007b").replace("}", "\\u007d")


def _braces_in_strings(text: str) -> bool:
    """Whether a string literal of this JSON text holds a brace (C-speed string scans).

    With escaped backslashes and quotes removed, the remaining quotes are exactly
    the string delimiters, so every odd piece between them is a string's content.
    """
    bare = text.replace("\\\\", "").replace('\\"', "")
    return any("{" in part or "}" in part for part in bare.split('"')[1::2])


def _js_json(value: Any, *, fast: bool = False) -> str:
    """JSON safe to embed in a script element that branca renders as a Jinja template.

    No raw ``<``, ``>``, ``&`` or line separators (cannot close the script),
    and no brace inside a string (cannot form ``{{``, ``{%`` or ``{#``: folium
    output is compiled and rendered by Jinja again, so data with Jinja
    syntax would otherwise be executed on the server). JSON's own braces
    never pair up as ``{{``, ``{%`` or ``{#``. ``fast``: encode with orjson
    (map payloads: megabytes on a filter change), for data known to hold no NaN.
    """
    text = ""
    if fast and _orjson is not None:
        with contextlib.suppress(TypeError):  # e.g. integers beyond 64 bits
            text = _orjson.dumps(value).decode("utf-8")
    if not text:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if ("{" in text or "}" in text) and _braces_in_strings(text):
        text = _JSON_STRING.sub(_no_braces, text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _js_parse(json_text: str) -> str:
    """A JS expression for script-safe JSON (from :func:`_js_json`): ``JSON.parse('…')``.

    Why: V8 parses a large JSON string several times faster than the same data
    written as an object literal (land polygons, 100,000 events' payload).
    """
    return "JSON.parse('" + json_text.replace("\\", "\\\\").replace("'", "\\'") + "')"


MODE_DETAILED: Final = "detailed"
MODE_COMPACT: Final = "compact"
MODE_AGGREGATED: Final = "aggregated"
_KINDS_SHOWN = 6
"""Event types listed, with their counts, in the popup of a counted marker."""


@dataclass(slots=True)
class LayerPayload:
    """What the browser needs to draw one event layer."""

    rows: list[list[Any]] = field(default_factory=list)
    """[lat, lon, icon index, event index] per marker (counted markers add the count)."""
    info: list[list[Any]] = field(default_factory=list)
    """Per event, as :attr:`EventPayload.mode` says: detailed ``[id, tooltip html, popup
    html]``; compact ``[id, type, when, where, short summary html, n sources,
    n disputes, colour]``; aggregated, per spot, ``[most frequent type, when (from –
    to), where, count, colour, [[type, count], …] (most frequent first), more types
    left out, count of the most frequent type]``. Type, when, where and colour index
    :attr:`EventPayload.strings` (except in detailed rows)."""
    shapes: list[dict[str, Any]] = field(default_factory=list)
    """GeoJSON features of line and area geometries, each distinct shape and colour
    once; properties ``{e: [event indexes], c: colour}``."""


@dataclass(slots=True)
class EventPayload:
    """All event layers plus the shared icon and string tables and the view to open on."""

    layers: dict[str, LayerPayload]
    icons: list[list[Any]]
    """[svg html, size] per distinct icon."""
    legend_types: dict[str, TypeStyle]
    legend_groups: dict[str, ActorGroup]
    mode: str = MODE_DETAILED
    events_per_layer: dict[str, int] = field(default_factory=dict)
    """Events drawn (not markers or spots) per layer, for the layer control."""
    strings: list[str] = field(default_factory=list)
    """Escaped strings shared by compact and aggregated rows (types, dates, places, colours)."""
    bounds: list[list[float]] | None = None
    """[[south, west], [north, east]] to open on (see :func:`focus_bounds`)."""
    skipped: int = 0
    """Events without a usable geometry (not drawn)."""
    _encoded: str | None = field(default=None, repr=False, compare=False)

    @property
    def compact(self) -> bool:
        """Popups assembled in the browser from short fields (large selections)."""
        return self.mode != MODE_DETAILED

    @property
    def aggregated(self) -> bool:
        """One counted marker per layer and spot (very large selections)."""
        return self.mode == MODE_AGGREGATED

    @property
    def n_markers(self) -> int:
        return sum(len(p.rows) for p in self.layers.values())

    @property
    def n_events(self) -> int:
        return sum(self.events_per_layer.values())


class _Strings:
    """An interned table of escaped strings, shipped once per payload."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, text: str) -> int:
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.items)
            self.items.append(text)
        return found

    def add_codes(self, texts: Sequence[str], codes: np.ndarray) -> np.ndarray:
        """Intern ``texts[code]`` for each code; the string indexes, code by code."""
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        unique, inverse = np.unique(codes, return_inverse=True)
        mapped = np.asarray([self.add(texts[int(c)]) for c in unique], dtype=np.int64)
        return np.asarray(mapped[inverse.reshape(-1)], dtype=np.int64)


def _pair_counts(
    major: np.ndarray, minor: np.ndarray, n_minor: int, n_major: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (major, minor) pairs with their counts, sorted by major then minor."""
    key = major * n_minor + minor
    if n_major * n_minor <= 4_000_000:  # a dense count is much faster than sorting
        counts = np.bincount(key, minlength=n_major * n_minor)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:
        keys, counts = np.unique(key, return_counts=True)
    return keys // n_minor, keys % n_minor, counts


def _clean(value: Any) -> Any:
    """None for every kind of missing value, so equal keys hash equal."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _factorize(keys: list[Any]) -> tuple[np.ndarray, list[Any]]:
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    return np.asarray(codes, dtype=np.int64), list(uniques)


class EventIndex:
    """What the map needs of every event of a store, column by column, computed once.

    Why: deriving symbols, colours, anchors and the texts of 100,000 events takes
    about half a second; a filter change then only selects and groups rows of
    these arrays (tens of milliseconds). Detailed popups are built on first use
    and kept (bounded), so moving a date slider rebuilds only the new events.
    Read-only once built, apart from those caches: safe to share between sessions.
    """

    _POPUP_CACHE_LIMIT: Final = 50_000

    def __init__(self, events: gpd.GeoDataFrame, *, styles: MapStyles) -> None:
        self.styles = styles
        self.events = events
        n = self.n = len(events)

        def column(name: str) -> list[Any]:
            if name not in events:
                return [None] * n
            values = events[name].astype(object)
            return list(values.where(values.notna(), None).tolist())

        layers = [str(v or "") for v in column("layer")]
        self.layer_names: list[str] = list(dict.fromkeys([*LAYERS, *layers]))
        code_of = {name: i for i, name in enumerate(self.layer_names)}
        self.layer_code = np.asarray([code_of[v] for v in layers], dtype=np.int64)
        self.ids = [str(v or "") for v in column("id")]

        # Look of each event: (type label, symbol, colour, icon size), once per distinct
        # (layer, type, actors, fatalities); the legend entries of each look.
        types = [str(v or "") for v in column("event_type")]
        who = [tuple(map(str, a)) if type(a) is list else tuple(map(str, _as_list(a)))
               for a in column("actors")]
        fatal = column("fatalities")
        combo_codes, combos = _factorize(list(zip(layers, types, who, fatal, strict=True)))
        self.looks: list[tuple[str, str, str, int]] = []
        self.look_style: list[TypeStyle] = []
        self.look_group: list[ActorGroup] = []
        look_index: dict[tuple[str, str, str, int], int] = {}
        look_of_combo: list[int] = []
        for layer, kind, names, fat in combos:
            style = styles.type_style(layer, kind)
            group = styles.group_for(names, layer=layer)
            look = (style.label, style.symbol, group.colour, icon_size(fat))
            if look not in look_index:
                look_index[look] = len(self.looks)
                self.looks.append(look)
                self.look_style.append(style)
                self.look_group.append(group)
            look_of_combo.append(look_index[look])
        self.look = np.asarray(look_of_combo, dtype=np.int64)[combo_codes] if n else \
            np.zeros(0, dtype=np.int64)
        label_codes, self.labels = _factorize([look[0] for look in self.looks])
        self.look_label = label_codes  # look -> index into self.labels
        self.label_rank = np.argsort(np.argsort(np.asarray(self.labels, dtype=str), kind="stable"))

        # Texts that repeat: when (date, end, precision) and where (place, country).
        dates, ends, precisions = column("date"), column("date_end"), column("time_precision")
        when_codes, whens = _factorize(list(zip(dates, ends, precisions, strict=True)))
        self.when_code = when_codes
        self.when_text = [_date_text({"date": d, "date_end": e, "time_precision": p})
                          for d, e, p in whens]
        where_codes, wheres = _factorize(list(zip(column("place"), column("country"),
                                                  strict=True)))
        self.where_code = where_codes
        self.where_text = [_place_text({"place": p, "country": c}) for p, c in wheres]
        # First and last day as ranks of the sorted ISO dates (for counted spots).
        firsts = [str(d) if d else "" for d in dates]
        lasts = [str(e) if e else f for e, f in zip(ends, firsts, strict=True)]
        day_codes, self.days = pd.factorize(pd.Series([*firsts, *lasts], dtype=object),
                                            sort=True)
        day_codes = np.asarray(day_codes, dtype=np.int64)
        self.first_day, self.last_day = day_codes[:n], day_codes[n:]
        self.n_sources = (
            pd.to_numeric(events["n_sources"], errors="coerce").fillna(0).to_numpy(np.int64)
            if "n_sources" in events else np.zeros(n, dtype=np.int64)
        )
        self.n_disputes = np.asarray(
            [len(v) if type(v) is list else len(_as_list(v)) for v in column("disputed_by")],
            dtype=np.int64)

        # Anchors (one row per icon; a multi-point has several) and distinct shapes.
        self.shapes: list[BaseGeometry] = []
        self._shape_json: dict[int, dict[str, Any]] = {}
        self.event_shape = np.full(n, -1, dtype=np.int64)
        array = np.asarray(events.geometry.to_numpy(), dtype=object) if n else \
            np.zeros(0, dtype=object)
        kinds = shapely.get_type_id(array) if n else np.zeros(0, dtype=np.int64)
        points = array.copy()
        points[kinds != 0] = None
        xs, ys = shapely.get_x(points), shapely.get_y(points)
        plain = (kinds == 0) & ~np.isnan(xs) & ~np.isnan(ys)
        idx = np.flatnonzero(plain)
        ev_parts, lon_parts, lat_parts = [idx], [xs[idx]], [ys[idx]]
        others = np.flatnonzero(~plain & (kinds >= 0))
        if len(others):
            shape_index: dict[bytes, int] = {}
            anchors_of: list[list[tuple[float, float]]] = []
            wkbs = shapely.to_wkb(array[others]).tolist()
            extra_ev: list[int] = []
            extra_lon: list[float] = []
            extra_lat: list[float] = []
            for i, wkb in zip(others.tolist(), wkbs, strict=True):
                geom = array[i]
                if geom is None or geom.is_empty:
                    continue
                no = shape_index.get(wkb)
                if no is None:
                    no = shape_index[wkb] = len(self.shapes)
                    self.shapes.append(geom)
                    anchors_of.append(anchors_lonlat(geom))
                if geom.geom_type not in ("Point", "MultiPoint"):
                    self.event_shape[i] = no
                for lon, lat in anchors_of[no]:
                    extra_ev.append(i)
                    extra_lon.append(lon)
                    extra_lat.append(lat)
            ev_parts.append(np.asarray(extra_ev, dtype=np.int64))
            lon_parts.append(np.asarray(extra_lon, dtype=float))
            lat_parts.append(np.asarray(extra_lat, dtype=float))
        anchor_event = np.concatenate(ev_parts).astype(np.int64)
        order = np.argsort(anchor_event, kind="stable")
        self.anchor_event = anchor_event[order]
        self.anchor_lon = np.concatenate(lon_parts).astype(float)[order]
        self.anchor_lat = np.concatenate(lat_parts).astype(float)[order]
        self.n_anchors = np.bincount(self.anchor_event, minlength=n)

        self._popups: dict[int, Any] = {}
        self._short: dict[int, Any] = {}

    # ----------------------------------------------------------------- per-event texts

    def _shape_geojson(self, no: int) -> dict[str, Any]:
        found = self._shape_json.get(no)
        if found is None:
            found = self._shape_json[no] = _geojson_geometry(self.shapes[no], 5)
        return found

    def _detailed(self, positions: np.ndarray) -> list[tuple[str, str]]:
        """(tooltip, popup) per event, built once per event and kept."""
        wanted = [int(p) for p in positions]
        got = {p: self._popups.get(p) for p in wanted}
        missing = [p for p, text in got.items() if text is None]
        if missing:
            rows = self.events.iloc[missing].drop(columns="geometry").to_dict("records")
            for pos, row in zip(missing, rows, strict=True):
                got[pos] = (tooltip_text(row, styles=self.styles),
                            popup_html(row, styles=self.styles))
            self._remember(self._popups, {p: got[p] for p in missing})
        return [got[p] or ("", "") for p in wanted]

    def _summaries(self, positions: np.ndarray) -> list[str]:
        """Escaped one-line summaries for compact popups, built once per event."""
        wanted = [int(p) for p in positions]
        got = {p: self._short.get(p) for p in wanted}
        missing = [p for p, text in got.items() if text is None]
        if missing:
            texts = self.events["summary"].iloc[missing].tolist() \
                if "summary" in self.events else [""] * len(missing)
            for pos, text in zip(missing, texts, strict=True):
                summary = str(_clean(text) or "")
                if len(summary) > _SUMMARY_SHORT:
                    summary = summary[: _SUMMARY_SHORT - 1].rstrip() + "…"
                got[pos] = _esc(summary)
            self._remember(self._short, {p: got[p] for p in missing})
        return [got[p] or "" for p in wanted]

    def _remember(self, cache: dict[int, Any], fresh: dict[int, Any]) -> None:
        """Keep new texts, within a bound (sessions share the index: results are
        returned from local copies, so another session clearing the cache is harmless)."""
        if len(cache) + len(fresh) > self._POPUP_CACHE_LIMIT:
            cache.clear()
        cache.update(fresh)

    # ----------------------------------------------------------------- payloads

    def positions_of(self, shown: pd.DataFrame) -> np.ndarray:
        """Row positions, in this index, of a filtered frame of the same events."""
        found = self.events.index.get_indexer(shown.index)
        return np.asarray(found[found >= 0], dtype=np.int64)

    def payload(
        self,
        positions: np.ndarray | None = None,
        *,
        popup_detail_limit: int = POPUP_DETAIL_LIMIT,
        aggregate_threshold: int = AGGREGATE_THRESHOLD,
    ) -> EventPayload:
        """The map payload of the events at ``positions`` (all when None), in store order."""
        pos = np.arange(self.n, dtype=np.int64) if positions is None else \
            np.unique(np.asarray(positions, dtype=np.int64))
        mode = (MODE_AGGREGATED if len(pos) > aggregate_threshold
                else MODE_COMPACT if len(pos) > popup_detail_limit else MODE_DETAILED)
        payload = EventPayload(
            layers={name: LayerPayload() for name in self.layer_names},
            icons=[], legend_types={}, legend_groups={}, mode=mode,
        )
        drawn = pos[self.n_anchors[pos] > 0]
        payload.skipped = len(pos) - len(drawn)
        counts = np.bincount(self.layer_code[drawn], minlength=len(self.layer_names))
        payload.events_per_layer = {
            name: int(counts[i]) for i, name in enumerate(self.layer_names)}
        for look in np.unique(self.look[drawn]).tolist():
            style, group = self.look_style[look], self.look_group[look]
            payload.legend_types.setdefault(style.label, style)
            payload.legend_groups.setdefault(group.id, group)
        if not len(drawn):
            return payload
        selected = np.zeros(self.n, dtype=bool)
        selected[drawn] = True
        anchors = np.flatnonzero(selected[self.anchor_event])
        if mode == MODE_AGGREGATED:
            self._aggregate(payload, anchors)
        else:
            self._per_event(payload, drawn, anchors)
        return payload

    def _icon(self, payload: EventPayload, look: int, index: dict[tuple[str, str, int], int]
              ) -> int:
        """Icon index of a look, interning the icon in the payload on first use."""
        _, symbol, colour, size = self.looks[look]
        key = (symbol, colour, size)
        found = index.get(key)
        if found is None:
            found = index[key] = len(payload.icons)
            payload.icons.append([symbol_svg(symbol, colour, size), size])
        return found

    def _icons_for(self, payload: EventPayload, looks: np.ndarray) -> np.ndarray:
        """Icon index of each look present in ``looks``."""
        table = np.full(len(self.looks), -1, dtype=np.int64)
        index: dict[tuple[str, str, int], int] = {}
        for look in np.unique(looks).tolist():
            table[look] = self._icon(payload, look, index)
        return table

    def _per_event(self, payload: EventPayload, drawn: np.ndarray, anchors: np.ndarray) -> None:
        """One marker per anchor and one info row per event (detailed or compact)."""
        strings = _Strings()
        decimals = _COORD_DECIMALS - 1 if payload.compact else _COORD_DECIMALS  # ~1 m
        layer_of = self.layer_code[drawn]
        number = np.zeros(len(drawn), dtype=np.int64)  # event index within its layer
        for code in np.unique(layer_of).tolist():
            where = layer_of == code
            number[where] = np.arange(int(where.sum()))
        number_of = np.full(self.n, -1, dtype=np.int64)
        number_of[drawn] = number
        looks = self.look[drawn]
        icon_of = self._icons_for(payload, looks)
        events_of_anchor = self.anchor_event[anchors]
        lat = np.round(self.anchor_lat[anchors], decimals).tolist()
        lon = np.round(self.anchor_lon[anchors], decimals).tolist()
        icon = icon_of[self.look[events_of_anchor]].tolist()
        numbers = number_of[events_of_anchor].tolist()
        anchor_layer = self.layer_code[events_of_anchor].tolist()
        targets = [payload.layers[name] for name in self.layer_names]
        for la, lo, ic, no, code in zip(lat, lon, icon, numbers, anchor_layer, strict=True):
            targets[code].rows.append([la, lo, ic, no])
        ids = [self.ids[p] for p in drawn.tolist()]
        if payload.compact:
            label_s = strings.add_codes([_esc(label) for label, *_ in self.looks], looks)
            colour_s = strings.add_codes([look[2] for look in self.looks], looks)
            when_s = strings.add_codes(self.when_text, self.when_code[drawn])
            where_s = strings.add_codes(self.where_text, self.where_code[drawn])
            summaries = self._summaries(drawn)
            for row in zip(layer_of.tolist(), ids, label_s.tolist(), when_s.tolist(),
                           where_s.tolist(), summaries, self.n_sources[drawn].tolist(),
                           self.n_disputes[drawn].tolist(), colour_s.tolist(), strict=True):
                targets[row[0]].info.append(list(row[1:]))
        else:
            texts = self._detailed(drawn)
            for code, eid, (tip, popup) in zip(layer_of.tolist(), ids, texts, strict=True):
                targets[code].info.append([eid, tip, popup])
        payload.strings = strings.items
        # Lines and areas: each distinct shape and colour once, naming its events.
        shaped = np.flatnonzero(self.event_shape[drawn] >= 0)
        features: dict[tuple[int, int, str], list[int]] = {}
        for i in shaped.tolist():
            colour = self.looks[int(looks[i])][2]
            key = (int(layer_of[i]), int(self.event_shape[drawn[i]]), colour)
            features.setdefault(key, []).append(int(number[i]))
        for (code, shape, colour), members in features.items():
            targets[code].shapes.append({
                "type": "Feature", "properties": {"e": members, "c": colour},
                "geometry": self._shape_geojson(shape),
            })
        payload.bounds = focus_bounds(np.column_stack(
            [self.anchor_lon[anchors], self.anchor_lat[anchors]]))

    def _aggregate(self, payload: EventPayload, anchors: np.ndarray) -> None:
        """One counted marker per layer and spot (anchor rounded to ~10 m, or shape).

        The marker shows the most frequent event type of its spot (with the most
        frequent colour and size among those events); its popup gives that type
        with its count, the other types with theirs, the place and the date range.
        At this size the table and the exports carry the detail, and narrowing the
        filters brings single events back.
        """
        strings = _Strings()
        ev = self.anchor_event[anchors]
        lat, lon = self.anchor_lat[anchors], self.anchor_lon[anchors]
        frame = pd.DataFrame({
            "layer": self.layer_code[ev],
            "lat": np.round(lat * 1e4).astype(np.int64),
            "lon": np.round(lon * 1e4).astype(np.int64),
            "shape": self.event_shape[ev],
        })
        spot = frame.groupby(["layer", "lat", "lon", "shape"], sort=False).ngroup().to_numpy()
        n_spots = int(spot.max()) + 1
        first_row = np.full(n_spots, len(spot), dtype=np.int64)
        np.minimum.at(first_row, spot, np.arange(len(spot)))
        count = np.bincount(spot, minlength=n_spots)
        first = np.full(n_spots, len(self.days), dtype=np.int64)
        np.minimum.at(first, spot, self.first_day[ev])
        last = np.full(n_spots, -1, dtype=np.int64)
        np.maximum.at(last, spot, self.last_day[ev])
        look = self.look[ev]
        n_looks, n_labels = len(self.looks), len(self.labels)
        # events per (spot, type), most frequent first (ties: by type name)
        t_spot, t_label, t_count = _pair_counts(spot, self.look_label[look], n_labels, n_spots)
        order = np.lexsort((self.label_rank[t_label], -t_count, t_spot))
        t_spot, t_label, t_count = t_spot[order], t_label[order], t_count[order]
        t_start = np.searchsorted(t_spot, np.arange(n_spots + 1))
        top_label = t_label[t_start[:-1]]
        # the icon: the most frequent look among the events of the most frequent type
        l_spot, l_look, l_count = _pair_counts(spot, look, n_looks, n_spots)
        keep = self.look_label[l_look] == top_label[l_spot]
        l_spot, l_look, l_count = l_spot[keep], l_look[keep], l_count[keep]
        order = np.lexsort((l_look, -l_count, l_spot))
        best_look = l_look[order][np.searchsorted(l_spot[order], np.arange(n_spots))].tolist()
        label_s = {int(k): strings.add(_esc(self.labels[int(k)])) for k in np.unique(t_label)}
        kinds_all = [[label_s[k], c] for k, c in zip(t_label.tolist(), t_count.tolist(),
                                                        strict=True)]
        t_start_list = t_start.tolist()
        icon_index: dict[tuple[str, str, int], int] = {}
        rows_layer = frame["layer"].to_numpy()[first_row].tolist()
        rows_shape = frame["shape"].to_numpy()[first_row].tolist()
        rows_where = self.where_code[ev[first_row]].tolist()
        lat_r = (frame["lat"].to_numpy()[first_row] / 1e4).tolist()
        lon_r = (frame["lon"].to_numpy()[first_row] / 1e4).tolist()
        counts, firsts, lasts = count.tolist(), first.tolist(), last.tolist()
        targets = [payload.layers[name] for name in self.layer_names]
        days = [str(d) for d in self.days]
        when_s: dict[tuple[int, int], int] = {}
        for s in range(n_spots):
            kinds = kinds_all[t_start_list[s]:t_start_list[s + 1]]
            best = best_look[s]
            colour = self.looks[best][2]
            span = (firsts[s], lasts[s])
            when = when_s.get(span)
            if when is None:
                begin = days[span[0]] if span[0] < len(days) else ""
                end = days[span[1]] if span[1] >= 0 else begin
                when = when_s[span] = strings.add(
                    _esc(begin if begin == end else f"{begin} – {end}"))
            target = targets[rows_layer[s]]
            no = len(target.info)
            target.info.append([
                kinds[0][0], when, strings.add(self.where_text[rows_where[s]]), counts[s],
                strings.add(colour), kinds[:_KINDS_SHOWN], len(kinds) > _KINDS_SHOWN,
                kinds[0][1],
            ])
            icon = self._icon(payload, best, icon_index)
            target.rows.append([lat_r[s], lon_r[s], icon, no, counts[s]])
            if rows_shape[s] >= 0:
                target.shapes.append({
                    "type": "Feature", "properties": {"e": [no], "c": colour},
                    "geometry": self._shape_geojson(rows_shape[s]),
                })
        payload.strings = strings.items
        spot_lonlat = np.column_stack([lon[first_row], lat[first_row]])
        payload.bounds = focus_bounds(spot_lonlat)


def build_payload(
    events: gpd.GeoDataFrame,
    *,
    styles: MapStyles,
    popup_detail_limit: int = POPUP_DETAIL_LIMIT,
    aggregate_threshold: int = AGGREGATE_THRESHOLD,
) -> EventPayload:
    """Turn the events frame into compact, escaped per-layer arrays.

    For repeated filters of one store, build an :class:`EventIndex` once and call
    its ``payload`` instead (this is that, for a single use).
    """
    return EventIndex(events, styles=styles).payload(
        popup_detail_limit=popup_detail_limit, aggregate_threshold=aggregate_threshold
    )


# --------------------------------------------------------------------------- elements


class _Text(Element):
    """Text a macro already rendered, kept as it is.

    branca wraps each rendered macro in a new template and compiles it again: for
    our elements that means lexing up to megabytes of event data as Jinja on every
    rerun (tens of milliseconds), and data that could act as template code.
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _render_layer_once(layer: Layer, **kwargs: Any) -> str:
    """``Layer.render`` for our data-carrying layers, without the second compilation."""
    parent = layer._parent
    if layer.show and parent is not None:
        layer.add_child(
            ElementAddToElement(
                element_name=layer.get_name(), element_parent_name=parent.get_name()
            ),
            name=layer.get_name() + "_add",
        )
    figure = layer.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("render a map element inside a folium Figure (a Map has one)")
    module = layer._template.module
    for part, target in (("header", figure.header), ("html", figure.html),
                         ("script", figure.script)):
        macro = getattr(module, part, None)
        if macro is not None:
            target.add_child(_Text(macro(layer, kwargs)), name=layer.get_name())
    for child in layer._children.values():
        child.render(**kwargs)
    return ""


class EventOverlay(FeatureGroup):
    """Every event layer, the legend and the view, as one element added to a map.

    Why one element: st_folium can swap a "feature group" on a live map
    (``feature_group_to_add``) without rebuilding the map, so a filter change
    ships and draws only this. When added to a map it adds its layers
    (clustered icons, shapes on a canvas) to the map and to the map's layer
    control (:class:`EventLayerControl`), keeps layers the user switched off
    switched off, shows the legend of what it draws, and opens the view on its
    events the first time (later only when none of them is in view). When
    removed it takes all that away again.

    ``_name`` stays "FeatureGroup": st_folium names the variable it adds to the
    map after it. Events are rebuilt in the browser from compact arrays (see
    :class:`EventPayload`); popups are bound lazily, on first click or hover.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var D = {{ this.data_js }};
            var S = D.strings, mode = D.mode;
            var aggregated = mode === 'aggregated', compact = mode !== 'detailed';
            function esc(t) {
                return String(t).replace(/[&<>"']/g, function (c) {
                    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
                });
            }
            function plural(n, one) { return n + ' ' + one + (n === 1 ? '' : 's'); }
            function kinds(r) {
                return r[5].map(function (p) { return p[1] + ' ' + S[p[0]]; }).join(' · ') +
                    (r[6] ? ' · …' : '');
            }
            function tipOf(r, more) {
                var tip = aggregated
                    ? S[r[0]] + ' (' + r[7] + ') · ' + plural(r[3], 'event') + ' · ' + S[r[2]]
                    : compact ? S[r[1]] + ' · ' + S[r[2]] + ' · ' + S[r[3]] : r[1];
                return more ? tip + ' (+' + more + ' more here)' : tip;
            }
            function popupOf(r, more) {
                var extra = more ? '<div class="ev-sec">' + plural(more, 'more event') +
                    ' in this area: choose their icons</div>' : '';
                if (aggregated) {
                    return '<div class="ev-pop"><div class="ev-head"><span class="ev-badge" ' +
                        'style="background:' + S[r[4]] + '">' + S[r[0]] + '</span></div>' +
                        '<p class="ev-summary">' + plural(r[3], 'event') + ' here. Most frequent ' +
                        'type: ' + S[r[0]] + ' (' + r[7] + ' of ' + r[3] + ')</p>' +
                        '<table class="ev-facts"><tr><th>Types</th><td>' + kinds(r) + '</td></tr>' +
                        '<tr><th>When</th><td>' + S[r[1]] + '</td></tr>' +
                        '<tr><th>Where</th><td>' + S[r[2]] + '</td></tr></table>' +
                        '<div class="ev-sec">Too many events to map one by one: narrow the ' +
                        'filters to see each event, or use the table and exports</div></div>';
                }
                if (!compact) { return r[2].replace(/<\\/div>$/, extra + '</div>'); }
                return '<div class="ev-pop"><div class="ev-head"><span class="ev-badge" ' +
                    'style="background:' + S[r[7]] + '">' + S[r[1]] + '</span></div>' +
                    '<p class="ev-summary">' + r[4] + '</p><table class="ev-facts">' +
                    '<tr><th>When</th><td>' + S[r[2]] + '</td></tr>' +
                    '<tr><th>Where</th><td>' + S[r[3]] + '</td></tr></table>' +
                    '<div class="ev-sec">' + r[5] + ' source(s)' +
                    (r[6] ? ', disputed by ' + r[6] : '') +
                    ' — narrow the filters to see quotes here, or use the table and exports' +
                    '</div>' + extra + '<div class="ev-id">' + esc(r[0]) + '</div></div>';
            }
            var icons = D.icons.map(function (ic) {
                return L.divIcon({html: ic[0], className: 'ev-icon', iconSize: [ic[1], ic[1]],
                                  iconAnchor: [ic[1] / 2, ic[1] / 2],
                                  popupAnchor: [0, -ic[1] / 2], tooltipAnchor: [0, -ic[1] / 2]});
            });
            function clusterIcon(cluster) {  // counted markers: a cluster counts events
                var n = 0, kids = cluster.getAllChildMarkers();
                for (var k = 0; k < kids.length; k++) { n += kids[k].options.n; }
                var size = n < 10 ? 'small' : n < 100 ? 'medium' : 'large';
                return L.divIcon({html: '<div><span>' + n + '</span></div>',
                                  className: 'marker-cluster marker-cluster-' + size,
                                  iconSize: L.point(40, 40)});
            }
            function makeLayer(spec, rank) {
                var info = spec.info, group = L.featureGroup();
                group.evKey = spec.key; group.evName = spec.name; group.evRank = rank;
                group.evCount = info.length; group.evLoaded = false;
                function lazy(layer, open) {
                    if (!layer || layer._evBound || layer.options.ev === undefined) { return; }
                    layer._evBound = true;
                    var item = info[layer.options.ev], more = layer.options.evMore || 0;
                    layer.bindPopup(popupOf(item, more), {maxWidth: 380, maxHeight: 320});
                    layer.bindTooltip(tipOf(item, more),
                                      {direction: 'top', sticky: layer instanceof L.Path});
                    if (open === 'popup') { layer.openPopup(); } else { layer.openTooltip(); }
                }
                if (spec.shapes.features.length) {
                    group.addLayer(L.geoJSON(spec.shapes, {
                        renderer: L.canvas({padding: 0.2}),
                        style: function (f) {
                            var area = f.geometry.type.indexOf('Polygon') >= 0;
                            return {color: f.properties.c, weight: area ? 2 : 5, opacity: 0.85,
                                    fillColor: f.properties.c, fillOpacity: area ? 0.18 : 0,
                                    dashArray: area ? null : '10 6'};
                        },
                        onEachFeature: function (f, l) {
                            l.options.ev = f.properties.e[0];
                            l.options.evMore = f.properties.e.length - 1;
                        }
                    }));
                }
                function tag() {
                    if (this._icon && !aggregated) {
                        this._icon.setAttribute('data-ev', info[this.options.ev][0]);
                    }
                }
                var rows = spec.rows, markers = new Array(rows.length);
                for (var i = 0; i < rows.length; i++) {
                    var r = rows[i];
                    var m = L.marker([r[0], r[1]], {icon: icons[r[2]], ev: r[3], n: r[4] || 1,
                                                    keyboard: false});
                    m.on('add', tag);
                    markers[i] = m;
                }
                // Always clustered: identical places (both ends of many calls) spiderfy
                // instead of hiding each other; a large store keeps few DOM icons.
                var options = L.extend({}, D.cluster);
                if (aggregated) { options.iconCreateFunction = clusterIcon; }
                var expected = rows.length;  // (markercluster also reports its own empty adds)
                options.chunkProgress = function (done, total) {
                    if (total === expected && done >= total) { group.evLoaded = true; }
                };
                var markerLayer = L.markerClusterGroup(options);
                // Add the markers once the cluster group is on the map: before that,
                // markercluster checks each new marker against its whole pending list
                // (quadratic: about 4 s for 33,000 markers).
                markerLayer.once('add', function () {
                    markerLayer.addLayers(markers);
                    markers = null;
                });
                group.addLayer(markerLayer);
                group.on('click', function (e) { lazy(e.layer, 'popup'); });
                group.on('mouseover', function (e) { lazy(e.layer, 'tooltip'); });
                return group;
            }
            var groups = D.layers.map(function (spec, i) { return makeLayer(spec, 20 + i); });
            var Overlay = L.Layer.extend({
                onAdd: function (map) {
                    var state = map._evState || (map._evState = {hidden: {}, generation: 0});
                    var control = map.evControl, self = this;
                    state.generation += 1;
                    this.evGeneration = state.generation;
                    map._evOverlay = this;
                    if (D.bounds) {  // view first: markers are then clustered once, for it
                        var bounds = L.latLngBounds(D.bounds);
                        if (!state.fitted || !map.getBounds().intersects(bounds)) {
                            map.fitBounds(bounds, {maxZoom: 11, animate: false});
                        }
                        state.fitted = true;
                    }
                    groups.forEach(function (g) {  // not yet in the control: no events fire
                        if (!state.hidden[g.evKey]) { map.addLayer(g); }
                        if (control) { control.addOverlay(g, g.evName); }
                    });
                    if (!state.tracking) {  // remember which event layers the user hid
                        state.tracking = true;
                        map.on('overlayadd overlayremove', function (e) {
                            if (e.layer && e.layer.evKey !== undefined) {
                                state.hidden[e.layer.evKey] = e.type === 'overlayremove';
                            }
                        });
                    }
                    if (D.legend) {
                        this._legend = L.control({position: 'bottomright'});
                        this._legend.onAdd = function () {
                            var box = L.DomUtil.create('div', 'ev-legend');
                            box.innerHTML = D.legend;
                            L.DomEvent.disableClickPropagation(box);
                            L.DomEvent.disableScrollPropagation(box);
                            var details = box.querySelector('details');
                            if (details) {
                                if (state.legendClosed) { details.open = false; }
                                details.addEventListener('toggle', function () {
                                    state.legendClosed = !details.open;
                                });
                            }
                            return box;
                        };
                        this._legend.addTo(map);
                    }
                    // st_folium lists every overlay it ever added; forget the removed ones
                    if (Array.isArray(window.feature_group)) {
                        window.feature_group = window.feature_group.filter(function (l) {
                            return l === self || map.hasLayer(l);
                        });
                    }
                },
                onRemove: function (map) {
                    var control = map.evControl;
                    groups.forEach(function (g) {  // out of the control first: no events
                        if (control) { control.removeLayer(g); }
                        map.removeLayer(g);
                    });
                    if (this._legend) { this._legend.remove(); this._legend = null; }
                    if (map._evOverlay === this) { map._evOverlay = null; }
                }
            });
            var overlay = new Overlay();
            overlay.evGroups = groups;
            overlay.evMode = mode;
            overlay.evDrawn = function () {  // every shown event layer has all its markers
                return groups.every(function (g) { return !g._map || g.evLoaded; });
            };
            return overlay;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        payload: EventPayload,
        *,
        styles: MapStyles,
        cluster_threshold: int = CLUSTER_THRESHOLD,
    ) -> None:
        super().__init__(name="Events", overlay=True, control=False, show=True)
        self._name = "FeatureGroup"
        self.data_js = _js_parse(
            payload_json(payload, styles=styles, cluster_threshold=cluster_threshold)
        )

    def render(self, **kwargs: Any) -> str:
        return _render_layer_once(self, **kwargs)


def cluster_options(*, large: bool) -> dict[str, Any]:
    """markercluster options: few events group only overlapping icons; many cluster."""
    return {
        "showCoverageOnHover": False,
        "spiderfyOnMaxZoom": True,
        "maxClusterRadius": 80 if large else 3,
        "chunkedLoading": large,
        "chunkInterval": 120,
        "chunkDelay": 10,
        # cluster split/merge animations cost seconds per zoom with many markers
        "animate": not large,
    }


def legend_html(*, types: Mapping[str, TypeStyle], groups: Iterable[ActorGroup]) -> str:
    """A collapsible legend: symbols by event type, colours by actor, size by fatalities."""
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
    return "".join(parts)


def _layer_label(styles: MapStyles, layer: str, count: int) -> str:
    return f"{styles.layer_label(layer)} ({count})"


def payload_json(
    payload: EventPayload, *, styles: MapStyles, cluster_threshold: int = CLUSTER_THRESHOLD
) -> str:
    """The overlay's data as script-safe JSON, encoded once per payload."""
    if payload._encoded is None:
        groups = [g for g in (*styles.actor_groups, styles.other)
                  if g.id in payload.legend_groups]
        legend = legend_html(types=payload.legend_types, groups=groups) \
            if payload.legend_types or payload.legend_groups else ""
        data = {
            "mode": payload.mode,
            "strings": payload.strings,
            "icons": payload.icons,
            "cluster": cluster_options(large=payload.n_markers > cluster_threshold),
            "legend": legend,
            "bounds": payload.bounds,
            "layers": [
                {
                    "key": layer,
                    "name": _esc(_layer_label(styles, layer,
                                              payload.events_per_layer.get(layer, 0))),
                    "rows": part.rows,
                    "info": part.info,
                    "shapes": {"type": "FeatureCollection", "features": part.shapes},
                }
                for layer, part in payload.layers.items()
            ],
        }
        payload._encoded = _js_json(data, fast=True)
    return payload._encoded


class EventLayerControl(LayerControl):
    """The layer control, reachable as ``map.evControl`` for :class:`EventOverlay`.

    Layers are listed by rank (``evRank``: base map, reference layers, events,
    place mentions), so event layers added later still appear in their place.
    """

    _template = Template(
        """
        {% macro script(this,kwargs) %}
            var {{ this.get_name() }}_layers = {
                base_layers : {
                    {%- for key, val in this.base_layers.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
                overlays :  {
                    {%- for key, val in this.overlays.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
            };
            var {{ this.get_name() }}_options = {{ this.options|tojavascript }};
            {{ this.get_name() }}_options.sortLayers = true;
            {{ this.get_name() }}_options.sortFunction = function (a, b) {
                var ra = a.evRank === undefined ? 50 : a.evRank;
                var rb = b.evRank === undefined ? 50 : b.evRank;
                return ra - rb;
            };
            let {{ this.get_name() }} = L.control.layers(
                {{ this.get_name() }}_layers.base_layers,
                {{ this.get_name() }}_layers.overlays,
                {{ this.get_name() }}_options
            ).addTo({{this._parent.get_name()}});
            {{this._parent.get_name()}}.evControl = {{ this.get_name() }};
        {% endmacro %}
        """
    )


LAND_VAR: Final = "evLandData"
"""The global the land script (:func:`land_script`) defines."""


def land_script(reference: ReferenceLayers) -> str:
    """The Natural Earth land polygons as a static script defining :data:`LAND_VAR`.

    Why: served as a file (see :func:`script_bundle`), the largest reference layer
    leaves every rerun's message and server-side rendering, and the browser
    caches it.
    """
    data = reference.land_js or _js_parse(_js_json(reference.land))
    return f"var {LAND_VAR} = {data};\n"


def script_bundle(reference: ReferenceLayers | None, *, vendor_dir: Path = VENDOR_DIR) -> str:
    """Leaflet, its two plugins and the land polygons (:func:`land_script`) as one script.

    Why: st_folium loads a map's scripts one after the other, so four files cost
    four round trips before the map can start; served as one static file (the app
    writes it under ``static/``) they cost one, which the browser then caches.
    The vendored files are included unchanged, licence headers and all.
    """
    parts = [(vendor_dir / name).read_text(encoding="utf-8") for name in _BUNDLED_SCRIPTS]
    if reference is not None:
        parts.append(land_script(reference))
    return "\n;\n".join(parts)


class StaticGeoJson(Layer):
    """A reference layer (country fills, outlines, the ABL) with one fixed style."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {% if this.data_js %}var {{ this.data_var }} = {{ this.data_js }};{% endif %}
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
        {{ this.get_name() }}.evRank = {{ this.rank }};
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
        rank: int = 50,
        data_js: str = "",
        data_var: str = "",
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "StaticGeoJson"
        self.rank = int(rank)  # place in the layer control (see EventLayerControl)
        # A second layer over the same features (the outlines over the offline base)
        # reuses the first one's data instead of shipping it to the browser twice;
        # ``data_var`` alone names data a script file defines (see ``land_script``).
        self.data_var: str
        if same_data_as is not None:
            self.data_var = same_data_as.data_var
            self.data_js = ""
        elif data_var:
            self.data_var = data_var
            self.data_js = ""
        else:
            self.data_var = f"{self.get_name()}_data"
            self.data_js = data_js or _js_json(data)
        self.style_json = _js_json(dict(style))
        self.interactive_json = "true" if interactive else "false"
        self.attribution_json = _js_json(attribution)

    def render(self, **kwargs: Any) -> str:
        return _render_layer_once(self, **kwargs)


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
            group.evRank = {{ this.rank }};
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], *, name: str, show: bool = True,
                 rank: int = 50) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "LabelLayer"
        self.rank = int(rank)
        self.rows_json = _js_json(rows)

    def render(self, **kwargs: Any) -> str:
        return _render_layer_once(self, **kwargs)


class MentionLayer(Layer):
    """Places named in the articles, one small circle per place (off by default)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var rows = {{ this.rows_json }};
            var group = L.featureGroup();
            group.once('add', function () {  // off by default: build the circles when shown
                var renderer = L.canvas({padding: 0.2});
                for (var i = 0; i < rows.length; i++) {
                    var r = rows[i];
                    L.circleMarker([r[0], r[1]], {renderer: renderer, radius: r[2], weight: 1,
                        color: '#263238', fillColor: '#fdd835', fillOpacity: 0.9, tip: r[3]})
                     .addTo(group);
                }
                rows = null;
            });
            group.on('mouseover', function (e) {
                var l = e.layer;
                if (l._evBound) { return; }
                l._evBound = true;
                l.bindTooltip(l.options.tip);
                l.openTooltip();
            });
            group.evRank = {{ this.rank }};
            return group;
        })();
        {% endmacro %}
        """
    )

    _ROWS_KEY: Final = "geo.mapview.MentionLayer.rows_json"

    def __init__(self, places: pd.DataFrame, *, name: str, show: bool = False,
                 rank: int = 50) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "MentionLayer"
        self.rank = int(rank)
        # The app passes the same (cached, read-only) frame on every rerun: encode once.
        # (pandas copies attrs to derived frames: the id tells the frame itself apart.)
        cached = places.attrs.get(self._ROWS_KEY)
        if isinstance(cached, tuple) and cached[0] == id(places):
            self.rows_json = str(cached[1])
            return
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
        places.attrs[self._ROWS_KEY] = (id(places), self.rows_json)

    def render(self, **kwargs: Any) -> str:
        return _render_layer_once(self, **kwargs)


class MapStyleSheet(JSCSSMixin, MacroElement):
    """CSS for icons, popups and the legend (no external fonts or images).

    Also brings markercluster, which the :class:`EventOverlay` needs: the map
    without events must already load everything a later overlay uses.
    """

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
        .ev-legend { background: rgba(255,255,255,.92); padding: 4px 8px; border-radius: 6px;
                     box-shadow: 0 1px 5px rgba(0,0,0,.35); font: 11px system-ui, sans-serif;
                     max-height: calc(100vh - 280px); min-height: 60px;
                     overflow: auto; }
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

    def __init__(self, *, asset_base: str = DEFAULT_ASSET_BASE) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "MapStyleSheet"
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


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True, slots=True)
class ReferenceLayers:
    """Offline context: land polygons, country outlines and the ABL, as GeoJSON dicts."""

    land: dict[str, Any]
    abl: dict[str, Any] | None
    labels: list[list[Any]] = field(default_factory=list)
    """[lat, lon, escaped name, min zoom] per country: names readable offline."""
    land_js: str = field(default="", repr=False, compare=False)
    """``land`` as a JS expression, encoded once (every map of the app ships it)."""


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
    return ReferenceLayers(land=land, abl=_abl(data_dir), labels=labels,
                           land_js=_js_parse(_js_json(land)))


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


def base_map(
    *,
    reference: ReferenceLayers | None = None,
    mention_places: pd.DataFrame | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    bundle_url: str | None = None,
) -> folium.Map:
    """The map without events: offline base, web tiles, reference layers, controls.

    It depends only on the reference data and the store's place mentions, never
    on the filters, so st_folium keeps the same Leaflet map across filter changes
    and only the :class:`EventOverlay` is swapped (see :func:`build_map`).
    ``bundle_url``: where :func:`script_bundle` (built from the same ``reference``)
    is served; without it Leaflet and its plugins come from ``asset_base`` one by
    one and the land polygons travel inside the map's own script. Stylesheets
    always come from ``asset_base``.
    """
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
    fmap.default_js = [("leaflet", bundle_url or f"{asset_base}/leaflet/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{asset_base}/leaflet/leaflet.css")]
    sheet = MapStyleSheet(asset_base=asset_base)
    if bundle_url:
        sheet.default_js = []
    fmap.add_child(sheet)
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
            rank=0,
            data_js=reference.land_js,
            data_var=LAND_VAR if bundle_url else "",
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
            rank=10,
        ).add_to(fmap)
        if reference.abl is not None:
            StaticGeoJson(
                reference.abl,
                name="Administrative boundary line",
                style={"color": "#212121", "weight": 2.5, "dashArray": "2 6", "opacity": 0.9},
                interactive=True,
                rank=11,
            ).add_to(fmap)
        if reference.labels:
            LabelLayer(reference.labels, name="Country names", rank=12).add_to(fmap)
    if mention_places is not None:
        MentionLayer(mention_places, name=f"Place mentions ({len(mention_places)})",
                     rank=40).add_to(fmap)
    fullscreen = folium.plugins.Fullscreen(position="topleft")  # type: ignore[no-untyped-call]
    fullscreen.default_js = [] if bundle_url else [
        ("Control.Fullscreen.js", f"{asset_base}/leaflet.fullscreen/Control.FullScreen.js")
    ]
    fullscreen.default_css = [
        ("Control.FullScreen.css", f"{asset_base}/leaflet.fullscreen/Control.FullScreen.css")
    ]
    fullscreen.add_to(fmap)
    EventLayerControl(collapsed=False, position="topright").add_to(fmap)
    return fmap


def event_overlay(
    payload: EventPayload, *, styles: MapStyles, cluster_threshold: int = CLUSTER_THRESHOLD
) -> EventOverlay:
    """The events of a payload as one element for :func:`base_map` (or st_folium)."""
    return EventOverlay(payload, styles=styles, cluster_threshold=cluster_threshold)


def build_map(
    events: gpd.GeoDataFrame,
    *,
    styles: MapStyles,
    reference: ReferenceLayers | None = None,
    mention_places: pd.DataFrame | None = None,
    asset_base: str = DEFAULT_ASSET_BASE,
    cluster_threshold: int = CLUSTER_THRESHOLD,
    popup_detail_limit: int = POPUP_DETAIL_LIMIT,
    aggregate_threshold: int = AGGREGATE_THRESHOLD,
) -> folium.Map:
    """The whole map in one piece: :func:`base_map` with the events' overlay on it.

    The view opens where most events are (see :func:`focus_bounds`); with no
    events it shows the Balkans.
    """
    payload = build_payload(events, styles=styles, popup_detail_limit=popup_detail_limit,
                            aggregate_threshold=aggregate_threshold)
    fmap = base_map(reference=reference, mention_places=mention_places, asset_base=asset_base)
    # after the layer control: the overlay registers its layers with it when added
    event_overlay(payload, styles=styles, cluster_threshold=cluster_threshold).add_to(fmap)
    return fmap
