"""The geoparser's fast paths (issue 5) against the plain computations they
replace: each must give the same answer on real texts and on generated tricky
ones, so ``find_mentions`` keeps its exact output."""

from __future__ import annotations

import gc
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
    styles = M._LineStyles(text)
    for s in range(0, len(text), 7):
        for e in (s, min(len(text), s + 30), len(text)):
            seg = text[s : min(e, s + 400)]
            assert styles.style(s, e) == M._line_style_words(seg)
    hot = [m.start() for m in M._HOT_WORDS.finditer(lower)]
    assert M._hot_starts(lower) == hot
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
    memos = (g.key_facts, g.upper_names, g.place_words, g.key_votes, g.priors, g.ranked,
             g.run_memo, g.single_outcomes, g.reason_memo)
    for memo in memos:
        memo.clear()
    M._record_text.cache_clear()
    M._rival_text.cache_clear()
    M._curated_records.cache_clear()
    M._qualifier_of.cache_clear()
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
    monkeypatch.setattr(M, "_SINGLE_MEMO_MAX", 3)
    monkeypatch.setattr(M, "_REASON_MEMO_MAX", 3)
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


# ---------------------------------------------------------------------------
# The second round of fast paths (issue 5, figure 1)


def _reference_sequence(
    text: str, folded: str, g: gz.Gazetteer
) -> tuple[list[tuple[int, int, str, tuple[int, ...], str, bool]], dict[str, float]]:
    """Candidates and demonym votes as they were found before the run memo: each
    run looked up where it stands, the filter's two context-free rules applied
    to the result."""
    dem = gz.demonyms()
    out: list[tuple[int, int, str, tuple[int, ...], str, bool]] = []
    votes: dict[str, float] = {}
    for seq in M._seq_re_reference().finditer(folded):
        word = seq.group()
        s, e = seq.span()
        found: list[tuple[int, int, str, tuple[int, ...], bool]] = []
        if " " not in word and "-" not in word:
            if word[-1] in "sS'":
                e = M._split_possessive(folded, s, e)
            key = word[: e - s].lower()
            hits = g.hits(key)
            if not hits:
                if key in dem:
                    votes[dem[key]] = votes.get(dem[key], 0.0) + 0.5
                continue
            if len(key) <= 3 and M._short_alias(key, text[s:e], hits, g):
                continue
            idxs, main = g.hit_summary(key)
            found.append((0, e - s, key, idxs, main))
        else:
            matches, run_votes = M._run_matches(word, text[s : seq.end()], g)
            found = list(matches)
            for iso in run_votes:
                votes[iso] = votes.get(iso, 0.0) + 0.5
        for rel, e_rel, key, idxs, main in found:
            strong, is_dem, noise = M._key_facts(key, idxs, g)[:3]
            if (is_dem and not strong) or (not strong and not main and noise):
                continue  # the filter's first two rules, which read only the name
            out.append((s + rel, s + e_rel, key, tuple(idxs), text[s + rel : s + e_rel], main))
    return out, votes


def _check_sequence(text: str) -> None:
    g = gz.load()
    folded = gz.fold(text)
    want = _reference_sequence(text, folded, g)
    for cold in (True, False):  # a cold memo, then the one just filled
        if cold:
            g.run_memo.clear()
        votes: dict[str, float] = {}
        cands = M._sequence_candidates(text, folded, g, votes)
        got = [(c.start, c.end, c.key, tuple(c.idxs), c.surface, c.main) for c in cands]
        assert (got, votes) == want


def _plain_phrase_hits(lower: str) -> list[tuple[int, int, str]]:
    """Every whole-word curated alias, from a plain search for each alias."""
    found = []
    for phrase in gz.load().curated_phrases:
        at = lower.find(phrase)
        while at >= 0:
            end = at + len(phrase)
            if not (at > 0 and lower[at - 1].isalnum()) and not (
                end < len(lower) and lower[end].isalnum()
            ):
                found.append((at, end, phrase))
            at = lower.find(phrase, at + 1)
    return sorted(found)


PHRASES = sorted(gz.load().curated_phrases)


def test_sequence_candidates_match_on_real_texts() -> None:
    for text in TEXTS:
        _check_sequence(text)


@SETTINGS
@given(text_st)
def test_sequence_candidates_match_on_tricky_text(text: str) -> None:
    _check_sequence(text)


@SETTINGS
@given(
    st.lists(
        st.sampled_from(PHRASES)
        | st.sampled_from(
            ["x", "1", " ", "-", "(", "'", ".", "\n", "é", "Ж", "the ", "\u201c", "\u00a9", "\x00"]
        ),
        max_size=12,
    )
)
def test_phrase_hits_are_every_whole_word_alias(parts: list[str]) -> None:
    """Aliases glued to letters, digits or punctuation, ASCII and not (the two
    scans: letters and digits outside ASCII, or a NUL, take the plain one)."""
    lower = "".join(parts)
    assert sorted(M._phrase_hits(lower)) == _plain_phrase_hits(lower)
    spaced = " ".join(parts)
    assert sorted(M._phrase_hits(spaced)) == _plain_phrase_hits(spaced)


def test_phrase_hits_on_real_texts() -> None:
    hits = 0
    for text in TEXTS:
        lower = gz.fold(text).lower()
        found = sorted(M._phrase_hits(lower))
        assert found == _plain_phrase_hits(lower)
        hits += len(found)
    assert hits > 0


# Letters outside ASCII of every case class, non-letters that \w counts, digits.
STYLE_CHARS = "ABCDEFGHIJ abcdefghij\u0416\u0436\u010c\u010d\u01c5\u00aa\u00b2\u216b\u0660_.,-"


STYLE_WORDS = [
    "Kosovo", "KOSOVO", "kosovo", "\u00b2ABCD", "\u01c5ABC", "\u017dUPA", "\u017eabe",
    "\u0416\u0416\u0416\u0416", "\u216babcd", "\u00aabcd", "ab", "A.B.", "12", "x_y", "Abc",
]
style_text_st = st.text(alphabet=STYLE_CHARS, max_size=200) | st.lists(
    st.sampled_from(STYLE_WORDS), max_size=12
).map(" ".join)


@SETTINGS
@given(style_text_st, st.integers(0, 40), st.integers(0, 250))
def test_line_styles_match_the_word_count(text: str, s: int, length: int) -> None:
    s = min(s, len(text))
    e = min(len(text), s + length)
    want = M._line_style_words(text[s : min(e, s + 400)])
    assert M._LineStyles(text).style(s, e) == want
    assert M._segment_style(text[s : min(e, s + 400)]) == want
    # The same line in a text mostly ASCII: the whole text's letter classes.
    pad = "ab, " * 1000
    padded = pad + text
    assert M._few_non_ascii(padded)
    assert M._LineStyles(padded).style(len(pad) + s, len(pad) + e) == want


@SETTINGS
@given(st.text(alphabet=TRICKY + "\x00\uff40\u00e9\u00c9`", max_size=60))
def test_fold_matches_the_table(text: str) -> None:
    want = text if text.isascii() else text.translate(gz._FOLD)
    assert gz.fold(text) == want
    assert len(gz.fold(text)) == len(text)


def _reference_explain(scored: M._Scored, g: gz.Gazetteer) -> tuple[str, tuple[str, ...]]:
    """The reason as it was written: parts listed, then joined."""
    best_i = scored.best_i
    why = [M._record_text(g, best_i)]
    if scored.share > 0:
        why.append(f"{g.country_of(best_i)} has {scored.share:.0%} of the text's country evidence")
    qual = scored.qual
    if scored.qualified and qual is not None:
        why.append(f"qualified by its {'region' if qual[1] else 'country'} ({qual[0]})")
    if scored.bonus:
        why.append(f"{scored.d:.0f} km from another place in the text")
    others = scored.scored[1:]
    if others:
        names = ", ".join([M._rival_text(g, o[3]) for o in others[:2]])
        why.append(f"beat {scored.n_idxs - 1} other candidate(s): {names}")
    else:
        why.append("only candidate")
    return "; ".join(why), tuple(g.place_id(o[3]) for o in others[:5])


def _resolved(text: str) -> tuple[str, list[M._Cand], dict[str, float], gz.Gazetteer]:
    """A text's candidates after the first pass, as find_mentions has them."""
    g = gz.load()
    folded = gz.fold(text)
    votes: dict[str, float] = {}
    cands = M._sequence_candidates(text, folded, g, votes)
    phrases = M._curated_phrases(text, folded.lower(), g)
    cands = M._filter(text, folded, M._without_overlaps(cands, phrases), g)
    cands.extend(phrases)
    cands.sort(key=M._START)
    return folded, cands, M._document_focus(cands, votes, g), g


def test_second_pass_adds_the_bonus_to_the_first_pass_scores() -> None:
    """_rescore_near equals scoring afresh with the anchors: every score, order and
    bonus; the distance too wherever a bonus depends on it (beyond 1000 km none
    does, and none is read)."""
    compared = 0
    for text in TEXTS:
        folded, cands, focus, g = _resolved(text)
        first = M._resolve(folded, cands, focus, [], g)
        anchors = M._anchors(cands)
        if not anchors:
            continue
        trig = M._anchor_trig(anchors)
        reach = M._reach(anchors)
        total = sum(focus.values()) or 1.0
        for c in cands:
            if len(c.idxs) < 2 or c.context == "phrase":
                continue
            qual = c.qual
            base = first[c.key if qual is None else (c.key, qual)]
            if base.idxs != c.idxs:
                continue
            fast = M._rescore_near(c, base, trig, reach, g)
            plain = M._score_candidates(c, qual, focus, total, anchors, g, trig)
            assert [e[:6] + e[7:] for e in fast.scored] == [e[:6] + e[7:] for e in plain.scored]
            for f, p in zip(fast.scored, plain.scored, strict=True):
                assert f[6] == p[6] or (f[7] == 0.0 and f[6] == math.inf and p[6] >= 1000)
            assert (fast.place, fast.margin, fast.bonus) == (plain.place, plain.margin, plain.bonus)
            assert fast.explain(g) == plain.explain(g)
            compared += 1
    assert compared > 10


def test_explanations_read_as_before() -> None:
    seen = 0
    for text in TEXTS:
        folded, cands, focus, g = _resolved(text)
        first = M._resolve(folded, cands, focus, [], g)
        M._resolve_again(folded, cands, focus, g, first)
        for c in cands:
            if c.scored is not None:
                c.scored._text = None
                assert c.scored.explain(g) == _reference_explain(c.scored, g)
                seen += 1
    assert seen > 50


def test_long_runs_are_found_as_before_and_not_kept() -> None:
    """A run longer than the memo takes (a hostile text) is looked up where it
    stands, once per text, and leaves nothing in the gazetteer's memo."""
    run = " ".join(["North Mitrovica", "Serbian", "Kosovo", "New York", "The"] * 30)
    assert len(run) > M._RUN_MEMO_CHARS
    text = f"In {run}, then.\n{run} again."
    _check_sequence(text)
    assert run not in gz.load().run_memo


@SETTINGS
@given(
    st.tuples(st.floats(-180, 180), st.floats(-89.9, 89.9)),
    st.lists(st.tuples(st.floats(-180, 180), st.floats(-89.9, 89.9)), min_size=1, max_size=8),
    st.floats(0.0, 30.0),
)
def test_beyond_reach_only_when_every_anchor_is_over_1000_km(
    lonlat: tuple[float, float], points: list[tuple[float, float]], spread: float
) -> None:
    lon, lat = lonlat
    # Anchors anywhere, and anchors clustered near the point (the boundary cases).
    anchors = [("a", x, y) for x, y in points] + [
        ("b", ((lon + spread * (k + 1) + 180) % 360) - 180, max(-89.9, min(89.9, lat + spread)))
        for k in range(2)
    ]
    if M._beyond_reach(lon, lat, M._reach(anchors)):
        assert all(M._haversine_km(lon, lat, x, y) >= 1000 for _, x, y in anchors)


def test_beyond_reach_prunes_far_places() -> None:
    """The bound is not vacuous: far places on both axes are ruled out."""
    reach = M._reach([("a", 20.9, 42.6), ("b", 20.5, 44.8)])  # Pristina, Belgrade
    assert M._beyond_reach(-97.0, 33.0, reach)  # Paris, Texas: far in longitude
    assert M._beyond_reach(21.0, 60.0, reach)  # far north
    assert not M._beyond_reach(21.1, 42.9, reach)  # Mitrovica
    assert not M._beyond_reach(16.37, 48.21, reach)  # Vienna: 490 km from Belgrade
    assert M._haversine_km(2.35, 48.86, 20.5, 44.8) > 1000
    assert M._beyond_reach(2.35, 48.86, reach)  # Paris, France: 1,400 km


def test_hot_words_cannot_overlap() -> None:
    """What _hot_starts relies on: no hot word ends with the start of one (itself
    included) or contains another."""
    for a in M._HOT_LIST:
        for b in M._HOT_LIST:
            assert a == b or b not in a
            assert not any(b.startswith(a[k:]) for k in range(1, len(a)))


@SETTINGS
@given(st.lists(st.sampled_from([*M._HOT_LIST, "x", " ", "northeast", "bo", "rder"]), max_size=30))
def test_hot_starts_match_the_regex(parts: list[str]) -> None:
    lower = "".join(parts)
    assert M._hot_starts(lower) == [m.start() for m in M._HOT_WORDS.finditer(lower)]


@pytest.mark.parametrize("text", TEXTS)
def test_mention_text_is_the_span(text: str) -> None:
    """A mention's text is taken from its candidate's surface: still the span."""
    found = M.find_mentions(text)
    assert found
    assert all(m.text == text[m.start : m.end] for m in found)


@SETTINGS
@given(
    st.lists(st.floats(allow_nan=False) | st.sampled_from([0.0, -0.0, 0.9, 0.0005]), max_size=20)
)
def test_round3_is_round(values: list[float]) -> None:
    for v in values + values:  # the second time from the memo
        got, want = M._round3(v), round(v, 3)
        assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want)


def test_one_record_outcomes_shared_across_texts_match_fresh_ones() -> None:
    """A one-record name's outcome, memoised across articles by (record, share,
    qualifier), equals one scored afresh for this text: place, margin, every
    scored entry and the reason."""
    g = gz.load()
    g.single_outcomes.clear()
    for text in TEXTS:  # fill the memo from every text first
        M.find_mentions(text)
    compared = 0
    for text in TEXTS:
        folded, cands, focus, g = _resolved(text)
        total = sum(focus.values()) or 1.0
        for c in cands:
            if len(c.idxs) != 1:
                continue
            qual = M._qualifier(folded, c.end, g)
            shared = M._score_candidates(c, qual, focus, total, [], g)
            i = c.idxs[0]
            iso = g.country_of(i)
            qualified = qual is not None and iso == qual[0] and qual[1] in ("", g.admin1_of(i))
            share = focus.get(iso, 0.0) / total
            plain = M._Scored([(0.0, 0, 0, i, share, qualified, 0.0, 0.0)], qual, c.idxs, g)
            assert shared.scored == plain.scored
            assert (shared.place, shared.margin, shared.n_idxs, shared.qual) == (
                plain.place, plain.margin, plain.n_idxs, plain.qual
            )
            assert shared.explain(g) == plain.explain(g)
            compared += 1
    assert compared > 20
    assert len(g.single_outcomes) < compared  # outcomes were shared


def test_index_of_matches_a_map_of_every_id() -> None:
    """Country and curated ids are mapped apart from GeoNames ids: every id
    still maps to the record a map of all ids gives, unknown ids to None."""
    g = gz.load()
    ids = g.place_ids
    plain = {pid: i for i, pid in enumerate(ids)}
    fresh = gz.Gazetteer.__new__(gz.Gazetteer)
    fresh.__dict__.update(g.__dict__)
    fresh._by_id = None
    fresh._by_other_id = None
    others = [pid for pid in ids if not pid.startswith("gn:")]
    assert others  # countries and curated records
    for pid in others:
        assert fresh.index_of(pid) == plain[pid]
    assert fresh._by_id is None  # no GeoNames id asked for yet: not mapped
    for pid in random.Random(5).sample(ids, 500):
        assert fresh.index_of(pid) == plain[pid]
    for pid in ("ne:ZZ", "cur:nowhere", "gn:-1", "", "x"):
        assert fresh.index_of(pid) is None


def test_reasons_shared_across_texts_match_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reason taken from the cross-article memo equals the one written afresh
    for the same outcome with an empty memo."""
    g = gz.load()
    for text in TEXTS:  # fill the memo from every text first
        M.find_mentions(text)
    compared = 0
    for text in TEXTS:
        folded, cands, focus, g = _resolved(text)
        M._resolve(folded, cands, focus, [], g)
        outcomes = {id(c.scored): c.scored for c in cands if c.scored is not None}
        warm = {k: s.explain(g) for k, s in outcomes.items()}
        monkeypatch.setattr(g, "reason_memo", {})
        for k, s in outcomes.items():
            fresh = M._Scored(s.scored, s.qual, s.idxs, g)
            assert fresh.explain(g) == warm[k]
            compared += 1
        monkeypatch.undo()
    assert compared > 20


def test_index_columns_are_left_out_of_the_garbage_collector() -> None:
    """The quarter-million-record columns are tuples of numbers and strings,
    which the collector stops tracking: a full collection does not read them."""
    g = gz.load()
    gc.collect()
    for column in (*g.columns, g.place_ids):
        assert isinstance(column, tuple)
        assert not gc.is_tracked(column)
