"""Generate deterministic event stores (10,000 and 100,000 events) for the store,
export and app benchmarks.

    python benchmarks/gen_events.py --events 10000        # -> var/bench/store-10000.gpkg
    python benchmarks/gen_events.py --events 100000

Why generated: parsing enough articles to reach 100,000 merged events would take
the whole benchmark budget, and the store/app figures only need a store that
looks like a real one. The events mimic what ``geo build`` writes for the
generated corpora (see benchmarks/README.md for the mix): the three layers
(incidents 65 %, troop positions 20 %, diplomacy 15 %) with the event types of
``data/event_rules.toml``; real places of the region from the gazetteer
(points), the curated northern-Kosovo area and administrative boundary line
(polygon, line), joined capitals for diplomacy (multipoints); dates spread
uniformly over 2023-01-01..2024-12-31 with day (62 %), week (37 %) and month
precision; one to a few dozen sources per event (median 2), each a real
sentence of a generated article with exact offsets; actors, fatalities,
disputes and notes at the rates of a real build. Articles and mentions are
written too, so the store is complete (quotes index their articles exactly).

Everything goes through :func:`geo.store.write_store`, the writer the app and
CLI use. Same ``--events`` and ``--seed`` give the same store content.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import CAPITAL, OUTLETS, REGION, region_spots
from shapely.geometry import MultiPoint, Point

from geo import gazetteer as gz
from geo.events import event_id, load_rules, place_geometry, summarise
from geo.models import Article, Dispute, Event, Mention, Source
from geo.store import write_store

ROOT = Path(__file__).resolve().parent.parent

FIRST_DAY = dt.date(2023, 1, 1)
DAYS = (dt.date(2024, 12, 31) - FIRST_DAY).days + 1
QUOTES_PER_ARTICLE = 5

_ACTORS = {
    "incidents": ["Kosovo police", "Serbian police", "KFOR", "protesters", "gunmen", "EULEX",
                  "Serb protesters", "civilians"],
    "troop_positions": ["Serbian forces", "KFOR", "NATO", "Kosovo Security Force"],
    "diplomacy": ["Albin Kurti (XK)", "Aleksandar Vucic (RS)", "Josep Borrell (EU)",
                  "Antony Blinken (US)", "Jens Stoltenberg (NATO)", "Vjosa Osmani (XK)"],
}
_VERBS = {
    "incidents": ["attacked", "clashed with", "blocked roads near", "arrested suspects in",
                  "set fire to vehicles in", "threw stun grenades at protesters in"],
    "troop_positions": ["deployed troops near", "moved armoured vehicles to",
                        "reinforced positions around", "pulled back from"],
    "diplomacy": ["spoke by phone about", "met to discuss", "held talks on",
                  "called for calm in"],
}
_DENIERS = ["Serbian President Aleksandar Vucic", "the Kosovo interior ministry",
            "the Serbian defence ministry", "a NATO spokesperson"]


def _weighted_int(rng: random.Random) -> int:
    """Sources per event: median 2, a long tail up to a few dozen (as in real merges)."""
    n = 1
    while rng.random() < 0.55 and n < 40:
        n += 1
    return n


def generate(path: Path, *, events: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    g = gz.load()
    rules = load_rules()
    spots = region_spots()
    spot_weights = [s.weight for s in spots]
    by_layer: dict[str, list[str]] = {}
    for key, et in rules.event_types.items():
        by_layer.setdefault(et.layer, []).append(key)
    for keys in by_layer.values():
        keys.sort()
    area = g.get("cur:northern-kosovo")
    line = g.get("cur:abl")
    capital_points = {iso: g.lonlat(i) for iso in REGION
                      for i in g.lookup(gz.name_key(CAPITAL[iso])) if g.country_of(i) == iso
                      and g.kind_of(i) == "capital"}
    out_events: list[Event] = []
    articles: list[Article] = []
    mentions: list[tuple[str, Mention]] = []
    pending: list[tuple[Event, str, str, object]] = []  # event, sentence, place name, place
    seen_ids: set[str] = set()

    def flush(final: bool = False) -> None:
        """Write pending quotes into articles of QUOTES_PER_ARTICLE sentences."""
        while len(pending) >= QUOTES_PER_ARTICLE or (final and pending):
            batch, pending[:] = pending[:QUOTES_PER_ARTICLE], pending[QUOTES_PER_ARTICLE:]
            aid = f"a{len(articles):07d}"
            outlet = rng.choice(OUTLETS)
            published = max(ev.date_end for ev, _, _, _ in batch) + dt.timedelta(
                days=rng.choice([0, 1, 1, 2]))
            title = f"Regional news roundup {aid}"
            parts = [title, ""]
            offset = len(title) + 2
            for ev, sentence, name, place in batch:
                start = offset
                end = start + len(sentence)
                parts.append(sentence)
                parts.append("")
                offset = end + 2
                ev.sources.append(Source(aid, outlet, published, sentence, start, end))
                at = sentence.find(name)
                if at >= 0 and place is not None:
                    mentions.append((aid, Mention(name, start + at, start + at + len(name),
                                                  place,  # type: ignore[arg-type]
                                                  round(rng.uniform(0.5, 1.0), 3),
                                                  "generated for the benchmark store")))
            articles.append(Article(aid, f"{aid}.txt", outlet, published, title,
                                    "\n".join(parts).rstrip() + "\n"))

    for n in range(events):
        r = rng.random()
        layer = "incidents" if r < 0.65 else "troop_positions" if r < 0.85 else "diplomacy"
        etype_key = rng.choice(by_layer[layer])
        etype = rules.event_types[etype_key]
        start = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS - 31))
        p = rng.random()
        precision = "day" if p < 0.62 else "week" if p < 0.99 else "month"
        end = start + dt.timedelta(days={"day": 0, "week": 6, "month": 29}[precision])
        actors = rng.sample(_ACTORS[layer], rng.choice([0, 1, 1, 1, 2]))
        if layer == "diplomacy":
            a, b = rng.sample(sorted(capital_points), 2)
            geometry = MultiPoint([capital_points[a], capital_points[b]])
            idx_a = next(i for i in g.lookup(gz.name_key(CAPITAL[a])) if g.country_of(i) == a)
            idx_b = next(i for i in g.lookup(gz.name_key(CAPITAL[b])) if g.country_of(i) == b)
            place_obj = g.place(idx_a)
            place_name, place_id = f"{CAPITAL[a]} and {CAPITAL[b]}", (
                f"{g.place_id(idx_a)}+{g.place_id(idx_b)}")
            country, geo_precision, mention_name = None, 2, CAPITAL[a]
        else:
            q = rng.random()
            if q < 0.02:
                place_obj = area
                geometry, place_name, place_id = place_geometry(area)
                geo_precision = 3
            elif q < 0.04:
                place_obj = line
                geometry, place_name, place_id = place_geometry(line, actor_countries=["RS"])
                geo_precision = 3
            else:
                spot = rng.choices(spots, spot_weights)[0]
                place_obj = g.get(spot.place_id)
                geometry = Point(place_obj.lon, place_obj.lat)
                place_name, place_id = place_obj.name, place_obj.place_id
                geo_precision = 1 if rng.random() < 0.8 else 2
            country = place_obj.country
            mention_name = place_obj.name
        fatalities = rng.choice([1, 1, 2, 3, 4, 7]) if (
            layer == "incidents" and rng.random() < 0.15) else None
        disputes: list[Dispute] = []
        eid = event_id(layer, etype_key, start, place_id)
        while eid in seen_ids:
            eid = f"{eid}-{n:06d}"
        seen_ids.add(eid)
        notes = ["date: from the text of the report"] if precision == "day" else [
            "date: no date in the text; the week up to publication"]
        ev = Event(
            id=eid, layer=layer, event_type=etype_key,  # type: ignore[arg-type]
            acled_event_type=etype.acled_event_type,
            acled_sub_event_type=etype.acled_sub_event_type,
            date=start, date_end=end, time_precision=precision,  # type: ignore[arg-type]
            place=place_name, place_id=place_id, geo_precision=geo_precision,
            country=country, actors=actors, fatalities=fatalities,
            summary=summarise(label=etype.label, layer=layer, place=place_name, date=start,
                              date_end=end, precision=precision, actors=actors,
                              fatalities=fatalities, disputed=False),
            sources=[], disputed_by=disputes, geometry=geometry, notes=notes,
        )
        who = actors[0] if actors else "Officials"
        verb = rng.choice(_VERBS[layer])
        for k in range(_weighted_int(rng)):
            day = start.strftime("%A")
            sentence = (f"{who} {verb} {mention_name} on {day}, {rng.choice(OUTLETS)} "
                        f"reported, citing source number {n}-{k}.")
            pending.append((ev, sentence, mention_name, place_obj))
        if rng.random() < 0.045:
            denier = rng.choice(_DENIERS)
            ev.disputed_by.append(Dispute(denier, f"{denier} denied the reports.", "", 0, 0))
            ev.summary += " (disputed)"
        out_events.append(ev)
        flush()
    flush(final=True)
    # Disputes quote an article too: point them at the first source's article.
    texts = {a.article_id: a for a in articles}
    for ev in out_events:
        if ev.disputed_by:
            src = ev.sources[0]
            art = texts[src.article_id]
            ev.disputed_by = [Dispute(d.who, src.quote, art.article_id, src.start, src.end)
                              for d in ev.disputed_by]
    t = time.perf_counter()
    write_store(path, articles=articles, events=out_events, mentions=mentions)
    return {
        "store": str(path),
        "events": len(out_events),
        "articles": len(articles),
        "mentions": len(mentions),
        "sources": sum(len(e.sources) for e in out_events),
        "bytes": path.stat().st_size,
        "write_store_s": round(time.perf_counter() - t, 1),
        "seed": seed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=20230924)
    ap.add_argument("--out", type=Path, default=None,
                    help="store path (default var/bench/store-<events>.gpkg)")
    args = ap.parse_args()
    path = args.out or ROOT / "var" / "bench" / f"store-{args.events}.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    info = generate(path, events=args.events, seed=args.seed)
    info["seconds"] = round(time.perf_counter() - t, 1)
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
