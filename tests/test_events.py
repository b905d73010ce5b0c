"""Per-article extraction on original test texts (tests/data/events/) and short prose.

None of these texts is a seed article: they exercise the general mechanisms
(triggers, statement dates, history, denials, actors, fatalities, borders).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo import gazetteer as gz
from geo.corpus import article_from_text
from geo.errors import RulesError
from geo.events import extract_events, load_rules, word_regex
from geo.models import Article, Event

DATA = Path(__file__).resolve().parent / "data" / "events"


def _article(text: str, published: dt.date | None, name: str = "test.txt") -> Article:
    return article_from_text(text, name=name, outlet="test", published=published)


def _fixture(name: str, published: dt.date) -> Article:
    return _article((DATA / name).read_text(encoding="utf-8"), published, name)


def _events(text: str, published: dt.date | None = dt.date(2024, 3, 16)) -> list[Event]:
    return extract_events(_article(text, published))


def _only(events: list[Event], layer: str) -> Event:
    found = [e for e in events if e.layer == layer]
    assert len(found) == 1, [(e.layer, e.event_type, e.summary) for e in events]
    return found[0]


def _assert_quotes_exact(article: Article, events: list[Event]) -> None:
    for e in events:
        for s in e.sources:
            assert article.text[s.start : s.end] == s.quote
        for d in e.disputed_by:
            assert article.text[d.start : d.end] == d.quote


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(lat2 - lat1), radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * 6371 * asin(sqrt(a))


# --------------------------------------------------------------------------- fixtures


def test_ambush_near_a_crossing_is_one_dated_placed_incident() -> None:
    art = _fixture("checkpoint_attack.txt", dt.date(2024, 3, 12))
    events = extract_events(art)
    _assert_quotes_exact(art, events)
    violent = [e for e in events if e.layer == "incidents" and e.event_type != "arrests"]
    assert len(violent) == 1
    ev = violent[0]
    # "late on Monday" (not "police said on Tuesday") relative to Tuesday 12 March.
    assert (ev.date, ev.date_end, ev.time_precision) == (dt.date(2024, 3, 11),) * 2 + ("day",)
    assert ev.place_id == "cur:jarinje" and ev.geo_precision == 2  # "near the village of"
    assert ev.fatalities == 2  # one officer killed + one assailant found dead
    assert "Kosovo police" in ev.actors
    assert ev.acled_event_type == "Battles"
    # Four sentences report it; the 1999 background sentence does not.
    assert len(ev.sources) == 4
    assert not any("1999" in s.quote for e in events for s in e.sources)
    assert all(e.date.year == 2024 for e in events)


def test_arrests_elsewhere_are_their_own_event() -> None:
    events = extract_events(_fixture("checkpoint_attack.txt", dt.date(2024, 3, 12)))
    arrests = [e for e in events if e.event_type == "arrests"]
    assert len(arrests) == 1
    assert arrests[0].date == dt.date(2024, 3, 12)
    assert arrests[0].acled_sub_event_type == "Arrests"
    assert "Leposavi" in arrests[0].place


def test_buildup_along_a_border_is_a_band_on_the_actor_side_and_disputed() -> None:
    art = _fixture("border_buildup.txt", dt.date(2024, 3, 12))
    events = extract_events(art)
    _assert_quotes_exact(art, events)
    ev = _only(events, "troop_positions")
    assert ev.event_type == "military_buildup"
    assert ev.place_id.startswith("border:")
    # "over the past two weeks" before Thursday 7 March ... as a span ending on publication
    assert ev.time_precision == "week" and ev.date <= dt.date(2024, 3, 1)
    g = gz.load()
    ru, ua = g.country("RU"), g.country("UA")
    assert ru is not None and ua is not None and ru.geometry is not None
    assert ev.geometry.geom_type in ("Polygon", "MultiPolygon")
    point = ev.geometry.representative_point()
    assert ru.geometry.buffer(0.02).contains(point)
    assert not ua.geometry.contains(point)
    assert ev.geometry.area < 10  # a strip, not a country
    assert [d.who for d in ev.disputed_by] == ["Russia"]
    assert "denied" in ev.disputed_by[0].quote
    assert all("denied" not in s.quote for s in ev.sources)


def test_phone_call_is_placed_at_both_capitals() -> None:
    art = _fixture("leaders_call.txt", dt.date(2024, 3, 12))
    events = extract_events(art)
    call = next(e for e in events if e.event_type == "phone_call")
    assert call.date == dt.date(2024, 3, 6)  # "on Wednesday" before Tuesday 12 March
    assert call.actors == ["Emmanuel Macron (FR)", "Olaf Scholz (DE)"]
    assert call.geometry.geom_type == "MultiPoint"
    pts = sorted((p.x, p.y) for p in call.geometry.geoms)
    assert _km(*pts[0], 2.35, 48.86) < 30  # Paris (lon, lat)
    assert _km(*pts[1], 13.40, 52.52) < 30  # Berlin
    meeting = next(e for e in events if e.event_type == "meeting")
    assert meeting.date == dt.date(2024, 3, 7)
    assert {"Giorgia Meloni (IT)", "Pedro Sanchez (ES)"} == set(meeting.actors)


def test_explosion_and_shelling_with_their_tolls() -> None:
    events = extract_events(_fixture("market_blast.txt", dt.date(2024, 3, 12)))
    blast = next(e for e in events if e.event_type == "explosion")
    assert blast.date == dt.date(2024, 3, 9)
    assert blast.fatalities == 17  # 12 + "five more", confirmed by the stated toll
    assert blast.acled_event_type == "Explosions/Remote violence"
    shelling = next(e for e in events if e.event_type == "shelling")
    assert shelling.fatalities == 3 and shelling.date == dt.date(2024, 3, 8)
    assert shelling.geo_precision == 2


# --------------------------------------------------------------------------- short prose


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Three soldiers were killed in an ambush near Raska on Monday.", 3),
        ("The attack in Raska killed a police officer and two civilians.", 3),
        ("Two people died and four were injured when gunmen attacked a bus in Raska.", 2),
        ("Gunmen wounded five people in an attack on a bus in Raska.", None),
        ("At least 12 people were killed in the attack in Raska on Tuesday.", 12),
        ("A gunman shot dead one villager in Raska, and two of the attackers died later.", 3),
        (
            "One policeman was killed in Raska on Monday. In the battle that followed, "
            "three gunmen were killed. A police officer and three gunmen died, police said.",
            4,
        ),
    ],
)
def test_fatalities_phrasing(text: str, expected: int | None) -> None:
    ev = _only(_events(text), "incidents")
    assert ev.fatalities == expected


def test_statement_date_is_not_the_incident_date() -> None:
    ev = _only(
        _events(
            "Officials said on Friday that the attack on a police station in Mitrovica "
            "took place on Wednesday."
        ),
        "incidents",
    )
    assert ev.date == dt.date(2024, 3, 13)


def test_history_is_not_news() -> None:
    assert _events("In 1999 NATO bombed Serbian positions in Kosovo and fighting killed many.") \
        == []
    events = _events(
        "Fighting broke out in Zvecan on Tuesday. The town last saw clashes in 2004, "
        "during riots that spread across the province."
    )
    assert [e.date for e in events] == [dt.date(2024, 3, 12)]


def test_continuation_sentence_lends_its_date() -> None:
    ev = _only(
        _events(
            "Serbian forces massed along the border with Kosovo. "
            "This took place over the past week, officials said."
        ),
        "troop_positions",
    )
    assert ev.time_precision == "week" and ev.date_end == dt.date(2024, 3, 16)
    assert len(ev.sources) == 2
    assert "Serbian forces" in ev.actors


def test_offset_phrase_shifts_the_date() -> None:
    ev = _only(
        _events("Police patrolled Zvecan on May 30, a day after clashes with protesters in the "
                "town.", dt.date(2024, 6, 2)),
        "incidents",
    )
    assert ev.date == dt.date(2024, 5, 29)
    assert ev.event_type == "riot"


def test_negated_denial_is_not_a_dispute() -> None:
    ev = _only(
        _events("The ministry did not deny reports of a troop buildup near the border with "
                "Kosovo."),
        "troop_positions",
    )
    assert ev.disputed_by == []


def test_denial_without_a_report_becomes_a_carrier() -> None:
    events = _events("The Serbian defence ministry denied reports of a troop buildup near "
                     "the border with Kosovo.")
    assert len(events) == 1
    assert events[0].sources == [] and len(events[0].disputed_by) == 1


def test_called_on_is_a_demand_not_a_call() -> None:
    events = _events("The EU called on Belgrade to withdraw its troops from the border.")
    assert [e.event_type for e in events] == ["demand"]
    ev = events[0]
    assert ev.actors == ["EU", "Serbia"]
    assert ev.geometry.geom_type == "MultiPoint"  # Brussels and Belgrade, no midpoint


def test_ids_are_stable_across_runs() -> None:
    art = _fixture("checkpoint_attack.txt", dt.date(2024, 3, 12))
    assert [e.id for e in extract_events(art)] == [e.id for e in extract_events(art)]


def test_no_published_date_keeps_absolute_dates_only() -> None:
    events = _events("Gunmen attacked a police station in Mitrovica on 5 March 2024.", None)
    assert [e.date for e in events] == [dt.date(2024, 3, 5)]
    assert _events("Gunmen attacked a police station in Mitrovica on Friday.", None) == []


def test_every_event_has_a_summary_that_is_not_copied_text() -> None:
    art = _fixture("checkpoint_attack.txt", dt.date(2024, 3, 12))
    for e in extract_events(art):
        assert e.summary and e.summary not in art.text
        assert e.place in e.summary


# --------------------------------------------------------------------------- rules file


def test_word_syntax() -> None:
    clash = re.compile(word_regex("clash"), re.IGNORECASE)
    assert all(clash.search(w) for w in ("clash", "Clashes", "clashed", "clashing"))
    dead = re.compile(word_regex("=dead"), re.IGNORECASE)
    assert dead.search("found dead") and not dead.search("deadly")
    build = re.compile(word_regex("build-up"), re.IGNORECASE)
    assert all(build.search(w) for w in ("build-up", "buildup", "build up"))
    fire = re.compile(word_regex("exchange* fire"), re.IGNORECASE)
    assert fire.search("they exchanged fire") and not fire.search("exchanged fires")


def test_bad_rules_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[[triggers]]\ntype = 'nope'\nwords = ['x']\n", encoding="utf-8")
    with pytest.raises(RulesError, match="nope") as info:
        load_rules(bad)
    assert "\n" not in str(info.value) and str(bad) in str(info.value)
    bad.write_text("this is = not toml [", encoding="utf-8")
    with pytest.raises(RulesError, match="invalid TOML"):
        load_rules(bad)
    with pytest.raises(RulesError, match="missing"):
        load_rules(tmp_path / "absent.toml")


def test_every_trigger_type_is_declared_and_layered() -> None:
    rules = load_rules()
    assert {t.etype.layer for t in rules.triggers} == {"incidents", "troop_positions",
                                                      "diplomacy"}
    for etype in rules.event_types.values():
        if etype.layer != "diplomacy":
            assert etype.acled_event_type, etype.key


def test_band_side_follows_the_actor_country() -> None:
    from geo.events import place_geometry

    g = gz.load()
    line = g.border("RS", "XK")
    assert line is not None
    serbian, _, _ = place_geometry(line, actor_countries=["RS"])
    kosovar, _, _ = place_geometry(line, actor_countries=["XK"])
    plain, _, _ = place_geometry(line, actor_countries=[])
    rs, xk = g.country("RS"), g.country("XK")
    assert rs is not None and xk is not None
    assert rs.geometry is not None and xk.geometry is not None
    assert rs.geometry.buffer(0.01).contains(serbian.representative_point())
    assert xk.geometry.buffer(0.01).contains(kosovar.representative_point())
    assert plain.geom_type in ("LineString", "MultiLineString")
    assert Point(20.78, 42.97).distance(serbian) > 0  # Banjska is inside Kosovo, not the band


# --------------------------------------------------------------------------- robustness

_VOCAB = [
    "Gunmen", "attacked", "killed", "three", "police officers", "in", "near", "Zvecan",
    "Banjska", "on Sunday", "last week", "in 1999", "the border with Kosovo", "Serbian troops",
    "massed", "along", "KFOR", "reinforced", "Blinken", "called", "Vucic", "denied", "reports",
    "of a", "build-up", ".", ",", "\n", "\n\n", '"', "said", "on Friday", "a day after",
    "clashes", "with protesters", "Kosovo", "Serbia", "the", "and", "was", "were", "dead",
    "U.S.", "Sept. 24", "the White House", "urged", "Belgrade", "to withdraw", "NATO",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=60).map(" ".join))
def test_any_text_gives_valid_events(text: str) -> None:
    art = _article(text, dt.date(2023, 9, 29))
    events = extract_events(art)
    _assert_quotes_exact(art, events)
    for e in events:
        assert e.date <= e.date_end
        assert e.layer in ("incidents", "troop_positions", "diplomacy")
        assert 1 <= e.geo_precision <= 3
        assert not e.geometry.is_empty
        assert e.fatalities is None or e.fatalities >= 0


def test_dateline_date_is_not_the_event_date_and_dated_arrests_stand_alone() -> None:
    art = _fixture("dateline_arrest.txt", dt.date(2023, 10, 4))
    events = extract_events(art)
    _assert_quotes_exact(art, events)
    arrests = [e for e in events if e.event_type == "arrests"]
    assert len(arrests) == 1
    assert arrests[0].date == dt.date(2023, 10, 2)  # "on Monday", not the dateline's Oct 3
    assert arrests[0].place_id == "cur:jarinje"
    assert len(arrests[0].sources) == 3
    # "last month's attack" is its own (month-precision) event, not absorbed by the arrest.
    attack = [e for e in events if e.event_type == "attack"]
    assert [(e.date, e.date_end, e.time_precision) for e in attack] == [
        (dt.date(2023, 9, 1), dt.date(2023, 9, 30), "month")
    ]


def test_counter_claim_belongs_to_the_denial() -> None:
    art = _fixture("border_shelling.txt", dt.date(2023, 10, 4))
    events = extract_events(art)
    incidents = [e for e in events if e.layer == "incidents"]
    assert len(incidents) == 1  # "saying Armenian troops had opened fire first" is no event
    ev = incidents[0]
    assert ev.event_type == "shelling" and ev.fatalities == 2
    # No date of its own ("overnight"): the day the ministry reported it, flagged as such.
    assert ev.date == dt.date(2023, 10, 4)
    assert any(n.startswith("date: when it was reported") for n in ev.notes)
    assert [d.who for d in ev.disputed_by] == ["Azerbaijan"]
    assert ev.actors == ["Azerbaijani forces"]
    call = next(e for e in events if e.event_type == "phone_call")
    assert call.actors == ["Nikol Pashinyan (AM)", "Vladimir Putin (RU)"]


@pytest.mark.parametrize(
    "text",
    [
        "Kurti clashed with EU envoys in Brussels on Monday over the new licence plates.",
        "The government is fighting corruption in Pristina, the minister said on Monday.",
        "The opposition launched a fierce political attack on the mayor of Zvecan on Monday.",
        "Tourists visited the Dead Sea on Monday.",
        "A grenade launcher was found in a house in Zvecan on Monday.",
    ],
)
def test_figurative_or_non_events_are_ignored(text: str) -> None:
    assert [e.layer for e in _events(text) if e.layer == "incidents"] == []


def test_violent_clash_with_protesters_is_a_riot() -> None:
    ev = _only(_events("Police and protesters clashed in Zvecan on Monday, and tear gas was "
                       "fired."), "incidents")
    assert (ev.event_type, ev.acled_event_type) == ("riot", "Riots")
    assert ev.date == dt.date(2024, 3, 11)


@pytest.mark.parametrize(
    ("text", "actors"),
    [
        # a named mission: the generic word "peacekeeping" adds nothing
        ("The United Nations peacekeeping mission, MONUSCO, said on Friday it had reinforced "
         "its positions around Sake.", ["UN peacekeepers"]),
        # nobody named: the generic actor, not a guess at which force it is
        ("Peacekeepers reinforced their positions around Sake on Friday.", ["peacekeepers"]),
        ("KFOR deployed additional peacekeepers to Zvecan on Friday.", ["KFOR/NATO"]),
    ],
)
def test_generic_peacekeepers_give_way_to_a_named_force(text: str, actors: list[str]) -> None:
    ev = _only(_events(text), "troop_positions")
    assert ev.actors == actors


def test_drop_generic_reads_the_rules_kinds() -> None:
    from geo.events import drop_generic

    assert drop_generic(["peacekeepers", "EULEX"]) == ["EULEX"]
    assert drop_generic(["peacekeepers", "protesters"]) == ["peacekeepers", "protesters"]
    assert drop_generic(["armed group", "Serb armed group"]) == ["Serb armed group"]


@pytest.mark.parametrize(
    ("denial", "disputed"),
    [
        ("Rwanda denies backing the rebels.", False),  # an act no event reports
        ("The rebels denied planning the offensive.", False),
        ("The rebels denied responsibility.", True),  # the attack, by anaphora
        ("The rebels denied having attacked the town.", True),  # an 'act' that is the event
    ],
)
def test_a_denied_act_that_is_no_event_disputes_nothing(denial: str, disputed: bool) -> None:
    text = ("Rebels attacked the town of Rutshuru in eastern Congo on Tuesday, killing four "
            f"soldiers, officials said. {denial}")
    ev = _only(_events(text), "incidents")
    assert bool(ev.disputed_by) is disputed, ev.disputed_by
