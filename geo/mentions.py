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
import codecs
import functools
import hashlib
import math
import operator
import os
import re
import tomllib
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, cast

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
    admin_units: frozenset[str]


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
        admin_units=frozenset(raw.get("admin_units", [])),
    )


_UP = "A-Z\u0400-\u042f"
_LO = "a-z\u0430-\u045f"
_TOKEN = rf"(?:[A-Z]\.){{2,}}|[{_UP}][{_UP}{_LO}0-9]*(?:'[{_UP}{_LO}]+)*"


# The first token of a run, written to start with a character class so the
# regex engine can skip ahead to capitals (a leading lookbehind made it try every
# position): the same matches as ``(?<![\w.])(?:_TOKEN)``.
_FIRST_TOKEN = (
    rf"[{_UP}](?<![\w.][{_UP}])"
    rf"(?:(?<=[A-Z])\.(?:[A-Z]\.)+|[{_UP}{_LO}0-9]*(?:'[{_UP}{_LO}]+)*)"
)


@functools.cache
def _seq_re() -> re.Pattern[str]:
    conn = "|".join(sorted(_rules().connectors, key=len, reverse=True))
    return re.compile(rf"{_FIRST_TOKEN}(?:(?: |-| (?:{conn}) )(?:{_TOKEN}))*")


@functools.cache
def _seq_re_reference() -> re.Pattern[str]:
    """The plain form of :func:`_seq_re`, kept for the equivalence test."""
    conn = "|".join(sorted(_rules().connectors, key=len, reverse=True))
    return re.compile(rf"(?<![\w.])(?:{_TOKEN})(?:(?: |-| (?:{conn}) )(?:{_TOKEN}))*")


_TOKEN_RE = re.compile(_TOKEN)
_SENT_END = set(".!?:;\n\r\u2029")
_OPENERS = set("\"'([{\u201c\u2018\u00ab*#>-\u2014\u2013 \t")


_NO_QUAL: Any = object()  # a candidate's qualifier, not read yet


class _Cand:
    """A place candidate of one document (a plain slotted class: thousands are made
    per megabyte, and a hand-written constructor is about twice as fast)."""

    __slots__ = ("alternatives", "context", "end", "idxs", "key", "locative", "main",
                 "notes", "place", "qual", "reason", "score", "scored", "start", "surface")

    def __init__(
        self,
        start: int,
        end: int,
        key: str,
        idxs: Sequence[int],
        surface: str,
        main: bool = True,
        context: str = "capitalised",
        place: Place | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.key = key
        self.idxs = idxs
        self.surface = surface
        self.main = main  # matched some record's main name, not only an alternate
        # Preceded by "in", "near"...; None: not read yet (see _filter).
        self.locative: bool | None = False
        # capitalised | initial | headline | caps | dateline | phrase
        self.context = context
        self.place = place  # set for phrase mentions built directly
        self.score = 0.0
        self.reason = ""
        self.alternatives: tuple[str, ...] = ()
        self.notes: tuple[str, ...] = ()
        self.qual: Any = _NO_QUAL  # (country, admin1) named right after it, read once
        self.scored: _Scored | None = None  # the outcome its reason is written from

    def __repr__(self) -> str:
        return f"_Cand({self.surface!r}, {self.start}, {self.end}, {self.context})"


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


_WORD = re.compile(r"[^\W\d_]{4,}")


_LETTER_BYTES = bytes(97 if chr(c).isalpha() and c < 128 else 32 for c in range(256))
_CASE_BYTES = bytes(
    (65 if chr(c).isupper() else 97) if chr(c).isalpha() and c < 128 else 32 for c in range(256)
)
_WORD_CHAR = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=1 << 14)
def _letter_class(ch: str) -> str:
    """A character outside ASCII as the ASCII stand-in :class:`_LineStyles` reads:
    "?" if ``_WORD`` does not count it as a letter, "a" for a lower-case letter
    (no word starting with it is capitalised or all capitals), else "A" (upper
    case, or caseless: it may start such a word)."""
    if _WORD_CHAR.match(ch) is None:
        return "?"
    return "a" if ch.islower() else "A"


def _letter_class_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each character outside ASCII becomes one ASCII
    character, its :func:`_letter_class`, so offsets are kept."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    run = exc.object[exc.start : exc.end]
    return "".join([_letter_class(ch) for ch in run]), exc.end


_LETTER_CLASS_ERRORS = "geo-mentions-letter-class"
codecs.register_error(_LETTER_CLASS_ERRORS, _letter_class_errors)


class _LineStyles:
    """Whether a line of one text is written in capitals or as a headline.

    Most lines are prose. The number of words (runs of 4+ letters, as ``_WORD``
    finds them) and a bound on the capitalised or all-capital ones are byte
    counts over the whole text's letter classes, computed once per text: each
    word follows a non-letter (or starts the line), and each such word starts
    with an upper-case or caseless letter after a non-letter. Only a line above
    that bound has its words listed (:func:`_line_style_words`).
    """

    __slots__ = ("_cases", "_letters", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._letters: bytes | None = None
        self._cases = b""
        if text.isascii():
            raw = text.encode("ascii")
        elif _few_non_ascii(text):
            raw = text.encode("ascii", _LETTER_CLASS_ERRORS)  # one byte per character
        else:  # a codec call per word outside ASCII would cost more: line by line
            return
        self._letters = raw.translate(_LETTER_BYTES)
        self._cases = raw.translate(_CASE_BYTES)

    def style(self, s: int, e: int) -> str:
        """"caps", "headline" or "" for the line ``text[s:e]`` (its first 400
        characters)."""
        e = min(e, s + 400)
        letters = self._letters
        if letters is None:
            return _segment_style(self._text[s:e])
        n_words = letters.count(b" aaaa", s, e) + letters.startswith(b"aaaa", s, e)
        if n_words < 3:
            return ""
        cases = self._cases
        # All-capitals words are capitalised too, so below 60 % neither style holds.
        if (cases.count(b" A", s, e) + cases.startswith(b"A", s, e)) / n_words < 0.6:
            return ""
        return _line_style_words(self._text[s:e])


def _few_non_ascii(text: str) -> bool:
    """At most one character in 40 is outside ASCII (counted in C): news in
    English, where handling those few one by one costs less than a pass over
    every character."""
    n = len(text)
    return (n - len(text.encode("ascii", "ignore"))) * 40 <= n


# A character outside ASCII that _WORD counts as a letter.
_NON_ASCII_LETTER = re.compile(r"[^\x00-\x7f](?<=[^\W\d_])")


def _segment_style(seg: str) -> str:
    """The style of one line's first 400 characters on its own, for texts
    mostly outside ASCII: the same bound as :class:`_LineStyles` where the
    line's letters are all ASCII, else the words listed."""
    if seg.isascii():
        raw = seg.encode("ascii")
    elif _NON_ASCII_LETTER.search(seg) is None:
        raw = seg.encode("ascii", "replace")
    else:
        return _line_style_words(seg)
    letters = raw.translate(_LETTER_BYTES)
    n_words = letters.count(b" aaaa") + letters.startswith(b"aaaa")
    if n_words < 3:
        return ""
    cases = raw.translate(_CASE_BYTES)
    if (cases.count(b" A") + cases.startswith(b"A")) / n_words < 0.6:
        return ""
    return _line_style_words(seg)


def _line_style_words(seg: str) -> str:
    words = _WORD.findall(seg)
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
    # The usual case, "word Name": one space, then letters back to the previous
    # space. Anything else (no space near, punctuation, a full stop) takes the
    # character-by-character scan below.
    if start >= 2 and text[start - 1] == " ":
        j = text.rfind(" ", max(0, start - 48), start - 1)
        if j >= 0:
            word = text[j + 1 : start - 1]
            if word.isalpha():
                return word
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


_NEXT_TOKEN = re.compile(r" ([^\W\d_][\w'-]*)")


def _line_start_blank(text: str, start: int) -> bool:
    """Only blanks between the line start and ``start`` (scan back, not slice: issue 6)."""
    i = start - 1
    while i >= 0 and text[i] != "\n" and text[i].isspace():
        i -= 1
    return i < 0 or text[i] == "\n"


_DATELINE_AFTER = re.compile(r"\s*(?:,|\(|\u2014|--|-)")
_PERSON_APPOSITION = re.compile(r",\s+(?:a|an|the|his|her)\s")
_COUNTRY_AFTER = re.compile(r", ([A-Z][\w]+(?: [A-Z][\w]+)?)")


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

    What a run yields depends on its characters alone, so it is memoised on the
    gazetteer by the run as written (:func:`_run_outcome`): news repeats the
    same capitalised words and names ("The", "Prime Minister", "Kosovo") in
    every article, and a repeated run costs one dictionary lookup. Capitalised
    words that are demonyms vote for their country in ``demonym_votes``.
    """
    out: list[_Cand] = []
    append = out.append
    memo = g.run_memo
    long_runs: dict[str, _RunOutcome] = {}
    for seq in _seq_re().finditer(folded):
        s, e = seq.span()
        raw = text[s:e]
        found = memo.get(raw)
        if found is None:
            if len(raw) > _RUN_MEMO_CHARS:  # kept for this text only
                found = long_runs.get(raw)
                if found is None:
                    found = long_runs[raw] = _run_outcome(seq.group(), raw, g)
            else:
                found = _run_outcome(seq.group(), raw, g)
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[raw] = found
        if found is _NOTHING:  # most runs: "The", "NATO", "Wednesday"
            continue
        matches, votes = found
        for rel, e_rel, key, idxs, main, surface in matches:
            append(_Cand(s + rel, s + e_rel, key, idxs, surface, main))
        if votes and demonym_votes is not None:
            for iso in votes:
                demonym_votes[iso] = demonym_votes.get(iso, 0.0) + 0.5
    return out


# Runs up to this long are memoised on the gazetteer (real names are far shorter);
# a longer one, only for the text it is in, so a hostile text cannot make the
# memo hold megabytes.
_RUN_MEMO_CHARS = 200
# A run's names, (start, end, key, records, main, surface) relative to the run,
# and the countries its left-over demonyms vote for.
_RunOutcome = tuple[tuple[tuple[int, int, str, tuple[int, ...], bool, str], ...], tuple[str, ...]]
_NOTHING: _RunOutcome = ((), ())


def _run_outcome(word: str, raw: str, g: gz.Gazetteer) -> _RunOutcome:
    """What one run of capitalised words yields (``word`` folded, ``raw`` as
    written). Folding maps each character alone, so ``raw`` determines ``word``
    and the outcome: it can be memoised by ``raw``."""
    if " " not in word and "-" not in word:
        found = _word_outcome(word, raw, g)
    else:
        matches, votes = _run_matches(word, raw, g)
        found = tuple([(*m, raw[m[0] : m[1]]) for m in matches]), tuple(votes)
    if found[0]:
        # Names the filter always drops, whatever the context (see _filter), are
        # dropped here once: a demonym, or a minor place's alternate name that
        # is a common word or a given name ("Minister", "Jake").
        kept = tuple([m for m in found[0] if not _always_dropped(m[2], m[3], m[4], g)])
        if len(kept) < len(found[0]):
            found = kept, found[1]
    if not found[0] and not found[1]:
        found = _NOTHING
    return found


def _always_dropped(key: str, idxs: Sequence[int], main: bool, g: gz.Gazetteer) -> bool:
    """The first two rules of :func:`_filter`, which read nothing but the name."""
    strong, is_dem, noise = _key_facts(key, idxs, g)[:3]
    return (is_dem and not strong) or (not strong and not main and noise)


def _word_outcome(word: str, raw: str, g: gz.Gazetteer) -> _RunOutcome:
    """The outcome of a run of one word (most runs): one lookup."""
    e = len(word)
    if word[-1] in "sS'":
        e = _split_possessive(word, 0, e)
    key = word[:e].lower()
    hits = g.hits(key)
    if not hits:
        iso = gz.demonyms().get(key)
        return _NOTHING if iso is None else ((), (iso,))
    surface = raw[:e]
    if len(key) <= 3 and _short_alias(key, surface, hits, g):
        return _NOTHING
    idxs, main = g.hit_summary(key)
    return ((0, e, key, idxs, main, surface),), ()


_RunMatches = tuple[list[tuple[int, int, str, tuple[int, ...], bool]], list[str]]


def _run_matches(word: str, run: str, g: gz.Gazetteer) -> _RunMatches:
    """Names in a run of several capitalised words (``word`` folded, ``run`` as
    written), longest first: (start, end, key, records, main) relative to the run,
    and the countries of the demonyms among the words left over."""
    dem = gz.demonyms()
    lookup = g.hits
    hit_memo = g.hit_memo
    summary = g.hit_summary
    starts_phrase = g.starts_phrase
    start_memo = g.phrase_start_memo
    has_prefix = g.has_prefix
    prefixes = g.prefixes
    matches: list[tuple[int, int, str, tuple[int, ...], bool]] = []
    votes: list[str] = []
    toks = [m.span() for m in _TOKEN_RE.finditer(word)]
    low = word.lower()
    hyphen = "-" in word
    spaced = low.replace("-", " ") if hyphen else low
    # A match must end where a token ends (or before its possessive 's).
    ends: dict[int, int] = {}
    for n, (_, te) in enumerate(toks):
        ends[te] = n + 1
        if low[te - 2 : te] == "'s":
            ends[te - 2] = n + 1
    # Connectors are lower-case words between tokens; tokens are capitalised.
    i = 0
    n_toks = len(toks)
    while i < n_toks:
        rel, te = toks[i]
        tok = low[rel:te]
        best = ""
        # A name longer than this token runs on into the next one, so it starts
        # with this token, the separator and the next token's first letter.
        starts = start_memo.get(tok) if i + 1 < n_toks else False
        if starts is None:
            starts = starts_phrase(tok)
        if (
            starts
            and (
                has_prefix(low[rel : toks[i + 1][0] + 1])
                or (hyphen and has_prefix(spaced[rel : toks[i + 1][0] + 1]))
            )
        ):
            for k in prefixes(low, start=rel):
                if len(k) > len(best) and rel + len(k) in ends:
                    best = k
            if hyphen:  # the spaced variant differs only around hyphens
                for k in prefixes(spaced, start=rel):
                    if len(k) > len(best) and rel + len(k) in ends:
                        best = k
        else:
            # No name runs on past this token: only the token itself or the token
            # before its possessive can match.
            hits = hit_memo.get(tok)
            if hits is None:
                hits = lookup(tok)
            if hits:
                best = tok
            elif low[te - 2 : te] == "'s" and lookup(tok[:-2]):
                best = tok[:-2]
        if not best:
            # A left-over word may be a demonym ("Serbian" in "Serbian Defence
            # Minister"): a vote for its country.
            if tok in dem:
                votes.append(dem[tok])
            i += 1
            continue
        e_rel = rel + len(best)
        if len(best) <= 3 and _short_alias(best, run[rel:e_rel], lookup(best), g):
            i += 1  # "US" yes, "Us" no; "Niš" (a main name) yes
            continue
        idxs, main = summary(best)
        matches.append((rel, e_rel, best, idxs, main))
        i = ends[e_rel]
    return matches, votes


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


# ASCII bytes -> themselves if alphanumeric, else a space.
_WORD_BYTES = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))


@functools.cache
def _spaced_phrase_automaton() -> tuple[Any, bool]:
    """The ASCII curated aliases, each as a space and the alias with every
    non-alphanumeric character made a space, for texts whose letters and digits
    are all ASCII (most news, once folded); the text is scanned the same way (a
    space first, see :func:`_spaced_text`). Each alias then starts with the one
    character a space, so at most positions the scan compares a character with
    that one instead of with every alias's first character: a third faster. A
    hit is a candidate (another non-alphanumeric character may stand where the
    alias has one): its value lists the aliases to compare with the text.

    Also whether every other alias has a letter or digit outside ASCII, so
    cannot occur in such a text (else only ASCII texts take this path)."""
    import ahocorasick

    groups: dict[str, list[str]] = {}
    others_need_letters = True
    for phrase in gz.load().curated_phrases:
        if phrase.isascii():
            spaced = " " + phrase.encode("ascii").translate(_WORD_BYTES).decode("ascii")
            groups.setdefault(spaced, []).append(phrase)
        elif not any(ord(ch) > 127 and ch.isalnum() for ch in phrase):
            others_need_letters = False
    if not groups:
        return None, others_need_letters
    auto = ahocorasick.Automaton()
    for spaced, phrases in groups.items():
        auto.add_word(spaced, (len(spaced) - 1, tuple(phrases)))
    auto.make_automaton()
    return auto, others_need_letters


def _alnum_nul_errors(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a letter or digit outside ASCII becomes a NUL, any
    other character a space (one character each)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    run = exc.object[exc.start : exc.end]
    return "".join(["\0" if ch.isalnum() else " " for ch in run]), exc.end


_ALNUM_NUL_ERRORS = "geo-mentions-alnum-nul"
codecs.register_error(_ALNUM_NUL_ERRORS, _alnum_nul_errors)


def _spaced_text(lower: str, *, ascii_only: bool) -> str | None:
    """A space, then ``lower`` with every character that is not an ASCII letter
    or digit made a space; None if ``lower`` has a letter or digit outside
    ASCII (or a NUL, which the encoding uses to flag those), or with
    ``ascii_only`` any character outside ASCII."""
    if lower.isascii():
        raw = lower.encode("ascii")
    elif ascii_only:
        return None
    else:
        raw = lower.encode("ascii", _ALNUM_NUL_ERRORS)
        if 0 in raw:
            return None
    return " " + raw.translate(_WORD_BYTES).decode("ascii")


def _phrase_hits(lower: str) -> list[tuple[int, int, str]]:
    """Every (start, end, alias) of a curated alias in ``lower`` standing as
    whole words (no letter or digit right before or after)."""
    found: list[tuple[int, int, str]] = []
    n = len(lower)
    auto, others_need_letters = _spaced_phrase_automaton()
    spaced = _spaced_text(lower, ascii_only=not others_need_letters or not _few_non_ascii(lower))
    if spaced is not None:
        if auto is None:
            return found
        # A hit ending at ``end`` in ``spaced`` ends at ``end - 1`` in ``lower``;
        # the space before it means no letter or digit precedes the alias.
        for e, (length, phrases) in auto.iter(spaced):
            if e < n and lower[e].isalnum():
                continue
            s = e - length
            for phrase in phrases:
                if lower.startswith(phrase, s):
                    found.append((s, e, phrase))
        return found
    full = _curated_phrase_automaton()
    if full is None:
        return found
    for end, key in full.iter(lower):
        s, e = end - len(key) + 1, end + 1
        if (s > 0 and lower[s - 1].isalnum()) or (e < n and lower[e].isalnum()):
            continue
        found.append((s, e, key))
    return found


def _curated_phrases(text: str, lower: str, g: gz.Gazetteer) -> list[_Cand]:
    """Curated phrases, longest first, whole words only. ``lower`` is the folded,
    lower-cased text (same length as ``text``)."""
    found = _phrase_hits(lower)
    if len(found) > 1:
        found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[_Cand] = []
    last_end = -1
    for s, e, key in found:
        if s < last_end:
            continue
        idxs = list(_curated_records(g, key))
        if idxs:
            out.append(_Cand(s, e, key, idxs, text[s:e], context="phrase"))
            last_end = e
    return out


@functools.lru_cache(maxsize=4096)
def _curated_records(g: gz.Gazetteer, key: str) -> tuple[int, ...]:
    """The curated records named ``key`` (memoised: the same phrases recur)."""
    return tuple(i for i in g.lookup(key) if g.place_id(i).startswith("cur:"))


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


def _hot_near(lower: str, start: int, end: int, hot: list[int] | None) -> bool:
    """A hot word starts between 60 characters before ``start`` and 100 after
    ``end``: looked up in ``hot`` (the starts of every hot word of the text) when
    given, else searched for in that window only."""
    if hot is not None:
        k = bisect.bisect_left(hot, start - 60)
        return k < len(hot) and hot[k] <= end + 100
    found = _HOT_WORDS.search(lower, max(0, start - 60), end + 100 + _HOT_MAX)
    return found is not None and found.start() <= end + 100


_BORDER_LINKS = frozenset({"with", "of", "between", "to", "the"})
_JOINED = re.compile(r"(?:-| and | ?/ ?)")
_HOT_LIST = ("border", "boundar", "frontier", "north", "south", "east", "west", "central")
_HOT_WORDS = re.compile("|".join(_HOT_LIST))
_HOT_MAX = max(map(len, _HOT_LIST))
_HOT_SCAN_CHARS = 320


def _hot_starts(lower: str) -> list[int]:
    """The start of every hot word in ``lower``, in order: what ``_HOT_WORDS``
    finds, from one substring search per occurrence (in C, twice as fast as the
    regex, which tries a match at almost every position). No hot word overlaps
    another or itself, so the occurrences of each word, merged, are the regex's
    matches."""
    found: list[int] = []
    find = lower.find
    for word in _HOT_LIST:
        at = find(word)
        while at >= 0:
            found.append(at)
            at = find(word, at + len(word))
    found.sort()
    return found


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
    by_start = {c.start: c for c in countries}
    used: set[int] = set()
    # Only countries with a border or direction word nearby can start a phrase: one
    # starting from 60 characters before to 100 after. With few countries, a search
    # of each window costs less than listing the hot words of the whole text (each
    # window costs about as much as listing them in 320 characters); the hot words
    # cannot overlap one another, so a search from the window start finds the
    # first one that list would hold there.
    hot: list[int] | None = None
    if len(countries) * _HOT_SCAN_CHARS > len(lower):
        hot = _hot_starts(lower)
        if not hot:
            return out
    for c in countries:
        assert c.place is not None
        iso = c.place.country or ""
        if c.start in used:
            continue
        if not _hot_near(lower, c.start, c.end, hot):
            continue
        window = folded[max(0, c.start - 60) : c.start]
        after = folded[c.end : c.end + 60]
        # "X-Y border", "X and Y border"
        m2 = _JOINED.match(after)
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


# ``\b(?:border|boundary|frontier)s?\b`` with the leading \b written as lookbehinds
# after the word, so the regex engine can skip ahead to a "b" or an "f".
_BORDER_WORD = re.compile(
    r"(?:border|boundary|frontier)(?<!\wborder)(?<!\wboundary)(?<!\wfrontier)s?\b"
)
_WORD_BEFORE = re.compile(r"([a-z]+)\s+$")


def _demonym_borders(
    text: str, folded: str, lower: str, focus: dict[str, float], g: gz.Gazetteer
) -> list[_Cand]:
    """A demonym names the country whose border it is: "the Serbian border"."""
    out: list[_Cand] = []
    # Most texts name no border: three substring searches (fast, in C) rule that
    # out before the regex scans the text.
    if "border" not in lower and "boundary" not in lower and "frontier" not in lower:
        return out
    dem = gz.demonyms()
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
    return _country_outline(iso, g)


@functools.lru_cache(maxsize=512)
def _country_outline(iso: str, g: gz.Gazetteer) -> Place | None:
    """The whole outline of a country as a line place (memoised: shapely work)."""
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


@functools.lru_cache(maxsize=1024)
def _part_of(place: Place, direction: str, g: gz.Gazetteer) -> Place | None:
    """ "northern Serbia": a curated area if one exists, else a third of the polygon
    (memoised: the same place and direction give the same part)."""
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


_KeyFacts = tuple[bool, bool, bool, bool, bool, bool]


def _key_facts(key: str, idxs: Sequence[int], g: gz.Gazetteer) -> _KeyFacts:
    """Document-independent facts about a gazetteer key, memoised on the gazetteer:
    (strong, demonym, noise, given name, all common words or connectors,
    country or curated). ``idxs`` are all the key's records."""
    facts = g.key_facts.get(key)
    if facts is not None:
        return facts
    rules = _rules()
    common = gz.common_words()
    flags, kind_of = g.flags, g.kind_of
    strong = any(
        flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED) or kind_of(i) in ("capital", "region")
        for i in idxs
    )
    words = key.replace("-", " ").split()
    is_given = key in rules.given_names
    facts = (
        strong,
        key in gz.demonyms(),
        all(w in common for w in words) or is_given,
        is_given,
        all(w in common or w in rules.connectors for w in words),
        any(flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED) for i in idxs),
    )
    if len(g.key_facts) >= _MEMO_MAX:
        g.key_facts.clear()
    g.key_facts[key] = facts
    return facts


_MEMO_MAX = 200_000


def _names_all_upper(key: str, idxs: Sequence[int], g: gz.Gazetteer) -> bool:
    """Every record of ``key`` is named in capitals (an acronym place), memoised."""
    found = g.upper_names.get(key)
    if found is None:
        found = all(g.name_of(i).isupper() for i in idxs)
        if len(g.upper_names) >= _MEMO_MAX:
            g.upper_names.clear()
        g.upper_names[key] = found
    return found


def _filter(text: str, folded: str, cands: list[_Cand], g: gz.Gazetteer) -> list[_Cand]:
    rules = _rules()
    common = gz.common_words()
    dem = gz.demonyms()
    titles, given, preps = rules.titles, rules.given_names, rules.prepositions
    qualifiers, suffixes, connectors = rules.qualifiers, rules.suffixes, rules.connectors
    cues_after, cues_before = rules.cues_after, rules.cues_before
    name_key = gz.name_key
    facts_memo = g.key_facts
    next_match = _NEXT_TOKEN.match
    kept: list[_Cand] = []
    surnames: set[str] = set()
    styles: dict[int, str] = {}
    line_styles = _LineStyles(text)
    n = len(text)
    line_s, line_e = 0, -1  # bounds of the current line; candidates come in order
    style = ""  # of the current line
    for c in cands:
        key = c.key
        facts = facts_memo.get(key) or _key_facts(key, c.idxs, g)
        strong, is_dem, noise, is_given, all_common, _ = facts
        if is_dem and not strong:
            continue
        # Matched only an alternate name of a minor place: translations such
        # as "White House" (Casablanca) or given names ("Jake") are not places.
        if not strong and not c.main and noise:
            continue
        start = c.start
        if start > line_e or start < line_s:
            # The line around ``start``. Candidates come in text order, so each
            # stretch of text is scanned once (a single multi-megabyte line
            # stays linear: issue 6).
            if line_e < 0 or start < line_s:
                line_s = text.rfind("\n", 0, start) + 1
            else:  # text[line_e] is the previous line's break
                line_s = text.rfind("\n", line_e, start) + 1
            line_e = text.find("\n", start)
            if line_e < 0:
                line_e = n
            known = styles.get(line_s)
            if known is None:
                known = styles[line_s] = line_styles.style(line_s, line_e)
            style = known
        surface = c.surface
        upper = surface.isupper()
        dateline = (
            upper
            and _line_start_blank(text, start)
            and _DATELINE_AFTER.match(text, c.end, c.end + 40) is not None
        )
        if (
            not strong
            and upper
            and len(surface) <= 5
            and style != "caps"
            and not dateline
            and not _names_all_upper(key, c.idxs, g)
        ):
            continue  # an acronym (NATO, EULEX) that spells a village name
        if dateline:
            c.context = "dateline"
        elif style == "caps":
            c.context = "caps"
        elif style == "headline":
            c.context = "headline"
        elif (
            # The usual case, a word and a space before: not initial, as
            # _is_initial would find (both are neither openers nor stops).
            not (start >= 2 and text[start - 1] == " " and text[start - 2].isalnum())
            and _is_initial(text, start)
        ):
            c.context = "initial"
        context = c.context
        # _next_token, inlined. The next word matters only if it is capitalised
        # (a surname after a first name) or after a given name (cues such as
        # "said"), so the regex runs only there: elsewhere "" answers the same.
        end = c.end
        m = (
            next_match(folded, end, end + 40)
            if folded.startswith(" ", end)
            and ((is_given and not strong) or folded[end + 1 : end + 2].isupper())
            else None
        )
        nxt = m.group(1) if m else ""
        nxt_key = name_key(nxt) if nxt else ""
        if strong:
            # Only person-name and common-word rules, which strong names skip, read
            # the previous word here; _plausible reads it later if it must.
            c.locative = None
            prev_key = ""
            locative = False
        else:
            # _prev_word, its usual case inlined: "word Name".
            prev = ""
            if start >= 2 and folded[start - 1] == " ":
                j = folded.rfind(" ", max(0, start - 48), start - 1)
                if j >= 0:
                    prev = folded[j + 1 : start - 1]
                    if not prev.isalpha():
                        prev = _prev_word(folded, start)
                else:
                    prev = _prev_word(folded, start)
            else:
                prev = _prev_word(folded, start)
            prev_key = prev.lower()
            c.locative = locative = prev_key in preps and prev_key != "of"
            # Person names: "Jake Sullivan", "President Kirby", "Mr. Sullivan".
            adjacent_prev = (
                start >= 1 and folded[start - 1] == " " and prev and prev[0].isupper()
            )
            if prev_key in titles or (
                adjacent_prev
                and (
                    name_key(prev) in given
                    or (
                        prev_key not in common
                        and prev_key not in qualifiers
                        and name_key(prev) not in dem
                        and not _is_place_word(prev, g)
                        and not _is_initial(text, start - len(prev) - 1)
                    )
                )
            ):
                surnames.add(key)
                continue
            if is_given and context not in ("caps", "headline"):
                if (
                    nxt[:1].isupper()
                    and nxt_key not in suffixes
                    and nxt_key not in dem
                    and (nxt_key in given or not _is_place_word(nxt, g))
                ):
                    surnames.add(nxt_key)  # "Florence Nightingale": a first name
                    continue
                if (
                    nxt_key in cues_after
                    or prev_key in cues_before
                    or (not locative and _PERSON_APPOSITION.match(folded, c.end, c.end + 8))
                ):
                    # "Milan said", "said Florence, a teacher"; after a preposition the
                    # apposition describes a place: "near Dori, the main town".
                    continue
        if (
            nxt
            and nxt[0].isupper()
            and context not in ("caps", "headline")
            and nxt_key not in common
            and nxt_key not in dem
            and nxt_key not in connectors
            and not _is_place_word(nxt, g)
        ):
            # "Milan Radoicic", "Jordan Peterson": the place is a first name.
            surnames.add(nxt_key)
            if not (strong and context == "dateline"):
                continue
        if not strong:
            if key in surnames:
                continue
            if all_common:
                evidence = context == "dateline" or (context == "capitalised" and locative)
                if not evidence and not _followed_by_qualifier(folded, c.end, g):
                    continue
                c.notes = (*c.notes, "common English word; accepted on context")
        kept.append(c)
    if not surnames:
        return kept
    return [c for c in kept if c.key not in surnames or _key_facts(c.key, c.idxs, g)[5]]


def _is_place_word(word: str, g: gz.Gazetteer) -> bool:
    """A word that names a real place by its main name, or a strong place (memoised)."""
    found = g.place_words.get(word)
    if found is None:
        found = False
        for i, main in g.hits(gz.name_key(word)):
            if g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED) or (
                main and g.population(i) >= 1000
            ):
                found = True
                break
        if len(g.place_words) >= _MEMO_MAX:
            g.place_words.clear()
        g.place_words[word] = found
    return found


def _followed_by_qualifier(folded: str, end: int, g: gz.Gazetteer) -> bool:
    """ "Reading, England": a following ", <country>" is evidence of a place."""
    m = _COUNTRY_AFTER.match(folded, end, end + 40)
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
    r",\s+(?:in\s+)?(?:(?:the\s+)?(?:north|south|east|west|central)(?:ern)?\s+)?"
    r"([A-Z][\w.]+(?:\s[A-Z][\w.]+)?)"
)


def _qualifier(folded: str, end: int, g: gz.Gazetteer) -> tuple[str, str] | None:
    """(country, admin1) named right after a place: "Paris, Texas", "PRISTINA, Kosovo"."""
    if not folded.startswith(",", end):
        return None
    m = _QUALIFIER.match(folded, end, end + 60)  # endpos: as if sliced to 60 characters
    if not m:
        return None
    return _qualifier_of(m.group(1), g)


@functools.lru_cache(maxsize=1 << 14)
def _qualifier_of(name: str, g: gz.Gazetteer) -> tuple[str, str] | None:
    """(country, admin1) a name stands for as a qualifier (memoised: the words
    after a comma repeat)."""
    for i in g.lookup(gz.name_key(name)):
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
    memo = g.key_votes
    for c in cands:
        if c.context == "phrase":  # a curated phrase: its own subset of records
            iso = _vote_of(c.idxs, g)
        else:
            iso = memo.get(c.key, _NO_QUAL)
            if iso is _NO_QUAL:
                iso = _vote_of(c.idxs, g)
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[c.key] = iso
        if iso is not None:
            votes[iso] = votes.get(iso, 0.0) + 1.0
    for iso, v in demonym_votes.items():
        votes[iso] = votes.get(iso, 0.0) + v
    votes.pop("", None)
    return votes


def _vote_of(idxs: Sequence[int], g: gz.Gazetteer) -> str | None:
    """The country a name votes for: its first country or curated record's, else
    the one country all its records share; None when it does not vote."""
    countries = {g.country_of(i) for i in idxs if g.country_of(i)}
    strong = [i for i in idxs if g.flags(i) & (gz.FLAG_COUNTRY | gz.FLAG_CURATED)]
    if strong:
        return g.country_of(strong[0])
    if len(countries) == 1:
        return next(iter(countries))
    return None


_TOP_K = 8


def _shortlist(c: _Cand, focus: dict[str, float], g: gz.Gazetteer) -> Sequence[int]:
    """The candidates worth scoring: the best by prior, plus any in a focus country."""
    if len(c.idxs) <= _TOP_K:
        return c.idxs
    ranked = g.ranked.get(c.key)
    if ranked is None:
        ranked = g.ranked[c.key] = sorted(c.idxs, key=lambda i: -_prior(g, i))
    keep = ranked[:_TOP_K]
    keep += [i for i in ranked[_TOP_K:] if focus.get(g.country_of(i), 0) > 0][:_TOP_K]
    return keep


_PENALTY = {"initial": 0.9, "headline": 0.9, "caps": 0.85}
# Reasons kept across articles (each a few hundred bytes).
_REASON_MEMO_MAX = 1 << 14


class _Scored:
    """The outcome of scoring one name in one document: the winner and its margin
    now; the explanation ("why here?") only when a mention keeps this outcome."""

    __slots__ = ("_text", "best_i", "bonus", "d", "idxs", "margin", "n_idxs", "place", "qual",
                 "qualified", "rounded", "scored", "share")

    def __init__(
        self,
        scored: list[tuple[float, int, int, int, float, bool, float, float]],
        qual: tuple[str, str] | None,
        idxs: Sequence[int],
        g: gz.Gazetteer,
    ) -> None:
        neg_s, _, _, best_i, share, qualified, d, bonus = scored[0]
        self.scored = scored
        self.best_i = best_i
        self.place = g.place(best_i)
        self.share = share
        self.qualified = qualified
        self.qual = qual
        self.d = d
        self.bonus = bonus
        self.idxs = idxs  # the records scored (their shortlist is in ``scored``)
        self.n_idxs = len(idxs)
        if len(scored) > 1:
            best_s = -neg_s
            self.margin = best_s / (best_s + max(-scored[1][0], 0.0) + 1e-9)
        else:
            self.margin = 1.0
        self._text: tuple[str, tuple[str, ...]] | None = None
        self.rounded: dict[float, float] = {}  # penalty -> the score it gives

    def explain(self, g: gz.Gazetteer) -> tuple[str, tuple[str, ...]]:
        """(reason, alternative place ids), written once."""
        if self._text is not None:
            return self._text
        best_i = self.best_i
        share = self.share
        qual = self.qual
        qualified = self.qualified and qual is not None
        scored = self.scored
        rivals = tuple([o[3] for o in scored[1:6]])
        # Everything the text reads: the same outcome recurs across articles
        # (a town beating the same rivals), so its text is written once.
        memo_key = (
            best_i,
            share,
            qual if qualified else None,
            self.d if self.bonus else None,
            self.n_idxs,
            rivals,
        )
        memo = g.reason_memo
        found: tuple[str, tuple[str, ...]] | None = memo.get(memo_key)
        if found is not None:
            self._text = found
            return found
        found = _reason_text(
            g, best_i, share, qual, qualified, self.d, self.bonus, self.n_idxs, rivals,
            several=len(scored) > 1,
        )
        if len(memo) >= _REASON_MEMO_MAX:
            memo.clear()
        memo[memo_key] = self._text = found
        return found


def _reason_text(
    g: gz.Gazetteer,
    best_i: int,
    share: float,
    qual: tuple[str, str] | None,
    qualified: bool,
    d: float,
    bonus: float,
    n_idxs: int,
    rivals: tuple[int, ...],
    *,
    several: bool,
) -> tuple[str, tuple[str, ...]]:
    """(reason, alternative place ids) of one scoring outcome; shared with the
    compiled geoparser (geo/_cmentions.pyx), which looks up the memo itself."""
    # Concatenation, not a list joined at the end: the same text, written
    # for every name a mention keeps (thousands per megabyte).
    why = _record_text(g, best_i)
    if share > 0:
        why += f"; {g.country_of(best_i)} has {share:.0%} of the text's country evidence"
    if qualified and qual is not None:
        why += f"; qualified by its {'region' if qual[1] else 'country'} ({qual[0]})"
    if bonus:
        why += f"; {d:.0f} km from another place in the text"
    if several:
        names = ", ".join([_rival_text(g, i) for i in rivals[:2]])
        why += f"; beat {n_idxs - 1} other candidate(s): {names}"
        ids = g.place_ids
        return why, tuple([ids[i] for i in rivals])
    return why + "; only candidate", ()


@functools.lru_cache(maxsize=1 << 16)
def _record_text(g: gz.Gazetteer, i: int) -> str:
    """What a record is, for a reason: "country", or its kind and population."""
    fl = g.flags(i)
    if fl & gz.FLAG_COUNTRY:
        return "country"
    if fl & gz.FLAG_CURATED:
        return "curated regional layer"
    return f"{g.kind_of(i)}, population {g.population(i):,}"


@functools.lru_cache(maxsize=1 << 16)
def _rival_text(g: gz.Gazetteer, i: int) -> str:
    """A beaten record, for a reason: "Paris (US)"."""
    return f"{g.name_of(i)} ({g.country_of(i) or '-'})"


def _resolve(
    folded: str,
    cands: list[_Cand],
    focus: dict[str, float],
    anchors: list[tuple[str, float, float]],
    g: gz.Gazetteer,
    first_pass: dict[str | tuple[str, tuple[str, str]], _Scored] | None = None,
) -> dict[str | tuple[str, tuple[str, str]], _Scored]:
    """Choose each candidate's place. One sense per discourse: a name with the
    same qualifier resolves once per document. ``first_pass`` is what the pass
    without anchors returned (its outcome per name): the pass with anchors adds
    the proximity bonus to those scores instead of summing them again."""
    total_votes = sum(focus.values()) or 1.0
    trig = _anchor_trig(anchors)
    reach = _reach(anchors)
    # Keyed by the name alone when no qualifier follows it, else by (name,
    # qualifier): a string never equals a tuple, so the two kinds cannot mix.
    memo: dict[str | tuple[str, tuple[str, str]], _Scored] = {}
    penalties = _PENALTY
    for c in cands:
        if c.place is not None:
            continue
        qual = c.qual
        if qual is _NO_QUAL:
            qual = c.qual = (
                _qualifier(folded, c.end, g) if folded.startswith(",", c.end) else None
            )
        key: str | tuple[str, tuple[str, str]] = c.key if qual is None else (c.key, qual)
        result = memo.get(key)
        if result is None:
            first = first_pass.get(key) if first_pass is not None else None
            # Only an outcome of the same records, fully scored (two or more; a
            # curated phrase shares a name but holds only its curated records).
            if first is not None and len(c.idxs) > 1 and first.idxs == c.idxs:
                result = memo[key] = _rescore_near(c, first, trig, reach, g)
            else:
                result = memo[key] = _score_candidates(
                    c, qual, focus, total_votes, anchors, g, trig
                )
        c.place = result.place
        penalty = penalties.get(c.context, 1.0)
        if c.notes:
            penalty *= 0.8
        rounded = result.rounded
        score = rounded.get(penalty)
        if score is None:
            score = rounded[penalty] = _round3(min(1.0, result.margin * penalty))
        c.score = score
        c.scored = result
    return memo


_ROUNDED: dict[float, float] = {}


def _round3(value: float) -> float:
    """``round(value, 3)``, memoised: it formats the float in decimal, and the
    same few values recur (a name with one record scores its context penalty).
    Zero is not looked up: 0.0 and -0.0 are equal keys but round differently."""
    if value == 0.0:
        return round(value, 3)
    found = _ROUNDED.get(value)
    if found is None:
        if len(_ROUNDED) >= _MEMO_MAX:
            _ROUNDED.clear()
        found = _ROUNDED[value] = round(value, 3)
    return found


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
    :func:`_haversine_km`, so the same floats.

    The distance grows with the haversine term ``a``, so the nearest anchor is
    found on ``a`` and only anchors whose ``a`` is within a relative 1e-9 of the
    smallest go through the square root and arcsine. That margin is millions of
    times the rounding error of those steps, so no other anchor can round to a
    smaller distance: the minimum is the same float as taking the minimum of
    every distance.
    """
    p1 = math.radians(lat)
    cp1 = math.cos(p1)
    sin, radians = math.sin, math.radians
    best = math.inf  # smallest ``a``
    # Every ``a`` computed. One skipped on its latitude term exceeded the margin
    # of the smallest ``a`` at that point, so of the final one too: the ``a``
    # values within the margin of the minimum are all in this list.
    values: list[float] = []
    for k, p2, cp2, x in trig:
        if k == key:
            continue
        lat_term = sin((p2 - p1) / 2) ** 2
        # ``a`` is this plus a non-negative term, so never smaller.
        if lat_term > best * (1.0 + 1e-9):
            continue
        a = lat_term + cp1 * cp2 * sin(radians(x - lon) / 2) ** 2
        if a < best:
            best = a
        values.append(a)
    if len(values) == 1:
        return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(best)))
    if not values:
        return math.inf
    limit = best * (1.0 + 1e-9)
    near = [a for a in values if a <= limit]
    if len(near) == 1:
        return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(best)))
    return min([6371.0 * 2 * math.asin(min(1.0, math.sqrt(a))) for a in near])


# Outcomes of one-record names kept across articles (each well under a kilobyte).
_SINGLE_MEMO_MAX = 1 << 15
_KIND_COUNTRY = gz.KINDS.index("country")
_KIND_REGION = gz.KINDS.index("region")


def _score_candidates(
    c: _Cand,
    qual: tuple[str, str] | None,
    focus: dict[str, float],
    total_votes: float,
    anchors: list[tuple[str, float, float]],
    g: gz.Gazetteer,
    trig: _AnchorTrig | None = None,
) -> _Scored:
    if trig is None:
        trig = _anchor_trig(anchors)
    cols = g.columns
    countries, admin1, pops, kinds = cols.countries, cols.admin1, cols.population, cols.kind
    idxs = c.idxs
    if len(idxs) == 1 and not anchors:
        # One record and no distances: it wins whatever its score, so the score
        # is not computed; the explanation needs only its share and qualifier.
        i = idxs[0]
        iso = countries[i]
        share = focus.get(iso, 0.0) / total_votes
        # The outcome is a function of these three alone, and the same ones
        # recur across articles (a country with half the text's evidence): one
        # outcome serves them all, its reason and rounded scores written once.
        memo = g.single_outcomes
        memo_key = (i, share, qual)
        found: _Scored | None = memo.get(memo_key)
        if found is None:
            qualified = qual is not None and iso == qual[0] and qual[1] in ("", admin1[i])
            found = _Scored([(0.0, 0, 0, i, share, qualified, 0.0, 0.0)], qual, (i,), g)
            if len(memo) >= _SINGLE_MEMO_MAX:
                memo.clear()
            memo[memo_key] = found
        return found
    priors = g.priors
    # Sorted by score, then population (both descending), then shortlist order:
    # the order of a stable sort on (-score, -population).
    scored: list[tuple[float, int, int, int, float, bool, float, float]] = []
    for pos, i in enumerate(_shortlist(c, focus, g)):
        s = priors.get(i)
        if s is None:
            s = _prior(g, i)
        iso = countries[i]
        share = focus.get(iso, 0.0) / total_votes
        if share > 0:
            s += 1.5 * share
        qualified = qual is not None and iso == qual[0] and qual[1] in ("", admin1[i])
        if qualified:
            assert qual is not None
            s += 3.0 if not qual[1] else 4.5
        d = bonus = 0.0
        if anchors and kinds[i] != _KIND_COUNTRY and kinds[i] != _KIND_REGION:
            d = _nearest_km(cols.lon[i], cols.lat[i], c.key, trig)
            bonus = 1.0 if d < 50 else 0.6 if d < 200 else 0.2 if d < 1000 else 0.0
            if bonus:
                s += bonus
        scored.append((-s, -pops[i], pos, i, share, qualified, d, bonus))
    scored.sort()
    return _Scored(scored, qual, c.idxs, g)


# A latitude gap of this many degrees is more than 1000 km (the farthest distance
# with a bonus) along any great circle: 6371 km * 9.01 degrees in radians ~ 1002 km.
_FAR_DEGREES = 9.01
# The haversine term ``a`` of 1000 km, with a relative margin far above the
# rounding error of the bound below and of the distance itself.
_FAR_A = math.sin(1000.0 / (2 * 6371.0)) ** 2 * (1.0 + 1e-6)


class _Reach(NamedTuple):
    """The box around a text's anchors, for :func:`_beyond_reach`."""

    lat_lo: float  # the lowest anchor latitude less _FAR_DEGREES
    lat_hi: float  # the highest plus _FAR_DEGREES
    lon_lo: float  # the anchor longitudes span lon_lo..lon_hi (no wrap)
    lon_hi: float
    cos_min: float  # the smallest cosine of an anchor latitude


def _reach(anchors: list[tuple[str, float, float]]) -> _Reach:
    """The box of the anchors (none: every place is beyond reach)."""
    if not anchors:
        return _Reach(math.inf, -math.inf, 0.0, 0.0, 0.0)
    lons = [x for _, x, _ in anchors]
    lats = [y for _, _, y in anchors]
    return _Reach(
        min(lats) - _FAR_DEGREES,
        max(lats) + _FAR_DEGREES,
        min(lons),
        max(lons),
        min([math.cos(math.radians(y)) for y in lats]),
    )


def _beyond_reach(lon: float, lat: float, reach: _Reach) -> bool:
    """True only if the place is over 1000 km from every anchor: no bonus,
    whichever is nearest. Two lower bounds of the haversine term ``a``: the
    latitude term alone (the distance is at least the radius times the latitude
    gap), and the longitude term alone, ``cos(lat1) * cos(lat2) *
    sin^2(dlon / 2)``, with the smallest anchor cosine and the smallest
    longitude gap to the anchors' span (going either way round)."""
    if lat < reach.lat_lo or lat > reach.lat_hi:
        return True
    if reach.lon_lo <= lon <= reach.lon_hi:
        return False
    gap = min((reach.lon_lo - lon) % 360.0, (lon - reach.lon_hi) % 360.0)
    bound = math.cos(math.radians(lat)) * reach.cos_min * math.sin(math.radians(gap) / 2) ** 2
    return bound > _FAR_A


def _rescore_near(
    c: _Cand, first: _Scored, trig: _AnchorTrig, reach: _Reach, g: gz.Gazetteer
) -> _Scored:
    """The second pass for one name: its first pass's scores plus the proximity
    bonus. Nothing else differs between the passes (same shortlist, focus and
    qualifier), and ``s + bonus`` is the same float whether ``s`` was just
    summed or kept from the first pass, so this equals :func:`_score_candidates`
    with the anchors.

    A record :func:`_beyond_reach` of the anchors gets no bonus without
    computing its distance; that distance is kept as infinity, which nothing
    reads (the reason gives a distance only with a bonus)."""
    cols = g.columns
    kinds, lons, lats = cols.kind, cols.lon, cols.lat
    key = c.key
    # _beyond_reach's first two tests, inlined: they settle most records, and
    # the call would cost more than the tests.
    lat_lo, lat_hi, lon_lo, lon_hi = reach.lat_lo, reach.lat_hi, reach.lon_lo, reach.lon_hi
    scored: list[tuple[float, int, int, int, float, bool, float, float]] = []
    for entry in first.scored:
        i = entry[3]
        kind = kinds[i]
        if kind in (_KIND_COUNTRY, _KIND_REGION):
            scored.append(entry)  # no distance term: d and bonus stay 0
            continue
        lon, lat = lons[i], lats[i]
        if (
            lat < lat_lo
            or lat > lat_hi
            or (not lon_lo <= lon <= lon_hi and _beyond_reach(lon, lat, reach))
        ):
            scored.append((*entry[:6], math.inf, 0.0))
            continue
        d = _nearest_km(lon, lat, key, trig)
        bonus = 1.0 if d < 50 else 0.6 if d < 200 else 0.2 if d < 1000 else 0.0
        neg_s = entry[0]
        if bonus:
            neg_s = -(-neg_s + bonus)
        scored.append((neg_s, entry[1], entry[2], i, entry[4], entry[5], d, bonus))
    scored.sort()
    return _Scored(scored, first.qual, first.idxs, g)


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


_START = operator.attrgetter("start")
_MINOR_KINDS = ("village", "town")


def find_mentions(text: str, *, published: date | None = None) -> list[Mention]:
    """Every place mention of ``text`` with its exact span, resolved and scored.

    ``published`` is accepted for symmetry with the rest of the pipeline; place
    resolution does not depend on it. Runs the compiled geoparser
    (geo/_cmentions.pyx) when it is built and current, else
    :func:`find_mentions_py`; both give the same mentions.
    """
    return (_implementation or _choose_implementation())(text, published=published)


def find_mentions_py(text: str, *, published: date | None = None) -> list[Mention]:
    """The geoparser in Python: the specification the compiled one follows."""
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
    cands.sort(key=_START)
    focus = _document_focus(cands, demonym_votes, g)
    first_pass = _resolve(folded, cands, focus, [], g)
    _resolve_again(folded, cands, focus, g, first_pass)
    points = {
        c.place.place_id: (c.place.lon, c.place.lat)
        for c in cands
        if c.place is not None and c.place.kind not in ("region", "country")
    }
    named = {c.place.country for c in cands if c.place is not None and c.place.kind == "country"}
    cands = [
        c
        for c in cands
        if c.place is None
        or c.context == "phrase"
        or (c.place.kind not in _MINOR_KINDS and (c.main or c.place.kind != "city"))
        or _plausible(c, points, focus, g, folded, named)
    ]
    built = _phrase_mentions(text, folded, lower, cands, focus, g)
    built += _without_overlaps(_demonym_borders(text, folded, lower, focus, g), built)
    if built:
        cands = _without_overlaps(cands, built) + built
        cands.sort(key=_START)
    out: list[Mention] = []
    append = out.append
    for c in cands:
        place = c.place
        if place is None:
            continue
        scored = c.scored
        if scored is None:  # a phrase built with its reason
            reason, alternatives = c.reason, c.alternatives
        else:  # the reason is written only for what is kept
            reason, alternatives = scored._text or scored.explain(g)
            if c.notes:
                reason = "; ".join([reason, *c.notes])
        # ``surface`` is ``text[c.start:c.end]``.
        append(Mention(c.surface, c.start, c.end, place, c.score, reason, alternatives))
    return out


def _load_compiled() -> Callable[..., list[Mention]] | None:
    """The compiled ``find_mentions``, or None (with a warning saying why) if it
    is not built, is older than its source, or ``GEO_PURE_PYTHON`` is set."""
    if os.environ.get("GEO_PURE_PYTHON"):
        return None
    try:
        from geo import _cmentions  # type: ignore[attr-defined]
    except ImportError as exc:
        warnings.warn(
            f"compiled geoparser unavailable ({exc}); using the pure-Python one, "
            "several times slower: run `pip install -e .` to build it",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    source = Path(__file__).with_name("_cmentions.pyx")
    if source.exists():
        current = hashlib.sha256(source.read_bytes()).hexdigest()
        if current != _cmentions.SOURCE_SHA256:
            warnings.warn(
                f"{source} changed since it was compiled; using the pure-Python "
                "geoparser: run `pip install -e .` to rebuild",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
    return cast(Callable[..., list[Mention]], _cmentions.find_mentions)


def _choose_implementation() -> Callable[..., list[Mention]]:
    """Chosen on first use, not at import: the compiled module imports this one."""
    global _implementation
    _implementation = _load_compiled() or find_mentions_py
    return _implementation


def implementation() -> str:
    """"compiled" or "python": which geoparser :func:`find_mentions` runs."""
    chosen = _implementation or _choose_implementation()
    return "python" if chosen is find_mentions_py else "compiled"


def _resolve_again(
    folded: str,
    cands: list[_Cand],
    focus: dict[str, float],
    g: gz.Gazetteer,
    first_pass: dict[str | tuple[str, tuple[str, str]], _Scored] | None = None,
) -> None:
    """Second pass: now that confident places are known, use proximity."""
    anchors = _anchors(cands)
    if not anchors:
        return
    ambiguous = [c for c in cands if len(c.idxs) > 1 and c.context != "phrase"]
    for c in ambiguous:
        c.place = None
    # Every other candidate keeps its place, so only these need the pass (same
    # order, so the same first-seen memo entries).
    _resolve(folded, ambiguous, focus, anchors, g, first_pass)


def _plausible(
    c: _Cand,
    points: dict[str, tuple[float, float]],
    focus: dict[str, float],
    g: gz.Gazetteer,
    folded: str,
    named: set[str | None],
) -> bool:
    """Drop a minor place the rest of the text gives no reason to believe in.

    A village or town in a country the text never otherwise touches, far from
    every other place it names, and not introduced by a locative preposition,
    is far more often a word in an organisation's or a person's name
    ("North Atlantic Council") than a place. Before an administrative noun
    ("in Seno province") the preposition introduces a region, so it is no
    evidence for a village of that name. A city matched only by an alternate
    name ("Hamas", a spelling of Hamm) needs a country the text names or a
    place within 1000 km. ``points`` holds one (lon, lat)
    per distinct specific place of the text, so this stays linear.
    """
    p = c.place
    if p is None or c.context == "phrase":
        return True
    alt_city = p.kind == "city" and not c.main
    if p.kind not in _MINOR_KINDS and not alt_city:
        return True
    if c.locative is None:  # a strong name: _filter left its previous word unread
        prev_key = _prev_word(folded, c.start).lower()
        c.locative = prev_key in _rules().prepositions and prev_key != "of"
    if _key_facts(c.key, c.idxs, g)[5]:
        return True
    region = c.locative and _admin_unit_after(folded, c.end)
    if c.locative and not region:
        return True
    others = [xy for pid, xy in points.items() if pid != p.place_id]
    # Matched only by an alternate spelling: it must sit among the text's places.
    reach = 1000.0 if c.main or alt_city else 300.0
    if region:  # in the text's countries, near its places, or a text that names none
        return (
            focus.get(p.country or "", 0) > 0
            or not any(w > 0 for w in focus.values())
            or any(_haversine_km(p.lon, p.lat, x, y) < reach for x, y in others)
        )
    if not others:
        return True
    if c.main and focus.get(p.country or "", 0) > 0:
        return True
    if alt_city and p.country in named:
        return True
    return any(_haversine_km(p.lon, p.lat, x, y) < reach for x, y in others)


def _admin_unit_after(folded: str, end: int) -> bool:
    """The name is a region's: "Seno province", "Donetsk Oblast" (the next word is
    one of the rules' ``admin_units``)."""
    m = _NEXT_TOKEN.match(folded, end, end + 40)
    return m is not None and m.group(1).lower() in _rules().admin_units


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


_implementation: Callable[..., list[Mention]] | None = None

__all__ = [
    "find_mentions",
    "find_mentions_py",
    "focus_countries",
    "implementation",
    "mention_feature",
    "mentions_to_featurecollection",
]
