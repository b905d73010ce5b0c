"""Cross-article merge: one real happening, one event, many sources.

Two reports are the same event when they share layer and event family
(``data/event_rules.toml``: an ambush, a gun battle and a killing are all
"violence"), their dates can coincide (ranges overlap within a tolerance that
grows with the coarser precision) and their places can coincide (same place,
one inside the other's country or area, or close for their kinds). Diplomacy
is placed at the participants' capitals, so the capitals of one report must be
a subset of the other's: Blinken–Vučić and Sullivan–Kurti stay apart.

Reports are merged most specific first, so a vague report ("the attack in
Kosovo this week") joins the precise one ("Banjska, 24 September") rather
than seeding its own event. The merged event keeps the most specific place,
the best-supported date and fatality count (with the reason in ``notes``),
every source and every denial.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Sequence

from geo import gazetteer as gz
from geo.errors import GazetteerError
from geo.events import (
    DATE_BASIS_RANK,
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


def _places_ok(a: Event, b: Event) -> bool:
    if a.layer == "diplomacy":
        ca, cb = _capitals(a), _capitals(b)
        return ca <= cb or cb <= ca
    if a.place_id == b.place_id:
        return True
    ka, kb = _kind(a.place_id), _kind(b.place_id)
    for x, kx, y in ((a, ka, b), (b, kb, a)):
        if kx == "country":
            if y.country is not None:
                return y.country == x.country
            country = gz.load().country(x.country) if x.country else None
            return bool(country and country.geometry is not None
                        and country.geometry.intersects(y.geometry))
    return distance_km(a.geometry, b.geometry) <= place_tolerance_km(ka, kb)


def _dates_ok(a: Event, b: Event) -> bool:
    return dates_compatible(
        (a.date, a.date_end, a.time_precision), (b.date, b.date_end, b.time_precision)
    )


def _compatible(event: Event, cluster: Sequence[Event]) -> bool:
    head = cluster[0]
    if event.layer != head.layer or _family(event) != _family(head):
        return False
    return all(_dates_ok(event, other) and _places_ok(event, other) for other in cluster)


def _distance_key(event: Event, cluster: Sequence[Event]) -> tuple[int, int]:
    same_place = 0 if any(o.place_id == event.place_id for o in cluster) else 1
    days = min(abs((o.date - event.date).days) for o in cluster)
    return same_place, days


def merge_events(events: Sequence[Event]) -> list[Event]:
    """Merge per-article events into one event per real happening.

    Events without sources (denials whose event their article did not report)
    lend their ``disputed_by`` to a compatible event and are otherwise dropped.
    The result is sorted by layer, date and id; ids are stable across rebuilds.
    """
    real = sorted((e for e in events if e.sources), key=_specificity)
    carriers = [e for e in events if not e.sources]
    clusters: list[list[Event]] = []
    for event in real:
        options = [i for i, cl in enumerate(clusters) if _compatible(event, cl)]
        if not options:
            clusters.append([event])
            continue
        best = min(options, key=lambda i: _distance_key(event, clusters[i]))
        clusters[best].append(event)
    extra: dict[int, list[Dispute]] = {}
    for carrier in carriers:
        options = [
            i for i, cl in enumerate(clusters)
            if cl[0].layer == carrier.layer and _family(cl[0]) == _family(carrier)
            and any(_dates_ok(carrier, o) for o in cl)
            and any(_places_ok(carrier, o) for o in cl)
        ]
        if options:
            best = min(options, key=lambda i: _distance_key(carrier, clusters[i]))
            extra.setdefault(best, []).extend(carrier.disputed_by)
    merged = [_combine(cl, extra.get(i, [])) for i, cl in enumerate(clusters)]
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
