"""The seed expectations of issue 3, the store build and uploads, and manifest errors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from shapely.geometry import Point

from geo import gazetteer as gz
from geo.corpus import article_from_text, load_corpus
from geo.errors import InputError, ManifestError
from geo.models import Article, Event
from geo.pipeline import add_articles, build_store, process_articles
from geo.store import read_articles, read_events

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "events"


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus(SEEDS, strict=True)


@pytest.fixture(scope="module")
def seed_events(seed_articles: list[Article]) -> list[Event]:
    events, _ = process_articles(seed_articles)
    return events


def _km(a: Point, b: Point) -> float:
    from math import asin, cos, radians, sin, sqrt

    dlat, dlon = radians(b.y - a.y), radians(b.x - a.x)
    h = sin(dlat / 2) ** 2 + cos(radians(a.y)) * cos(radians(b.y)) * sin(dlon / 2) ** 2
    return 2 * 6371 * asin(sqrt(h))


def _place_point(place_id: str) -> Point:
    place = gz.load().get(place_id)
    return Point(place.lon, place.lat)


# --------------------------------------------------------------------------- seeds 1-6


def test_seed_1_banjska_attack(seed_events: list[Event]) -> None:
    monastery = _place_point("cur:banjska-monastery")
    hits = [
        e for e in seed_events
        if e.layer == "incidents" and _km(e.geometry.representative_point(), monastery) < 2
    ]
    assert len(hits) == 1
    ev = hits[0]
    assert ev.date == ev.date_end == dt.date(2023, 9, 24)
    assert ev.time_precision == "day"
    assert ev.fatalities == 4
    assert ev.n_sources == 5
    # Two of the five never write "Banjska": they merged by date, type and place.
    no_name = {s.article_id for s in ev.sources if "Banjska" not in s.quote}
    assert len(no_name) >= 2


def test_seed_2_serbian_buildup_on_the_serbian_side(seed_events: list[Event]) -> None:
    g = gz.load()
    abl, rs, xk = g.border("RS", "XK"), g.country("RS"), g.country("XK")
    assert abl is not None and rs is not None and xk is not None
    assert abl.geometry is not None and rs.geometry is not None and xk.geometry is not None
    builds = [e for e in seed_events if e.event_type == "military_buildup"]
    assert len(builds) == 1
    ev = builds[0]
    assert ev.layer == "troop_positions"
    assert dt.date(2023, 9, 22) <= ev.date <= ev.date_end <= dt.date(2023, 9, 29)
    assert ev.n_sources == 5
    geom = ev.geometry
    assert geom.geom_type in ("Polygon", "MultiPolygon")
    # Along the line (within ~6 km of it everywhere) and on the Serbian side of it.
    assert geom.distance(abl.geometry) < 0.01
    assert abl.geometry.buffer(0.08).contains(geom)
    inside_kosovo = geom.intersection(xk.geometry).area / geom.area
    assert inside_kosovo < 0.1
    assert rs.geometry.buffer(0.01).contains(geom.representative_point())
    denials = [d for d in ev.disputed_by if "Vucic" in d.who]
    assert denials, ev.disputed_by
    articles = {d.article_id for d in denials}
    assert len(articles) >= 3  # Vucic denies it in three articles
    assert any("denied" in d.quote for d in denials)


def test_seed_3_kfor_reinforcement(seed_events: list[Event]) -> None:
    kfor = [e for e in seed_events if e.event_type == "peacekeeping_deployment"]
    assert len(kfor) == 1
    ev = kfor[0]
    assert ev.layer == "troop_positions"
    assert ev.n_sources >= 4
    assert "KFOR/NATO" in ev.actors
    northern = gz.load().get("cur:northern-kosovo")
    assert northern.geometry is not None
    assert ev.geometry.representative_point().within(northern.geometry.buffer(0.05))
    # Thursday 28 (one article) vs Friday 29 (another): both kept, one chosen, reason given.
    assert ev.date in (dt.date(2023, 9, 28), dt.date(2023, 9, 29))
    note = next(n for n in ev.notes if "reports differ" in n)
    assert "2023-09-28" in note and "2023-09-29" in note and "chose" in note
    quotes = " ".join(s.quote for s in ev.sources)
    assert "Thursday" in quotes and "Friday, September 29" in quotes


@pytest.mark.parametrize(
    ("us_official", "counterpart", "capital"),
    [("Antony Blinken", "Aleksandar Vucic", (20.4651, 44.8040)),
     ("Jake Sullivan", "Albin Kurti", (21.1655, 42.6727))],
)
def test_seed_4_calls(
    seed_events: list[Event], us_official: str, counterpart: str, capital: tuple[float, float]
) -> None:
    calls = [
        e for e in seed_events
        if e.layer == "diplomacy" and any(us_official in a for a in e.actors)
        and any(counterpart in a for a in e.actors) and e.event_type == "phone_call"
    ]
    assert len(calls) == 1
    ev = calls[0]
    assert ev.date == ev.date_end == dt.date(2023, 9, 29)
    assert ev.n_sources >= 4
    # At both ends (Washington and the counterpart's capital), never in between.
    points = list(ev.geometry.geoms)
    assert min(_km(p, Point(*capital)) for p in points) < 20
    assert min(_km(p, Point(-77.0364, 38.8951)) for p in points) < 20
    assert all(p.x < -60 or p.x > 15 for p in points)


def test_seed_5_zvecan_clashes_from_the_caption(seed_events: list[Event]) -> None:
    zvecan = _place_point("gn:783770")
    hits = [
        e for e in seed_events
        if e.layer == "incidents" and e.date == dt.date(2023, 5, 29)
    ]
    assert len(hits) == 1
    ev = hits[0]
    assert _km(ev.geometry.representative_point(), zvecan) < 5
    assert ev.geo_precision == 2  # "near Zvecan"
    assert {s.article_id for s in ev.sources} == {"004_8b21784503c946ff"}
    assert all(s.quote.startswith("NATO soldiers") for s in ev.sources)


def test_seed_6_every_quote_is_exact(
    seed_articles: list[Article], seed_events: list[Event]
) -> None:
    texts = {a.article_id: a.text for a in seed_articles}
    n = 0
    for e in seed_events:
        for s in e.sources:
            assert texts[s.article_id][s.start : s.end] == s.quote
            n += 1
        for d in e.disputed_by:
            assert texts[d.article_id][d.start : d.end] == d.quote
            n += 1
    assert n > 30


def test_seed_layers_and_no_history(seed_events: list[Event]) -> None:
    layers = {e.layer for e in seed_events}
    assert layers == {"incidents", "troop_positions", "diplomacy"}
    assert all(e.date.year == 2023 for e in seed_events)
    assert len({e.id for e in seed_events}) == len(seed_events)


# --------------------------------------------------------------------------- store


def test_build_store_and_rebuild_keeps_ids(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    calls: list[tuple[int, int]] = []
    report = build_store(SEEDS, db, progress=lambda d, t: calls.append((d, t)))
    assert report.articles == 5 and report.refused == []
    assert calls[-1] == (5, 5)
    gdf = read_events(db)
    assert len(gdf) == report.events
    first = sorted(gdf["id"])
    build_store(SEEDS, db)
    assert sorted(read_events(db)["id"]) == first
    assert len(read_articles(db)) == 5


def test_parallel_build_writes_the_same_store(tmp_path: Path) -> None:
    """Two workers and the merge in a forked process (overlapping the write) give
    the same tables, row for row, as one process, and the same export bytes."""
    import pyogrio

    from geo.store import store_geojson_bytes

    one, two = tmp_path / "one.gpkg", tmp_path / "two.gpkg"
    a = build_store(SEEDS, one, workers=1)
    b = build_store(SEEDS, two, workers=2)
    assert (a.articles, a.events) == (b.articles, b.events) == (5, a.events)
    for layer in ("events", "articles", "mentions"):
        left = pyogrio.read_dataframe(one, layer=layer)
        right = pyogrio.read_dataframe(two, layer=layer)
        assert len(left) > 0 and left.equals(right), layer
    assert store_geojson_bytes(one) == store_geojson_bytes(two)


def test_deferred_events_that_fail_leave_the_previous_store(tmp_path: Path) -> None:
    """write_store may take the events as a callable (the build's overlapped merge);
    when it raises after the other layers are written, nothing of it lands."""
    from geo.store import write_store

    db = tmp_path / "store.gpkg"
    build_store(SEEDS, db)
    before = db.read_bytes()

    def broken() -> list[Event]:
        raise InputError("the merge failed")

    with pytest.raises(InputError, match="the merge failed"):
        write_store(db, articles=load_corpus(SEEDS), events=broken)
    assert db.read_bytes() == before
    assert {p.name for p in tmp_path.iterdir()} <= {"store.gpkg", "store.gpkg.lock"}  # no temp


def test_failed_build_leaves_the_previous_store(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    build_store(SEEDS, db)
    before = db.read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "articles.csv").write_text("file,outlet,published,title\n", encoding="utf-8")
    with pytest.raises(InputError, match="left unchanged"):
        build_store(empty, db)
    assert db.read_bytes() == before


def test_add_articles_merges_and_refuses_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    build_store(SEEDS, db)
    before = read_events(db)
    banjska_before = before[before["place_id"] == "cur:banjska"]["n_sources"].max()
    text = (DATA / "checkpoint_attack.txt").read_text(encoding="utf-8")
    new = article_from_text(text, name="upload.txt", outlet="Test", published=dt.date(2024, 3, 12))
    follow = article_from_text(
        "Serb gunmen attacked Kosovo police near the village of Banjska on Sunday, "
        "September 24, killing one officer.",
        name="follow.txt", outlet="Test", published=dt.date(2023, 9, 26),
    )
    report = add_articles(db, [new, follow])
    assert report.articles == 7 and report.refused == []
    after = read_events(db)
    assert len(read_articles(db)) == 7
    assert after[after["place_id"] == "cur:banjska"]["n_sources"].max() == banjska_before + 1
    assert (after["place_id"] == "cur:jarinje").any()
    again = add_articles(db, [new, article_from_text("Fresh text about nothing much.",
                                                     name="other.txt")])
    assert any("already in the store" in r for r in again.refused)
    with pytest.raises(InputError, match="no new articles"):
        add_articles(db, [new])
    assert len(read_articles(db)) == 8


# --------------------------------------------------------------------------- manifest


def _corpus(tmp_path: Path, rows: list[str]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("000_b772c7fb9489d75e.txt", "001_456f4e90fdf099ba.txt"):
        shutil.copy(SEEDS / name, folder / name)
    (folder / "articles.csv").write_text(
        "file,outlet,published,title\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("001_456f4e90fdf099ba.txt,X,2023-02-30,t", "not a real date"),
        ("missing.txt,X,2023-09-29,t", "no such file"),
        ("000_b772c7fb9489d75e.txt,X,2023-09-29,t", "duplicate of row 2"),
        ("../outside.txt,X,2023-09-29,t", "outside the corpus folder"),
        ("/etc/passwd,X,2023-09-29,t", "absolute path"),
    ],
)
def test_bad_rows_are_refused_with_one_line(tmp_path: Path, row: str, reason: str) -> None:
    folder = _corpus(tmp_path, ["000_b772c7fb9489d75e.txt,A,2023-09-29,t", row])
    refused: list[str] = []
    articles = load_corpus(folder, refused=refused)
    assert [a.article_id for a in articles] == ["000_b772c7fb9489d75e"]
    assert len(refused) == 1 and reason in refused[0]
    assert "articles.csv:3" in refused[0] and "\n" not in refused[0]
    with pytest.raises(ManifestError, match=reason):
        load_corpus(folder, strict=True)


def test_identical_text_under_two_names_is_a_duplicate(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, ["000_b772c7fb9489d75e.txt,A,2023-09-29,t", "copy.txt,B,,t"])
    shutil.copy(folder / "000_b772c7fb9489d75e.txt", folder / "copy.txt")
    refused: list[str] = []
    assert len(load_corpus(folder, refused=refused)) == 1
    assert "same text as row 2" in refused[0]


def test_manifest_without_required_columns(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "articles.csv").write_text("name,date\nx.txt,2023-01-01\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="missing column"):
        load_corpus(folder)


def test_strict_build_writes_nothing(tmp_path: Path) -> None:
    folder = _corpus(tmp_path, ["000_b772c7fb9489d75e.txt,A,2023-09-29,t", "nope.txt,B,,t"])
    db = tmp_path / "s.gpkg"
    with pytest.raises(ManifestError):
        build_store(folder, db, strict=True)
    assert not db.exists()
    report = build_store(folder, db)
    assert report.articles == 1 and len(report.refused) == 1
