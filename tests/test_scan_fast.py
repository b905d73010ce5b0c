"""The event stage's fast paths (issue 5) against the plain computations they
replace: word-start candidates, per-sentence matching, the shared word index of
a text and its folded copy, the cued title-actor starts, the reporting-verb
scan and the sentence splitter's block finder. Each must give the same answer
on real texts and on generated tricky ones, so ``extract_events`` keeps its
exact output."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo import dates, events, sentences
from geo import gazetteer as gz
from geo.scan import Anchored, AnchoredSet, LiteralCue, WordIndex, lowered, prepare

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "data" / "texts").glob("*.txt"))
]
# Case-insensitive twins of ASCII letters (Kelvin sign, long s, dotless i, dotted I),
# characters folding changes (diacritics, a circled letter that becomes a word
# character, a modifier apostrophe that stops being one), digits, blanks, quotes.
TRICKY = "K\u212aſsıİi0123 -\u2010'’`“”—.,:/\n\tAaMmOoNnTtHhEeSsDdYyčéⒶʼ²\u00a0_"
WORDS = [
    "said", "told", "reporters", "on", "Friday", "today", "Today", "two", "days", "ago",
    "last", "weekend", "May", "3", "2023", "the", "President", "President,", "Serbian",
    "Serbia's", "Prime", "Minister", "Aleksandar", "Vucic,", "Kosovo", "police", "a",
    "mayor", "spokesman", "foreign minister", "of", ",", ".", "\n", "\n\n", "  ", "\t",
    "Guinea-Bissau", "Bosnia and Herzegovina", "Zvečan", "ſunday", "Ⓐtoday", "ʼtoday",
    "clashes", "killed", "denied", "NATO", "troops", "U.S.", "Mr.", "Sept.", "“quoted.”",
]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text_st = st.text(alphabet=TRICKY, max_size=120) | st.lists(
    st.sampled_from(WORDS), max_size=40
).map(" ".join)

RULES = events.load_rules()
SETS = [
    dates.date_anchors(),
    events._trigger_anchors(RULES.path),
    events._denial_anchors(RULES.path),
    events._actor_anchors(RULES.path),
    events._actor_cues(RULES.path).anchors,
    events._reporting_anchors(RULES.path),
]
_HEAD = re.compile(r"(?<!\w)\w{1,3}")


def _reference_starts(anchored: Anchored, text: str) -> list[int] | None:
    """Candidates as first written: every word start whose first one to three
    characters the pattern's prefixes admit (words beyond ASCII: always)."""
    if anchored.keys is None:
        return None
    return [
        m.start() for m in _HEAD.finditer(text)
        if not m.group().isascii() or anchored.accepts(m.group())
    ]


def _same_candidates(text: str) -> None:
    index = WordIndex(text)
    for aset in SETS:
        for a, got in zip(aset.patterns, aset.starts(index), strict=True):
            want = _reference_starts(a, text)
            if got is None or want is None:
                assert got is want
                continue
            assert got == want
    fresh = WordIndex(text)
    prepare(fresh, SETS)  # one pass for all sets: the same lists
    for aset in SETS:
        assert fresh._found[aset] == aset.starts(WordIndex(text))


def _same_span_matches(text: str, spans: list[tuple[int, int]]) -> None:
    index = WordIndex(text)
    for aset in SETS:
        got = aset.span_matches(index, spans)
        for found, (start, end) in zip(got, spans, strict=True):
            want = []
            for k, a in enumerate(aset.patterns):
                hits = [(m.span(), m.groups()) for m in a.pattern.finditer(text, start, end)]
                if hits:
                    want.append((k, hits))
            assert [(k, [(m.span(), m.groups()) for m in ms]) for k, ms in found] == want


def _spans(text: str, rnd: random.Random) -> list[tuple[int, int]]:
    cuts = sorted({0, len(text), *(rnd.randrange(len(text) + 1) for _ in range(4))})
    return [(a, b) for a, b in itertools.pairwise(cuts) if rnd.random() < 0.8]


def test_candidates_equal_the_reference_on_real_texts() -> None:
    for text in TEXTS:
        _same_candidates(text)
        _same_candidates(gz.fold(text))


@SETTINGS
@given(text_st)
def test_candidates_equal_the_reference_on_tricky_text(text: str) -> None:
    _same_candidates(text)


def test_sentence_matches_equal_per_sentence_scans_on_real_texts() -> None:
    for text in TEXTS:
        ftext = gz.fold(text)
        spans = [(s.start, s.end) for s in sentences.split_sentences(text)]
        _same_span_matches(ftext, spans)


@SETTINGS
@given(text_st, st.integers(0, 1000))
def test_span_matches_equal_finditer_on_tricky_text(text: str, seed: int) -> None:
    _same_span_matches(text, _spans(text, random.Random(seed)))


def _dates_via_twin(text: str, published: dt.date) -> tuple[list[Any], list[Any], bool]:
    ftext = gz.fold(text)
    index = WordIndex(ftext)
    prepare(index, SETS)
    twin = index if ftext is text else index.for_original(text)
    got = dates.find_dates(text, published=published, index=twin)
    return got, dates.find_dates(text, published=published), twin is not None


def test_folded_index_serves_the_dates_of_real_texts() -> None:
    used = 0
    for text in TEXTS:
        got, want, shared = _dates_via_twin(text, dt.date(2023, 10, 1))
        assert got == want
        used += shared
    assert used == len(TEXTS)  # folding these texts never moves a word start


@SETTINGS
@given(text_st)
def test_folded_index_serves_the_dates_of_tricky_text(text: str) -> None:
    got, want, _ = _dates_via_twin(text, dt.date(2023, 10, 4))
    assert got == want


def test_a_fold_that_moves_word_starts_is_refused() -> None:
    for text in ("Ⓐtoday", "ʼtoday"):  # a letter appears / an apostrophe-letter goes
        assert WordIndex(gz.fold(text)).for_original(text) is None
    assert WordIndex(gz.fold("ſunday č")).for_original("ſunday č") is not None


def _same_actors(text: str) -> None:
    ftext = gz.fold(text)
    plain_anchors = events._actor_anchors(RULES.path)
    index = WordIndex(ftext)
    before, after = plain_anchors.patterns[0], plain_anchors.patterns[1]
    for anchored, cands in zip(
        (before, after), events._cued_starts(index, RULES, plain_anchors.starts(index))[:2],
        strict=True,
    ):
        want = [m.span() for m in anchored.pattern.finditer(ftext)]
        assert [m.span() for m in anchored.finditer(index, starts=cands)] == want


def test_cued_title_actors_equal_full_scans_on_real_texts() -> None:
    for text in TEXTS:
        _same_actors(text)


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join))
def test_cued_title_actors_equal_full_scans_on_tricky_text(text: str) -> None:
    _same_actors(text)


class _Ctx:
    def __init__(self, ftext: str) -> None:
        self.ftext = ftext
        self.rules = RULES
        self.index = WordIndex(ftext)


@SETTINGS
@given(text_st, st.integers(0, 200), st.integers(0, 90))
def test_reporting_verbs_are_found_as_a_slice_scan_finds_them(
    text: str, lo: int, width: int
) -> None:
    lo = min(lo, len(text))
    hi = min(len(text), lo + width)
    want = [m.end() for m in RULES.reporting_re.finditer(text[lo:hi])]
    assert events._reporting_ends(_Ctx(text), lo, hi) == want  # type: ignore[arg-type]


def test_reporting_verbs_inside_and_after_cut_words() -> None:
    text = "He unsaid it; officials said on Friday, and xsaid Monday."
    for lo in range(len(text)):
        for hi in range(lo, len(text) + 1, 7):
            want = [m.end() for m in RULES.reporting_re.finditer(text[lo:hi])]
            assert events._reporting_ends(_Ctx(text), lo, hi) == want  # type: ignore[arg-type]


_BLOCK = re.compile(r"\S(?:.|\n(?![ \t]*\n))*")


@SETTINGS
@given(st.text(alphabet="ab .\n\t \r\x0b\x0c\x1c\x85\u2028\u00a0", max_size=80) | text_st)
def test_paragraph_blocks_equal_the_block_regex(text: str) -> None:
    assert sentences._blocks(text) == [m.span() for m in _BLOCK.finditer(text)]


def _reference_emit(text: str, start: int, end: int) -> tuple[int, int] | None:
    """_emit's trimming as first written: a step per blank, then any alphanumeric."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end


@SETTINGS
@given(st.text(alphabet="a_ .\n\t\u00a0\u2028\u00b2\u216b-", max_size=40))
def test_sentence_trimming_equals_the_blank_by_blank_scan(text: str) -> None:
    out: list[sentences.Sentence] = []
    sentences._emit(text, 0, len(text), 0, out)
    want = _reference_emit(text, 0, len(text))
    assert [(s.start, s.end) for s in out] == ([want] if want else [])
    assert all(s.text == text[s.start : s.end] for s in out)


def test_more_than_64_patterns_use_several_blocks() -> None:
    words = [f"w{i:03d}x" for i in range(70)]
    many = AnchoredSet([Anchored(re.compile(rf"\b{w}\b")) for w in words])
    text = " ".join(reversed(words)) + " W001x w069x"
    got = many.starts(WordIndex(text))
    assert got == [_reference_starts(a, text) for a in many.patterns]
    assert all(g for g in got)


# --- Round 2: factored alternations, literal cues, the word before a full stop.

def _plain_alt(words: list[str]) -> str:
    return "|".join(events._literal(w) for w in words)


@SETTINGS
@given(st.lists(st.sampled_from(["Ni", "Nig", "Niger", "Nigeria", "N", "-x", "a-b", "ab", "a b",
                                 "", "'s", "A", "ab-c"]), min_size=1, max_size=8),
       st.text(alphabet="NigeraAbcs-' x\n", max_size=30))
@example(["", "A"], "A")
@example(["-x", "x", " x"], " x-x")
@example(["Niger", "Nigeria", "N"], "Nigeria")
@example(["a", "-x", "ab"], "ab")
def test_factored_alternation_matches_like_the_plain_one(words: list[str], text: str) -> None:
    # Branches that share a lead keep their order, and an optional-blank or empty
    # branch is never moved past another: the same match at every position.
    plain = re.compile(rf"(?P<w>{_plain_alt(words)})(?P<rest>.?)")
    factored = re.compile(rf"(?P<w>{events._word_alt(words)})(?P<rest>.?)")
    for i in range(len(text) + 1):
        a, b = plain.match(text, i), factored.match(text, i)
        assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict()))


def test_actor_patterns_with_factored_word_lists_equal_plain_ones() -> None:
    # The group and title patterns rebuilt with plain alternations find the same matches.
    lists = [list(events._country_words()), sorted(RULES.titles, key=len, reverse=True)]
    texts = [
        *(gz.fold(t) for t in TEXTS), " ".join(WORDS),
        "Nigerian police, Niger army, Guinea-Bissau troops; Guinea Bissau's army units",
    ]
    before, after = events._title_regexes(RULES.path)
    for factored in (events._group_regex(RULES.path), before, after):
        source = factored.pattern
        for words in lists:
            source = source.replace(events._word_alt(words), _plain_alt(words))
        plain = re.compile(source)
        assert plain.pattern != factored.pattern
        for text in texts:
            assert [(m.span(), m.groupdict()) for m in plain.finditer(text)] == [
                (m.span(), m.groupdict()) for m in factored.finditer(text)
            ]


def _cued_matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    cue = LiteralCue.of(pattern)
    assert cue is not None
    starts = [m.start() for m in _HEAD.finditer(text)]
    kept = cue.keep(text, lowered(text), starts)
    index = WordIndex(text)
    return [m.span() for m in Anchored(pattern).finditer(index, starts=kept)]


@SETTINGS
@given(st.lists(st.sampled_from([*WORDS, "AGO", "aGo", "agoago", "weekEND", "a", "few", "3"]),
                max_size=30).map(" ".join) | text_st)
def test_literal_cues_keep_every_match_of_the_cued_date_patterns(text: str) -> None:
    for pattern in dates._CUED:
        want = [m.span() for m in pattern.finditer(text)]
        assert _cued_matches(pattern, text) == want


def test_literal_cue_finds_occurrences_inside_others_and_refuses_twins() -> None:
    overlapping = re.compile(r"(?<!\w)x{1,9}\s(?:abab)", re.IGNORECASE)
    text = "xx ababab xxx abab"
    assert _cued_matches(overlapping, text) == [m.span() for m in overlapping.finditer(text)]
    assert lowered("Kelvin \u212a") is None and lowered("ſunday") is None
    assert lowered("Éclair ABC") == "éclair abc"
    assert LiteralCue.of(re.compile(r"(?<!\w)\d+ (?:a|b)")) is None  # too short to help


@SETTINGS
@given(st.text(alphabet="aZ.'’\n x-1", max_size=45), st.integers(0, 45))
def test_word_before_a_full_stop_equals_the_regex(text: str, end: int) -> None:
    end = min(end, len(text))
    m = sentences._WORD_BEFORE.search(text, max(0, end - 30), end)
    assert sentences._word_before(text, end) == (m.group(1) if m else "")


def test_word_before_a_newline_keeps_the_30_character_window() -> None:
    text = "x" + "a" * 40 + "\n."
    end = len(text) - 1
    m = sentences._WORD_BEFORE.search(text, end - 30, end)
    assert m is not None and sentences._word_before(text, end) == m.group(1)


def _reference_paragraph_spans(text: str) -> list[tuple[int, int]]:
    """_paragraph_spans as first written: every block split into its lines."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in sentences._blocks(text):
        lines = [m.span() for m in re.compile(r"[^\n]+").finditer(text, block_start, block_end)]
        lines = [(s, e) for s, e in lines if text[s:e].strip()]
        if not lines:
            continue
        wrapped = sentences._looks_hard_wrapped(text, lines)
        cur_start, cur_end = lines[0]
        for s, e in lines[1:]:
            prev = text[cur_start:cur_end].rstrip()
            nxt = text[s:e].lstrip()
            if wrapped and sentences._continues(prev, nxt):
                cur_end = e
                continue
            if not wrapped and prev and nxt and (nxt[0].islower() or prev.endswith((",", "-")))\
                    and not prev.endswith(sentences._LINE_FINAL):
                cur_end = e
                continue
            spans.append((cur_start, cur_end))
            cur_start, cur_end = s, e
        spans.append((cur_start, cur_end))
    return spans


def _reference_is_boundary(text: str, punct_start: int, after: int, para_end: int) -> bool:
    """_is_boundary as first written: the word before by regex, the next word always."""
    if after < para_end and not text[after].isspace():
        return False
    first = re.compile(r"\S").search(text, after, para_end)
    if first is None:
        return True
    stripped = text[first.start() : min(para_end, first.start() + 64)]
    nxt = stripped[0]
    if text[punct_start] != ".":
        return not nxt.islower()
    m = sentences._WORD_BEFORE.search(text, max(0, punct_start - 30), punct_start)
    word = m.group(1) if m else ""
    low = word.lower().rstrip(".")
    next_word = sentences._NEXT_WORD.match(stripped)
    nw = next_word.group(0).lower() if next_word else ""
    if nxt.islower() or low in sentences._NEVER_END:
        return False
    if low in sentences._MONTH_ABBR and nxt.isdigit():
        return False
    if len(word) == 1 and word.isupper():
        return False
    if sentences._INITIALS.match(word + ".") or low in sentences._ABBREVIATIONS:
        return nw in sentences._STARTERS
    return nxt.isupper() or nxt.isdigit() or nxt in sentences._OPENERS or not nxt.isalnum()


_SENTENCE_WORDS = [
    "U.S.", "U.S", "Mr.", "Sept.", "Sept", "3", "The", "the", "he", "A.", "J.", "Kennedy.",
    "said.", "said?", "“quoted.”", "e.g.x", "3.5", "\n", "\n\n", " \n ", "x-", "lower", "Upper",
    "gov't.", "’s.", "a.b.", "…", "!", ",", "  ", "\t",
]


@SETTINGS
@given(st.lists(st.sampled_from(_SENTENCE_WORDS), max_size=40).map(" ".join) | text_st)
def test_sentence_splitting_equals_the_first_written_rules(text: str) -> None:
    assert sentences._paragraph_spans(text) == _reference_paragraph_spans(text)
    for p_start, p_end in sentences._paragraph_spans(text):
        for m in sentences._END_PUNCT.finditer(text, p_start, p_end):
            want = _reference_is_boundary(text, m.start(), m.end(), p_end)
            assert sentences._is_boundary(text, m.start(), m.end(), p_end) == want


def test_sentence_splitting_of_real_texts_equals_the_first_written_rules() -> None:
    for text in TEXTS:
        test_sentence_splitting_equals_the_first_written_rules.hypothesis.inner_test(text)  # type: ignore[attr-defined]
