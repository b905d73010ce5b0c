"""Date expressions: finding, resolving against publication, and robustness."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.dates import find_dates
from geo.models import DateMention

FRI = dt.date(2023, 9, 29)  # a Friday, the seeds' publication date
MON = dt.date(2023, 10, 2)  # a Monday
JAN3 = dt.date(2024, 1, 3)  # a Wednesday just after New Year: year rollover

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

Row = tuple[str, str, str, str, str]


def day(text: str, iso: str, kind: str) -> Row:
    return (text, iso, iso, "day", kind)


def rng(text: str, start: str, end: str, precision: str, kind: str) -> Row:
    return (text, start, end, precision, kind)


def rows(text: str, published: dt.date | None) -> list[Row]:
    found = find_dates(text, published=published)
    for m in found:
        assert text[m.start : m.end] == m.text
    return [
        (m.text, m.date.isoformat(), m.date_end.isoformat(), m.precision, m.kind) for m in found
    ]


CASES: list[tuple[str, dt.date | None, list[Row]]] = [
    # --- absolute days
    ("It happened on Sept. 24 near Banjska.", FRI, [day("Sept. 24", "2023-09-24", "absolute")]),
    ("Sep 24 was quiet.", FRI, [day("Sep 24", "2023-09-24", "absolute")]),
    ("On September 24 police came.", FRI, [day("September 24", "2023-09-24", "absolute")]),
    ("On 24 September police came.", FRI, [day("24 September", "2023-09-24", "absolute")]),
    ("ON SEPTEMBER 24 POLICE CAME", FRI, [day("SEPTEMBER 24", "2023-09-24", "absolute")]),
    ("since sept 24th", FRI, [day("sept 24th", "2023-09-24", "absolute")]),
    ("the 24th of September", FRI, [day("the 24th of September", "2023-09-24", "absolute")]),
    ("Friday, September 29", FRI, [day("Friday, September 29", "2023-09-29", "absolute")]),
    ("Friday, Sept. 29, 2023.", FRI, [day("Friday, Sept. 29, 2023", "2023-09-29", "absolute")]),
    ("on May 30, 2023, a day after", FRI, [day("May 30, 2023", "2023-05-30", "absolute")]),
    ("on 30 May 2023 clashes", FRI, [day("30 May 2023", "2023-05-30", "absolute")]),
    (
        "Thursday 28 September 2023",
        None,
        [day("Thursday 28 September 2023", "2023-09-28", "absolute")],
    ),
    ("filed 2023-09-24T03:00Z", None, [day("2023-09-24", "2023-09-24", "absolute")]),
    ("It began on the 24th, he said.", FRI, [day("the 24th", "2023-09-24", "absolute")]),
    (
        "Talks on 24–26 September",
        FRI,
        [rng("24–26 September", "2023-09-24", "2023-09-26", "week", "absolute")],
    ),
    ("Talks on Oct. 2-3.", FRI, [rng("Oct. 2-3", "2023-10-02", "2023-10-03", "week", "absolute")]),
    # a day a few days after publication stays in the same year; later ones go back a year
    ("talks set for Oct. 4", FRI, [day("Oct. 4", "2023-10-04", "absolute")]),
    ("since Dec. 1", FRI, [day("Dec. 1", "2022-12-01", "absolute")]),
    (
        "on Dec. 30 and Jan. 5",
        JAN3,
        [day("Dec. 30", "2023-12-30", "absolute"), day("Jan. 5", "2024-01-05", "absolute")],
    ),
    ("on Jan. 20", JAN3, [day("Jan. 20", "2023-01-20", "absolute")]),
    # --- months
    (
        "They met in September.",
        FRI,
        [rng("September", "2023-09-01", "2023-09-30", "month", "month")],
    ),
    (
        "in September 2023",
        None,
        [rng("September 2023", "2023-09-01", "2023-09-30", "month", "month")],
    ),
    ("by the end of March", FRI, [rng("March", "2023-03-01", "2023-03-31", "month", "month")]),
    ("in December", JAN3, [rng("December", "2023-12-01", "2023-12-31", "month", "month")]),
    ("in December", MON, [rng("December", "2022-12-01", "2022-12-31", "month", "month")]),
    (
        "in early September",
        FRI,
        [rng("early September", "2023-09-01", "2023-09-10", "month", "month")],
    ),
    (
        "until mid-May 2022",
        None,
        [rng("mid-May 2022", "2022-05-11", "2022-05-20", "month", "month")],
    ),
    ("last September", FRI, [rng("last September", "2022-09-01", "2022-09-30", "month", "month")]),
    ("last month", FRI, [rng("last month", "2023-08-01", "2023-08-31", "month", "relative")]),
    ("this month", FRI, [rng("this month", "2023-09-01", "2023-09-30", "month", "relative")]),
    ("last month", JAN3, [rng("last month", "2023-12-01", "2023-12-31", "month", "relative")]),
    # --- weekdays
    ("a spokesman said on Friday.", FRI, [day("Friday", "2023-09-29", "weekday")]),
    ("said Friday in a statement", FRI, [day("Friday", "2023-09-29", "weekday")]),
    ("After last Sunday's attack", FRI, [day("last Sunday", "2023-09-24", "weekday")]),
    ("last Friday", FRI, [day("last Friday", "2023-09-22", "weekday")]),
    ("killed on Sunday night", FRI, [day("Sunday night", "2023-09-24", "weekday")]),
    ("Sunday's clash", FRI, [day("Sunday", "2023-09-24", "weekday")]),
    ("NATO on Thursday authorized", FRI, [day("Thursday", "2023-09-28", "weekday")]),
    ("Earlier on Friday, NATO acted", FRI, [day("Friday", "2023-09-29", "weekday")]),
    ("on Monday", MON, [day("Monday", "2023-10-02", "weekday")]),
    ("last Monday", MON, [day("last Monday", "2023-09-25", "weekday")]),
    ("on Sunday", JAN3, [day("Sunday", "2023-12-31", "weekday")]),
    ("next Friday", FRI, [day("next Friday", "2023-10-06", "weekday")]),
    ("this past Sunday", MON, [day("this past Sunday", "2023-10-01", "weekday")]),
    # --- relative days and units
    (
        "Today, yesterday and tonight",
        FRI,
        [
            day("Today", "2023-09-29", "relative"),
            day("yesterday", "2023-09-28", "relative"),
            day("tonight", "2023-09-29", "relative"),
        ],
    ),
    ("shelling last night", FRI, [day("last night", "2023-09-28", "relative")]),
    ("as he had said the day before.", FRI, [day("the day before", "2023-09-28", "relative")]),
    ("the day before yesterday", FRI, [day("the day before yesterday", "2023-09-27", "relative")]),
    ("two days ago", FRI, [day("two days ago", "2023-09-27", "relative")]),
    ("36 hours ago", FRI, [day("36 hours ago", "2023-09-28", "relative")]),
    (
        "three weeks ago",
        FRI,
        [rng("three weeks ago", "2023-09-04", "2023-09-10", "week", "relative")],
    ),
    (
        "a few days ago",
        FRI,
        [rng("a few days ago", "2023-09-25", "2023-09-27", "week", "relative")],
    ),
    (
        "two or three months ago",
        FRI,
        [rng("two or three months ago", "2023-06-01", "2023-07-31", "month", "relative")],
    ),
    (
        "two or three months ago",
        JAN3,
        [rng("two or three months ago", "2023-10-01", "2023-11-30", "month", "relative")],
    ),
    (
        "five years ago",
        FRI,
        [rng("five years ago", "2018-01-01", "2018-12-31", "year", "relative")],
    ),
    ("last week", FRI, [rng("last week", "2023-09-18", "2023-09-24", "week", "relative")]),
    ("last week", JAN3, [rng("last week", "2023-12-25", "2023-12-31", "week", "relative")]),
    ("this week", FRI, [rng("this week", "2023-09-25", "2023-10-01", "week", "relative")]),
    ("next week", FRI, [rng("next week", "2023-10-02", "2023-10-08", "week", "relative")]),
    ("last year", FRI, [rng("last year", "2022-01-01", "2022-12-31", "year", "relative")]),
    ("last year", JAN3, [rng("last year", "2023-01-01", "2023-12-31", "year", "relative")]),
    ("over the weekend", FRI, [rng("the weekend", "2023-09-23", "2023-09-24", "week", "relative")]),
    ("over the weekend", MON, [rng("the weekend", "2023-09-30", "2023-10-01", "week", "relative")]),
    ("this weekend", FRI, [rng("this weekend", "2023-09-30", "2023-10-01", "week", "relative")]),
    (
        "early last year",
        FRI,
        [rng("early last year", "2022-01-01", "2022-04-30", "year", "relative")],
    ),
    # --- spans reaching publication
    ("over the past week", FRI, [rng("the past week", "2023-09-22", "2023-09-29", "week", "span")]),
    (
        "in the last three days",
        FRI,
        [rng("the last three days", "2023-09-26", "2023-09-29", "week", "span")],
    ),
    (
        "over the past 24 hours",
        FRI,
        [rng("the past 24 hours", "2023-09-28", "2023-09-29", "week", "span")],
    ),
    ("in recent months", FRI, [rng("recent months", "2023-06-29", "2023-09-29", "month", "span")]),
    ("in recent weeks", FRI, [rng("recent weeks", "2023-09-08", "2023-09-29", "week", "span")]),
    (
        "earlier this year",
        FRI,
        [rng("earlier this year", "2023-01-01", "2023-09-29", "year", "span")],
    ),
    (
        "earlier this month",
        JAN3,
        [rng("earlier this month", "2024-01-01", "2024-01-03", "month", "span")],
    ),
    (
        "later this month",
        FRI,
        [rng("later this month", "2023-09-29", "2023-09-30", "month", "span")],
    ),
    (
        "in the coming weeks",
        FRI,
        [rng("the coming weeks", "2023-09-29", "2023-10-20", "week", "span")],
    ),
    # --- years
    (
        "declared independence in 2008",
        None,
        [rng("2008", "2008-01-01", "2008-12-31", "year", "year")],
    ),
    ("Kosovo’s 2008 declaration", None, [rng("2008", "2008-01-01", "2008-12-31", "year", "year")]),
    ("the 1999 war", None, [rng("1999", "1999-01-01", "1999-12-31", "year", "year")]),
    (
        "a brutal war in 1998–1999",
        None,
        [rng("1998–1999", "1998-01-01", "1999-12-31", "year", "year")],
    ),
    ("the 1998-99 war", None, [rng("1998-99", "1998-01-01", "1999-12-31", "year", "year")]),
    ("the 1999-00 season", None, [rng("1999-00", "1999-01-01", "2000-12-31", "year", "year")]),
    (
        "fighting between 1998 and 1999",
        None,
        [rng("between 1998 and 1999", "1998-01-01", "1999-12-31", "year", "year")],
    ),
    (
        "from 1992 to 1995",
        None,
        [rng("from 1992 to 1995", "1992-01-01", "1995-12-31", "year", "year")],
    ),
    ("in the 1990s", None, [rng("1990s", "1990-01-01", "1999-12-31", "year", "year")]),
    ("the early 2000s", None, [rng("early 2000s", "2000-01-01", "2003-12-31", "year", "year")]),
    ("by mid-2023", None, [rng("mid-2023", "2023-05-01", "2023-08-31", "year", "year")]),
    ("in late 2022", None, [rng("late 2022", "2022-09-01", "2022-12-31", "year", "year")]),
    # --- longest match wins, no overlaps
    (
        "on Friday, Sept. 29, 2023, NATO",
        FRI,
        [day("Friday, Sept. 29, 2023", "2023-09-29", "absolute")],
    ),
    (
        "in September 2023",
        FRI,
        [rng("September 2023", "2023-09-01", "2023-09-30", "month", "month")],
    ),
    ("in the last week", FRI, [rng("the last week", "2023-09-22", "2023-09-29", "week", "span")]),
    ("earlier this year", None, []),
    ("since 2008-09-24", None, [day("2008-09-24", "2008-09-24", "absolute")]),
    # --- without a publication date, anchored expressions are skipped
    (
        "On Sunday, Sept. 24, last week and May 30, 2023",
        None,
        [day("May 30, 2023", "2023-05-30", "absolute")],
    ),
    ("today and in recent months", None, []),
    # --- negatives: verbs, nouns, names, numbers, times, money, impossible dates
    ("Officials may 24 times revisit it; it may rain.", FRI, []),
    ("A march through Pristina; in march formation.", FRI, []),
    ("around 4,500 soldiers, 20 trucks and around 80 others", FRI, []),
    ("at 3:00 AM local time (01:00 GMT)", FRI, []),
    ("it cost $2008 and 2000 rounds", FRI, []),
    ("©2023 Bloomberg L.P.", FRI, []),
    ("a 2000-strong force", FRI, []),
    ("February 30, September 31 and 2023-02-30", FRI, []),
    ("The clash came a day after the vote.", FRI, []),
    ("The Sunday Times and the Good Friday Agreement", FRI, []),
    ("By April Rubin", FRI, []),
    ("USA Today reported", FRI, []),
    ("Fridays are quiet; prayers every Friday", FRI, []),
    # times next to dates do not disturb them
    (
        "around 3:00 AM local time (01:00 GMT) on Sunday, September 24.",
        FRI,
        [
            day("Sunday, September 24", "2023-09-24", "absolute"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "published", "expected"), CASES)
def test_table(text: str, published: dt.date | None, expected: list[Row]) -> None:
    assert rows(text, published) == expected


def test_may_and_march_as_months_when_capitalised() -> None:
    text = "Protests in May and again in March; MAY 1 rally."
    assert [m.text for m in find_dates(text, published=FRI)] == ["May", "March", "MAY 1"]


def test_mentions_sorted_and_disjoint() -> None:
    text = "Sunday, Sept. 24, 2023 and last Sunday and over the past week in 1998–1999 and 2008."
    found = find_dates(text, published=FRI)
    assert len(found) == 4
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start


def test_datetime_published_is_accepted() -> None:
    found = find_dates("on Friday", published=dt.datetime(2023, 9, 29, 18, 30))
    assert [(m.text, m.date) for m in found] == [("Friday", dt.date(2023, 9, 29))]


# ------------------------------------------------------------------ seeds
def _seed(name_prefix: str) -> tuple[str, list[DateMention]]:
    path = next(SEEDS.glob(f"{name_prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    return text, find_dates(text, published=FRI)


def _first(found: list[DateMention], text: str) -> DateMention:
    return next(m for m in found if m.text == text)


def test_seed_articles() -> None:
    all_found: list[DateMention] = []
    for prefix in ("000", "001", "002", "003", "004"):
        text, found = _seed(prefix)
        all_found += found
        for m in found:
            assert text[m.start : m.end] == m.text
        # Every weekday in these Friday articles falls in the week up to publication.
        for m in found:
            if m.kind == "weekday":
                assert dt.date(2023, 9, 23) <= m.date <= FRI, m
        # No time of day ("3:00 AM", "01:00 GMT") is read as a date.
        assert not any(":" in m.text for m in found)

    text, found = _seed("000")
    assert _first(found, "Sunday").date == dt.date(2023, 9, 24)  # "Sunday's clash"
    past = _first(found, "the past week")
    assert (past.date, past.date_end) == (dt.date(2023, 9, 22), FRI)

    text, found = _seed("001")
    war = _first(found, "1998–1999")
    assert (war.date, war.date_end, war.precision) == (
        dt.date(1998, 1, 1),
        dt.date(1999, 12, 31),
        "year",
    )
    ago = _first(found, "two or three months ago")
    assert (ago.date, ago.date_end) == (dt.date(2023, 6, 1), dt.date(2023, 7, 31))
    assert _first(found, "Wednesday").date == dt.date(2023, 9, 27)
    assert _first(found, "2008").kind == "year"

    text, found = _seed("002")
    assert _first(found, "last Sunday").date == dt.date(2023, 9, 24)

    text, found = _seed("003")
    assert _first(found, "Sunday, September 24").date == dt.date(2023, 9, 24)
    assert _first(found, "Sunday night").date == dt.date(2023, 9, 24)
    weekend = _first(found, "the weekend")
    assert (weekend.date, weekend.date_end) == (dt.date(2023, 9, 23), dt.date(2023, 9, 24))

    text, found = _seed("004")
    assert _first(found, "Sept. 24").date == dt.date(2023, 9, 24)
    assert [m.date for m in found if m.text == "May 30, 2023"] == [dt.date(2023, 5, 30)] * 2
    assert _first(found, "Thursday").date == dt.date(2023, 9, 28)
    copyright_at = text.index("©2023")
    assert not any(m.start <= copyright_at + 1 < m.end for m in found)


# ------------------------------------------------------------- properties
_FRAGMENTS = [
    "Sept. 24", "May", "march", " 30, ", "2023", "1998–1999", "-99", "Friday", ", ",
    "last ", "the past ", "week", "weekend", "two or three ", "months ago", "in ",
    "on the 24th", "3:00 AM", "(01:00 GMT)", "4,500", "'s ", "’s ", "mid-", "early ",
    "Sunday Times", "February 30", "9999-12-31", "0000", "2199", " ", "\n", "\u00a0",
    "ſept 24", "K", "İ", "\u202e", "\x00", "🙂", "today", "the day before", ".",
]  # fmt: skip
_date_text = st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map("".join)
_published = st.one_of(st.none(), st.dates())


def _check_invariants(text: str, found: list[DateMention]) -> None:
    previous_end = 0
    for m in found:
        assert text[m.start : m.end] == m.text
        assert previous_end <= m.start < m.end
        previous_end = m.end
        assert m.date <= m.date_end
        if m.precision == "day":
            assert m.date == m.date_end
        assert m.kind in {"absolute", "weekday", "relative", "span", "year", "month"}


@settings(max_examples=300, deadline=None)
@given(text=st.text(), published=_published)
def test_any_text_never_raises(text: str, published: dt.date | None) -> None:
    _check_invariants(text, find_dates(text, published=published))


@settings(max_examples=500, deadline=None)
@given(text=_date_text, published=_published)
def test_date_like_text_keeps_invariants(text: str, published: dt.date | None) -> None:
    _check_invariants(text, find_dates(text, published=published))


def test_empty_and_control_text() -> None:
    assert find_dates("", published=FRI) == []
    assert find_dates("\x00" * 10, published=None) == []
    rtl = "\u05d1\u05d9\u05d5\u05dd \u05e9\u05d9\u05e9\u05d9 on Friday \u202e"
    assert [m.text for m in find_dates(rtl, published=FRI)] == ["Friday"]


@pytest.mark.slow
def test_five_megabyte_pathological_line() -> None:
    # Fragments that start many partial matches but complete few: a regex with
    # catastrophic backtracking would not finish on this.
    unit = "Sept. in the past 1998– 9 9 ’s 2008-  last two or on the 24th mid-,1 "
    text = (unit * (5_000_000 // len(unit) + 1))[:5_000_000]
    _check_invariants(text, find_dates(text, published=FRI))
