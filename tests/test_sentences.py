"""Sentence splitting: exact offsets, abbreviations, quotes, headlines, paragraphs."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from geo.sentences import split_sentences

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_offsets_are_exact_on_every_seed() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences = split_sentences(text)
        assert len(sentences) > 5, path.name
        for s in sentences:
            assert text[s.start : s.end] == s.text
            assert s.text == s.text.strip()


def test_abbreviations_do_not_end_sentences() -> None:
    text = (
        "U.S. officials met Mr. Smith on Sept. 24 in Washington. The talks ended late. "
        "Gen. Ivanov said the U.S. The statement was brief."
    )
    assert _texts(text) == [
        "U.S. officials met Mr. Smith on Sept. 24 in Washington.",
        "The talks ended late.",
        "Gen. Ivanov said the U.S.",
        "The statement was brief.",
    ]


def test_quotes_close_after_the_full_stop() -> None:
    text = '"We call on them to withdraw." Kirby said. "Is it over?" he asked. Then he left.'
    assert _texts(text) == [
        '"We call on them to withdraw."',
        "Kirby said.",
        '"Is it over?" he asked.',
        "Then he left.",
    ]


def test_headlines_and_captions_without_punctuation_stand_alone() -> None:
    text = (
        "Police seal off village after shooting\n"
        "Officers arrived at dawn. Nobody was hurt.\n"
        "Sign up for our newsletter"
    )
    assert _texts(text) == [
        "Police seal off village after shooting",
        "Officers arrived at dawn.",
        "Nobody was hurt.",
        "Sign up for our newsletter",
    ]


def test_blank_lines_separate_paragraphs() -> None:
    text = "First one. Second one.\n\nThird one.\n\n\nFourth one"
    sentences = split_sentences(text)
    assert [s.paragraph for s in sentences] == [0, 0, 1, 2]
    assert [s.index for s in sentences] == [0, 1, 2, 3]


def test_hard_wrapped_prose_is_joined() -> None:
    text = (
        "The convoy left the town early in the morning and drove north along\n"
        "the river road, where it was stopped by a crowd of local residents who\n"
        "demanded to know where it was going. The drivers turned back before noon.\n"
    )
    sentences = split_sentences(text)
    assert len(sentences) == 2
    assert sentences[0].text.startswith("The convoy") and sentences[0].text.endswith("going.")
    assert sentences[0].paragraph == sentences[1].paragraph


def test_numbers_and_initials() -> None:
    text = "The toll rose to 3.5 percent, said John F. Kennedy Jr. on Monday. It fell again."
    assert _texts(text) == [
        "The toll rose to 3.5 percent, said John F. Kennedy Jr. on Monday.",
        "It fell again.",
    ]


_ALPHABET = st.sampled_from([*"ab AB.?!\n\"”’'U.S", "Mr.", "Sept.", " the ", "\n\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_property_offsets_ordered_and_covering(text: str) -> None:
    sentences = split_sentences(text)
    last_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert s.start >= last_end and s.end > s.start
        last_end = s.end
    covered = set()
    for s in sentences:
        covered.update(range(s.start, s.end))
    for i, ch in enumerate(text):
        if ch.isalnum():
            assert i in covered, (text, i)
