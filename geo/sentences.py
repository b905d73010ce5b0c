"""Sentence splitting with exact character offsets.

Why our own splitter: every event source must quote ``article[start:end]``
exactly, so sentences are spans into the original text, never re-joined
strings. News text mixes prose with headlines, captions and bylines that have
no final full stop, abbreviations ("U.S.", "Sept.", "Mr.") and quotes that end
after the full stop; the rules below handle those without a model.
"""

from __future__ import annotations

import itertools
import re
import string
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: ``text == article[start:end]``; ``paragraph`` counts from 0."""

    text: str
    start: int
    end: int
    index: int
    paragraph: int


# Tokens that end with a full stop but rarely end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cpt", "sgt",
        "cpl", "pvt", "adm", "brig", "cmdr", "gov", "sen", "rep", "pres", "st", "mt", "ft",
        "jr", "sr", "rev", "hon", "fr", "sec", "no", "nos", "vs", "etc", "approx", "ca",
        "cf", "al", "inc", "ltd", "co", "corp", "dept", "est", "fig", "jan", "feb", "mar",
        "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue",
        "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "ave", "blvd", "rd",
        "univ", "assn", "bros", "gov't", "op", "vol", "pp", "para", "art",
    ]
)
# After these the next word is a name or number, never a new sentence.
_NEVER_END = frozenset(
    [
        "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cpt", "sgt",
        "cpl", "pvt", "adm", "brig", "cmdr", "gov", "sen", "rep", "pres", "st", "mt", "ft",
        "rev", "hon", "fr", "no", "nos", "vs", "approx", "ca", "cf",
    ]
)
_MONTH_ABBR = frozenset(
    [
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    ]
)
# Words that usually open a sentence: after "U.S." they signal a boundary.
_STARTERS = frozenset(
    [
        "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "this", "that",
        "these", "those", "there", "his", "her", "its", "their", "our", "but", "and",
        "however", "meanwhile", "in", "on", "at", "after", "before", "when", "while", "if",
        "as", "since", "although", "yet", "so", "then", "also", "still", "according",
        "earlier", "later", "last", "on", "one", "two", "three", "some", "many", "most",
        "police", "officials", "authorities", "president", "prime",
    ]
)

_END_PUNCT = re.compile(r"[.!?…]+[\"'”’»)\]]*")
_OPENERS = "\"'“‘«([—–-"
_LINE_FINAL = tuple(".!?…:;\"'”’»)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.'’]*)$")  # the rule; see _word_before
_WORD_BEFORE_CHARS = string.ascii_letters + ".'’"
_INITIALS = re.compile(r"^(?:[A-Za-z]\.){2,}$")
_NON_SPACE = re.compile(r"\S")
_BLANK_LINE_AHEAD = re.compile(r"\n(?=[ \t]*\n)")  # a newline that ends a block
_LINE = re.compile(r"[^\n]+")
_NEXT_WORD = re.compile(r"[\w'’]+")
_ALNUM = re.compile(r"[^\W_]")  # str.isalnum() of one character, as a regex class
_MAX_SENTENCE = 1000
"""Longest sentence emitted, in characters. News sentences stay under ~500;
longer runs are unpunctuated dumps (a pasted table, a 5 MB line) whose
per-sentence event matching would grow quadratically, so they are cut at a
clause break (``;`` ``,`` ``:`` a dash) or a space."""
_CLAUSE_BREAKS = ("; ", ", ", ": ", " — ", " – ", " - ")


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Blocks separated by blank lines; within a block, lines that look like
    headlines, captions or one-sentence paragraphs stand alone, while
    hard-wrapped prose lines are joined."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        if text.find("\n", block_start, block_end) < 0:
            # One line (most news paragraphs), which starts with a non-blank: itself.
            spans.append((block_start, block_end))
            continue
        lines = [m.span() for m in _LINE.finditer(text, block_start, block_end)]
        lines = [(s, e) for s, e in lines if text[s:e].strip()]
        if not lines:
            continue
        wrapped = _looks_hard_wrapped(text, lines)
        cur_start, cur_end = lines[0]
        for s, e in lines[1:]:
            prev = text[cur_start:cur_end].rstrip()
            nxt = text[s:e].lstrip()
            if wrapped and _continues(prev, nxt):
                cur_end = e
                continue
            if not wrapped and prev and nxt and (nxt[0].islower() or prev.endswith((",", "-")))\
                    and not prev.endswith(_LINE_FINAL):
                cur_end = e
                continue
            spans.append((cur_start, cur_end))
            cur_start, cur_end = s, e
        spans.append((cur_start, cur_end))
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of ``\\S(?:.|\\n(?![ \\t]*\\n))*`` matches: from a non-blank character to
    the next newline that starts a blank line. Found from those newlines (one
    fast literal search) rather than by a regex step per character."""
    out: list[tuple[int, int]] = []
    pos = 0
    for end in [*(m.start() for m in _BLANK_LINE_AHEAD.finditer(text)), len(text)]:
        first = _NON_SPACE.search(text, pos, end)
        if first is not None:
            out.append((first.start(), end))
        pos = end
    return out


def _looks_hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """Prose wrapped at a fixed width: most lines are long, similar and unterminated."""
    if len(lines) < 3:
        return False
    lengths = [e - s for s, e in lines[:-1]]
    longest = max(lengths)
    if longest < 55 or longest > 200:
        return False
    near_width = sum(1 for n in lengths if n >= 0.75 * longest)
    breaks = [
        text[nxt_s:nxt_e].lstrip()[:1]
        for (s, e), (nxt_s, nxt_e) in itertools.pairwise(lines)
        if not text[s:e].rstrip().endswith(_LINE_FINAL)
    ]
    lower = sum(1 for ch in breaks if ch.islower() or ch.isdigit())
    return (
        near_width >= 0.7 * len(lengths)
        and len(breaks) >= 0.5 * len(lengths)
        and lower >= 0.5 * len(breaks)
    )


def _continues(prev: str, nxt: str) -> bool:
    """In wrapped prose a line break is not a boundary unless the line ends a sentence."""
    if not prev or not nxt:
        return False
    return not prev.endswith((".", "!", "?", "…", ".\"", ".”", "?\"", "?”", "!\"", "!”"))


def _is_boundary(text: str, punct_start: int, after: int, para_end: int) -> bool:
    """Decide whether the punctuation run at ``punct_start`` ends a sentence."""
    # Look only at the next non-space run, never slice to the paragraph end:
    # that made a long paragraph quadratic in its number of full stops.
    if after < para_end and not text[after].isspace():
        return False  # "3.5", "e.g.x", "U.S.-backed"
    first = _NON_SPACE.search(text, after, para_end)
    if first is None:
        return True
    at = first.start()
    nxt = text[at]
    ch = text[punct_start]
    if ch != ".":
        # ?!… end a sentence unless a lower-case word continues it ("?" he asked).
        return not nxt.islower()
    if nxt.islower():
        return False
    word = _word_before(text, punct_start)
    low = word.lower().rstrip(".")
    if low in _NEVER_END:
        return False
    if low in _MONTH_ABBR and (nxt.isdigit()):
        return False
    if len(word) == 1 and word.isupper():  # initial: "John F. Kennedy"
        return False
    # Initials need a full stop inside the word too ("U.S" + ".").
    if ("." in word and _INITIALS.match(word + ".")) or (low in _ABBREVIATIONS):
        # "U.S. officials" continues, "the U.S. The move" ends.
        next_word = _NEXT_WORD.match(text, at, min(para_end, at + 64))
        nw = next_word.group(0).lower() if next_word else ""
        return nw in _STARTERS
    return nxt.isupper() or nxt.isdigit() or nxt in _OPENERS or not nxt.isalnum()


def _word_before(text: str, end: int) -> str:
    """What ``_WORD_BEFORE.search(text, max(0, end - 30), end)`` captures ("" if
    nothing): the letters, full stops and apostrophes running up to ``end`` (or
    to a newline right before it, where ``$`` also matches), from the first
    letter. Two C-level strips instead of a regex tried at every position."""
    start = max(0, end - 30)
    if end > start and text[end - 1] == "\n":
        end -= 1
    window = text[start:end]
    run = window[len(window.rstrip(_WORD_BEFORE_CHARS)) :]
    return run.lstrip(".'’")


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences whose offsets index ``text`` exactly."""
    out: list[Sentence] = []
    for p_index, (p_start, p_end) in enumerate(_paragraph_spans(text)):
        start = p_start
        for m in _END_PUNCT.finditer(text, p_start, p_end):
            if not _is_boundary(text, m.start(), m.end(), p_end):
                continue
            _emit(text, start, m.end(), p_index, out)
            start = m.end()
        _emit(text, start, p_end, p_index, out)
    return out


def _cut(text: str, start: int) -> int:
    """Where to end an over-long sentence starting at ``start``: after the last
    clause break, else at the last space, in the second half of the window."""
    lo, hi = start + _MAX_SENTENCE // 2, start + _MAX_SENTENCE
    best = max(text.rfind(b, lo, hi) for b in _CLAUSE_BREAKS)
    if best >= lo:
        return best + 1 + (text[best + 1] != " ")
    space = max(text.rfind(ch, lo, hi) for ch in " \t\n\u00a0")
    return space + 1 if space >= lo else hi


def _emit(text: str, start: int, end: int, paragraph: int, out: list[Sentence]) -> None:
    chunk = text[start:end]
    stripped = chunk.strip()  # str.strip() drops exactly the str.isspace() characters
    if not stripped:
        return
    start += len(chunk) - len(chunk.lstrip())
    end = start + len(stripped)
    chunk = stripped
    while end - start > _MAX_SENTENCE:
        cut = _cut(text, start)
        _emit(text, start, cut, paragraph, out)
        start = cut
        while start < end and text[start].isspace():
            start += 1
        chunk = text[start:end]
    if _ALNUM.search(chunk) is None:
        return
    out.append(Sentence(chunk, start, end, len(out), paragraph))
