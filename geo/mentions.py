"""Find every place named in a news text and resolve it against the gazetteer.

How it works, in three passes over one article:

1. **Candidates.** Diacritics are folded with a length-preserving table so
   offsets stay exact. Runs of capitalised words (and ALL-CAPS words, and
   dotted abbreviations such as U.S.) are looked up in the gazetteer's trie,
   longest match first. Lower-case phrases that name areas and lines
   ("northern Kosovo", "the administrative boundary line", "the border with
   Kosovo", "Kosovo-Serbia border") are found around those matches.
2. **Filters.** Capitalisation and context decide: a place named like a common
   English word (Police, Most, Split) needs a locative preposition; a place
   name inside a person's name (Jake *Sullivan*, *Milan* Radoicic) is
   dropped, and so are later bare uses of that surname; demonyms are never
   mentions, but they vote for the text's focus countries.
3. **Disambiguation.** Each candidate is scored by kind and population, the
   share of the document's evidence for its country, its distance to the
   other places the text names, and an explicit qualifier ("Paris, Texas",
   "PRISTINA, Kosovo"). The reason is kept as text, for the app's "why here?".
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from geo import gazetteer as gz
from geo.models import Mention, Place

RULES_FILE = gz.DATA_DIR / "geoparse_rules.toml"
GIVEN_NAMES_FILE = gz.DATA_DIR / "given_names.txt"

_MAX_TOKENS = 6


@dataclass(frozen=True)
class _Rules:
    titles: frozenset[str]
    qualifiers: frozenset[str]
    prepositions: frozenset[str]
    connectors: frozenset[str]
    border_words: tuple[str, ...]
    directions: dict[str, str]
    given_names: frozenset[str]
    suffixes: frozenset[str]
    cues_after: frozenset[str]
    cues_before: frozenset[str]


@functools.cache
def _rules() -> _Rules:
    with RULES_FILE.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    given = frozenset(gz.name_key(n) for n in gz._read_lines(GIVEN_NAMES_FILE))
    return _Rules(
        titles=frozenset(raw.get("person_titles", [])),
        qualifiers=frozenset(raw.get("place_qualifiers", [])),
        prepositions=frozenset(raw.get("locative_prepositions", [])),
        connectors=frozenset(raw.get("name_connectors", [])),
        border_words=tuple(sorted(raw.get("border_words", []), key=len, reverse=True)),
        directions=dict(raw.get("directions", {})),
        given_names=given,
        suffixes=frozenset(raw.get("place_suffixes", [])),
        cues_after=frozenset(raw.get("person_cues_after", [])),
        cues_before=frozenset(raw.get("person_cues_before", [])),
    )


_UP = "A-Z\u0400-\u042f"
_LO = "a-z\u0430-\u045f"
_TOKEN = rf"(?:[A-Z]\.){{2,}}|[{_UP}][{_UP}{_LO}0-9]*(?:'[{_UP}{_LO}]+)*"


@functools.cache
def _seq_re() -> re.Pattern[str]:
    conn = "|".join(sorted(_rules().connectors, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{_TOKEN})(?:(?: |-| (?:{conn}) )(?:{_TOKEN}))*")


_TOKEN_RE = re.compile(_TOKEN)
_SENT_END = set(".!?:;\n\r\u2029")
_OPENERS = set("\"'([{\u201c\u2018\u00ab*#>-\u2014\u2013 \t")


@dataclass
class _Cand:
    start: int
    end: int
    key: str
    idxs: list[int]
    surface: str
    main: bool = True  # matched some record's main name, not only an alternate
    locative: bool = False  # preceded by "in", "near", "from"...
    context: str = "capitalised"  # capitalised | initial | headline | caps | dateline | phrase
    place: Place | None = None  # set for phrase mentions built directly
    score: float = 0.0
    reason: str = ""
    alternatives: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def _is_initial(text: str, start: int) -> bool:
    """True at a sentence or line start, where capitals carry no evidence."""
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        if text[i] in "\u2014\u2013-" and i > 0 and text[i - 1] == " ":
            return False
        i -= 1
    if i < 0:
        return True
    ch = text[i]
    if ch in _SENT_END:
        # "U.S. Kosovo": a dotted abbreviation, not a sentence end.
        return not (
            ch == "." and i >= 1 and text[i - 1].isupper() and (i < 2 or not text[i - 2].isalpha())
        )
    return ch in '"\u201d' and i >= 1 and text[i - 1] in ".!?"


@functools.lru_cache(maxsize=2)
def _newlines(text: str) -> list[int]:
    """Positions of the line breaks of ``text``, computed once per document."""
    return [m.start() for m in re.finditer("\n", text)]


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    # Bisect a per-document index: rfind/find from every candidate was
    # quadratic on a single multi-megabyte line (issue 6).
    breaks = _newlines(text)
    i = bisect.bisect_left(breaks, pos)
    return (breaks[i - 1] + 1 if i else 0), (breaks[i] if i < len(breaks) else len(text))


_WORD = re.compile(r"[^\W\d_]{4,}")


def _line_style(text: str, pos: int, cache: dict[int, str] | None = None) -> str:
    """'caps' for ALL-CAPS lines, 'headline' for Title Case lines, else ''."""
    s, e = _line_bounds(text, pos)
    if cache is not None:
        if s not in cache:
            cache[s] = _line_style_of(text, s, e)
        return cache[s]
    return _line_style_of(text, s, e)


def _line_style_of(text: str, s: int, e: int) -> str:
    words = _WORD.findall(text[s : min(e, s + 400)])
    if len(words) < 3:
        return ""
    upper = sum(map(str.isupper, words))
    if upper / len(words) >= 0.6:
        return "caps"
    title = sum(map(str.isupper, [w[0] for w in words]))
    if len(words) >= 4 and title / len(words) >= 0.75:
        return "headline"
    return ""


def _prev_word(text: str, start: int) -> str:
    """The word before ``start`` when only spaces (and an optional full stop) part them."""
    i = start - 1
    if i < 0 or not text[i].isspace():
        return ""
    while i >= 0 and text[i].isspace():
        i -= 1
    if i >= 0 and text[i] == ".":
        i -= 1
    j = i
    while j >= 0 and text[j].isalpha():
        j -= 1
    return text[j + 1 : i + 1]


def _next_token(text: str, end: int) -> str:
    m = re.match(r" ([^\W\d_][\w'-]*)", text[end : end + 40])
    return m.group(1) if m else ""


# ---------------------------------------------------------------------------
# Pass 1: candidates


def _split_possessive(folded: str, start: int, end: int) -> int:
    """Drop a possessive 's or trailing apostrophe: "Kosovo's" -> "Kosovo"."""
    if folded[end - 2 : end].lower() == "'s":
        return end - 2
    if folded[end - 1 : end] == "'":
        return end - 1
    return end


def _short_alias(
    key: str, surface: str, hits: Sequence[tuple[int, bool]], g: gz.Gazetteer
) -> bool:
    """Very short names match only as capitals or as a real town's main name."""
    if len(key) > 3 or surface.replace(".", "").isupper():
        return False
    if len(key) <= 2:
        return True
    return not any(main or g.population(i) >= 20_000 for i, main in hits)


def _sequence_candidates(
    text: str, folded: str, g: gz.Gazetteer, demonym_votes: dict[str, float] | None = None
) -> list[_Cand]:
    """Gazetteer names among runs of capitalised words, longest match first.

    Single words (most runs) take a fast path: one trie lookup. Capitalised
    words that are demonyms vote for their country in ``demonym_votes``.
    """
    out: list[_Cand] = []
    dem = gz.demonyms()
    lookup = g.hits
    for seq in _seq_re().finditer(folded):
        word = seq.group()
        if " " not in word and "-" not in word:
            s, e = seq.span()
            if word[-1] in "sS'":
                e = _split_possessive(folded, s, e)
            key = word[: e - s].lower()
            hits = lookup(key)
            if not hits:
                if demonym_votes is not None and key in dem:
                    iso = dem[key]
                    demonym_votes[iso] = demonym_votes.get(iso, 0.0) + 0.5
                continue
            surface = text[s:e]
            if len(key) <= 3 and _short_alias(key, surface, hits, g):
                continue
            idxs, main = g.hit_summary(key)
            out.append(_Cand(s, e, key, list(idxs), surface, main=main))
            continue
        base = seq.start()
        toks = [(m.start(), m.end()) for m in _TOKEN_RE.finditer(word)]
        low = word.lower()
        spaced = low.replace("-", " ")
        # A match must end where a token ends (or before its possessive 's).
        ends: dict[int, int] = {}
        for n, (_, te) in enumerate(toks):
            ends[te] = n + 1
            if low[te - 2 : te] == "'s":
                ends[te - 2] = n + 1
        # Connectors are lower-case words between tokens; tokens are capitalised.
        i = 0
        while i < len(toks):
            found = None
            rel = toks[i][0]
            best = ""
            for variant in (low, spaced):
                for k in g.prefixes(variant, start=rel):
                    if len(k) > len(best) and rel + len(k) in ends:
                        best = k
            if best:
                j = ends[rel + len(best)]
                s, e = base + rel, base + rel + len(best)
                found = (j, s, e, best, lookup(best))
            if found is None:
                if demonym_votes is not None:
                    tok = folded[toks[i][0] : toks[i][1]].lower()
                    if tok in dem:
                        demonym_votes[dem[tok]] = demonym_votes.get(dem[tok], 0.0) + 0.5
                i += 1
                continue
            j, s, e, key, hits = found
            if _short_alias(key, text[s:e], hits, g):
                i += 1  # "US" yes, "Us" no; "Niš" (a main name) yes
                continue
            out.append(
                _Cand(s, e, key, [h[0] for h in hits], text[s:e], main=any(h[1] for h in hits))
            )
            i = j
    return out


# ---------------------------------------------------------------------------
# Phrases that name lines and areas


@functools.cache
def _curated_phrase_automaton() -> Any:
    """Aho-Corasick automaton of curated aliases with lower-case words
    ("administrative boundary line"): one pass over the text, in C."""
    import ahocorasick

    auto = ahocorasick.Automaton()
    for phrase in gz.load().curated_phrases:
        auto.add_word(phrase, phrase)
    if len(auto) == 0:
        return None
    auto.make_automaton()
    return auto


def _curated_phrases(text: str, lower: str, g: gz.Gazetteer) -> list[_Cand]:
    """Curated phrases, longest first, whole words only. ``lower`` is the folded,
    lower-cased text (same length as ``text``)."""
    auto = _curated_phrase_automaton()
    if auto is None:
        return []
    found: list[tuple[int, int, str]] = []
    n = len(lower)
    for end, key in auto.iter(lower):
        s, e = end - len(key) + 1, end + 1
        if (s > 0 and lower[s - 1].isalnum()) or (e < n and lower[e].isalnum()):
            continue
        found.append((s, e, key))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[_Cand] = []
    last_end = -1
    for s, e, key in found:
        if s < last_end:
            continue
        idxs = [i for i in g.lookup(key) if g.place_id(i).startswith("cur:")]
        if idxs:
            out.append(_Cand(s, e, key, idxs, text[s:e], context="phrase"))
            last_end = e
    return out


def _border_re() -> re.Pattern[str]:
    words = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _rules().border_words)
    return re.compile(rf"(?:{words})", re.IGNORECASE)


@functools.cache
def _border_before() -> re.Pattern[str]:
    words = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _rules().border_words)
    return re.compile(rf"\b({words})\s+(?:with|of|between|to)\s+(?:the\s+)?$", re.IGNORECASE)


@functools.cache
def _border_after() -> re.Pattern[str]:
    words = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _rules().border_words)
    return re.compile(rf"^(?:'s)?\s+({words})\b", re.IGNORECASE)


@functools.cache
def _direction_before() -> re.Pattern[str]:
    dirs = "|".join(re.escape(d) for d in sorted(_rules().directions, key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?:the\s+)?({dirs})\s+(?:part\s+of\s+|region\s+of\s+)?|the\s+({dirs})\s+of\s+)$",
        re.IGNORECASE,
    )


_BORDER_LINKS = frozenset({"with", "of", "between", "to", "the"})
_HOT_WORDS = re.compile(r"border|boundar|frontier|north|south|east|west|central")


def _phrase_mentions(
    text: str,
    folded: str,
    lower: str,
    cands: list[_Cand],
    focus: dict[str, float],
    g: gz.Gazetteer,
) -> list[_Cand]:
    """Border and direction phrases built around resolved country mentions."""
    out: list[_Cand] = []
    countries = [c for c in cands if c.place is not None and c.place.kind == "country"]
    if not countries:
        return out
    # Only countries with a border or direction word nearby can start a phrase.
    hot = [m.start() for m in _HOT_WORDS.finditer(lower)]
    if not hot:
        return out
    by_start = {c.start: c for c in countries}
    used: set[int] = set()
    for c in countries:
        assert c.place is not None
        iso = c.place.country or ""
        k = bisect.bisect_left(hot, c.start - 60)
        if c.start in used or k == len(hot) or hot[k] > c.end + 100:
            continue
        window = folded[max(0, c.start - 60) : c.start]
        after = folded[c.end : c.end + 60]
        # "X-Y border", "X and Y border"
        m2 = re.match(r"^(?:-| and | ?/ ?)", after)
        if m2:
            other = by_start.get(c.end + m2.end())
            if other is not None and other.place is not None:
                tail = folded[other.end : other.end + 40]
                mb = _border_after().match(tail)
                if mb:
                    place = g.border(iso, other.place.country or "")
                    if place is not None:
                        e = other.end + mb.end()
                        out.append(
                            _phrase(text, c.start, e, place, "border of two named countries")
                        )
                        used.update({c.start, other.start})
                        continue
        last = _prev_word(folded, c.start).lower()
        mb = _border_before().search(window) if last in _BORDER_LINKS else None
        if mb:
            s = c.start - len(window) + mb.start(1)
            place = _border_place(iso, focus, g)
            if place is not None:
                out.append(_phrase(text, s, c.end, place, _border_reason(place, iso)))
                used.add(c.start)
                continue
        mb = _border_after().match(after)
        if mb:
            place = _border_place(iso, focus, g)
            if place is not None:
                out.append(
                    _phrase(text, c.start, c.end + mb.end(), place, _border_reason(place, iso))
                )
                used.add(c.start)
                continue
        md = (
            _direction_before().search(window)
            if last == "of" or last in _rules().directions
            else None
        )
        if md:
            word = (md.group(1) or md.group(2) or "").lower()
            direction = _rules().directions.get(word)
            s = c.start - len(window) + md.start(1 if md.group(1) else 2)
            if direction:
                place = _part_of(c.place, direction, g)
                if place is not None:
                    out.append(_phrase(text, s, c.end, place, f"{word} part of {c.place.name}"))
                    used.add(c.start)
    return out


_BORDER_WORD = re.compile(r"\b(?:border|boundary|frontier)s?\b")
_WORD_BEFORE = re.compile(r"([a-z]+)\s+$")


def _demonym_borders(
    text: str, folded: str, lower: str, focus: dict[str, float], g: gz.Gazetteer
) -> list[_Cand]:
    """A demonym names the country whose border it is: "the Serbian border"."""
    dem = gz.demonyms()
    out = []
    for m in _BORDER_WORD.finditer(lower):
        w = _WORD_BEFORE.search(lower, max(0, m.start() - 30), m.start())
        if not w or w.group(1) not in dem or not folded[w.start(1)].isupper():
            continue
        iso = dem[w.group(1)]
        place = _border_place(iso, focus, g)
        if place is not None:
            reason = f"border named by a demonym ({iso}); {_border_reason(place, iso)}"
            out.append(_phrase(text, w.start(1), m.end(), place, reason))
    return out


def _phrase(text: str, s: int, e: int, place: Place, reason: str) -> _Cand:
    c = _Cand(s, e, gz.name_key(text[s:e]), [], text[s:e], context="phrase", place=place)
    c.reason = reason
    c.score = 0.9
    return c


def _border_reason(place: Place, iso: str) -> str:
    return f"border phrase around {iso}; other side chosen from the text's focus: {place.name}"


def _border_place(iso: str, focus: dict[str, float], g: gz.Gazetteer) -> Place | None:
    """The border of ``iso`` with the neighbour the text is most about."""
    neighbours = g.neighbours(iso)
    ranked = sorted(neighbours, key=lambda n: -focus.get(n, 0))
    for n in ranked:
        if focus.get(n, 0) <= 0:
            break
        place = g.border(iso, n)
        if place is not None:
            return place
    country = g.country(iso)
    if country is None or country.geometry is None:
        return None
    outline = country.geometry.boundary
    pt = outline.interpolate(0.5, normalized=True)
    return Place(
        f"border:{iso}",
        f"border of {country.name}",
        "line",
        iso,
        pt.x,
        pt.y,
        0,
        "naturalearth",
        outline,
    )


_THIRDS = {
    "north": (0.0, 2 / 3, 1.0, 1.0),
    "south": (0.0, 0.0, 1.0, 1 / 3),
    "east": (2 / 3, 0.0, 1.0, 1.0),
    "west": (0.0, 0.0, 1 / 3, 1.0),
    "northeast": (0.5, 0.5, 1.0, 1.0),
    "northwest": (0.0, 0.5, 0.5, 1.0),
    "southeast": (0.5, 0.0, 1.0, 0.5),
    "southwest": (0.0, 0.0, 0.5, 0.5),
}


def _part_of(place: Place, direction: str, g: gz.Gazetteer) -> Place | None:
    """ "northern Serbia": a curated area if one exists, else a third of the polygon."""
    iso = place.country or ""
    curated = g.index_of(f"cur:{direction}ern-{place.name.lower()}")
    if curated is not None:
        return g.place(curated)
    for key in (f"{direction}ern {place.name}", f"{direction} {place.name}"):
        for idx in g.lookup(gz.name_key(key)):
            if g.place_id(idx).startswith("cur:"):
                return g.place(idx)
    if place.geometry is None or direction not in _THIRDS:
        return None
    from shapely.geometry import box

    minx, miny, maxx, maxy = place.geometry.bounds
    fx0, fy0, fx1, fy1 = _THIRDS[direction]
    w, h = maxx - minx, maxy - miny
    part = place.geometry.intersection(
        box(minx + fx0 * w, miny + fy0 * h, minx + fx1 * w, miny + fy1 * h)
    )
    if part.is_empty:
        return None
    pt = part.representative_point()
    return Place(
        f"part:{direction}:{iso or place.place_id}",
        f"{direction}ern {place.name}",
        "area",
        iso or None,
        pt.x,
        pt.y,
        0,
        place.source,
        part,
    )


# ---------------------------------------------------------------------------
# Pass 2: filters


def _filter(text: str, folded: str, cands: list[_Cand], g: gz.Gazetteer) -> list[_Cand]:
    rules = _rules()
    common = gz.common_words()
    dem = gz.demonyms()
    kept: list[_Cand] = []
    surnames: set[str] = set()
    styles: dict[int, str] = {}
    strong_memo: dict[str, bool] = {}
    for c in cands:
        strong = strong_memo.get(c.key)
        if strong is None:
            strong = any(
                g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED)
                or g.kind_of(i) in ("capital", "region")
                for i in c.idxs
            )
            strong_memo[c.key] = strong
        if c.key in dem and not strong:
            continue
        words = c.key.replace("-", " ").split()
        # Matched only an alternate name of a minor place: translations such
        # as "White House" (Casablanca) or given names ("Jake") are not places.
        if (
            not strong
            and not c.main
            and (all(w in common for w in words) or c.key in rules.given_names)
        ):
            continue
        style = _line_style(text, c.start, styles)
        dateline = _is_dateline(text, c)
        if (
            not strong
            and c.surface.isupper()
            and len(c.surface) <= 5
            and not all(g.place(i).name.isupper() for i in c.idxs)
            and style != "caps"
            and not dateline
        ):
            continue  # an acronym (NATO, EULEX) that spells a village name
        if dateline:
            c.context = "dateline"
        elif style == "caps":
            c.context = "caps"
        elif style == "headline":
            c.context = "headline"
        elif _is_initial(text, c.start):
            c.context = "initial"
        prev = _prev_word(folded, c.start)
        prev_key = prev.lower()
        c.locative = prev_key in rules.prepositions and prev_key != "of"
        nxt = _next_token(folded, c.end)
        nxt_key = gz.name_key(nxt)
        # Person names: "Jake Sullivan", "President Kirby", "Mr. Sullivan".
        adjacent_prev = c.start >= 1 and folded[c.start - 1] == " " and prev and prev[0].isupper()
        if not strong and (
            prev_key in rules.titles
            or (adjacent_prev and gz.name_key(prev) in rules.given_names)
            or (
                adjacent_prev
                and prev_key not in common
                and prev_key not in rules.qualifiers
                and gz.name_key(prev) not in dem
                and not _is_place_word(prev, g)
                and not _is_initial(text, c.start - len(prev) - 1)
            )
        ):
            surnames.add(c.key)
            continue
        if not strong and c.key in rules.given_names and c.context not in ("caps", "headline"):
            if (
                nxt[:1].isupper()
                and nxt_key not in rules.suffixes
                and nxt_key not in dem
                and (nxt_key in rules.given_names or not _is_place_word(nxt, g))
            ):
                surnames.add(nxt_key)  # "Florence Nightingale": a first name
                continue
            if (
                nxt_key in rules.cues_after
                or prev_key in rules.cues_before
                or re.match(r"^,\s+(?:a|an|the|his|her)\s", folded[c.end : c.end + 8])
            ):
                continue  # "Milan said", "said Florence, a teacher"
        if (
            nxt
            and nxt[0].isupper()
            and c.context not in ("caps", "headline")
            and nxt_key not in common
            and nxt_key not in dem
            and nxt_key not in rules.connectors
            and not _is_place_word(nxt, g)
        ):
            # "Milan Radoicic", "Jordan Peterson": the place is a first name.
            surnames.add(gz.name_key(nxt))
            if not (strong and c.context == "dateline"):
                continue
        if c.key in surnames and not strong:
            continue
        if not strong and all(w in common or w in rules.connectors for w in words):
            evidence = c.context == "dateline" or (
                c.context == "capitalised" and (prev_key in rules.prepositions and prev_key != "of")
            )
            if not evidence and not _followed_by_qualifier(folded, c.end, g):
                continue
            c.notes.append("common English word; accepted on context")
        kept.append(c)
    return [c for c in kept if c.key not in surnames or _is_strong(c, g)]


def _is_strong(c: _Cand, g: gz.Gazetteer) -> bool:
    return any(g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED) for i in c.idxs)


def _is_place_word(word: str, g: gz.Gazetteer) -> bool:
    """A word that names a real place by its main name, or a strong place."""
    for i, main in g.hits(gz.name_key(word)):
        if g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED) or (main and g.population(i) >= 1000):
            return True
    return False


def _is_dateline(text: str, c: _Cand) -> bool:
    i = c.start - 1  # only blanks since the line start (scan back, not slice: issue 6)
    while i >= 0 and text[i] != "\n" and text[i].isspace():
        i -= 1
    if i >= 0 and text[i] != "\n":
        return False
    after = text[c.end : c.end + 40]
    return c.surface.isupper() and bool(re.match(r"^\s*(?:,|\(|\u2014|--|-)", after))


def _followed_by_qualifier(folded: str, end: int, g: gz.Gazetteer) -> bool:
    """ "Reading, England": a following ", <country>" is evidence of a place."""
    m = re.match(r"^, ([A-Z][\w]+(?: [A-Z][\w]+)?)", folded[end : end + 40])
    if not m:
        return False
    return any(g.flags(i) & gz.FLAG_COUNTRY for i in g.lookup(gz.name_key(m.group(1))))


# ---------------------------------------------------------------------------
# Pass 3: disambiguation


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _prior(g: gz.Gazetteer, i: int) -> float:
    """Document-independent plausibility of a record; memoised per record."""
    p = g.priors.get(i)
    if p is None:
        p = g.priors[i] = _prior_of(g, i)
    return p


def _prior_of(g: gz.Gazetteer, i: int) -> float:
    fl = g.flags(i)
    if fl & gz.FLAG_COUNTRY:
        return 3.0
    if fl & gz.FLAG_CURATED:
        return 2.6
    kind = g.kind_of(i)
    pop = g.population(i)
    base = math.log10(pop + 1) / 7.0
    if kind == "capital":
        return 1.6 + base
    if kind == "region":
        return 1.8
    return base


_QUALIFIER = re.compile(
    r"^,\s+(?:in\s+)?(?:(?:the\s+)?(?:north|south|east|west|central)(?:ern)?\s+)?"
    r"([A-Z][\w.]+(?:\s[A-Z][\w.]+)?)"
)


def _qualifier(folded: str, end: int, g: gz.Gazetteer) -> tuple[str, str] | None:
    """(country, admin1) named right after a place: "Paris, Texas", "PRISTINA, Kosovo"."""
    m = _QUALIFIER.match(folded[end : end + 60])
    if not m:
        return None
    for i in g.lookup(gz.name_key(m.group(1))):
        if g.flags(i) & gz.FLAG_COUNTRY:
            return g.country_of(i), ""
        if g.kind_of(i) == "region" and g.admin1_of(i):
            return g.country_of(i), g.admin1_of(i)
    return None


def _document_focus(
    cands: Sequence[_Cand], demonym_votes: dict[str, float], g: gz.Gazetteer
) -> dict[str, float]:
    """Country votes: unambiguous places and countries count 1, demonyms 0.5."""
    votes: dict[str, float] = {}
    for c in cands:
        countries = {g.country_of(i) for i in c.idxs if g.country_of(i)}
        strong = [i for i in c.idxs if g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED)]
        if strong:
            iso = g.country_of(strong[0])
            votes[iso] = votes.get(iso, 0.0) + 1.0
        elif len(countries) == 1:
            iso = next(iter(countries))
            votes[iso] = votes.get(iso, 0.0) + 1.0
    for iso, v in demonym_votes.items():
        votes[iso] = votes.get(iso, 0.0) + v
    votes.pop("", None)
    return votes


_TOP_K = 8


def _shortlist(c: _Cand, focus: dict[str, float], g: gz.Gazetteer) -> list[int]:
    """The candidates worth scoring: the best by prior, plus any in a focus country."""
    if len(c.idxs) <= _TOP_K:
        return c.idxs
    ranked = g.ranked.get(c.key)
    if ranked is None:
        ranked = g.ranked[c.key] = sorted(c.idxs, key=lambda i: -_prior(g, i))
    keep = ranked[:_TOP_K]
    keep += [i for i in ranked[_TOP_K:] if focus.get(g.country_of(i), 0) > 0][:_TOP_K]
    return keep


def _resolve(
    folded: str,
    cands: list[_Cand],
    focus: dict[str, float],
    anchors: list[tuple[str, float, float]],
    g: gz.Gazetteer,
) -> None:
    """Choose each candidate's place. One sense per discourse: a name with the
    same qualifier resolves once per document."""
    total_votes = sum(focus.values()) or 1.0
    trig = _anchor_trig(anchors)
    memo: dict[tuple[str, tuple[str, str] | None], tuple[int, float, str, tuple[str, ...]]] = {}
    for c in cands:
        if c.place is not None:
            continue
        qual = _qualifier(folded, c.end, g)
        key = (c.key, qual)
        if key not in memo:
            memo[key] = _score_candidates(c, qual, focus, total_votes, anchors, g, trig)
        best_i, margin, why, alternatives = memo[key]
        c.place = g.place(best_i)
        penalty = {"initial": 0.9, "headline": 0.9, "caps": 0.85}.get(c.context, 1.0)
        reason = why
        if c.notes:
            penalty *= 0.8
            reason = "; ".join([why, *c.notes])
        c.score = round(min(1.0, margin * penalty), 3)
        c.reason = reason
        c.alternatives = alternatives


_AnchorTrig = list[tuple[str, float, float, float]]


def _anchor_trig(anchors: list[tuple[str, float, float]]) -> _AnchorTrig:
    """(name, lat in radians, its cosine, lon) per anchor: the per-anchor half of
    :func:`_haversine_km`, computed once per pass instead of once per comparison."""
    out: _AnchorTrig = []
    for k, x, y in anchors:
        p2 = math.radians(y)
        out.append((k, p2, math.cos(p2), x))
    return out


def _nearest_km(lon: float, lat: float, key: str, trig: _AnchorTrig) -> float:
    """Distance to the nearest anchor not named ``key``; the same arithmetic as
    :func:`_haversine_km`, so the same floats."""
    p1 = math.radians(lat)
    cp1 = math.cos(p1)
    best = math.inf
    for k, p2, cp2, x in trig:
        if k == key:
            continue
        dp = p2 - p1
        # The latitude gap alone is a lower bound of the distance (6371 |dp| km): an
        # anchor that cannot come closer than the best so far is skipped.
        if 6371.0 * abs(dp) * (1.0 - 1e-9) > best:
            continue
        dl = math.radians(x - lon)
        a = math.sin(dp / 2) ** 2 + cp1 * cp2 * math.sin(dl / 2) ** 2
        d = 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))
        if d < best:
            best = d
    return best


def _score_candidates(
    c: _Cand,
    qual: tuple[str, str] | None,
    focus: dict[str, float],
    total_votes: float,
    anchors: list[tuple[str, float, float]],
    g: gz.Gazetteer,
    trig: _AnchorTrig | None = None,
) -> tuple[int, float, str, tuple[str, ...]]:
    if trig is None:
        trig = _anchor_trig(anchors)
    # Scores first; the explanation is written for the winner only.
    scored: list[tuple[float, int, float, bool, float, float]] = []
    for i in _shortlist(c, focus, g):
        s = _prior(g, i)
        iso = g.country_of(i)
        share = focus.get(iso, 0.0) / total_votes
        if share > 0:
            s += 1.5 * share
        qualified = qual is not None and iso == qual[0] and qual[1] in ("", g.admin1_of(i))
        if qualified:
            assert qual is not None
            s += 3.0 if not qual[1] else 4.5
        d = bonus = 0.0
        if anchors and g.kind_of(i) not in ("country", "region"):
            lon, lat = g.lonlat(i)
            d = _nearest_km(lon, lat, c.key, trig)
            bonus = 1.0 if d < 50 else 0.6 if d < 200 else 0.2 if d < 1000 else 0.0
            if bonus:
                s += bonus
        scored.append((s, i, share, qualified, d, bonus))
    scored.sort(key=lambda t: (-t[0], -g.population(t[1])))
    best_s, best_i, share, qualified, d, bonus = scored[0]
    why: list[str] = []
    fl = g.flags(best_i)
    if fl & gz.FLAG_COUNTRY:
        why.append("country")
    elif fl & gz.FLAG_CURATED:
        why.append("curated regional layer")
    else:
        why.append(f"{g.kind_of(best_i)}, population {g.population(best_i):,}")
    iso = g.country_of(best_i)
    if share > 0:
        why.append(f"{iso} has {share:.0%} of the text's country evidence")
    if qualified and qual is not None:
        why.append(f"qualified by its {'region' if qual[1] else 'country'} ({qual[0]})")
    if bonus:
        why.append(f"{d:.0f} km from another place in the text")
    others = scored[1:]
    if others:
        margin = best_s / (best_s + max(others[0][0], 0.0) + 1e-9)
        names = ", ".join(f"{g.place(o[1]).name} ({g.country_of(o[1]) or '-'})"
                          for o in others[:2])
        extra = len(c.idxs) - 1
        why.append(f"beat {extra} other candidate(s): {names}")
    else:
        margin = 1.0
        why.append("only candidate")
    return best_i, margin, "; ".join(why), tuple(g.place_id(o[1]) for o in others[:5])


def _anchors(cands: Sequence[_Cand]) -> list[tuple[str, float, float]]:
    """Confident specific places, one per name: they pull ambiguous names near."""
    out: dict[str, tuple[str, float, float]] = {}
    for c in cands:
        if c.place is None or c.place.kind in ("country", "region", "line", "area"):
            continue
        if (c.score >= 0.6 or len(c.idxs) == 1) and c.key not in out:
            out[c.key] = (c.key, c.place.lon, c.place.lat)
    return list(out.values())


# ---------------------------------------------------------------------------
# Public API


def _overlaps(a: _Cand, b: _Cand) -> bool:
    return a.start < b.end and b.start < a.end


def find_mentions(text: str, *, published: date | None = None) -> list[Mention]:
    """Every place mention of ``text`` with its exact span, resolved and scored.

    ``published`` is accepted for symmetry with the rest of the pipeline; place
    resolution does not depend on it.
    """
    del published
    if not text:
        return []
    g = gz.load()
    folded = gz.fold(text)
    demonym_votes: dict[str, float] = {}
    cands = _sequence_candidates(text, folded, g, demonym_votes)
    lower = folded.lower()  # folded text lower-cases without changing length
    phrases = _curated_phrases(text, lower, g)
    # Longest match wins: a curated phrase beats the words inside it.
    cands = _without_overlaps(cands, phrases)
    cands = _filter(text, folded, cands, g)
    cands.extend(phrases)
    cands.sort(key=lambda c: c.start)
    focus = _document_focus(cands, demonym_votes, g)
    _resolve(folded, cands, focus, [], g)
    _resolve_again(folded, cands, focus, g)
    points = {
        c.place.place_id: (c.place.lon, c.place.lat)
        for c in cands
        if c.place is not None and c.place.kind not in ("region", "country")
    }
    cands = [c for c in cands if _plausible(c, points, focus, g)]
    built = _phrase_mentions(text, folded, lower, cands, focus, g)
    built += _without_overlaps(_demonym_borders(text, folded, lower, focus, g), built)
    if built:
        cands = _without_overlaps(cands, built) + built
        cands.sort(key=lambda c: c.start)
    return [
        Mention(
            text=text[c.start : c.end],
            start=c.start,
            end=c.end,
            place=c.place,
            score=c.score,
            reason=c.reason,
            alternatives=c.alternatives,
        )
        for c in cands
        if c.place is not None
    ]


def _resolve_again(
    folded: str, cands: list[_Cand], focus: dict[str, float], g: gz.Gazetteer
) -> None:
    """Second pass: now that confident places are known, use proximity."""
    anchors = _anchors(cands)
    if not anchors:
        return
    ambiguous = [c for c in cands if len(c.idxs) > 1 and c.context != "phrase"]
    for c in ambiguous:
        c.place = None
    _resolve(folded, cands, focus, anchors, g)


def _plausible(
    c: _Cand, points: dict[str, tuple[float, float]], focus: dict[str, float], g: gz.Gazetteer
) -> bool:
    """Drop a minor place the rest of the text gives no reason to believe in.

    A village or town in a country the text never otherwise touches, far from
    every other place it names, and not introduced by a locative preposition,
    is far more often a word in an organisation's or a person's name
    ("North Atlantic Council") than a place. ``points`` holds one (lon, lat)
    per distinct specific place of the text, so this stays linear.
    """
    p = c.place
    if p is None or c.context == "phrase" or c.locative or _is_strong(c, g):
        return True
    if p.kind not in ("village", "town"):
        return True
    others = [xy for pid, xy in points.items() if pid != p.place_id]
    if not others:
        return True
    # Matched only by an alternate spelling: it must sit among the text's places.
    reach = 1000.0 if c.main else 300.0
    if c.main and focus.get(p.country or "", 0) > 0:
        return True
    return any(_haversine_km(p.lon, p.lat, x, y) < reach for x, y in others)


def _without_overlaps(cands: list[_Cand], winners: list[_Cand]) -> list[_Cand]:
    """``cands`` minus those overlapping any of ``winners`` (sorted sweep, not n*m)."""
    if not winners:
        return cands
    spans = sorted((w.start, w.end) for w in winners)
    starts = [sp[0] for sp in spans]
    max_end: list[int] = []
    m = -1
    for _, e in spans:
        m = max(m, e)
        max_end.append(m)
    out = []
    for c in cands:
        k = bisect.bisect_left(starts, c.end) - 1  # last winner starting before c ends
        if k >= 0 and max_end[k] > c.start:
            continue
        out.append(c)
    return out


def mention_feature(m: Mention, *, precision: int = 6) -> dict[str, Any]:
    """One RFC 7946 Feature (lon/lat) for a mention."""
    geom = m.place.geometry
    geometry: dict[str, Any] | None
    if geom is None:
        lon_lat = [round(m.place.lon, precision), round(m.place.lat, precision)]
        geometry = {"type": "Point", "coordinates": lon_lat}
    else:
        from geo.export import geometry_to_geojson

        geometry = geometry_to_geojson(geom, precision=precision)
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "text": m.text,
            "start": m.start,
            "end": m.end,
            "place_id": m.place.place_id,
            "name": m.place.name,
            "kind": m.place.kind,
            "country": m.place.country,
            "score": m.score,
            "reason": m.reason,
            "alternatives": list(m.alternatives),
        },
    }


def mentions_to_featurecollection(mentions: Iterable[Mention]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [mention_feature(m) for m in mentions]}


def focus_countries(mentions: Sequence[Mention]) -> list[str]:
    """Countries the text is about, most mentioned first."""
    counts = Counter(m.place.country for m in mentions if m.place.country)
    return [c for c, _ in counts.most_common()]


__all__ = [
    "find_mentions",
    "focus_countries",
    "mention_feature",
    "mentions_to_featurecollection",
]
