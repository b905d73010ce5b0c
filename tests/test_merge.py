"""Cross-article merging on short original articles (no seeds, no mocks)."""

from __future__ import annotations

import datetime as dt
import random

from geo.corpus import article_from_text
from geo.events import extract_events
from geo.merge import merge_events
from geo.models import Event

PUB = dt.date(2024, 3, 16)  # a Saturday


def _extract(texts: dict[str, str], published: dt.date = PUB) -> list[Event]:
    events: list[Event] = []
    for name, text in texts.items():
        art = article_from_text(text, name=f"{name}.txt", outlet=name, published=published)
        events.extend(extract_events(art))
    return events


def _layer(events: list[Event], layer: str) -> list[Event]:
    return [e for e in events if e.layer == layer]


def test_same_attack_in_different_words_is_one_event_at_the_specific_place() -> None:
    merged = merge_events(_extract({
        "a": "Gunmen ambushed a police patrol near the village of Banjska on Tuesday, "
             "killing two officers.",
        "b": "Two police officers died in an attack in northern Kosovo on Tuesday.",
        "c": "The shootout in Kosovo on Tuesday was the worst in months, officials said.",
    }))
    incidents = _layer(merged, "incidents")
    assert len(incidents) == 1
    ev = incidents[0]
    assert ev.n_sources == 3
    assert ev.place_id == "cur:banjska"
    assert ev.date == dt.date(2024, 3, 12)
    assert ev.fatalities == 2
    assert any(n.startswith("fatalities: 2") for n in ev.notes)


def test_attacks_in_distant_towns_stay_apart() -> None:
    merged = merge_events(_extract({
        "a": "Gunmen attacked a police station in Novi Pazar on Tuesday.",
        "b": "Gunmen attacked a police station in Kragujevac on Tuesday.",
    }))
    assert len(_layer(merged, "incidents")) == 2


def test_same_place_different_weeks_stay_apart() -> None:
    merged = merge_events(_extract({
        "a": "A bomb exploded outside the court in Mitrovica on 2 March 2024.",
        "b": "A bomb exploded outside the court in Mitrovica on 14 March 2024.",
    }))
    assert sorted(e.date.day for e in _layer(merged, "incidents")) == [2, 14]


def test_conflicting_days_are_kept_and_explained() -> None:
    merged = merge_events(_extract({
        "a": "NATO on Thursday authorised additional troops for its peacekeeping mission "
             "in Kosovo.",
        "b": "NATO approved the deployment of additional forces to KFOR in Kosovo on Friday.",
    }))
    ev = _layer(merged, "troop_positions")
    assert len(ev) == 1
    assert ev[0].n_sources == 2
    assert ev[0].date == dt.date(2024, 3, 14)  # the earlier of two equally supported days
    note = next(n for n in ev[0].notes if "reports differ" in n)
    assert "2024-03-14" in note and "2024-03-15" in note


def test_fatalities_take_the_most_reported_total() -> None:
    merged = merge_events(_extract({
        "a": "Three people were killed in a shooting in Zvecan on Tuesday.",
        "b": "Four people were killed in a shooting in Zvecan on Tuesday.",
        "c": "The shooting in Zvecan on Tuesday killed four people.",
    }))
    ev = _layer(merged, "incidents")[0]
    assert ev.n_sources == 3
    assert ev.fatalities == 4
    assert any("reports differ" in n and "chose 4" in n for n in ev.notes)


def test_calls_between_different_pairs_do_not_merge() -> None:
    merged = merge_events(_extract({
        "a": "US Secretary of State Antony Blinken spoke by phone with Serbian President "
             "Aleksandar Vucic on Friday.",
        "b": "National security adviser Jake Sullivan called Kosovo Prime Minister Albin "
             "Kurti on Friday.",
        "c": "Blinken had a phone conversation with Serbia's president on Friday.",
    }))
    calls = _layer(merged, "diplomacy")
    assert len(calls) == 2
    by_size = sorted(calls, key=lambda e: e.n_sources)
    assert by_size[1].n_sources == 2 and "Aleksandar Vucic (RS)" in by_size[1].actors
    assert "Albin Kurti (XK)" in by_size[0].actors


def test_a_denial_in_another_article_attaches_to_the_event() -> None:
    merged = merge_events(_extract({
        "a": "Russian troops have been massing along the border with Ukraine this week.",
        "b": "The Kremlin denied reports of a troop build-up near the border with Ukraine.",
    }))
    assert all(e.sources for e in merged)
    ev = _layer(merged, "troop_positions")[0]
    assert ev.n_sources == 1
    assert [d.article_id for d in ev.disputed_by] == ["b"]


def test_unattached_denials_are_dropped() -> None:
    merged = merge_events(_extract({
        "b": "The Kremlin denied reports of a troop build-up near the border with Ukraine.",
    }))
    assert merged == []


def test_merge_is_order_independent_and_ids_stable() -> None:
    events = _extract({
        "a": "Gunmen ambushed a police patrol near the village of Banjska on Tuesday.",
        "b": "Two police officers died in an attack in northern Kosovo on Tuesday.",
        "c": "Serbian troops massed along the border with Kosovo on Wednesday.",
        "d": "The EU called on Belgrade to pull back its troops on Thursday.",
    })
    first = merge_events(events)
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    second = merge_events(shuffled)
    assert [e.id for e in first] == [e.id for e in second]
    assert len({e.id for e in first}) == len(first)
    assert [e.n_sources for e in first] == [e.n_sources for e in second]


SEPARATE = (
    "A drone strike on a market in Goma killed 12 people on Tuesday, officials said. "
    "Separately, fighting was reported near Goma on Tuesday, the army said."
)


def test_a_separately_reported_happening_is_its_own_event() -> None:
    events = _layer(_extract({"a": SEPARATE}), "incidents")
    assert sorted(e.event_type for e in events) == ["airstrike", "armed_clash"]
    assert all(len(e.sources) == 1 for e in events)
    together = SEPARATE.replace("Separately, fighting", "Fighting")
    assert len(_layer(_extract({"a": together}), "incidents")) == 1  # the cue decides


def test_events_one_article_typed_apart_do_not_merge_but_each_merges_elsewhere() -> None:
    merged = _layer(merge_events(_extract({
        "a": SEPARATE,
        "b": "A drone strike hit a market in Goma on Tuesday, killing 12.",
    })), "incidents")
    by_type = {e.event_type: e for e in merged}
    assert sorted(by_type) == ["airstrike", "armed_clash"], [e.summary for e in merged]
    assert {s.article_id for s in by_type["airstrike"].sources} == {"a", "b"}
    assert {s.article_id for s in by_type["armed_clash"].sources} == {"a"}
