"""Cross-article merge: one real happening, one event, many sources.

Two reports are the same event when they share layer and event family
(``data/event_rules.toml``: an ambush, a gun battle and a killing are all
"violence"), their dates can coincide (ranges overlap within a tolerance that
grows with the coarser precision) and their places can coincide (same place,
one inside the other's country or area, or close for their kinds). Diplomacy
is placed at the participants' capitals, so the capitals of one report must be
a subset of the other's: Blinken–Vučić and Sullivan–Kurti stay apart. Two
reports of different types from one article ("a drone strike ... Separately,
fighting ...") stay apart too: that article told them apart.

Reports are merged most specific first, so a vague report ("the attack in
Kosovo this week") joins the precise one ("Banjska, 24 September") rather
than seeding its own event. The merged event keeps the most specific place,
the best-supported date and fatality count (with the reason in ``notes``),
every source and every denial.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geo import gazetteer as gz
from geo.errors import GazetteerError
from geo.events import (
    DATE_BASIS_RANK,
    DATE_TOLERANCE_DAYS,
    KIND_RANK,
    NOTE_DATE_FALLBACK,
    dates_compatible,
    distance_km,
    drop_generic,
    event_id,
    load_rules,
    place_tolerance_km,
    summarise,
)
from geo.export import _gc_paused
from geo.models import Dispute, Event, Source

__all__ = ["merge_events"]

_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}


@functools.lru_cache(maxsize=4096)
def _kind(place_id: str) -> str:
    """Gazetteer kind of a place id; diplomacy's joined capitals count as capitals."""
    if "+" in place_id:
        return "capital"
    try:
        return gz.load().get(place_id).kind
    except GazetteerError:
        return "country" if place_id.startswith("ne:") else "town"


def _family(event: Event) -> str:
    etype = load_rules().event_types.get(event.event_type)
    return etype.family if etype is not None else event.event_type


def _rank(event_type: str) -> int:
    etype = load_rules().event_types.get(event_type)
    return etype.rank if etype is not None else 0


def _date_basis(event: Event) -> int:
    for note in event.notes:
        for prefix, rank in DATE_BASIS_RANK.items():
            if note.startswith(prefix):
                return rank
    return 0


def _specificity(event: Event) -> tuple[int, int, int, int, str, int]:
    first = min(((s.article_id, s.start) for s in event.sources), default=("", 0))
    return (
        _date_basis(event),
        _PRECISION_RANK.get(event.time_precision, 4),
        KIND_RANK.get(_kind(event.place_id), 7),
        event.geo_precision,
        first[0],
        first[1],
    )


def _capitals(event: Event) -> set[str]:
    return set(event.place_id.split("+"))


_KM_PER_DEGREE_LOWER = 110.0  # a degree of latitude is 110.57..111.69 km


@dataclass(slots=True)
class _Facts:
    """What the merge compares, computed once per report instead of per comparison
    (a 10,000-article corpus makes ~10^6 comparisons)."""

    event: Event
    layer: str
    family: str
    start: int  # date ordinals
    end: int
    tolerance: int  # days of slack of its time precision
    kind: str
    capitals: frozenset[str]
    bounds: tuple[float, float, float, float]
    articles: frozenset[str]  # its sources' articles


def _facts(events: Sequence[Event]) -> dict[int, _Facts]:
    boxes = shapely.bounds(np.asarray([e.geometry for e in events], dtype=object)).tolist()
    return {
        id(e): _Facts(
            e, e.layer, _family(e), e.date.toordinal(), e.date_end.toordinal(), _tolerance(e),
            _kind(e.place_id), frozenset(_capitals(e)), (box[0], box[1], box[2], box[3]),
            frozenset(src.article_id for src in e.sources),
        )
        for e, box in zip(events, boxes, strict=True)
    }


def _surely_farther(a: _Facts, b: _Facts, km: float) -> bool:
    """True when the bounding boxes alone prove the two geometries more than ``km``
    apart, so the projected distance need not be computed. Deliberately loose (half
    the real length per degree of longitude); never used near the poles or the
    antimeridian, where boxes say little about distances."""
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    lat_gap = max(0.0, by0 - ay1, ay0 - by1)
    if lat_gap * _KM_PER_DEGREE_LOWER > km * 1.05:
        return True
    top = max(abs(ay0), abs(ay1), abs(by0), abs(by1))
    if top > 80.0 or max(abs(ax0), abs(ax1), abs(bx0), abs(bx1)) > 170.0:
        return False
    lon_gap = max(0.0, bx0 - ax1, ax0 - bx1)
    return lon_gap * _KM_PER_DEGREE_LOWER * math.cos(math.radians(top)) * 0.5 > km * 1.05


def _places_ok(fa: _Facts, fb: _Facts) -> bool:
    a, b = fa.event, fb.event
    if fa.layer == "diplomacy":
        ca, cb = fa.capitals, fb.capitals
        return ca <= cb or cb <= ca
    if a.place_id == b.place_id:
        return True
    ka, kb = fa.kind, fb.kind
    for x, kx, y in ((a, ka, b), (b, kb, a)):
        if kx == "country":
            if y.country is not None:
                return y.country == x.country
            country = gz.load().country(x.country) if x.country else None
            return bool(country and country.geometry is not None
                        and country.geometry.intersects(y.geometry))
    tolerance = place_tolerance_km(ka, kb)
    if _surely_farther(fa, fb, tolerance):
        return False
    return distance_km(a.geometry, b.geometry) <= tolerance


def _dates_ok(fa: _Facts, fb: _Facts) -> bool:
    """:func:`geo.events.dates_compatible` on date ordinals (same tolerances)."""
    slack = max(fa.tolerance, fb.tolerance)
    if min(fa.start, fb.start) - slack < 1:  # near date.min: let the date code decide
        a, b = fa.event, fb.event
        return dates_compatible(
            (a.date, a.date_end, a.time_precision), (b.date, b.date_end, b.time_precision)
        )
    return fa.start - slack <= fb.end and fb.start - slack <= fa.end


def _compatible(fe: _Facts, cluster: Sequence[_Facts]) -> bool:
    head = cluster[0]
    if fe.layer != head.layer or fe.family != head.family:
        return False
    if any(_typed_apart(fe, other.articles, {other.event.event_type}) for other in cluster):
        return False
    return all(_dates_ok(fe, other) and _places_ok(fe, other) for other in cluster)


def _typed_apart(fe: _Facts, articles: Iterable[str], types: set[str]) -> bool:
    """An article that reported ``fe`` also reported another type of event of the
    same family ("a drone strike ... Separately, fighting ..."): it told them
    apart, so they are not one happening."""
    return any(t != fe.event.event_type for t in types) and not fe.articles.isdisjoint(articles)


def _distance_key(event: Event, cluster: Sequence[Event]) -> tuple[int, int]:
    same_place = 0 if any(o.place_id == event.place_id for o in cluster) else 1
    days = min(abs((o.date - event.date).days) for o in cluster)
    return same_place, days


_MAX_TOLERANCE = max(1, *DATE_TOLERANCE_DAYS.values())


def _tolerance(event: Event) -> int:
    """Days of slack :func:`geo.events.dates_compatible` allows this event's side."""
    return DATE_TOLERANCE_DAYS.get(event.time_precision, 1)


class _ClusterIndex:
    """Clusters by (layer, family) and by the days their members' dates can reach.

    Why: comparing every report with every cluster is quadratic (10,000 articles
    meant ~10^8 comparisons and ten minutes). Two reports can only merge if their
    date ranges overlap once each is widened by its own precision's tolerance
    (the check allows the larger of the two, which is at most their sum). So a
    cluster is registered under every day its members' widened ranges cover, and
    a report looks up the days of its own widened range: that returns every
    cluster it could be compatible with (and a few it is not). The full test
    then runs on those only, in cluster order, so the result is exactly that of
    the plain scan.
    """

    def __init__(self) -> None:
        self._days: dict[tuple[str, str], dict[int, list[int]]] = {}

    @staticmethod
    def _span(f: _Facts) -> range:
        pad = f.tolerance
        return range(min(f.start, f.end) - pad, max(f.start, f.end) + pad + 1)

    def add(self, index: int, f: _Facts) -> None:
        days = self._days.setdefault((f.layer, f.family), {})
        for day in self._span(f):
            ids = days.get(day)
            if ids is None:
                days[day] = [index]
            elif ids[-1] != index:
                ids.append(index)

    def candidates(self, f: _Facts) -> list[int]:
        """Ids of clusters of the report's layer and family with a member near its dates."""
        days = self._days.get((f.layer, f.family))
        if not days:
            return []
        found: set[int] = set()
        for day in self._span(f):
            ids = days.get(day)
            if ids:
                found.update(ids)
        return sorted(found)


_CELL_DEG = 0.5
_REACH_DEG = 0.3  # > the largest place tolerance (25 km) in degrees of latitude
_MAX_CELLS = 400
_EVERYWHERE = "*"


def _cells(box: tuple[float, float, float, float], *, reach: bool) -> list[str] | None:
    """Grid cells a bounding box (widened by the largest place tolerance if ``reach``)
    touches; None near the poles or the antimeridian, or for huge boxes."""
    x0, y0, x1, y1 = box
    if not all(math.isfinite(v) for v in box):
        return None
    top = max(abs(y0), abs(y1)) + (_REACH_DEG if reach else 0.0)
    if top > 80.0 or x0 < -170.0 or x1 > 170.0:
        return None
    dy = _REACH_DEG if reach else 0.0
    dx = _REACH_DEG / math.cos(math.radians(top)) if reach else 0.0
    cx0, cx1 = math.floor((x0 - dx) / _CELL_DEG), math.floor((x1 + dx) / _CELL_DEG)
    cy0, cy1 = math.floor((y0 - dy) / _CELL_DEG), math.floor((y1 + dy) / _CELL_DEG)
    if (cx1 - cx0 + 1) * (cy1 - cy0 + 1) > _MAX_CELLS:
        return None
    return [f"g{cx}:{cy}" for cx in range(cx0, cx1 + 1) for cy in range(cy0, cy1 + 1)]


class _HeadIndex:
    """Clusters by their first report's layer, family, days and place.

    A report must be compatible with every member of a cluster, so in particular
    with its first one (the head): same layer and family, dates within the
    tolerances, and a compatible place (same place id; same or shared capitals for
    diplomacy; the same country when either is a country; otherwise within 25 km,
    so in a grid cell the head's box widened by that distance touches). Each head
    is registered under those keys; a report looks up its own. Every compatible
    cluster is found, plus a few that the full test then rejects.
    """

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str, str], dict[int, list[int]]] = {}

    @staticmethod
    def _head_keys(f: _Facts) -> list[str]:
        e = f.event
        if f.layer == "diplomacy":
            return [f"k:{c}" for c in f.capitals]
        keys = [f"p:{e.place_id}", f"h:{e.country}"]
        if f.kind == "country":
            keys.append(f"c:{e.country}" if e.country else "c:")
            keys.append("c*")
        cells = _cells(f.bounds, reach=True)
        keys += [_EVERYWHERE] if cells is None else cells
        return keys

    @staticmethod
    def _query_keys(f: _Facts) -> list[str]:
        e = f.event
        if f.layer == "diplomacy":
            return [f"k:{c}" for c in f.capitals]
        keys = [f"p:{e.place_id}", _EVERYWHERE]
        if f.kind == "country":
            keys += [f"h:{e.country}", "h:None"]
        keys.append(f"c:{e.country}" if e.country is not None else "c*")
        cells = _cells(f.bounds, reach=False)
        if cells is None:  # no grid for this report: every non-grid key it could meet
            cells = ["g*"]
        keys += cells
        return keys

    @staticmethod
    def _weeks(f: _Facts) -> range:
        """Weeks (7-day buckets) of the widened date range (see :class:`_ClusterIndex`)."""
        lo = min(f.start, f.end) - f.tolerance
        hi = max(f.start, f.end) + f.tolerance
        return range(lo // 7, hi // 7 + 1)

    def add(self, index: int, f: _Facts) -> None:
        keys = self._head_keys(f)
        if f.layer != "diplomacy":
            keys.append("g*")  # reports without a grid (poles, antimeridian) see all heads
        for key in keys:
            weeks = self._keys.setdefault((f.layer, f.family, key), {})
            for week in self._weeks(f):
                ids = weeks.get(week)
                if ids is None:
                    weeks[week] = [index]
                else:
                    ids.append(index)

    def candidates(self, f: _Facts) -> list[int]:
        found: set[int] = set()
        span = self._weeks(f)
        for key in self._query_keys(f):
            weeks = self._keys.get((f.layer, f.family, key))
            if not weeks:
                continue
            for week in span:
                ids = weeks.get(week)
                if ids:
                    found.update(ids)
        return sorted(found)


@dataclass(slots=True)
class _Cluster:
    """A growing cluster with what compatibility needs from all of its members at once:
    per date tolerance the earliest end and the latest start (so "every member's
    dates fit" is one comparison per tolerance), one member per distinct place
    (same id, country and geometry give the same place test), the place ids and
    the sorted start days (for the distance key), and per article the event types
    it reported (see :func:`_typed_apart`)."""

    members: list[Event]
    facts: list[_Facts]
    dates: dict[int, list[int]]  # tolerance -> [min end, max start]
    places: dict[tuple[str, str | None, bytes], _Facts]
    place_ids: set[str]
    starts: list[int]
    types: dict[str, set[str]]  # article -> the event types it reported here

    @classmethod
    def of(cls, f: _Facts, wkb: bytes) -> _Cluster:
        e = f.event
        return cls([e], [f], {f.tolerance: [f.end, f.start]}, {(e.place_id, e.country, wkb): f},
                   {e.place_id}, [f.start], {a: {e.event_type} for a in f.articles})

    def add(self, f: _Facts, wkb: bytes) -> None:
        e = f.event
        self.members.append(e)
        self.facts.append(f)
        span = self.dates.get(f.tolerance)
        if span is None:
            self.dates[f.tolerance] = [f.end, f.start]
        else:
            span[0] = min(span[0], f.end)
            span[1] = max(span[1], f.start)
        self.places.setdefault((e.place_id, e.country, wkb), f)
        self.place_ids.add(e.place_id)
        bisect.insort(self.starts, f.start)
        for a in f.articles:
            self.types.setdefault(a, set()).add(e.event_type)

    def compatible(self, fe: _Facts) -> bool:
        """Exactly ``_compatible(fe, self.facts)`` (dates never near date.min)."""
        head = self.facts[0]
        if fe.layer != head.layer or fe.family != head.family:
            return False
        for a in fe.articles:
            seen = self.types.get(a)
            if seen is not None and _typed_apart(fe, (a,), seen):
                return False
        for tolerance, (min_end, max_start) in self.dates.items():
            slack = max(fe.tolerance, tolerance)
            if not (fe.start - slack <= min_end and max_start - slack <= fe.end):
                return False
        return all(_places_ok(fe, other) for other in self.places.values())

    def distance_key(self, fe: _Facts) -> tuple[int, int]:
        """Exactly ``_distance_key(fe.event, self.members)``."""
        same_place = 0 if fe.event.place_id in self.place_ids else 1
        k = bisect.bisect_left(self.starts, fe.start)
        days = min(abs(self.starts[j] - fe.start) for j in (k - 1, k)
                   if 0 <= j < len(self.starts))
        return same_place, days


def merge_events(events: Sequence[Event]) -> list[Event]:
    """Merge per-article events into one event per real happening.

    Events without sources (denials whose event their article did not report)
    lend their ``disputed_by`` to a compatible event and are otherwise dropped.
    The result is sorted by layer, date and id; ids are stable across rebuilds.
    """
    with _gc_paused():  # tens of thousands of reports: no collector passes meanwhile
        return _merge(events)


def _merge(events: Sequence[Event]) -> list[Event]:
    real = sorted((e for e in events if e.sources), key=_specificity)
    carriers = [e for e in events if not e.sources]
    facts = _facts(events)
    wkbs = dict(zip(
        (id(e) for e in events),
        shapely.to_wkb(np.asarray([e.geometry for e in events], dtype=object)).tolist(),
        strict=True,
    ))
    # Aggregated date checks assume no date is within a week of date.min (where
    # dates_compatible raises); otherwise every member is compared one by one.
    aggregate = all(min(f.start, f.end) - _MAX_TOLERANCE >= 1 for f in facts.values())
    clusters: list[_Cluster] = []
    heads = _HeadIndex()
    for event in real:
        fe = facts[id(event)]
        options = [
            i for i in heads.candidates(fe)
            if (clusters[i].compatible(fe) if aggregate else _compatible(fe, clusters[i].facts))
        ]
        if not options:
            clusters.append(_Cluster.of(fe, wkbs[id(event)]))
            heads.add(len(clusters) - 1, fe)
            continue
        best = min(options, key=lambda i: clusters[i].distance_key(fe))
        clusters[best].add(fe, wkbs[id(event)])
    extra: dict[int, list[Dispute]] = {}
    index = _ClusterIndex()
    if carriers:  # a denial needs only one member with fitting dates: index them all
        for i, cl in enumerate(clusters):
            for f in cl.facts:
                index.add(i, f)
    for carrier in carriers:
        fc = facts[id(carrier)]
        options = [
            i for i in index.candidates(fc)
            if any(_dates_ok(fc, o) for o in clusters[i].facts)
            and any(_places_ok(fc, o) for o in clusters[i].facts)
        ]
        if options:
            best = min(options, key=lambda i: clusters[i].distance_key(fc))
            extra.setdefault(best, []).extend(carrier.disputed_by)
    merged = [_combine(cl.members, extra.get(i, [])) for i, cl in enumerate(clusters)]
    merged.sort(key=lambda e: (e.layer, e.date, e.id))
    seen: set[str] = set()
    for event in merged:
        if event.id in seen:
            first = event.sources[0]
            salt = hashlib.sha1(f"{first.article_id}:{first.start}".encode()).hexdigest()[:6]
            event.id = f"{event.id}-{salt}"
        seen.add(event.id)
    return merged


def _choose_date(members: Sequence[Event]) -> tuple[Event, list[str]]:
    """The best-supported date: text dates beat statement dates beat fallbacks; among
    equals, the reading most articles give, then the most precise, then the earliest."""
    best_basis = min(_date_basis(e) for e in members)
    pool = [e for e in members if _date_basis(e) == best_basis]
    support: dict[tuple[dt.date, dt.date, str], set[str]] = {}
    for e in pool:
        key = (e.date, e.date_end, e.time_precision)
        support.setdefault(key, set()).update(s.article_id for s in e.sources)
    ranked = sorted(
        support.items(),
        key=lambda kv: (-len(kv[1]), _PRECISION_RANK.get(kv[0][2], 4), kv[0][0]),
    )
    (date, date_end, precision), _ = ranked[0]
    chosen = next(
        e for e in pool if (e.date, e.date_end, e.time_precision) == (date, date_end, precision)
    )
    notes: list[str] = []
    if len(ranked) > 1:
        readings = "; ".join(
            f"{d.isoformat()}" + (f"..{de.isoformat()}" if de != d else "")
            + f" per {', '.join(sorted(arts))}"
            for (d, de, _p), arts in ranked
        )
        top = len(ranked[0][1])
        tied = [kv for kv in ranked if len(kv[1]) == top]
        if len(tied) > 1:
            why = "no majority, so the most precise and then the earliest reading " \
                  "(a later report cannot move the event later than an earlier one)"
        else:
            why = "the reading most articles give"
        notes.append(f"date: reports differ ({readings}); chose {date.isoformat()}, {why}")
    return chosen, notes


def _choose_place(members: Sequence[Event]) -> Event:
    if members[0].layer == "diplomacy":
        return max(members, key=lambda e: (len(_capitals(e)), e.place_id))
    counts = Counter(e.place_id for e in members)

    def key(e: Event) -> tuple[int, int, int, int, str]:
        polygonal = 0 if e.geometry.geom_type in ("Polygon", "MultiPolygon") else 1
        return (KIND_RANK.get(_kind(e.place_id), 7), e.geo_precision, -counts[e.place_id],
                polygonal, e.place_id)

    return min(members, key=key)


def _choose_fatalities(members: Sequence[Event]) -> tuple[int | None, list[str]]:
    per_article: dict[str, int] = {}
    for e in members:
        if e.fatalities is None:
            continue
        art = e.sources[0].article_id
        per_article[art] = max(per_article.get(art, 0), e.fatalities)
    if not per_article:
        return None, []
    counts = Counter(per_article.values())
    n = len(per_article)
    if len(counts) == 1:
        value = next(iter(counts))
        return value, [f"fatalities: {value}, the same in all {n} reporting articles"]
    top = max(counts.values())
    tied = sorted(v for v, c in counts.items() if c == top)
    value = tied[-1]
    readings = ", ".join(f"{v} ({c} article{'s' if c > 1 else ''})"
                         for v, c in sorted(counts.items()))
    why = "the most-reported total" if len(tied) == 1 else "the highest of the tied totals"
    return value, [f"fatalities: reports differ ({readings}); chose {value}, {why}"]


def _combine(members: Sequence[Event], extra_disputes: Sequence[Dispute]) -> Event:
    etype_key = max((e.event_type for e in members), key=_rank)
    etype = load_rules().event_types.get(etype_key)
    dated, date_notes = _choose_date(members)
    placed = _choose_place(members)
    fatalities, fatal_notes = _choose_fatalities(members)
    sources: list[Source] = []
    seen_src: set[tuple[str, int, int]] = set()
    for e in members:
        for s in e.sources:
            key = (s.article_id, s.start, s.end)
            if key not in seen_src:
                seen_src.add(key)
                sources.append(s)
    sources.sort(key=lambda s: (s.article_id, s.start))
    disputes: list[Dispute] = []
    seen_d: set[tuple[str, int, int]] = set()
    for d in [*(d for e in members for d in e.disputed_by), *extra_disputes]:
        key = (d.article_id, d.start, d.end)
        if key not in seen_d:
            seen_d.add(key)
            disputes.append(d)
    disputes.sort(key=lambda d: (d.article_id, d.start))
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for e in members:
        for i, a in enumerate(e.actors):
            counts[a] += 1
            first_seen.setdefault(a, i)
    actors = drop_generic(sorted(counts, key=lambda a: (-counts[a], first_seen[a], a)))
    n_articles = len({s.article_id for s in sources})
    notes = [n for n in dated.notes if n.startswith("date:")][:1]
    notes += date_notes
    notes += [n for n in placed.notes if n.startswith("place:")][:1]
    notes += fatal_notes
    if len(members) > 1:
        notes.append(f"merged {len(members)} reports from {n_articles} articles")
    if all(_date_basis(e) == DATE_BASIS_RANK[NOTE_DATE_FALLBACK] for e in members):
        notes.append("date is only the publication week: no report dates it")
    label = etype.label if etype is not None else etype_key
    return Event(
        id=event_id(members[0].layer, etype_key, dated.date, placed.place_id),
        layer=members[0].layer,
        event_type=etype_key,
        acled_event_type=etype.acled_event_type if etype else members[0].acled_event_type,
        acled_sub_event_type=(
            etype.acled_sub_event_type if etype else members[0].acled_sub_event_type
        ),
        date=dated.date,
        date_end=dated.date_end,
        time_precision=dated.time_precision,
        place=placed.place,
        place_id=placed.place_id,
        geo_precision=placed.geo_precision,
        country=placed.country,
        actors=actors,
        fatalities=fatalities,
        summary=summarise(
            label=label, layer=members[0].layer, place=placed.place, date=dated.date,
            date_end=dated.date_end, precision=dated.time_precision, actors=actors,
            fatalities=fatalities, disputed=bool(disputes),
        ),
        sources=sources,
        disputed_by=disputes,
        geometry=placed.geometry,
        notes=notes,
    )
