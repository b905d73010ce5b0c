"""Exact fast paths for word-anchored regular expressions over one text.

Why: the event and date stages run dozens of large alternations (trigger
words, country names, month names) over every article and sentence. Python's
regex engine has no first-character skip for patterns that open with a
lookbehind or are case-insensitive, so each pattern is tried at every
character of the text. Most of these patterns can only match where a word
starts with one of a few letter pairs, so they are tried at those word starts
only:

* :class:`WordIndex` lists, once per text, where each word (maximal ``\\w``
  run) starts, keyed by its first one to three characters.
* :class:`Anchored` wraps a compiled pattern. If the pattern provably matches
  only at a word start (it opens with ``(?<!\\w)``-style lookbehind or ``\\b``
  before a word character) it derives, from the parsed pattern, every prefix
  a match can start with; :meth:`Anchored.finditer` then calls
  ``pattern.match`` at the word starts whose prefix fits, in order, skipping
  positions inside the previous match. That is exactly what
  ``pattern.finditer`` returns, only without trying the other positions.
  Patterns it cannot prove this for (or that can match the empty string)
  simply use ``pattern.finditer``.

Words that are not pure ASCII are always tried (case-insensitive matching
knows equivalences such as the Kelvin sign and "k"), so correctness never
depends on the prefix tables for them.
"""

from __future__ import annotations

import bisect
import importlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Anchored", "AnchoredSet", "WordIndex"]

_HEAD = re.compile(r"(?<!\w)\w{1,3}")  # the first characters of each word
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
    """Start offsets of the words of ``text``, keyed by their first three characters."""

    __slots__ = ("heads", "text", "wild")

    def __init__(self, text: str) -> None:
        self.text = text
        heads: dict[str, list[int]] = {}
        wild: list[int] = []  # heads with non-ASCII characters: always candidates
        for m in _HEAD.finditer(text):
            head = m.group()
            if head.isascii():
                hits = heads.get(head)
                if hits is None:
                    heads[head] = [m.start()]
                else:
                    hits.append(m.start())
            else:
                wild.append(m.start())
        self.heads = heads  # a word shorter than three characters is its own head
        self.wild = wild


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
        for i in range(bisect.bisect_left(positions, start), len(positions)):
            p = positions[i]
            if p >= stop:
                break
            if p < last:
                continue
            m = match(text, p, stop)
            if m is not None:
                yield m
                last = m.end()


class AnchoredSet:
    """Several anchored patterns run over the same texts.

    Which patterns a word head admits is memoised across texts (heads repeat:
    "the", "Kos", "att"), so finding every pattern's candidates in a text is one
    pass over its distinct heads.
    """

    __slots__ = ("_memo", "patterns")

    def __init__(self, patterns: Sequence[Anchored]) -> None:
        self.patterns = tuple(patterns)
        self._memo: dict[str, tuple[int, ...]] = {}

    def starts(self, index: WordIndex) -> list[list[int] | None]:
        """Per pattern, its sorted candidate starts in ``index`` (None: plain scan)."""
        found: list[list[int]] = [list(index.wild) for _ in self.patterns]
        memo = self._memo
        for head, hits in index.heads.items():
            ids = memo.get(head)
            if ids is None:
                ids = memo[head] = tuple(
                    k for k, p in enumerate(self.patterns) if p.keys is not None and p.accepts(head)
                )
            for k in ids:
                found[k].extend(hits)
        return [
            None if p.keys is None else sorted(set(f))
            for p, f in zip(self.patterns, found, strict=True)
        ]
