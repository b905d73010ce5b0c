"""The compiled geoparser (geo/_cmentions.pyx) against the Python reference
(``geo.mentions.find_mentions_py``): the same mentions, field for field, on
real texts, hostile ones and generated tricky ones; its building blocks against
the Python pieces they replace; and the fallback when it is missing or stale."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mentions_fast import TRICKY
from test_mentions_fast import WORDS as BASE_WORDS

from geo import gazetteer as gz
from geo import mentions as M
from geo.errors import GeoError
from geo.models import Mention, Place
from geo.textio import decode_article

C = pytest.importorskip("geo._cmentions", reason="compiled geoparser not built")

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> list[str]:
    paths = sorted((ROOT / "seeds").glob("*.txt"))
    paths += sorted((ROOT / "tests" / "data").glob("**/*.txt"))
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths]


def _hostile() -> list[str]:
    out = []
    for p in sorted((ROOT / "tests" / "data" / "hostile").iterdir()):
        try:
            out.append(decode_article(p.read_bytes(), name=p.name))
        except GeoError:
            continue
    return out


TEXTS = _texts()
HOSTILE = _hostile()
WORDS = [
    *BASE_WORDS,
    "Kosova", "Srbija", "Beograd", "Београд", "Приштина", "ABL", "Jarinje",
    "Banjska", "Leposavić", "LEPOSAVIC", "near", "the", "border", "village", "of",
    "Brussels", "Washington", "Moscow", "Paris", "Georgia", "Jordan", "Chad", "US",
    "along", "administrative", "line", "Albanians", "Serbs", "—", "'s", "(", ")",
]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text_st = st.text(alphabet=TRICKY, max_size=160) | st.lists(
    st.sampled_from([*WORDS, " ", ", ", ". ", "-", "\n", "\n\n"]), max_size=60
).map(" ".join)


def _fields(mentions: list[Mention]) -> list[tuple[object, ...]]:
    """Every field, with exact float reprs: equality alone would accept 0.1 for
    0.1000000000000000055."""
    return [
        tuple(repr(getattr(m, f.name)) for f in dataclasses.fields(m)) for m in mentions
    ]


def _same(text: str) -> None:
    want = M.find_mentions_py(text)
    got = C.find_mentions(text)
    assert _fields(got) == _fields(want)
    assert all(type(m) is Mention for m in got)


@pytest.mark.parametrize("i", range(len(TEXTS)))
def test_compiled_equals_reference_on_real_texts(i: int) -> None:
    _same(TEXTS[i])


def test_compiled_equals_reference_on_hostile_texts() -> None:
    assert len(HOSTILE) >= 10
    for text in HOSTILE:
        _same(text)


def test_compiled_equals_reference_on_joined_and_cut_texts() -> None:
    """Texts cut at arbitrary points (mid-word, mid-name) and glued together."""
    joined = "\n".join(TEXTS[:6])
    _same(joined)
    for cut in range(0, len(joined), 997):
        _same(joined[cut : cut + 1500])


@SETTINGS
@given(text_st)
def test_compiled_equals_reference_on_tricky_texts(text: str) -> None:
    _same(text)


@SETTINGS
@given(text_st)
def test_run_scanner_equals_the_regex(text: str) -> None:
    folded = gz.fold(text)
    assert C.scan_runs(folded) == [m.span() for m in M._seq_re().finditer(folded)]


def test_run_scanner_equals_the_regex_on_real_texts() -> None:
    for text in TEXTS + HOSTILE:
        folded = gz.fold(text)
        assert C.scan_runs(folded) == [m.span() for m in M._seq_re().finditer(folded)]


@SETTINGS
@given(text_st)
def test_lowercase_scan_equals_phrase_and_hot_word_search(text: str) -> None:
    lower = gz.fold(text).lower()
    phrases, hot = C.scan_lower(lower)
    assert sorted(phrases) == sorted(M._phrase_hits(lower))
    assert hot == [m.start() for m in M._HOT_WORDS.finditer(lower)]


def test_lowercase_scan_on_real_texts() -> None:
    found = 0
    for text in TEXTS + HOSTILE:
        lower = gz.fold(text).lower()
        phrases, hot = C.scan_lower(lower)
        assert sorted(phrases) == sorted(M._phrase_hits(lower))
        assert hot == [m.start() for m in M._HOT_WORDS.finditer(lower)]
        found += len(phrases)
    assert found > 10


QUALIFIER_PARTS = [
    ",", ", ", " ", "  ", "\t", "\u00a0", "in", "in ", "the ", "the", "north", "northern ",
    "ern", "central ", "west", "Kosovo", "K", "St.", "New York", "Texas", "eastern ",
    "Mitrovica", "\n", "A.B", "x", "_", "9", "Ž", "é",
]


@SETTINGS
@given(st.lists(st.sampled_from(QUALIFIER_PARTS), max_size=14).map("".join) | text_st)
def test_qualifier_scanner_equals_the_regex(text: str) -> None:
    """The ", in northern Texas" reader against M._QUALIFIER at every position."""
    folded = gz.fold(text)
    for end in range(len(folded) + 1):
        m = M._QUALIFIER.match(folded, end, end + 60)
        assert C.qualifier_span(folded, end) == (m.span(1) if m else None)


def test_qualifier_scanner_on_real_texts() -> None:
    found = 0
    for text in TEXTS:
        folded = gz.fold(text)
        for end in [i for i, ch in enumerate(folded) if ch == ","]:
            m = M._QUALIFIER.match(folded, end, end + 60)
            assert C.qualifier_span(folded, end) == (m.span(1) if m else None)
            found += m is not None
    assert found > 20


def _style_reference(seg: str) -> tuple[int, int, int]:
    words = M._WORD.findall(seg)
    return len(words), sum(map(str.isupper, words)), sum(w[0].isupper() for w in words)


def _check_styles(text: str) -> None:
    for s in range(0, len(text), 5):
        for e in (s, s + 3, s + 17, s + 64, s + 130, s + 401, len(text)):
            e = min(e, len(text))
            assert C.style_counts(text, s, e) == _style_reference(text[s : min(e, s + 400)])


@SETTINGS
@given(st.lists(text_st, max_size=8).map("".join))
def test_line_style_counts_equal_the_regex(text: str) -> None:
    """Bit masks 16 characters at a time (ASCII) or one by one (the rest),
    across the 64-character words of the masks and the 400-character cap."""
    _check_styles(text)


@SETTINGS
@given(st.text(alphabet="Ab Zx.ª中ⅫÉé-\n" + "QRSTqrst", max_size=500), st.integers(0, 80))
def test_line_style_counts_with_uncased_letters(text: str, start: int) -> None:
    """Letters without case (ª, 中) take the run-by-run count; the rest the
    64-bit one: both must agree with the regex, with the start anywhere."""
    start = min(start, len(text))
    assert C.style_counts(text, start, len(text)) == _style_reference(text[start : start + 400])


def test_line_style_counts_on_real_texts() -> None:
    for text in TEXTS[:12] + HOSTILE:
        _check_styles(text[:3000])


@SETTINGS
@given(
    st.lists(st.sampled_from([" ", "-", "/", " and ", "and", " an", "x", "/ "]), max_size=5).map(
        "".join
    )
)
def test_joined_reader_equals_the_regex(text: str) -> None:
    for p in range(len(text) + 1):
        m = M._JOINED.match(text, p)
        assert C.joined_end(text, p) == (m.end() if m else p)


def test_memos_that_overflow_mid_text_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled parser shares the reference's bounded memos and their limits."""
    text = "\n".join(TEXTS[:8])
    want = _fields(M.find_mentions_py(text))
    monkeypatch.setattr(M, "_MEMO_MAX", 3)
    monkeypatch.setattr(M, "_SINGLE_MEMO_MAX", 3)
    monkeypatch.setattr(M, "_REASON_MEMO_MAX", 3)
    monkeypatch.setattr(gz.Gazetteer, "_HITS_MEMO_MAX", 3)
    assert _fields(C.find_mentions(text)) == want
    assert _fields(C.find_mentions(text)) == want


def test_cold_memos_give_the_same_mentions() -> None:
    text = TEXTS[0]
    warm = _fields(C.find_mentions(text))
    g = gz.load()
    for memo in (g.key_facts, g.upper_names, g.place_words, g.key_votes, g.priors,
                 g.ranked, g.run_memo, g.single_outcomes, g.reason_memo):
        memo.clear()
    assert _fields(C.find_mentions(text)) == warm


def test_fast_mention_objects_behave_like_the_class() -> None:
    place = Place("gn:792680", "Belgrade", "city", "RS", 20.46513, 44.80401)
    args = ("Belgrade", 10, 18, place, 0.75, "a reason", ("gn:1", "gn:2"))
    fast, slow = C._new_mention(*args), Mention(*args)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert dataclasses.asdict(fast) == dataclasses.asdict(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.start = 3  # type: ignore[misc]


def test_find_mentions_runs_the_compiled_parser() -> None:
    assert M.implementation() == "compiled"
    assert C.SOURCE_SHA256 and re.fullmatch(r"[0-9a-f]{64}", C.SOURCE_SHA256)


def _implementation_in(env: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    script = code + "from geo import mentions as M; print(M.implementation())"
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=True,
    )


def test_pure_python_on_request() -> None:
    env = {**os.environ, "GEO_PURE_PYTHON": "1"}
    done = _implementation_in(env)
    assert done.stdout.strip() == "python"
    assert "RuntimeWarning" not in done.stderr


def test_stale_build_falls_back_with_a_warning() -> None:
    """A .pyx edited after the build: the old machine code must not run."""
    code = "import geo._cmentions as C; C.SOURCE_SHA256 = '0' * 64\n"
    done = _implementation_in(dict(os.environ), code)
    assert done.stdout.strip() == "python"
    assert "changed since it was compiled" in done.stderr
    assert "pip install -e ." in done.stderr
