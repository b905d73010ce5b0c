"""Exact fast paths for word-anchored regular expressions over one text.

Why: the event and date stages run dozens of large alternations (trigger
words, country names, month names) over every article and sentence. Python's
regex engine has no first-character skip for patterns that open with a
lookbehind or are case-insensitive, so each pattern is tried at every
character of the text. Most of these patterns can only match where a word
starts with one of a few letter pairs, so they are tried at those word starts
only:

* :class:`WordIndex` lists, once per text, where each word (maximal ``\\w``
  run) starts and a code for its first one to three characters, with a few
  array operations (no Python step per word). :meth:`WordIndex.for_original`
  lets the unfolded original of a folded text share it.
* :class:`Anchored` wraps a compiled pattern. If the pattern provably matches
  only at a word start (it opens with ``(?<!\\w)``-style lookbehind or ``\\b``
  before a word character) it derives, from the parsed pattern, every prefix
  a match can start with; :meth:`Anchored.finditer` then calls
  ``pattern.match`` at the word starts whose prefix fits, in order, skipping
  positions inside the previous match. That is exactly what
  ``pattern.finditer`` returns, only without trying the other positions.
  Patterns it cannot prove this for (or that can match the empty string)
  simply use ``pattern.finditer``.
* :class:`AnchoredSet` tabulates which patterns each head admits, so a text's
  candidates for all patterns come from array look-ups; :func:`prepare` does
  this once for all the sets an article uses, and
  :meth:`AnchoredSet.span_matches` matches every sentence in one pass.

Words that are not pure ASCII are always tried (case-insensitive matching
knows equivalences such as the Kelvin sign and "k"), so correctness never
depends on the prefix tables for them.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Anchored", "AnchoredSet", "LiteralCue", "WordIndex", "lowered", "prepare", "within"]

_DEPTH = 3
_MAX_KEYS = 20_000

_sre: Any = importlib.import_module("re._parser")
_C: Any = importlib.import_module("re._constants")

_WILD = None  # a position any character may fill


class _TooComplex(Exception):
    pass


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


class WordIndex:
    """Where the words of ``text`` start, and a code for each word's first three characters.

    Built with a few array operations over the whole text rather than a Python
    step per word: an article has hundreds of words and several pattern sets
    look them up.
    """

    __slots__ = ("_found", "_twin", "codes", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._found: dict[AnchoredSet, list[list[int] | None]] = {}
        self._twin = False  # True: codes are those of a folded copy (see for_original)
        chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = _char_codes(chars, text)
        word = codes != 0
        before = np.empty_like(word)  # is the previous character a word character?
        before[:1] = False
        before[1:] = word[:-1]
        starts = np.flatnonzero(word > before)
        self.starts: npt.NDArray[np.intp] = starts
        # First three characters; a position past the word reads the non-word
        # character (code 0) that ends it, except the third after a one-letter word.
        padded = np.concatenate((codes, np.zeros(2, dtype=np.int64)))
        c0, c1, c2 = padded[starts], padded[starts + 1], padded[starts + 2]
        c2[c1 == 0] = 0
        heads = (c0 << 12) | (c1 << 6) | c2
        # Heads with characters beyond ASCII are candidates for every pattern.
        heads[(c0 == _OTHER) | (c1 == _OTHER) | (c2 == _OTHER)] = _WILD_HEAD
        self.codes: npt.NDArray[np.int64] = heads

    def for_original(self, original: str) -> WordIndex | None:
        """An index of ``original``, of which this index's text is a character-for-
        character fold (each character always mapped the same way), sharing this
        index's words and candidates; None if the fold could hide a match start.

        Why: dates are read from the original text, events from the folded one;
        indexing both costs twice. The shared candidates stay exact for patterns
        whose word prefixes are ASCII (see :meth:`AnchoredSet.starts`) if folding
        keeps which characters are word characters, changes no ASCII word
        character, and maps a character that case-insensitive matching takes for
        an ASCII letter to that letter or to a character beyond ASCII.
        """
        folded = self.text
        if len(original) != len(folded):
            return None
        for ch in set(original):
            f = folded[original.find(ch)]
            if f == ch:
                continue
            if _is_word_char(ch) != _is_word_char(f) or (ch.isascii() and _is_word_char(ch)):
                return None
            twin = _ASCII_TWINS.get(ch)
            if twin is not None and f.isascii() and f.lower() != twin:
                return None
        twin_index = WordIndex.__new__(WordIndex)
        twin_index.text = original
        twin_index.codes = self.codes
        twin_index.starts = self.starts
        twin_index._found = self._found
        twin_index._twin = True
        return twin_index


# Characters that case-insensitive matching equates with an ASCII letter although
# they are not ASCII (found by trying every code point against [a-z]).
_ASCII_TWINS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}

# Word characters of ASCII get codes 1..63, so three of them pack into 18 bits
# ("a" -> a·4096, "ab" -> a·4096 + b·64); other word characters get _OTHER.
_ASCII_WORD_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CODE = {ch: i + 1 for i, ch in enumerate(_ASCII_WORD_CHARS)}
_OTHER = 64
_WILD_HEAD = 1 << 18  # a head beyond ASCII: every keyed pattern is tried there
_ASCII_TABLE = np.array([_CODE.get(chr(c), 0) for c in range(128)], dtype=np.int64)


def _char_codes(chars: npt.NDArray[np.uint32], text: str) -> npt.NDArray[np.int64]:
    """Per character: its ASCII word code, _OTHER for any other ``\\w`` character, 0 else."""
    if text.isascii():
        return _ASCII_TABLE[chars]
    codes = np.zeros(len(chars), dtype=np.int64)
    ascii_ = chars < 128
    codes[ascii_] = _ASCII_TABLE[chars[ascii_]]
    rest = chars[~ascii_]
    # \\w is str.isalnum() or "_" (the regex engine's Unicode word test).
    wordy = [c for c in np.unique(rest).tolist() if chr(c).isalnum()]
    if wordy:
        codes[~ascii_] = np.where(np.isin(rest, wordy), _OTHER, 0)
    return codes


def _head_code(head: str) -> int:
    """The code of a word head of 1..3 ASCII word characters, as in WordIndex.codes."""
    code = 0
    for i in range(3):
        code = (code << 6) | (_CODE[head[i]] if i < len(head) else 0)
    return code


# ---------------------------------------------------------------------------
# Prefix derivation from the parsed pattern

_Prefix = tuple[frozenset[str] | None, ...]


def _charset(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is _C.LITERAL:
            out.add(chr(av))
        elif op is _C.RANGE and av[1] - av[0] <= 400:
            out.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, categories, huge ranges
            return _WILD
    return frozenset(out)


def _item(op: Any, av: Any, k: int) -> set[tuple[_Prefix, bool]]:
    """Prefixes (up to ``k`` positions) of one parsed item, and whether the item
    has certainly ended after them (True) or may go on with unknown text (False)."""
    if op is _C.LITERAL:
        return {((frozenset({chr(av)}),), True)}
    if op is _C.IN:
        return {((_charset(av),), True)}
    if op in (_C.NOT_LITERAL, _C.ANY):
        return {((_WILD,), True)}
    if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
        return {((), True)}  # zero width: constrains nothing we rely on
    if op is _C.BRANCH:
        out: set[tuple[_Prefix, bool]] = set()
        for alt in av[1]:
            out |= _seq(alt, k)
        return out
    if op is _C.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            raise _TooComplex
        return _seq(sub, k)
    if op is _C.ATOMIC_GROUP:
        return _seq(av, k)
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
        lo, hi, sub = av
        result: set[tuple[_Prefix, bool]] = set()
        if lo == 0:
            result.add(((), True))
        for prefix, ended in _seq(sub, k):
            if ended and lo <= 1:
                result.add((prefix, True))
            if not (ended and hi == 1):
                result.add((prefix, False))  # more repetitions may follow
        return result
    raise _TooComplex  # group references, conditionals, anything unexpected


def _seq(items: Any, k: int) -> set[tuple[_Prefix, bool]]:
    current: set[tuple[_Prefix, bool]] = {((), True)}
    for op, av in items:
        if all(not ended or len(prefix) >= k for prefix, ended in current):
            break
        nxt: set[tuple[_Prefix, bool]] = set()
        for prefix, ended in current:
            if not ended or len(prefix) >= k:
                nxt.add((prefix[:k], False))
                continue
            for tail, tail_ended in _item(op, av, k - len(prefix)):
                nxt.add(((prefix + tail)[:k], tail_ended))
        current = nxt
        if len(current) > _MAX_KEYS:
            raise _TooComplex
    return current


def _guard(items: Any) -> bool | None:
    """True if every match starts right after a non-word character (or at the start):
    a leading ``(?<![\\w...])`` or ``\\b`` before anything is consumed. None: only
    zero-width items seen, no guard yet; False: something is consumed first."""
    for i, (op, av) in enumerate(items):
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            # "(?:(?<!\w)mid-)?(?<!\w)2023": guarded whether or not the group is taken.
            if _guard(av[2]) is not True:
                return False
            return bool(av[0] >= 1 or _guard(items[i + 1 :]) is True)
        if op is _C.ASSERT_NOT and av[0] == -1:
            sub = av[1]
            if (
                len(sub) == 1
                and sub[0][0] is _C.IN
                and all(o is not _C.NEGATE for o, _ in sub[0][1])
                and (_C.CATEGORY, _C.CATEGORY_WORD) in sub[0][1]
            ):
                return True
            continue
        if op is _C.AT and av is _C.AT_BOUNDARY:
            return True  # with a word character next (checked separately)
        if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue
        if op is _C.SUBPATTERN:
            if av[1] or av[2]:
                return False
            inner = _guard(av[3])
            if inner is None:
                continue
            return inner
        if op is _C.BRANCH:
            results = [_guard(alt) for alt in av[1]]
            return all(r is True for r in results)
        return False
    return None


def _keys(pattern: re.Pattern[str]) -> list[frozenset[str]] | None:
    """Per prefix length n (1..3), the strings a match's first n characters can be."""
    flags = pattern.flags
    if flags & (re.ASCII | re.LOCALE):
        return None
    fold = bool(flags & re.IGNORECASE)
    try:
        parsed = _sre.parse(pattern.pattern, flags)
        if parsed.getwidth()[0] == 0:
            return None  # can match the empty string: keep finditer's rules
        if _guard(parsed.data) is not True:
            return None
        prefixes = _seq(parsed.data, _DEPTH)
    except (_TooComplex, RecursionError, re.error):
        return None
    keys: list[set[str]] = [set() for _ in range(_DEPTH)]
    for prefix, _ in prefixes:
        sets: list[frozenset[str]] = []
        for n, chars in enumerate(prefix):
            if chars is _WILD or not chars:
                break
            if not all(_is_word_char(ch) for ch in chars):
                if n == 0:
                    return None  # a match could start with a non-word character
                break  # the word may end here: shorter key
            if fold:
                if not all(ch.isascii() for ch in chars):
                    return None  # case-folding equivalences beyond ASCII: no fast path
                chars = frozenset(ch.lower() for ch in chars)
            sets.append(chars)
        if not sets:
            return None
        strings = [""]
        for chars in sets:
            if len(strings) * len(chars) > _MAX_KEYS:
                break
            strings = [s + ch for s in strings for ch in chars]
        keys[len(strings[0]) - 1].update(strings)
    return [frozenset(k) for k in keys]


class Anchored:
    """A compiled pattern plus the word prefixes its matches can start with."""

    __slots__ = ("_fold", "_own", "keys", "pattern")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.keys = _keys(pattern)
        self._fold = bool(pattern.flags & re.IGNORECASE)
        self._own: AnchoredSet | None = None

    def accepts(self, head: str) -> bool:
        """Can a match start at a word whose (ASCII) first characters are ``head``?"""
        if self.keys is None:
            return True
        if self._fold:
            head = head.lower()
        return any(len(head) > n and head[: n + 1] in keys for n, keys in enumerate(self.keys))

    def starts(self, index: WordIndex) -> list[int] | None:
        """Sorted word starts where a match may begin, or None (no fast path)."""
        if self._own is None:
            self._own = AnchoredSet([self])
        return self._own.starts(index)[0]

    def finditer(
        self,
        index: WordIndex,
        start: int = 0,
        end: int | None = None,
        *,
        starts: list[int] | None = None,
    ) -> Iterator[re.Match[str]]:
        """Exactly ``pattern.finditer(index.text, start, end)``."""
        text = index.text
        stop = len(text) if end is None else end
        positions = starts if starts is not None else self.starts(index)
        if positions is None:
            yield from self.pattern.finditer(text, start, stop)
            return
        match = self.pattern.match
        last = start
        if start > 0:
            positions = positions[bisect.bisect_left(positions, start) :]
        for p in positions:
            if p >= stop:
                break
            if p < last:
                continue
            m = match(text, p, stop)
            if m is not None:
                yield m
                last = m.end()


_MAX_NEEDS = 64  # most literals a cue searches for at once


def _needs_seq(items: Any) -> frozenset[str] | None:
    """Literals one of which every match of the parsed sequence ``items`` contains
    (the most selective choice found), or None if none is known."""
    found: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is _C.LITERAL:
            run += chr(av)
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        sub = _needs_item(op, av)
        if sub is not None:
            found.append(sub)
    if run:
        found.append(frozenset({run}))
    if not found:
        return None
    return max(found, key=lambda lits: (min(map(len, lits)), -len(lits)))


def _needs_item(op: Any, av: Any) -> frozenset[str] | None:
    if op is _C.SUBPATTERN:
        return None if av[1] or av[2] else _needs_seq(av[3])
    if op is _C.ATOMIC_GROUP:
        return _needs_seq(av)
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
        return _needs_seq(av[2]) if av[0] >= 1 else None
    if op is _C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            lits = _needs_seq(alt)
            if lits is None:
                return None
            out |= lits
        return frozenset(out) if len(out) <= _MAX_NEEDS else None
    return None  # zero width, character classes, anything else: nothing known


class LiteralCue:
    """Rules out starts of a pattern whose matches all contain one of a few literals.

    Why: some date patterns open with common words ("a", "the", "last") but
    every match holds a rarer word further on ("ago", "weekend"); a few
    substring searches per text rule out most starts. Exact: a start is kept
    unless no occurrence of the literals can lie within the longest match from
    there. Case-insensitive patterns search a lower-cased copy (see
    :func:`lowered`), so every occurrence the pattern could match is found.
    """

    __slots__ = ("fold", "literals", "width")

    def __init__(self, literals: tuple[str, ...], width: int, *, fold: bool) -> None:
        self.literals = literals
        self.width = width
        self.fold = fold

    @classmethod
    def of(cls, pattern: re.Pattern[str], *, min_len: int = 3) -> LiteralCue | None:
        """The cue of ``pattern``, or None if no ASCII literals of ``min_len``
        characters or more are known to be in every match."""
        if pattern.flags & (re.ASCII | re.LOCALE):
            return None
        try:
            parsed = _sre.parse(pattern.pattern, pattern.flags)
            lits = _needs_seq(parsed.data)
            width = parsed.getwidth()[1]
        except (RecursionError, re.error):
            return None
        if not lits or min(map(len, lits)) < min_len or not all(w.isascii() for w in lits):
            return None
        fold = bool(pattern.flags & re.IGNORECASE)
        found = {w.lower() for w in lits} if fold else set(lits)
        return cls(tuple(sorted(found)), width, fold=fold)

    def keep(self, text: str, low: str | None, starts: list[int]) -> list[int]:
        """The sorted ``starts`` of ``text`` from which a match can reach an
        occurrence; ``low`` is ``lowered(text)``. Case-insensitive cues keep all
        starts when ``low`` is None."""
        if not starts:
            return starts
        haystack = text
        if self.fold:
            if low is None:
                return starts
            haystack = low
        spans: list[tuple[int, int]] = []
        for lit in self.literals:
            at = haystack.find(lit, starts[0])
            while at >= 0:
                spans.append((at - self.width, at))
                at = haystack.find(lit, at + 1)
        return within(starts, spans)


def within(starts: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """The sorted ``starts`` inside any of the inclusive ``spans`` (each start once)."""
    out: list[int] = []
    reach = -1
    for lo, hi in sorted(spans):
        if hi <= reach:
            continue
        lo = max(lo, reach + 1)
        out += starts[bisect.bisect_left(starts, lo) : bisect.bisect_right(starts, hi)]
        reach = hi
    return out


def lowered(text: str) -> str | None:
    """``text.lower()`` if it finds every place where a case-insensitive pattern can
    match an ASCII literal, at the same offsets; else None.

    Only the characters that case-insensitive matching equates with an ASCII
    letter without lower-casing to it (see ``_ASCII_TWINS``) break this, and a
    lower-casing that changes the length (U+0130 is one of those twins).
    """
    if not text.isascii() and any(ch in text for ch in _ASCII_TWINS):
        return None
    low = text.lower()
    return low if len(low) == len(text) else None


class _Tables(NamedTuple):
    """Head tables of one block of patterns (see :class:`AnchoredSet`)."""

    first: int
    size: int
    by_one: npt.NDArray[Any]
    by_two: npt.NDArray[Any]
    three: npt.NDArray[np.int64]
    three_bits: npt.NDArray[Any]


class AnchoredSet:
    """Several anchored patterns run over the same texts.

    Which patterns each word head admits is tabulated once, one bit per pattern:
    by first character, by first two characters, and a sorted list of the
    three-character keys. A text's candidates for every pattern then come from
    a few array look-ups over its words (small tables: a table of every possible
    head would not stay in the processor cache).
    """

    __slots__ = ("_ascii", "_tables", "patterns")

    def __init__(self, patterns: Sequence[Anchored]) -> None:
        self.patterns = tuple(patterns)
        self._tables: list[_Tables] | None = None
        self._ascii = all(
            a.keys is None or all(k.isascii() for keys in a.keys for k in keys)
            for a in self.patterns
        )  # every word prefix a pattern can start with is ASCII

    def _build(self) -> list[_Tables]:
        """Per block of up to 64 patterns, its head tables."""
        tables: list[_Tables] = []
        for first in range(0, len(self.patterns), 64):
            block = self.patterns[first : first + 64]
            dtype = np.dtype("<u8")  # little-endian: byte i holds bits 8i..8i+7
            by_one = np.zeros(65, dtype=dtype)  # index 64: heads beyond ASCII
            by_two = np.zeros(64 * 64 + 1, dtype=dtype)
            by_three: dict[int, int] = {}
            for bit, anchored in enumerate(block):
                if anchored.keys is None:
                    continue
                flag = 1 << bit
                by_one[64] |= np.uint64(flag)
                by_two[64 * 64] |= np.uint64(flag)
                for n, keys in enumerate(anchored.keys):
                    for key in keys:
                        if not key.isascii():
                            continue  # only non-ASCII heads can start so: always tried
                        for spelling in _spellings(key, fold=anchored._fold):
                            code = _head_code(spelling)
                            if n == 0:
                                by_one[code >> 12] |= np.uint64(flag)
                            elif n == 1:
                                by_two[code >> 6] |= np.uint64(flag)
                            else:
                                by_three[code] = by_three.get(code, 0) | flag
            three = np.array(sorted(by_three), dtype=np.int64)
            three_bits = np.array([by_three[c] for c in three.tolist()] + [0], dtype=dtype)
            tables.append(_Tables(first, len(block), by_one, by_two, three, three_bits))
        return tables

    def starts(self, index: WordIndex) -> list[list[int] | None]:
        """Per pattern, its sorted candidate starts in ``index`` (None: plain scan)."""
        if index._twin and not self._ascii:
            index = WordIndex(index.text)  # a folded twin's heads can hide non-ASCII keys
        found = index._found.get(self)
        if found is None:
            found = index._found[self] = self._starts(index)
        return found

    def _starts(self, index: WordIndex) -> list[list[int] | None]:
        if self._tables is None:
            self._tables = self._build()
        codes = index.codes
        out: list[list[int] | None] = []
        for t in self._tables:
            block = self.patterns[t.first : t.first + t.size]
            bits = t.by_one[codes >> 12] | t.by_two[codes >> 6]
            if len(t.three):
                at = np.searchsorted(t.three, codes)
                at[t.three[np.minimum(at, len(t.three) - 1)] != codes] = len(t.three)
                bits |= t.three_bits[at]
            # Unpack the bits of the words that have any: one row per pattern.
            hit = np.flatnonzero(bits)
            rows = np.unpackbits(
                bits[hit].view(np.uint8).reshape(len(hit), 8), axis=1, bitorder="little"
            )
            # The unpacked bits are 0 or 1, so a bool view is exact; numpy finds
            # the set entries of a bool array several times faster than of uint8.
            pattern_of, word_of = np.divmod(
                np.flatnonzero(rows.T.view(np.bool_)), max(len(hit), 1)
            )
            positions = index.starts[hit[word_of]].tolist()
            bounds = np.searchsorted(pattern_of, np.arange(t.size + 1)).tolist()
            out += [
                None if a.keys is None else positions[bounds[k] : bounds[k + 1]]
                for k, a in enumerate(block)
            ]
        return out

    def span_matches(
        self, index: WordIndex, spans: Sequence[tuple[int, int]]
    ) -> list[list[tuple[int, list[re.Match[str]]]]]:
        """Per span (sorted, disjoint ``(start, end)``), the patterns that match inside it
        in pattern order, each with ``list(pattern.finditer(index.text, start, end))``.

        Why: asking every pattern about every sentence costs a call per pair; one
        pass over each pattern's candidates serves all sentences of a text.
        """
        text = index.text
        out: list[list[tuple[int, list[re.Match[str]]]]] = [[] for _ in spans]
        span_starts = [s for s, _ in spans]
        for k, cands in enumerate(self.starts(index)):
            pattern = self.patterns[k].pattern
            if cands is None:
                for i, (s, e) in enumerate(spans):
                    found = list(pattern.finditer(text, s, e))
                    if found:
                        out[i].append((k, found))
                continue
            match = pattern.match
            cur = last = end = 0
            hits: list[re.Match[str]] | None = None
            for p in cands:
                if p >= end:  # past the current span: find the one holding p
                    i = bisect.bisect_right(span_starts, p) - 1
                    if i < 0 or p >= spans[i][1]:
                        continue
                    cur, (last, end), hits = i, spans[i], None
                elif p < last:
                    continue  # inside the previous match
                m = match(text, p, end)
                if m is not None:
                    if hits is None:
                        hits = []
                        out[cur].append((k, hits))
                    hits.append(m)
                    last = m.end()
        return out


def _spellings(key: str, *, fold: bool) -> list[str]:
    """The ASCII spellings of a key that a (case-insensitive) pattern admits."""
    if not fold:
        return [key]
    out = [""]
    for ch in key:
        out = [s + c for s in out for c in dict.fromkeys((ch.lower(), ch.upper()))]
    return out


@functools.cache
def _union(sets: tuple[AnchoredSet, ...]) -> AnchoredSet:
    return AnchoredSet([a for s in sets for a in s.patterns])


def prepare(index: WordIndex, sets: Sequence[AnchoredSet]) -> None:
    """Find the candidates of several pattern sets in ``index`` at once.

    Why: each look-up pass costs a fixed dozen array operations whatever the
    number of patterns, so one pass for all the sets of an article is cheaper
    than one per set; later :meth:`AnchoredSet.starts` calls reuse the result.
    """
    todo = tuple(s for s in dict.fromkeys(sets) if s not in index._found)
    if len(todo) < 2:
        return
    found = _union(todo).starts(index)
    at = 0
    for s in todo:
        index._found[s] = found[at : at + len(s.patterns)]
        at += len(s.patterns)
