"""Find date expressions in English news text and resolve them to calendar ranges.

Why: events need dates, and articles mostly say "on Sunday", "last week" or
"Sept. 24" rather than a full calendar date, so every expression is resolved
against the article's publication date.

Reading conventions (the events stage relies on them):

* Spans cover the temporal phrase itself. A plain leading preposition ("on",
  "in", "over", "since") is context, not part of the span; determiners and
  modifiers that change the meaning are ("the past week", "last Sunday",
  "earlier this year", "mid-2023"). A possessive "'s" is left out.
* Weeks run Monday..Sunday (ISO). "last week" is the previous calendar week;
  "the past week" is the seven days up to publication.
* A day or month named without a year takes the latest year that puts it no
  more than ``_FUTURE_GRACE_DAYS`` after publication.
* "May", "March" and "Mar" are months only when capitalised, so "officials
  may" and "a march" are never dates. "April", "May", "June" and "August"
  alone (no day or year) followed by a capitalised word are read as a
  person's name ("By April Rubin").
* "every Friday" is a habit, not a date, and is skipped.
* A weekday right before a newspaper noun ("Sunday Times") or after a
  named-day word ("Good Friday", "Bloody Sunday") is a name, not a date, and is
  skipped; so is "Today" right after a capitalised word ("USA Today").
* A bare four-digit number is a year only in year context (after "in",
  "since", "the", a possessive, ...; in a range; or with a month). Counts in
  news style carry a thousands comma ("4,500"), and "(c)2023" lines have no
  context, so neither is read as a year.
* Times of day and numeric dates other than ISO ("24/09/2023" is ambiguous
  between day-first and month-first) are not emitted.

``kind`` is one of ``absolute`` (a calendar day), ``month`` (a named month),
``year`` (numeric years, ranges, decades), ``weekday``, ``relative`` (deictic
units: today, yesterday, N days ago, last week/month/year, the weekend) and
``span`` (windows reaching publication: the past week, recent months, earlier
this year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from geo.models import DateMention, TimePrecision
from geo.scan import Anchored, AnchoredSet, LiteralCue, WordIndex, lowered

__all__ = ["date_anchors", "find_dates"]

# A date named without a year may lie this many days after publication
# ("talks on Oct. 2" in a Sept. 29 article); later ones belong to last year.
_FUTURE_GRACE_DAYS = 7
# Default count for vague plurals: "recent months", "the past few weeks".
_VAGUE_COUNT = 3

_MONTH_FULL = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTH_ABBR = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTHS = {name: i for i, name in enumerate(_MONTH_FULL, start=1)} | _MONTH_ABBR
# Month words that are also ordinary English words: months only if capitalised.
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "mar"})
# Months that are common given names: alone before a capitalised word, a name.
_NAME_MONTHS = frozenset({"april", "may", "june", "august"})

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NUMBER = {name: i for i, name in enumerate(_WEEKDAYS)}
# "Sunday Times", "Sunday Telegraph": outlet names, not dates.
_OUTLET_NOUNS = (
    "Times", "Telegraph", "Express", "Mirror", "Mail", "Post", "Herald",
    "Independent", "Tribune", "Star", "Observer", "World", "Sport", "Business",
)  # fmt: skip
# "Good Friday", "Bloody Sunday": named days (and agreements), not anchors.
_NAMED_DAY_WORDS = (
    "Good", "Black", "Holy", "Bloody", "Ash", "Cyber", "Easter", "Palm",
    "Maundy", "Super", "Whit", "Low", "Mothering",
)  # fmt: skip

_NUMBER_WORDS: dict[str, tuple[int, int]] = {
    "a": (1, 1), "an": (1, 1), "one": (1, 1), "two": (2, 2), "three": (3, 3),
    "four": (4, 4), "five": (5, 5), "six": (6, 6), "seven": (7, 7),
    "eight": (8, 8), "nine": (9, 9), "ten": (10, 10), "eleven": (11, 11),
    "twelve": (12, 12), "fifteen": (15, 15), "twenty": (20, 20),
    "thirty": (30, 30), "a few": (2, 4), "few": (2, 4), "several": (3, 6),
    "a couple of": (2, 2), "couple of": (2, 2),
}  # fmt: skip

# ---------------------------------------------------------------- regex parts
# Every repetition is bounded, so each match attempt does bounded work and a
# whole scan stays linear in the text length.
_S = r"[^\S\n]{1,3}"  # one to three blanks, never across a line break
_HY = r"[-\u2010\u2011]"  # hyphen in "mid-May"
_DASH = r"[ ]?[-\u2010-\u2015\u2212][ ]?"  # range dash, hyphen to em dash
_YEAR = r"(?:1[0-9]{3}|2[01][0-9]{2})(?![0-9])"  # 1000..2199
_DAY = r"(?:3[01]|[12][0-9]|0?[1-9])(?![0-9])"
_ORD = r"(?:st|nd|rd|th)?"
_END = r"(?![\w%]|[.,:][0-9])"  # not glued to a word, percent, decimal or time
_WD = "(?P<wd>" + "|".join(_WEEKDAYS) + r")(?!\w)"
_MODS = r"(?P<mod>early|mid|late)(?:" + _HY + "|" + _S + ")"
_NUM = "|".join(
    [r"[0-9]{1,3}"] + [w.replace(" ", _S) for w in sorted(_NUMBER_WORDS, key=len, reverse=True)]
)
_UNITS = r"hours?|days?|weeks?|months?|years?|decades?"


def _month(group: str) -> str:
    """A month token; abbreviations may carry a full stop ("Sept.")."""
    full = "|".join(sorted(_MONTH_FULL, key=len, reverse=True))
    abbr = "|".join(sorted(_MONTH_ABBR, key=len, reverse=True))
    return rf"(?P<{group}>(?:{full})(?!\w)|(?:{abbr})(?:\.|(?!\w)))"


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_ISO_RE = _compile(
    r"(?<![\w.:/-])(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![0-9]|[-.][0-9])"
)
_MDY_RE = _compile(
    rf"(?<!\w)(?:{_WD},?{_S})?{_month('m')}{_S}(?P<day>{_DAY}){_ORD}"
    rf"(?:{_DASH}(?P<day2>{_DAY}){_ORD})?(?:,?{_S}(?P<year>{_YEAR}))?{_END}"
)
_DMY_RE = _compile(
    rf"(?<![\w.,:/])(?:{_WD},?{_S})?(?:the{_S})?(?P<day>{_DAY}){_ORD}"
    rf"(?:{_DASH}(?P<day2>{_DAY}){_ORD})?{_S}(?:of{_S})?{_month('m')}"
    rf"(?:,?{_S}(?P<year>{_YEAR}))?{_END}"
)
_ORDINAL_DAY_RE = _compile(
    rf"(?<!\w)on{_S}(?P<span>the{_S}(?P<day>{_DAY})(?:st|nd|rd|th))"
    rf"(?=[^\S\n]{{0,3}}(?:[.,;:!?)\]\"”’\n]|\Z|(?:and|or|when|at|in|as|after|before|but)(?!\w)))"
)
_MONTH_YEAR_RE = _compile(
    rf"(?<!\w)(?:{_MODS})?{_month('m')}(?:,?{_S}|{_S}of{_S})(?P<year>{_YEAR}){_END}"
)
_MONTH_ONLY_RE = _compile(
    rf"(?<!\w)(?P<span>(?:(?P<mod>early|mid|late|last|this|next)(?:{_HY}|{_S}))?{_month('m')})"
    rf"(?!\w)(?P<after>{_S}(?-i:[A-Z][a-z]))?"
)
# Checked just before a match rather than inside the scan: anchoring the scan
# on the month or year itself keeps it fast.
_MONTH_CONTEXT_BEFORE_RE = _compile(
    r"(?<!\w)(?:in|since|during|until|till|by|from|through|throughout|before|after|of|between)"
    rf"{_S}\Z"
)
_WEEKDAY_RE = _compile(
    rf"(?<!\w)(?:(?P<mod>this{_S}past|last|this|next|past|previous|coming){_S})?{_WD}"
    rf"(?:{_S}(?P<part>morning|afternoon|evening|night|overnight)(?!\w))?"
)
_RELATIVE_DAY_RE = _compile(
    rf"(?<!\w)(?:(?P<mod>earlier|later|early|late){_S})?(?P<w>today|tonight|yesterday|"
    rf"tomorrow|last{_S}(?:night|evening)|this{_S}(?:morning|afternoon|evening)|"
    rf"the{_S}day{_S}before{_S}yesterday|the{_S}day{_S}after{_S}tomorrow|"
    rf"the{_S}day{_S}before(?=[^\S\n]{{0,3}}(?:[.,;:!?)\]\"”’\n]|\Z)))(?!\w)"
)
_WEEKEND_RE = _compile(
    rf"(?<!\w)(?P<mod>the|this|last|next|coming)(?P<past>{_S}past)?{_S}weekend(?!\w)"
)
_UNIT_RE = _compile(
    rf"(?<!\w)(?:(?P<det>the|this){_S})?(?P<mod>past|last|previous|recent|next|coming|this)"
    rf"{_S}(?:(?P<n>{_NUM}){_S})?(?P<unit>{_UNITS})(?!\w)"
)
_PART_OF_UNIT_RE = _compile(
    rf"(?<!\w)(?P<mod>earlier|later|early|mid|late)(?:{_HY}|{_S})(?:in{_S})?"
    rf"(?P<which>this|last|next|the){_S}(?P<unit>week|month|year)(?!\w)"
)
_AGO_RE = _compile(
    rf"(?<![\w.,])(?P<n>{_NUM})(?:{_S}(?:or|to){_S}(?P<n2>{_NUM})|{_DASH}(?P<n3>[0-9]{{1,3}}))?"
    rf"{_S}(?P<unit>{_UNITS}){_S}ago(?!\w)"
)
_YEAR_RANGE_RE = _compile(
    rf"(?<![\w.,:/$€£\-\u2010-\u2015])(?P<y1>{_YEAR})(?P<sep>{_DASH}|/)(?P<y2>[0-9]{{4}}|[0-9]{{2}})"
    r"(?![\w/\-\u2010-\u2015])"
)
_YEAR_PAIR_RE = _compile(
    rf"(?<!\w)(?:between{_S}(?P<a>{_YEAR}){_S}and|from{_S}(?P<b>{_YEAR}){_S}"
    rf"(?:to|until|till|through))(?:{_S}(?:the{_S}end{_S}of))?{_S}(?P<y2>{_YEAR})"
)
_DECADE_RE = _compile(rf"(?<![\w'’])(?:{_MODS})?(?P<dec>1[0-9]{{2}}0|2[01][0-9]0)['’]?s(?!\w)")
_CONTEXT_YEAR_RE = _compile(
    rf"(?:(?<!\w){_MODS})?(?<![\w.,$€£])(?P<year>{_YEAR})(?![\w%]|[.,:][0-9]|[-\u2010-\u2015/]\w)"
)
_YEAR_CONTEXT_BEFORE_RE = _compile(
    r"(?:(?<!\w)(?:in|since|by|from|until|till|through|throughout|during|before|after|of|the|a|"
    rf"year|summer|spring|autumn|fall|winter)|(?<=\w)['’]s){_S}\Z"
)
_CONTEXT_WINDOW = 16  # characters before a match searched for its context word
_OUTLET_AFTER_RE = re.compile(_S + "(?:" + "|".join(_OUTLET_NOUNS) + r")(?!\w)")
_NAMED_DAY_BEFORE_RE = re.compile("(?:" + "|".join(_NAMED_DAY_WORDS) + ")" + _S + r"\Z")
_HABITUAL_BEFORE_RE = _compile(r"(?<!\w)(?:every|each)" + _S + r"\Z")  # "every Friday"
_CAPITALISED_BEFORE_RE = re.compile(r"[A-Z][\w.]*" + _S + r"\Z")


# ------------------------------------------------------------ date arithmetic
class _Cand(NamedTuple):
    start: int
    end: int
    date: dt.date
    date_end: dt.date
    precision: TimePrecision
    kind: str


def _month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1), dt.date(year, month, last)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Shift by whole months, clamping the day ("May 31" - 3 months = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def _week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _unit_bounds(day: dt.date, unit: str, offset: int) -> tuple[dt.date, dt.date]:
    """The calendar week/month/year ``offset`` units away from ``day``."""
    if unit == "week":
        return _week_bounds(day + dt.timedelta(weeks=offset))
    if unit == "month":
        shifted = _add_months(day, offset)
        return _month_bounds(shifted.year, shifted.month)
    return dt.date(day.year + offset, 1, 1), dt.date(day.year + offset, 12, 31)


def _shift(day: dt.date, unit: str, amount: int) -> dt.date:
    """``day`` moved by ``amount`` units (negative: back in time)."""
    if unit == "hour":
        return day + dt.timedelta(days=-((-amount) // 24) if amount < 0 else amount // 24)
    if unit == "day":
        return day + dt.timedelta(days=amount)
    if unit == "week":
        return day + dt.timedelta(weeks=amount)
    if unit == "month":
        return _add_months(day, amount)
    if unit == "decade":
        return _add_months(day, 120 * amount)
    return _add_months(day, 12 * amount)


def _part(
    start: dt.date, end: dt.date, mod: str, *, by_month: bool = False
) -> tuple[dt.date, dt.date]:
    """The early/mid/late third of an inclusive range (a year splits by months)."""
    if by_month:
        first = {"early": 1, "mid": 5, "late": 9}[mod]
        return dt.date(start.year, first, 1), _month_bounds(start.year, first + 3)[1]
    days = (end - start).days + 1
    cut1, cut2 = days // 3, 2 * days // 3
    if mod == "early":
        return start, start + dt.timedelta(days=cut1 - 1)
    if mod == "mid":
        return start + dt.timedelta(days=cut1), start + dt.timedelta(days=cut2 - 1)
    return start + dt.timedelta(days=cut2), end


def _latest_not_after(candidates: Iterable[dt.date], published: dt.date) -> dt.date | None:
    """The latest candidate no more than the grace period after publication."""
    limit = published + dt.timedelta(days=_FUTURE_GRACE_DAYS)
    eligible = [d for d in candidates if d <= limit]
    return max(eligible) if eligible else None


def _day_without_year(month: int, day: int, published: dt.date) -> dt.date | None:
    options = []
    for year in range(published.year + 1, published.year - 5, -1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            continue  # Feb 29 outside leap years, year out of range
    return _latest_not_after(options, published)


def _window(m: re.Match[str]) -> int:
    return max(0, m.start() - _CONTEXT_WINDOW)


def _norm(token: str) -> str:
    """Case- and blank-insensitive key for the word tables."""
    return " ".join(token.split()).casefold().rstrip(".")


def _month_number(token: str) -> int | None:
    key = _norm(token)
    if key in _AMBIGUOUS_MONTHS and not token[:1].isupper():
        return None
    return _MONTHS.get(key)


def _count(token: str | None) -> tuple[int, int] | None:
    if token is None:
        return None
    if token.isascii() and token.isdigit():
        return int(token), int(token)
    return _NUMBER_WORDS.get(_norm(token))


def _precision(unit: str, start: dt.date, end: dt.date) -> TimePrecision:
    if start == end:
        return "day"
    if unit in ("hour", "day", "week"):
        return "week"
    if unit == "month":
        return "month"
    return "year"


# ------------------------------------------------------------------ resolvers
_Resolver = Callable[[re.Match[str], dt.date | None], _Cand | None]


def _absolute(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """Month-day or day-month, with optional weekday, day range and year."""
    month = _month_number(m["m"])
    if month is None:
        return None
    day = int(m["day"])
    if m["year"]:
        start = dt.date(int(m["year"]), month, day)
    elif published is not None:
        found = _day_without_year(month, day, published)
        if found is None:
            return None
        start = found
    else:
        return None
    if m["day2"]:
        end = dt.date(start.year, month, int(m["day2"]))
        if end <= start:
            return None
        precision: TimePrecision = "week" if (end - start).days < 7 else "month"
        return _Cand(m.start(), m.end(), start, end, precision, "absolute")
    return _Cand(m.start(), m.end(), start, start, "day", "absolute")


def _iso(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    return _Cand(m.start(), m.end(), day, day, "day", "absolute")


def _ordinal_day(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """Day of month alone ("on the 24th"): the latest such day of a recent month."""
    if published is None:
        return None
    day = int(m["day"])
    options = []
    for back in range(-1, 4):
        first = _add_months(published.replace(day=1), -back)
        try:
            options.append(first.replace(day=day))
        except ValueError:
            continue
    found = _latest_not_after(options, published)
    if found is None:
        return None
    return _Cand(m.start("span"), m.end("span"), found, found, "day", "absolute")


def _month_year(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    month = _month_number(m["m"])
    if month is None:
        return None
    start, end = _month_bounds(int(m["year"]), month)
    if m["mod"]:
        start, end = _part(start, end, _norm(m["mod"]))
    return _Cand(m.start(), m.end(), start, end, "month", "month")


def _month_only(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """A month named without day or year: needs a preposition or modifier."""
    mod = _norm(m["mod"]) if m["mod"] else None
    key = _norm(m["m"])
    month = _month_number(m["m"])
    if month is None or published is None:
        return None
    if not (mod or _MONTH_CONTEXT_BEFORE_RE.search(m.string, _window(m), m.start())):
        return None
    if mod is None and key in _NAME_MONTHS and m["after"]:
        return None  # "by April Rubin": a name
    starts = [dt.date(y, month, 1) for y in range(published.year + 1, published.year - 2, -1)]
    this_month = published.replace(day=1)
    if mod == "last":
        found = max((d for d in starts if d < this_month), default=None)
    elif mod == "next":
        found = min((d for d in starts if d > this_month), default=None)
    elif mod == "this":
        found = dt.date(published.year, month, 1)
    else:
        found = _latest_not_after(starts, published)
    if found is None:
        return None
    start, end = _month_bounds(found.year, found.month)
    if mod in ("early", "mid", "late"):
        start, end = _part(start, end, mod)
    return _Cand(m.start("span"), m.end("span"), start, end, "month", "month")


def _weekday(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """The most recent such day not after publication ("last": strictly before)."""
    text = m.string
    if _OUTLET_AFTER_RE.match(text, m.end("wd")) and not m["part"]:
        return None
    if _NAMED_DAY_BEFORE_RE.search(text, _window(m), m.start()):
        return None
    if _HABITUAL_BEFORE_RE.search(text, _window(m), m.start()):
        return None
    if published is None:
        return None
    target = _WEEKDAY_NUMBER.get(_norm(m["wd"]))
    if target is None:
        return None
    mod = _norm(m["mod"]) if m["mod"] else ""
    if mod == "this":
        day = _week_bounds(published)[0] + dt.timedelta(days=target)
    elif mod in ("next", "coming"):
        day = published + dt.timedelta(days=(target - published.weekday()) % 7 or 7)
    else:
        back = (published.weekday() - target) % 7
        if mod and back == 0:  # "last Friday" on a Friday is a week ago
            back = 7
        day = published - dt.timedelta(days=back)
    return _Cand(m.start(), m.end(), day, day, "day", "weekday")


_RELATIVE_DAY_OFFSETS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "yesterday": -1,
    "last night": -1,
    "last evening": -1,
    "the day before": -1,
    "the day before yesterday": -2,
    "tomorrow": 1,
    "the day after tomorrow": 2,
}


def _relative_day(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    offset = _RELATIVE_DAY_OFFSETS.get(_norm(m["w"]))
    if offset is None or published is None:
        return None
    text = m.string
    if m["w"] == "Today" and _CAPITALISED_BEFORE_RE.search(text, max(0, m.start() - 40), m.start()):
        return None  # "USA Today"
    day = published + dt.timedelta(days=offset)
    return _Cand(m.start(), m.end(), day, day, "day", "relative")


def _weekend(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """Saturday..Sunday: the most recent one unless "next"/"this"/"last" says otherwise."""
    if published is None:
        return None
    mod = _norm(m["mod"])
    last_saturday = published - dt.timedelta(days=(published.weekday() - 5) % 7)
    if m["past"]:
        saturday = last_saturday
    elif mod == "this":
        saturday = _week_bounds(published)[0] + dt.timedelta(days=5)
    elif mod in ("next", "coming"):
        saturday = last_saturday + dt.timedelta(days=7)
    elif mod == "last" and published.weekday() >= 5:
        saturday = last_saturday - dt.timedelta(days=7)  # on a weekend, the one before
    else:
        saturday = last_saturday
    return _Cand(m.start(), m.end(), saturday, saturday + dt.timedelta(days=1), "week", "relative")


def _unit_phrase(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """A calendar unit ("last week") or a window ("the past two weeks", "recent months")."""
    if published is None:
        return None
    det = _norm(m["det"]) if m["det"] else ""
    mod = _norm(m["mod"])
    word = _norm(m["unit"])
    unit = word.removesuffix("s")
    plural = word != unit
    count = _count(m["n"])
    if m["n"] and count is None:
        return None
    if det == "this" and mod != "past":
        return None  # "this this week"
    if not det and count is None and not plural and mod in ("last", "this", "next"):
        if unit not in ("week", "month", "year"):
            return None  # "last day", "next hour": not a calendar unit
        offset = {"last": -1, "this": 0, "next": 1}[mod]
        start, end = _unit_bounds(published, unit, offset)
        return _Cand(m.start(), m.end(), start, end, _precision(unit, start, end), "relative")
    if mod == "this" or (mod == "recent" and (not plural or count)):
        return None
    if unit == "day" and not plural and count is None and mod != "past":
        return None  # "the next day", "the previous day": relative to the story
    amount = count[1] if count else (_VAGUE_COUNT if plural else 1)
    if mod in ("next", "coming"):
        start, end = published, _shift(published, unit, amount)
    else:
        start, end = _shift(published, unit, -amount), published
    return _Cand(m.start(), m.end(), start, end, _precision(unit, start, end), "span")


def _part_of_unit(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """Part of a unit: "earlier this year" (up to publication), "late last month" (a third)."""
    if published is None:
        return None
    mod = _norm(m["mod"])
    which = _norm(m["which"])
    unit = _norm(m["unit"])
    offset = {"last": -1, "next": 1}.get(which, 0)
    start, end = _unit_bounds(published, unit, offset)
    if offset == 0 and mod in ("earlier", "later"):
        if mod == "earlier":
            end = published
        else:
            start = published
        return _Cand(m.start(), m.end(), start, end, _precision(unit, start, end), "span")
    third = {"earlier": "early", "later": "late"}.get(mod, mod)
    start, end = _part(start, end, third, by_month=unit == "year")
    return _Cand(m.start(), m.end(), start, end, _precision(unit, start, end), "relative")


def _ago(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """Counted back: "two days ago" (a day), "two or three months ago" (calendar months)."""
    if published is None:
        return None
    low = _count(m["n"])
    high = _count(m["n2"] or m["n3"]) if (m["n2"] or m["n3"]) else low
    if low is None or high is None:
        return None
    lo, hi = min(low[0], high[0]), max(low[1], high[1])
    unit = _norm(m["unit"]).removesuffix("s")
    if unit in ("hour", "day"):
        start, end = _shift(published, unit, -hi), _shift(published, unit, -lo)
    elif unit == "week":
        start, end = (
            _week_bounds(_shift(published, unit, -hi))[0],
            _week_bounds(_shift(published, unit, -lo))[1],
        )
    elif unit == "month":
        start = _unit_bounds(published, "month", -hi)[0]
        end = _unit_bounds(published, "month", -lo)[1]
    else:
        years = 10 if unit == "decade" else 1
        start = dt.date(published.year - hi * years, 1, 1)
        end = dt.date(published.year - lo * years, 12, 31)
    return _Cand(m.start(), m.end(), start, end, _precision(unit, start, end), "relative")


def _year_span(m: re.Match[str], first: int, last: int) -> _Cand:
    return _Cand(m.start(), m.end(), dt.date(first, 1, 1), dt.date(last, 12, 31), "year", "year")


def _year_range(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """A numeric year range: "1998–1999", "1998-99", "2022/23"."""
    first, tail = int(m["y1"]), m["y2"]
    if len(tail) == 4:
        last, limit = int(tail), 100
    else:
        last = first - first % 100 + int(tail)
        if last <= first:
            last += 100
        limit = 10
    if not first < last <= first + limit or last > 9999:
        return None
    return _year_span(m, first, last)


def _year_pair(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    first, last = int(m["a"] or m["b"]), int(m["y2"])
    return _year_span(m, first, last) if first < last else None


def _decade(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    first = int(m["dec"])
    if m["mod"]:
        first, last = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}[_norm(m["mod"])]
        return _year_span(m, int(m["dec"]) + first, int(m["dec"]) + last)
    return _year_span(m, first, first + 9)


def _context_year(m: re.Match[str], published: dt.date | None) -> _Cand | None:
    """A bare year after a year-context word or possessive, or "early 2023"."""
    if not (m["mod"] or _YEAR_CONTEXT_BEFORE_RE.search(m.string, _window(m), m.start())):
        return None
    year = int(m["year"])
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if m["mod"]:
        start, end = _part(start, end, _norm(m["mod"]), by_month=True)
    return _Cand(m.start(), m.end(), start, end, "year", "year")


# Order breaks ties between equally long overlapping readings: earlier wins.
_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (_ISO_RE, _iso),
    (_MDY_RE, _absolute),
    (_DMY_RE, _absolute),
    (_ORDINAL_DAY_RE, _ordinal_day),
    (_MONTH_YEAR_RE, _month_year),
    (_YEAR_PAIR_RE, _year_pair),
    (_YEAR_RANGE_RE, _year_range),
    (_DECADE_RE, _decade),
    (_PART_OF_UNIT_RE, _part_of_unit),
    (_UNIT_RE, _unit_phrase),
    (_WEEKEND_RE, _weekend),
    (_AGO_RE, _ago),
    (_RELATIVE_DAY_RE, _relative_day),
    (_WEEKDAY_RE, _weekday),
    (_MONTH_ONLY_RE, _month_only),
    (_CONTEXT_YEAR_RE, _context_year),
)


# Patterns that open with common words ("a", "the", "last") but whose every match
# holds a word that is rare in news text ("ago", "weekend"): tried only near it.
_CUED = (_WEEKEND_RE, _AGO_RE)


@functools.cache
def _cues() -> tuple[LiteralCue | None, ...]:
    """Per rule, its :class:`~geo.scan.LiteralCue` if it is one of ``_CUED``."""
    return tuple(LiteralCue.of(pattern) if pattern in _CUED else None for pattern, _ in _RULES)


@functools.cache
def date_anchors() -> AnchoredSet:
    """The rule patterns with their word-start tables (see :mod:`geo.scan`): every
    date expression starts a word, so each pattern is tried only where one of its
    first words can begin; the matches are exactly those of a full scan."""
    return AnchoredSet([Anchored(pattern) for pattern, _ in _RULES])


# ------------------------------------------------------------------ selection
def _longest_first(cluster: list[tuple[_Cand, int]]) -> list[_Cand]:
    """Greedy longest-match among mutually overlapping candidates."""
    chosen: list[_Cand] = []
    ordered = sorted(cluster, key=lambda cr: (cr[0].start - cr[0].end, cr[0].start, cr[1]))
    for cand, _rank in ordered:
        if all(cand.end <= c.start or c.end <= cand.start for c in chosen):
            chosen.append(cand)
    return sorted(chosen)


def _select(cands: list[tuple[_Cand, int]]) -> list[_Cand]:
    """Non-overlapping candidates, longest first, in text order.

    Overlaps are settled within clusters of chained overlapping spans, so the
    work stays near-linear however many candidates the text yields.
    """
    cands.sort(key=lambda cr: (cr[0].start, cr[0].end))
    out: list[_Cand] = []
    i = 0
    while i < len(cands):
        j, reach = i + 1, cands[i][0].end
        while j < len(cands) and cands[j][0].start < reach:
            reach = max(reach, cands[j][0].end)
            j += 1
        if j == i + 1:
            out.append(cands[i][0])
        else:
            out.extend(_longest_first(cands[i:j]))
        i = j
    return out


def _valid(cand: _Cand) -> bool:
    if not cand.start < cand.end or cand.date > cand.date_end:
        return False
    return cand.precision != "day" or cand.date == cand.date_end


def find_dates(
    text: str, *, published: dt.date | None, index: WordIndex | None = None
) -> list[DateMention]:
    """Every date expression in ``text``, resolved against ``published``.

    Sorted by start and non-overlapping (the longest reading wins). Without a
    publication date only expressions that carry their own year resolve.
    Never raises on any string: an expression that cannot be resolved
    (impossible day, date out of range) is skipped. ``index`` is the
    :class:`~geo.scan.WordIndex` of ``text`` if the caller has one.
    """
    if isinstance(published, dt.datetime):
        published = published.date()
    cands: list[tuple[_Cand, int]] = []
    if index is None or index.text != text:
        index = WordIndex(text)
    anchored = date_anchors()
    low: str | None = None  # lowered(text), once a cued pattern asks
    low_done = False
    for rank, (pattern, starts, cue) in enumerate(zip(anchored.patterns, anchored.starts(index),
                                                      _cues(), strict=True)):
        if starts == []:
            continue  # no word where it could start
        resolve = _RULES[rank][1]
        if cue is not None and starts is not None:
            if not low_done:
                low, low_done = lowered(text), True
            starts = cue.keep(text, low, starts)
        for m in pattern.finditer(index, starts=starts):
            try:
                cand = resolve(m, published)
            except (ValueError, OverflowError):
                continue  # "February 30", a year beyond the calendar
            if cand is not None and _valid(cand):
                cands.append((cand, rank))
    return [
        DateMention(
            text=text[c.start : c.end],
            start=c.start,
            end=c.end,
            date=c.date,
            date_end=c.date_end,
            precision=c.precision,
            kind=c.kind,
        )
        for c in _select(cands)
    ]
