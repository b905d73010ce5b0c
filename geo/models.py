"""Plain data records shared by every stage of the pipeline.

Coordinates: ``lon``/``lat`` fields and shapely geometries are (lon, lat), as in
GeoJSON. Only the map view converts to folium's (lat, lon).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from shapely.geometry.base import BaseGeometry

PlaceKind = Literal[
    "country",
    "capital",
    "city",
    "town",
    "village",
    "region",
    "area",
    "line",
    "crossing",
    "lake",
    "site",
]

TimePrecision = Literal["day", "week", "month", "year"]


@dataclass(frozen=True, slots=True)
class Place:
    """A gazetteer entry.

    ``place_id`` is stable and namespaced by source: ``gn:<geonameid>``,
    ``ne:<ISO_A2>`` (Natural Earth country), ``cur:<slug>`` (curated layer).
    ``geometry`` is None for points; lines and areas carry a shapely geometry
    in lon/lat while ``lon``/``lat`` stay a representative point.
    """

    place_id: str
    name: str
    kind: PlaceKind
    country: str | None
    lon: float
    lat: float
    population: int = 0
    source: str = "geonames"
    geometry: BaseGeometry | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Mention:
    """A place named in a text: ``text == article[start:end]`` exactly."""

    text: str
    start: int
    end: int
    place: Place
    score: float
    reason: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression resolved against the publication date.

    ``date``..``date_end`` is the inclusive range the expression denotes; for a
    single day both are equal. ``kind`` says how it was read (absolute,
    weekday, relative, span, year) so events can weigh it.
    """

    text: str
    start: int
    end: int
    date: dt.date
    date_end: dt.date
    precision: TimePrecision
    kind: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article of a corpus, as read from the manifest."""

    article_id: str
    path: str
    outlet: str
    published: dt.date | None
    title: str
    text: str


Layer = Literal["incidents", "troop_positions", "diplomacy"]
LAYERS: tuple[Layer, ...] = ("incidents", "troop_positions", "diplomacy")


@dataclass(frozen=True, slots=True)
class Source:
    """One article's report of an event: ``quote == article.text[start:end]``."""

    article_id: str
    outlet: str
    published: dt.date | None
    quote: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Dispute:
    """A denial or counter-claim, attached to the event it disputes."""

    who: str
    quote: str
    article_id: str
    start: int
    end: int


@dataclass(slots=True)
class Event:
    """A merged event: one real happening, many sources.

    ``geometry`` is shapely (lon, lat): Point, LineString/MultiLineString or
    Polygon/MultiPolygon. ``geo_precision`` follows ACLED: 1 the named place,
    2 near it or part of a region, 3 a region or border area.
    """

    id: str
    layer: Layer
    event_type: str
    acled_event_type: str | None
    acled_sub_event_type: str | None
    date: dt.date
    date_end: dt.date
    time_precision: TimePrecision
    place: str
    place_id: str
    geo_precision: int
    country: str | None
    actors: list[str]
    fatalities: int | None
    summary: str
    sources: list[Source]
    disputed_by: list[Dispute]
    geometry: BaseGeometry
    notes: list[str] = field(default_factory=list)

    @property
    def n_sources(self) -> int:
        """Independent reports: distinct articles, not sentences."""
        return len({s.article_id for s in self.sources})
