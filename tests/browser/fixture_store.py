"""A small, realistic event store written with the real store writer.

Backs the browser tests' escaping checks: its articles and events carry
script tags, an ``<img onerror>`` and Jinja syntax. The texts are invented
for the tests (not the seeds); every quote is cut from its article by
offsets, as the pipeline does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from shapely.geometry import LineString, MultiPoint, Point, Polygon

from geo import store
from geo.models import Article, Dispute, Event, Mention, Place, Source

# script and img-onerror for the browser, Jinja syntax for folium's server-side templates
HOSTILE = (
    '<script>alert("xss-script")</script><img src=x onerror="alert(\'xss-img\')">'
    " {{ 7*7 }}{% if true %}!{% endif %}"
)

_TEXTS = {
    "a1": (
        "Gunmen attacked a police patrol near the village of Leposavic on Sunday, "
        "killing two officers. Police said the attackers fled towards the hills.\n"
        "Serbian troops were reported massing along the administrative line over the past "
        "week. Belgrade denied any build-up, calling the reports fabricated."
    ),
    "a2": (
        "Two police officers were killed in an ambush near Leposavic on Sunday, "
        "the interior ministry said.\n"
        "NATO said KFOR would send extra troops to the north of Kosovo on Thursday."
    ),
    "a3": (
        "The US secretary of state spoke by phone with the president in Belgrade on Friday "
        "and urged de-escalation. " + HOSTILE + " Protesters gathered in Mitrovica."
    ),
}


def _source(article: Article, quote: str) -> Source:
    start = article.text.index(quote)
    return Source(
        article_id=article.article_id,
        outlet=article.outlet,
        published=article.published,
        quote=quote,
        start=start,
        end=start + len(quote),
    )


def _mention(article: Article, surface: str, place: Place) -> tuple[str, Mention]:
    start = article.text.index(surface)
    mention = Mention(
        text=surface,
        start=start,
        end=start + len(surface),
        place=place,
        score=0.9,
        reason="fixture",
    )
    return article.article_id, mention


def fixture_articles() -> list[Article]:
    """Three articles; the third carries script and img-onerror text."""
    published = dt.date(2024, 3, 8)
    outlets = {"a1": "Wire <b>One</b>", "a2": "Daily Two", "a3": "Hostile & Co"}
    return [
        Article(
            article_id=aid,
            path=f"{aid}.txt",
            outlet=outlets[aid],
            published=published,
            title=f"Fixture article {aid}",
            text=text,
        )
        for aid, text in _TEXTS.items()
    ]


def fixture_events(articles: list[Article]) -> list[Event]:
    """Five events over the three layers and every geometry kind the map draws."""
    a1, a2, a3 = articles
    leposavic = Point(20.80, 43.10)
    abl = LineString([(20.55, 43.25), (20.85, 43.20), (21.20, 42.99), (21.55, 42.80)])
    north = Polygon([(20.4, 42.9), (21.0, 42.9), (21.0, 43.3), (20.4, 43.3), (20.4, 42.9)])
    ambush = a1.text[: a1.text.index("officers.") + len("officers.")]
    massing = a1.text[a1.text.index("Serbian troops") : a1.text.index("week.") + len("week.")]
    denial = "Belgrade denied any build-up, calling the reports fabricated."
    call = a3.text[: a3.text.index("de-escalation.") + len("de-escalation.")]
    hostile_sentence = a3.text[a3.text.index("urged") :]
    return [
        Event(
            id="ev-ambush",
            layer="incidents",
            event_type="attack",
            acled_event_type="Violence against civilians",
            acled_sub_event_type="Attack",
            date=dt.date(2024, 3, 3),
            date_end=dt.date(2024, 3, 3),
            time_precision="day",
            place="Leposavic",
            place_id="gn:fixture-leposavic",
            geo_precision=1,
            country="XK",
            actors=["Armed gunmen", "Kosovo Police"],
            fatalities=2,
            summary="Gunmen ambush a police patrol near Leposavic; two officers killed.",
            sources=[
                _source(a1, ambush),
                _source(a2, "Two police officers were killed in an ambush near Leposavic"),
            ],
            disputed_by=[],
            geometry=leposavic,
        ),
        Event(
            id="ev-buildup",
            layer="troop_positions",
            event_type="military_buildup",
            acled_event_type="Strategic developments",
            acled_sub_event_type="Other",
            date=dt.date(2024, 3, 1),
            date_end=dt.date(2024, 3, 7),
            time_precision="week",
            place="Administrative boundary line",
            place_id="cur:abl",
            geo_precision=3,
            country="RS",
            actors=["Serbian troops"],
            fatalities=None,
            summary="Serbian troops massing along the administrative line.",
            sources=[_source(a1, massing)],
            disputed_by=[
                Dispute(
                    who="Belgrade",
                    quote=denial,
                    article_id=a1.article_id,
                    start=a1.text.index(denial),
                    end=a1.text.index(denial) + len(denial),
                )
            ],
            geometry=abl,
        ),
        Event(
            id="ev-kfor",
            layer="troop_positions",
            event_type="peacekeeping_deployment",
            acled_event_type=None,
            acled_sub_event_type=None,
            date=dt.date(2024, 3, 7),
            date_end=dt.date(2024, 3, 7),
            time_precision="day",
            place="Northern Kosovo",
            place_id="cur:northern-kosovo",
            geo_precision=2,
            country="XK",
            actors=["KFOR"],
            fatalities=None,
            summary="KFOR to send extra troops to northern Kosovo.",
            sources=[_source(a2, "NATO said KFOR would send extra troops to the north of Kosovo")],
            disputed_by=[],
            geometry=north,
        ),
        Event(
            id="ev-call",
            layer="diplomacy",
            event_type="phone_call",
            acled_event_type=None,
            acled_sub_event_type=None,
            date=dt.date(2024, 3, 8),
            date_end=dt.date(2024, 3, 8),
            time_precision="day",
            place="Washington – Belgrade",
            place_id="gn:fixture-belgrade",
            geo_precision=1,
            country="RS",
            actors=["US Secretary of State", "President of Serbia"],
            fatalities=None,
            summary="US secretary of state calls the Serbian president " + HOSTILE,
            sources=[_source(a3, call)],
            disputed_by=[],
            geometry=MultiPoint([(-77.0365, 38.8977), (20.4573, 44.8176)]),
        ),
        Event(
            id="ev-protest",
            layer="incidents",
            event_type="protest",
            acled_event_type="Protests",
            acled_sub_event_type="Peaceful protest",
            date=dt.date(2024, 3, 8),
            date_end=dt.date(2024, 3, 8),
            time_precision="day",
            place="Mitrovica " + HOSTILE,
            place_id="gn:fixture-mitrovica",
            geo_precision=1,
            country="XK",
            actors=["Protesters " + HOSTILE],
            fatalities=0,
            summary="Protest in Mitrovica. " + HOSTILE,
            sources=[_source(a3, hostile_sentence)],
            disputed_by=[],
            geometry=Point(20.8656, 42.8914),
        ),
    ]


def fixture_mentions(articles: list[Article]) -> list[tuple[str, Mention]]:
    """Place mentions at their offsets, as the geoparser records them."""
    a1, a2, a3 = articles
    lepo = Place("gn:fixture-leposavic", "Leposavić", "town", "XK", 20.80, 43.10)
    belgrade = Place("gn:fixture-belgrade", "Belgrade", "capital", "RS", 20.4573, 44.8176)
    mitro = Place("gn:fixture-mitrovica", "Mitrovica", "city", "XK", 20.8656, 42.8914)
    kosovo = Place("ne:XK", "Kosovo", "country", "XK", 20.9, 42.6)
    return [
        _mention(a1, "Leposavic", lepo),
        _mention(a1, "Belgrade", belgrade),
        _mention(a2, "Leposavic", lepo),
        _mention(a2, "Kosovo", kosovo),
        _mention(a3, "Belgrade", belgrade),
        _mention(a3, "Mitrovica", mitro),
    ]


def write_fixture_store(path: Path) -> list[Event]:
    """Write the fixture store at ``path`` and return its events."""
    articles = fixture_articles()
    events = fixture_events(articles)
    store.write_store(path, articles=articles, events=events, mentions=fixture_mentions(articles))
    return events
