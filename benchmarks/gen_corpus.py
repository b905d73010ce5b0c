"""Generate a deterministic benchmark corpus of news articles about the region.

    python benchmarks/gen_corpus.py --articles 1000            # -> var/bench/corpus-1000/
    python benchmarks/gen_corpus.py --articles 10000 --seed 5

Why generated: the real seeds are five articles (15 KB); throughput, build time
and memory must be measured on thousands. The articles are composed from real
gazetteer places of the Western Balkans (GeoNames towns and villages of XK, RS,
ME, MK, AL, BA with their real names, half of them written without
diacritics as English news does, plus the curated layer), real outlets and
officials, and event sentences with the date expressions, datelines, quotes,
person names, background history and boilerplate that real wire copy carries.

Several articles report the same underlying event (different outlets, days and
wordings), so the cross-article merge has real work to do. Publication dates
span two years (2023-01-01..2024-12-31); event dates lie 0-6 days before.

Output (a folder ``load_corpus`` reads as is):
- ``articles.csv``  manifest: file, outlet, published, title
- ``NNNNNN.txt``    one article per file (UTF-8)
- ``manifest.json`` parameters, sizes, a content digest (same seed => same digest)
- ``truth.jsonl``   the underlying events (type, layer, place id, date) per article

Same ``--articles`` and ``--seed`` always give byte-identical files, for a
given gazetteer data version (the places are read from it in index order).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo import gazetteer as gz

ROOT = Path(__file__).resolve().parent.parent

GENERATOR_VERSION = "1"
REGION = ("XK", "RS", "ME", "MK", "AL", "BA")
FIRST_DAY = dt.date(2023, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)

COUNTRY_NAME = {
    "XK": "Kosovo",
    "RS": "Serbia",
    "ME": "Montenegro",
    "MK": "North Macedonia",
    "AL": "Albania",
    "BA": "Bosnia and Herzegovina",
}
DEMONYM = {
    "XK": "Kosovo",
    "RS": "Serbian",
    "ME": "Montenegrin",
    "MK": "North Macedonian",
    "AL": "Albanian",
    "BA": "Bosnian",
}
CAPITAL = {
    "XK": "Pristina",
    "RS": "Belgrade",
    "ME": "Podgorica",
    "MK": "Skopje",
    "AL": "Tirana",
    "BA": "Sarajevo",
}
OUTLETS = (
    "Reuters",
    "Associated Press",
    "AFP",
    "Balkan Insight",
    "RFE/RL",
    "Kosovo Online",
    "Koha Ditore",
    "N1",
    "Euronews",
    "BBC News",
    "The Guardian",
    "Deutsche Welle",
    "Al Jazeera",
    "Prishtina Insight",
    "Tanjug",
    "Beta",
    "Bloomberg",
    "Politico Europe",
)
OFFICIALS = (  # (name, title, country)
    ("Albin Kurti", "Kosovo Prime Minister", "XK"),
    ("Vjosa Osmani", "Kosovo President", "XK"),
    ("Aleksandar Vucic", "Serbian President", "RS"),
    ("Ana Brnabic", "Serbian Prime Minister", "RS"),
    ("Josep Borrell", "EU foreign policy chief", "BE"),
    ("Jens Stoltenberg", "NATO Secretary General", "BE"),
    ("Antony Blinken", "U.S. Secretary of State", "US"),
    ("Jake Sullivan", "U.S. national security adviser", "US"),
)
REPORTERS = (
    "Fatos Bytyci", "Ivana Sekularac", "Aleksandar Vasovic", "Llazar Semini",
    "Jovana Gec", "Florent Bajrami", "Daria Sito-Sucic", "Stevo Vasiljevic",
    "Sinisa Jakov Marusic", "Milica Stojanovic", "Xhorxhina Bami", "Perparim Isufi",
)  # fmt: skip
RESIDENTS = (
    "Dragana", "Milos", "Arben", "Besa", "Nikola", "Jelena", "Driton", "Marko",
    "Valbona", "Stefan", "Ardita", "Luka",
)  # fmt: skip
SURNAMES = (
    "Petrovic", "Krasniqi", "Jovanovic", "Gashi", "Nikolic", "Berisha", "Ilic",
    "Hoxha", "Markovic", "Shala", "Stojanovic", "Morina",
)  # fmt: skip
FORCES = (
    ("Kosovo police", "XK"),
    ("Serbian police", "RS"),
    ("KFOR troops", ""),
    ("the Serbian army", "RS"),
    ("EULEX officers", ""),
    ("special police units", "XK"),
)


@dataclass(frozen=True)
class Spot:
    """A real place of the region: its gazetteer id, the name as written, its country."""

    place_id: str
    name: str
    country: str
    weight: float


@dataclass(frozen=True)
class Truth:
    """One underlying event several articles may report."""

    key: int
    kind: str
    layer: str
    spot: Spot
    date: dt.date
    killed: int
    wounded: int
    officials: tuple[int, int]


_KINDS = (  # (kind, layer, weight)
    ("attack", "incidents", 6),
    ("explosion", "incidents", 3),
    ("clash", "incidents", 3),
    ("protest", "incidents", 6),
    ("arrests", "incidents", 5),
    ("arson", "incidents", 2),
    ("deployment", "troop_positions", 4),
    ("buildup", "troop_positions", 2),
    ("withdrawal", "troop_positions", 1),
    ("exercise", "troop_positions", 1),
    ("call", "diplomacy", 3),
    ("meeting", "diplomacy", 3),
)

_MONTH_ABBR = ("Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.",
               "Oct.", "Nov.", "Dec.")  # fmt: skip


def region_spots() -> list[Spot]:
    """Towns, villages and sites of the region from the gazetteer, in index order."""
    g = gz.load()
    common = gz.common_words()
    out: list[Spot] = []
    for i in range(len(g)):
        iso = g.country_of(i)
        if iso not in REGION:
            continue
        kind = g.kind_of(i)
        pid = g.place_id(i)
        curated = pid.startswith("cur:")
        if kind in ("country", "region", "area", "line") or (
            not curated and kind not in ("city", "town", "village", "capital")
        ):
            continue
        pop = g.population(i)
        if not curated and pop < 1500:
            continue
        place = g.place(i)
        name = place.name
        if not all(ch.isalpha() or ch in " -" for ch in name) or name.lower() in common:
            continue
        weight = 2.0 if curated else max(1.0, len(str(pop)) - 2.0)
        out.append(Spot(pid, name, iso, weight))
    return out


def _fold_sometimes(rng: random.Random, name: str) -> str:
    """English news writes "Zvecan" as often as "Zvečan"."""
    return gz.fold(name) if rng.random() < 0.5 else name


def _date_phrase(rng: random.Random, day: dt.date, published: dt.date) -> str:
    """A date expression for ``day`` as a reporter writing on ``published`` would put it."""
    back = (published - day).days
    options = [
        f"on {_MONTH_ABBR[day.month - 1]} {day.day}",
        f"on {day.day} {day.strftime('%B')}",
        f"on {day.strftime('%B')} {day.day}, {day.year}",
    ]
    if back == 0:
        options += ["on " + day.strftime("%A"), "earlier today", "today"]
    elif back == 1:
        options += ["yesterday", "on " + day.strftime("%A"), "late on " + day.strftime("%A")]
    elif back < 7:
        options += ["on " + day.strftime("%A"), f"on {day.strftime('%A')} night",
                    f"{back} days ago" if back > 2 else "two days ago"]
    return rng.choice(options)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(RESIDENTS)} {rng.choice(SURNAMES)}"


def _where(rng: random.Random, spot: Spot) -> str:
    name = _fold_sometimes(rng, spot.name)
    r = rng.random()
    if r < 0.35:
        return f"in {name}"
    if r < 0.6:
        return f"near {name}"
    if r < 0.8:
        return f"in {name}, {COUNTRY_NAME[spot.country]}"
    return f"in the village of {name}" if spot.country == "XK" else f"in the town of {name}"


def _event_sentences(rng: random.Random, t: Truth, published: dt.date) -> list[str]:
    """Two to three sentences reporting ``t``; the wording varies per article."""
    when = _date_phrase(rng, t.date, published)
    where = _where(rng, t.spot)
    force, _ = rng.choice(FORCES)
    n = t.killed
    hurt = t.wounded
    name = _fold_sometimes(rng, t.spot.name)
    a, b = OFFICIALS[t.officials[0]], OFFICIALS[t.officials[1]]
    s: list[str]
    if t.kind == "attack":
        s = [
            rng.choice([
                f"Gunmen attacked a police patrol {where} {when}, killing {n} officers "
                f"and wounding {hurt} others, police said.",
                f"Masked attackers opened fire on {force} {where} {when}; {n} people died.",
                f"An armed group ambushed a patrol {where} {when}, officials said.",
            ]),
            f"The attack was the deadliest in the area in months, {rng.choice(OUTLETS)} reported.",
            f"Police sealed off the roads around {name} and searched nearby forests.",
        ]
    elif t.kind == "explosion":
        s = [
            rng.choice([
                f"An explosive device went off {where} {when}, wounding {hurt} people.",
                f"A blast damaged a police station {where} {when}; no one was killed.",
                f"A hand grenade attack {where} {when} injured {hurt} passers-by.",
            ]),
            "Investigators were examining the remains of the device, the prosecutor's "
            "office said in a statement.",
        ]
    elif t.kind == "clash":
        s = [
            rng.choice([
                f"Protesters clashed with {force} {where} {when}; {hurt} people were hurt.",
                f"Clashes broke out between demonstrators and KFOR troops {where} {when}.",
                f"Gunfire was exchanged {where} {when} in a gun battle that lasted hours.",
            ]),
            f"Tear gas was fired as crowds gathered outside the municipal building in {name}.",
        ]
    elif t.kind == "protest":
        s = [
            rng.choice([
                f"Hundreds of people rallied {where} {when} against the new mayors.",
                f"Protesters blocked the main road {where} {when}, demanding the withdrawal "
                "of special police units.",
                f"Several thousand demonstrators marched {where} {when}.",
            ]),
            f"Organisers said the protest in {name} would continue until their demands "
            "were met.",
        ]
    elif t.kind == "arrests":
        s = [
            rng.choice([
                f"Police arrested {hurt} suspects {where} {when} in connection with the "
                "violence.",
                f"{force.capitalize()} detained {hurt} people {where} {when}.",
                f"Two men were taken into custody {where} {when}, the interior ministry said.",
            ]),
            "A court in Pristina ordered them held for 30 days pending investigation.",
        ]
    elif t.kind == "arson":
        s = [
            rng.choice([
                f"Unknown attackers set fire to two vehicles {where} {when}.",
                f"A customs office was torched {where} {when}.",
            ]),
            "Firefighters put out the blaze within an hour, local media reported.",
        ]
    elif t.kind == "deployment":
        s = [
            rng.choice([
                f"The Serbian army deployed additional troops and armoured vehicles {where} "
                f"{when}, close to the administrative boundary line.",
                f"KFOR sent reinforcements to {name} {when}.",
                f"NATO deployed extra troops {where} {when} to secure the crossing.",
            ]),
            f"Residents of {name} said they saw convoys on the road late at night.",
        ]
    elif t.kind == "buildup":
        s = [
            rng.choice([
                f"Satellite images showed a build-up of Serbian forces {where} {when}.",
                f"The White House said Serbia had massed troops along the border with "
                f"Kosovo {when}.",
            ]),
            "Belgrade denied any build-up, calling the reports lies.",
        ]
    elif t.kind == "withdrawal":
        s = [
            f"Serbian troops began to withdraw from positions {where} {when}, the defence "
            "ministry said.",
            "Analysts said the pullback eased fears of an escalation.",
        ]
    elif t.kind == "exercise":
        s = [
            f"The army held a military exercise {where} {when} with live-fire drills.",
            f"About {hurt * 100} soldiers took part in the drills near {name}.",
        ]
    elif t.kind == "call":
        s = [
            f"{a[1]} {a[0]} spoke by phone with {b[1]} {b[0]} {when} and urged "
            "de-escalation.",
            f"{b[0].split()[-1]} said the call was constructive.",
        ]
    else:  # meeting
        s = [
            f"{a[1]} {a[0]} met {b[0]} in {CAPITAL.get(a[2], 'Brussels')} {when} to discuss "
            "the normalisation of relations.",
            "The two sides agreed to meet again next month, a spokesperson said.",
        ]
    return s


_BACKGROUND = (
    "Kosovo declared independence from Serbia in 2008, a move Belgrade does not recognise.",
    "About 50,000 ethnic Serbs live in the north of Kosovo, where tensions have flared "
    "repeatedly.",
    "The 1998-99 war ended after a 78-day NATO bombing campaign against Serbian forces.",
    "The European Union has mediated talks between Belgrade and Pristina since 2011.",
    "Some 4,500 KFOR peacekeepers remain in Kosovo under a United Nations mandate.",
    "Serbia, backed by Russia and China, has blocked Kosovo's membership of the United "
    "Nations.",
    "Both countries have been told that normalising relations is a condition for joining "
    "the European Union.",
    "Local elections in April 2023 were boycotted by most Serb voters.",
    "The dinar ban introduced by the central bank in February 2024 hit Serb "
    "communities hard.",
)
_FILLER = (
    "The situation in {place} remained calm but tense on {weekday}, residents said.",
    "Shops and schools in {place} reopened after several days.",
    '"We just want to live in peace," said {person}, a {age}-year-old resident of {place}.',
    "{person}, who runs a cafe in {place}, said customers had stayed away for weeks.",
    "Officials in {capital} declined to comment on the reports.",
    "The mayor of {place} called for calm and urged residents to stay at home.",
    "Traffic at the crossing near {place} was slowed by additional checks.",
    "The government in {capital} said it would send a delegation to {place} next week.",
    "Local media published video footage showing damaged cars on a street in {place}.",
    "Electricity was cut in parts of {place} for several hours.",
    '"{quote}," {official} told reporters in {capital}.',
    '"{quote}," {official} wrote on social media, without giving details.',
    "The European Union condemned the violence and called on both sides to show restraint "
    "and return to the dialogue facilitated by Brussels.",
    "NATO said it was monitoring the situation closely and that its peacekeepers were ready "
    "to act if the security of the population was threatened.",
    "The U.S. embassy in Pristina urged all sides to avoid steps that could raise tensions "
    "further in the north.",
    "Many residents of {place} hold Serbian documents and receive salaries and pensions from "
    "Belgrade, which complicates any settlement.",
    "{person}, a teacher from {place}, said parents had kept their children at home for the "
    "third day in a row because they feared the roads were not safe.",
    "Opposition parties in {capital} accused the government of using the crisis to distract "
    "from economic problems and rising prices.",
    "Analysts in {capital} said the incident showed how fragile the situation remained "
    "despite years of EU-brokered talks.",
    "According to the latest census, fewer than {age},000 people live in the municipality, "
    "down from many more before the war.",
    "The road between {place} and {place2} was reopened to traffic in the afternoon after "
    "police removed the barricades.",
    "Prosecutors in {capital} said they had opened an investigation and would question "
    "witnesses over the coming days.",
)
_QUOTES = (
    "This is an attempt to destabilise the whole region",
    "We will not allow anyone to threaten the peace",
    "Those responsible must be brought to justice",
    "We are ready for dialogue, but not under pressure",
    "The international community must react now",
    "Our people live in fear and nobody protects them",
    "There is no military solution, only a political one",
)
_BOILERPLATE = (
    "Reporting by {reporter}; Editing by {reporter2}",
    "Additional reporting by {reporter} in {capital}.",
    "(c){year} {outlet}. All rights reserved.",
    "Read more: {place} residents fear new unrest",
    "Subscribe to our newsletter for daily updates from the Balkans.",
)


def _title(t: Truth, rng: random.Random) -> str:
    name = gz.fold(t.spot.name)
    return {
        "attack": f"Police officers killed in attack near {name}",
        "explosion": f"Explosion rocks {name}, several injured",
        "clash": f"Clashes erupt in {name}",
        "protest": f"Thousands protest in {name}",
        "arrests": f"Police arrest suspects in {name}",
        "arson": f"Vehicles torched in {name}",
        "deployment": f"Troops deployed near {name}",
        "buildup": "Concern over Serbian military build-up",
        "withdrawal": "Serbia pulls back troops from the border",
        "exercise": f"Army holds drills near {name}",
        "call": f"{OFFICIALS[t.officials[0]][0]} calls {OFFICIALS[t.officials[1]][0]}",
        "meeting": f"{OFFICIALS[t.officials[0]][0]} meets {OFFICIALS[t.officials[1]][0]}",
    }[t.kind] + rng.choice(["", " - report", ": officials", " | Balkan news"])


def _truths(rng: random.Random, n: int, spots: Sequence[Spot]) -> list[Truth]:
    kinds = [k for k, _, _ in _KINDS]
    layers = {k: layer for k, layer, _ in _KINDS}
    kind_weights = [w for _, _, w in _KINDS]
    spot_weights = [s.weight for s in spots]
    days = (LAST_DAY - FIRST_DAY).days
    out = []
    for key in range(n):
        kind = rng.choices(kinds, kind_weights)[0]
        first = rng.randrange(len(OFFICIALS))
        second = rng.choice([i for i in range(len(OFFICIALS)) if OFFICIALS[i][2] !=
                             OFFICIALS[first][2]])
        out.append(Truth(
            key=key,
            kind=kind,
            layer=layers[kind],
            spot=rng.choices(spots, spot_weights)[0],
            date=FIRST_DAY + dt.timedelta(days=rng.randrange(days - 7)),
            killed=rng.choice([1, 1, 2, 2, 3, 4]),
            wounded=rng.randint(2, 9),
            officials=(first, second),
        ))
    return out


def compose(
    rng: random.Random, index: int, truths: Sequence[Truth], spots: Sequence[Spot]
) -> tuple[str, str, dt.date, str, list[Truth]]:
    """(text, outlet, published, title, reported truths) of one article."""
    main = rng.choice(truths)
    published = main.date + dt.timedelta(days=rng.choice([0, 1, 1, 1, 2, 3, 5]))
    outlet = rng.choice(OUTLETS)
    # A related report nearby in time (a follow-up, a reaction) in 60% of articles.
    # Related reports (a follow-up, a reaction) from the month before publication.
    recent = [t for t in rng.sample(truths, min(len(truths), 40))
              if 0 <= (published - t.date).days <= 30 and t is not main]
    related = [main, *recent[: rng.choice([0, 1, 1, 2, 2])]]
    paragraphs: list[str] = []
    title = _title(main, rng)
    paragraphs.append(title)
    capital_iso = main.spot.country
    dateline = f"{CAPITAL[capital_iso].upper()}, {COUNTRY_NAME[capital_iso]} ({outlet}) -"
    body: list[str] = []
    for t in related:
        body.extend(_event_sentences(rng, t, published))
    first = f"{dateline} {body[0]}"
    paragraphs.append(first)
    rest = body[1:]
    fillers = rng.sample(_FILLER, rng.randint(12, 19))
    background = rng.sample(_BACKGROUND, rng.randint(4, 7))
    place = _fold_sometimes(rng, rng.choice([main.spot, rng.choice(spots)]).name)
    fill = {
        "place": place,
        "weekday": published.strftime("%A"),
        "person": _person(rng),
        "age": str(rng.randint(19, 81)),
        "capital": CAPITAL[capital_iso],
        "reporter": rng.choice(REPORTERS),
        "reporter2": rng.choice(REPORTERS),
        "outlet": outlet,
        "year": str(published.year),
        "place2": _fold_sometimes(rng, rng.choice(spots).name),
        "quote": rng.choice(_QUOTES),
        "official": " ".join(rng.choice(OFFICIALS)[1::-1]),
    }
    # Keep the event sentences in order; scatter filler and background among them.
    ordered = list(rest)
    for extra_sentence in [f.format(**fill) for f in fillers] + list(background):
        ordered.insert(rng.randint(0, len(ordered)), extra_sentence)
    k = 0
    while k < len(ordered):
        take = rng.randint(1, 3)
        paragraphs.append(" ".join(ordered[k : k + take]))
        k += take
    for b in rng.sample(_BOILERPLATE, rng.randint(1, 2)):
        paragraphs.append(b.format(**fill))
    paragraphs.append(f"Article {index} / ref {rng.randrange(10**8):08d}")
    text = "\n\n".join(paragraphs) + "\n"
    return text, outlet, published, title, related


def generate(out: Path, *, articles: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    spots = region_spots()
    truths = _truths(rng, max(10, articles // 3), spots)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    digest = hashlib.sha256()
    total_bytes = 0
    rows = []
    truth_lines = []
    seen: set[str] = set()
    for i in range(articles):
        while True:
            text, outlet, published, title, related = compose(rng, i, truths, spots)
            key = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
            if key not in seen:
                seen.add(key)
                break
        name = f"{i:06d}.txt"
        data = text.encode("utf-8")
        (out / name).write_bytes(data)
        digest.update(data)
        total_bytes += len(data)
        rows.append((name, outlet, published.isoformat(), title))
        truth_lines.append(json.dumps({
            "file": name,
            "events": [
                {"truth": t.key, "kind": t.kind, "layer": t.layer, "place_id": t.spot.place_id,
                 "date": t.date.isoformat()}
                for t in related
            ],
        }))
    with (out / "articles.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "outlet", "published", "title"])
        writer.writerows(rows)
    (out / "truth.jsonl").write_text("\n".join(truth_lines) + "\n", encoding="utf-8")
    manifest: dict[str, object] = {
        "generator": "benchmarks/gen_corpus.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "articles": articles,
        "bytes": total_bytes,
        "mean_article_bytes": round(total_bytes / max(1, articles)),
        "underlying_events": len(truths),
        "region_places": len(spots),
        "published_range": [FIRST_DAY.isoformat(), LAST_DAY.isoformat()],
        "sha256": digest.hexdigest(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20230924)
    ap.add_argument("--out", type=Path, default=None,
                    help="output folder (default var/bench/corpus-<articles>)")
    args = ap.parse_args()
    out = args.out or ROOT / "var" / "bench" / f"corpus-{args.articles}"
    t = time.perf_counter()
    manifest = generate(out, articles=args.articles, seed=args.seed)
    manifest["folder"] = str(out)
    manifest["seconds"] = round(time.perf_counter() - t, 1)
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
