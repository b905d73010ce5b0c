"""The geoparser's fast paths (issue 5) against the plain computations they
replace: each must give the same answer on real texts and on generated tricky
ones, so ``find_mentions`` keeps its exact output."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import gazetteer as gz
from geo import mentions as M

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "data" / "texts").glob("*.txt"))
]
# Capitals, dots, apostrophes, hyphens, connectors, Cyrillic, diacritics, digits,
# non-letters that \w counts (superscript two, Roman twelve) and line breaks.
TRICKY = "ABKUSMNaksoefinrtd .'’-\n\t,()\u2014\u00a0ČčŽšđ\u0416\u0436\u00b2\u216b12_`"
WORDS = [
    "U.S.", "Kosovo", "Kosovo's", "North", "Mitrovica", "of", "and", "de", "Bosnia",
    "Herzegovina", "New", "York", "Sremska", "The", "NATO", "Serbian", "Serbia-Kosovo",
    "Zvečan", "ZVEČAN", "Jake", "Sullivan", "St.", "border", "boundary", "northern",
    "Mr.", "EU", "Us", "Niš", "Prime", "Minister", "Albin", "Kurti", "said", "in",
]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text_st = st.text(alphabet=TRICKY, max_size=120) | st.lists(
    st.sampled_from([*WORDS, " ", ", ", ". ", "-", "\n"]), max_size=40
).map(" ".join)


def _reference_prev_word(text: str, start: int) -> str:
    """_prev_word as it was: a character-by-character scan."""
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


def _reference_run(
    word: str, run: str, g: gz.Gazetteer
) -> tuple[list[tuple[int, int, str, Sequence[int], bool]], list[str]]:
    """The names of a run of capitalised words as they were found before the
    gates: the trie's prefix search from every token, both spellings."""
    dem = gz.demonyms()
    toks = [m.span() for m in M._TOKEN_RE.finditer(word)]
    low = word.lower()
    spaced = low.replace("-", " ")
    ends: dict[int, int] = {}
    for n, (_, te) in enumerate(toks):
        ends[te] = n + 1
        if low[te - 2 : te] == "'s":
            ends[te - 2] = n + 1
    matches: list[tuple[int, int, str, Sequence[int], bool]] = []
    votes: list[str] = []
    i = 0
    while i < len(toks):
        rel = toks[i][0]
        best = ""
        for variant in (low, spaced):
            for k in g.prefixes(variant, start=rel):
                if len(k) > len(best) and rel + len(k) in ends:
                    best = k
        if not best:
            tok = low[toks[i][0] : toks[i][1]]  # the run's own word (folded, lower case)
            if tok in dem:
                votes.append(dem[tok])
            i += 1
            continue
        e_rel = rel + len(best)
        if M._short_alias(best, run[rel:e_rel], g.hits(best), g):
            i += 1
            continue
        idxs, main = g.hit_summary(best)
        matches.append((rel, e_rel, best, idxs, main))
        i = ends[e_rel]
    return matches, votes


def _check_runs(text: str) -> int:
    g = gz.load()
    folded = gz.fold(text)
    n = 0
    for seq in M._seq_re().finditer(folded):
        word = seq.group()
        if " " in word or "-" in word:
            run = text[seq.start() : seq.end()]
            assert M._run_matches(word, run, g) == _reference_run(word, run, g)
            n += 1
    return n


def _check_text(text: str) -> None:
    folded = gz.fold(text)
    assert folded == (text if text.isascii() else text.translate(gz._FOLD))
    fast = [m.span() for m in M._seq_re().finditer(folded)]
    assert fast == [m.span() for m in M._seq_re_reference().finditer(folded)]
    lower = folded.lower()
    plain = re.compile(r"\b(?:border|boundary|frontier)s?\b")
    assert [m.span() for m in M._BORDER_WORD.finditer(lower)] == [
        m.span() for m in plain.finditer(lower)
    ]
    for start in range(len(folded) + 1):
        assert M._prev_word(folded, start) == _reference_prev_word(folded, start)
    for s in range(0, len(text), 7):
        for e in (s, min(len(text), s + 30), len(text)):
            seg = text[s : min(e, s + 400)]
            assert M._line_style_of(text, s, e) == M._line_style_words(seg)
    hot = [m.start() for m in M._HOT_WORDS.finditer(lower)]
    for start in range(0, len(lower), 3):
        for end in (start, start + 5):
            assert M._hot_near(lower, start, end, hot) == M._hot_near(lower, start, end, None)


def test_fast_paths_match_on_real_texts() -> None:
    runs = 0
    for text in TEXTS:
        _check_text(text)
        runs += _check_runs(text)
    assert runs > 50  # the multi-word path was exercised


@SETTINGS
@given(text_st)
def test_fast_paths_match_on_tricky_text(text: str) -> None:
    _check_text(text)
    _check_runs(text)


def _multiword_names(n: int) -> list[str]:
    """Real multi-word gazetteer names, title-cased, with a fixed random choice."""
    keys = [k for k in gz.load()._trie.iterkeys() if " " in k and k.isascii()]
    keys.sort()
    return random.Random(5).sample(keys, n)


NAMES = _multiword_names(300)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NAMES),
            st.sampled_from([" ", "-", " of ", " and ", "'s ", " "]),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_multiword_names_are_found_as_before(parts: list[tuple[str, str, bool]]) -> None:
    text = "".join(
        (name.title() if title else name.upper()) + sep for name, sep, title in parts
    )
    _check_runs("In " + text + "today.")


@SETTINGS
@given(
    st.tuples(st.floats(-89.9, 89.9), st.floats(-180, 180)),
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "key"]), st.floats(-180, 180), st.floats(-89.9, 89.9)
        ),
        max_size=12,
    ),
)
def test_nearest_anchor_is_the_plain_minimum(
    lonlat: tuple[float, float], anchors: list[tuple[str, float, float]]
) -> None:
    lon, lat = lonlat
    # Duplicates and near-duplicates of the point and of each other.
    anchors = [*anchors, ("a", lon, lat), ("b", lon + 1e-9, lat), *anchors[:3]]
    want = min(
        (M._haversine_km(lon, lat, x, y) for k, x, y in anchors if k != "key"), default=math.inf
    )
    assert M._nearest_km(lon, lat, "key", M._anchor_trig(anchors)) == want


@pytest.mark.parametrize("text", TEXTS[:3])
def test_mentions_do_not_depend_on_the_memos(text: str) -> None:
    """Warm memos (filled by other texts) and cold ones give the same mentions."""
    warm = M.find_mentions(text)
    g = gz.load()
    for memo in (g.key_facts, g.upper_names, g.place_words, g.key_votes, g.priors, g.ranked):
        memo.clear()
    M._record_text.cache_clear()
    M._rival_text.cache_clear()
    assert M.find_mentions(text) == warm
    assert [(m.reason, m.alternatives, m.score) for m in M.find_mentions(text)] == [
        (m.reason, m.alternatives, m.score) for m in warm
    ]


@SETTINGS
@given(
    st.floats(-60, 60),
    st.floats(-170, 170),
    st.lists(st.floats(1e-6, 5.0), min_size=1, max_size=6),
    st.lists(st.floats(-1e-9, 1e-9), min_size=1, max_size=6),
)
def test_nearest_anchor_among_near_ties(
    lat: float, lon: float, gaps: list[float], jitter: list[float]
) -> None:
    """Anchors on the same meridian, both sides, nearly the same latitude gap: the
    latitude bound alone cannot tell them apart."""
    anchors = []
    for gap, j in zip(gaps, jitter * len(gaps), strict=False):
        anchors += [("a", lon, lat + gap), ("b", lon + j, lat - gap * (1 + j))]
        anchors.append(("c", lon, lat - gap))
    want = min(M._haversine_km(lon, lat, x, y) for _, x, y in anchors)
    assert M._nearest_km(lon, lat, "key", M._anchor_trig(anchors)) == want


def test_memos_that_overflow_mid_text_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memos are bounded and cleared when full, possibly in the middle of a
    text (a hostile one naming thousands of places): results stay the same."""
    text = "\n".join(TEXTS)
    want = M.find_mentions(text)
    monkeypatch.setattr(M, "_MEMO_MAX", 3)
    monkeypatch.setattr(gz.Gazetteer, "_HITS_MEMO_MAX", 3)
    got = M.find_mentions(text)
    assert got == want
    assert [(m.reason, m.score) for m in got] == [(m.reason, m.score) for m in want]


def test_demonyms_in_a_run_vote_wherever_the_run_is() -> None:
    """A demonym left over in a run of capitalised words votes for its country,
    read from the run itself (an earlier version read the document's first
    characters at the run's relative offsets, so the vote depended on position)."""
    g = gz.load()
    text = "Talks resumed on Monday. Later the Serbian Defence Ministry said it was calm."
    run = "Serbian Defence Ministry"
    start = text.index(run)
    word = gz.fold(text)[start : start + len(run)]
    assert M._run_matches(word, run, g) == ([], ["RS"])
    votes: dict[str, float] = {}
    M._sequence_candidates(text, gz.fold(text), g, demonym_votes=votes)
    assert votes.get("RS", 0.0) >= 0.5
