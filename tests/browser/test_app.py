"""End-to-end: the Streamlit app in Debian's Chromium (issue 4's browser checks)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from browser_support import (
    App,
    Session,
    event_handler_attributes,
    injected_scripts,
    map_frame,
    open_app,
    rendered_markers,
    wait_idle,
    zoom_world,
)
from fixture_store import HOSTILE
from playwright.sync_api import Page

from geo import export, store

pytestmark = pytest.mark.browser

UPLOAD_TEXT = (
    "Two Kosovo police officers were wounded on Tuesday when gunmen opened fire on a patrol "
    "near the village of Jarinje in northern Kosovo, police said.\n"
    "The attackers fled towards Serbia, according to a police statement."
)
HOSTILE_UPLOAD = (
    '<script>alert("xss-upload")</script> Protesters clashed with police in Mitrovica on '
    "Monday, and three people were injured. <img src=x onerror=\"alert('xss-upload-img')\"> "
    "Police said calm returned by evening."
)


def _expected_markers(db: Path) -> tuple[int, set[str]]:
    """Icons the map must draw: one per event, one per point of a multi-point event."""
    events = store.read_events(db)
    total = sum(len(g.geoms) if g.geom_type == "MultiPoint" else 1 for g in events.geometry)
    return total, set(events["id"])


def _metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def _set_one_day(page: Page, day: dt.date, *, last: dt.date) -> None:
    """Drag both ends of the date slider to ``day`` with the keyboard."""
    end = page.locator('input[type="range"][aria-label="Dates — end"]')
    end.focus()
    for _ in range((last - day).days):
        page.keyboard.press("ArrowLeft")
    start = page.locator('input[type="range"][aria-label="Dates — start"]')
    start.focus()
    page.keyboard.press("End")  # the start thumb stops at the end thumb
    assert start.get_attribute("aria-valuetext") == day.isoformat()
    assert end.get_attribute("aria-valuetext") == day.isoformat()
    wait_idle(page)


def _upload(page: Page, name: str, data: bytes, *, outlet: str) -> None:
    page.get_by_text("Add articles").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": data}]
    )
    page.get_by_label("Outlet").fill(outlet)
    page.get_by_role("button", name="Parse and add to the map").click()
    wait_idle(page)


def _focus_on(frame_page: Page, db: Path, event_id: str) -> None:
    """Centre the map on one event at street zoom, so its icon is not clustered."""
    events = store.read_events(db)
    geom = events.loc[events["id"] == event_id].geometry.iloc[0]
    point = geom.geoms[0] if geom.geom_type == "MultiPoint" else geom.representative_point()
    frame = map_frame(frame_page)
    frame.evaluate(
        "([lat, lon]) => { window.map.setView([lat, lon], 16, {animate: false}); }",
        [point.y, point.x],
    )
    frame.wait_for_timeout(600)


def test_first_run_builds_the_store_and_maps_every_event(seed_app: App, session: Session) -> None:
    page = session.page
    frame = open_app(page, seed_app.url)
    assert seed_app.db.exists()
    expected, ids = _expected_markers(seed_app.db)
    zoom_world(frame)
    drawn = rendered_markers(frame)
    assert drawn["total"] == expected
    assert set(drawn["ids"]) <= ids
    assert _metric(page, "Events shown") == f"{len(ids)} of {len(ids)}"
    labels = frame.locator(".leaflet-control-layers label").all_inner_texts()
    names = " | ".join(label.strip() for label in labels)
    for layer in ("Natural Earth (offline)", "OpenStreetMap (web tiles)", "Country outlines",
                  "Administrative boundary line", "Incidents (", "Troop positions (",
                  "Diplomacy (", "Place mentions ("):
        assert layer in names
    assert frame.locator(".ev-legend").is_visible()
    assert frame.locator(".leaflet-control-zoom-fullscreen, .leaflet-control-fullscreen").count()
    events = store.read_events(seed_app.db)
    assert {"incidents", "troop_positions", "diplomacy"} <= set(events["layer"])
    assert session.dialogs == [] and session.errors == []


def test_one_day_filter_and_geojson_export(seed_app: App, session: Session) -> None:
    page = session.page
    open_app(page, seed_app.url)
    events = store.read_events(seed_app.db)
    day = dt.date(2023, 9, 24)  # the Banjska attack
    last = max(dt.date.fromisoformat(d) for d in events["date_end"])
    _set_one_day(page, day, last=last)
    want = {
        eid for eid, a, b in zip(events["id"], events["date"], events["date_end"], strict=True)
        if a == b == day.isoformat()
    }
    assert want
    frame = map_frame(page)
    zoom_world(frame)
    drawn = rendered_markers(frame)
    assert set(drawn["ids"]) == want and drawn["clustered"] == 0
    kept = events[events["id"].isin(want)]
    attack = kept[(kept["layer"] == "incidents") & kept["place"].str.contains("Banjska")]
    assert len(attack) == 1
    buildup = events[events["event_type"] == "military_buildup"]
    assert len(buildup) >= 1 and not set(buildup["id"]) & set(drawn["ids"])
    with page.expect_download() as info:
        page.get_by_role("button", name="Download GeoJSON").click()
    download = info.value
    collection = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert export.validate_rfc7946(collection) == []
    assert {f["id"] for f in collection["features"]} == want
    assert {f["properties"]["id"] for f in collection["features"]} == want
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) == 1 + len(want)
    assert session.dialogs == [] and session.errors == []


def test_layer_control_hides_a_layer(seed_app: App, session: Session) -> None:
    page = session.page
    frame = open_app(page, seed_app.url)
    zoom_world(frame)
    before = rendered_markers(frame)["total"]
    events = store.read_events(seed_app.db)
    incidents = events[events["layer"] == "incidents"]
    n_incident_icons = sum(
        len(g.geoms) if g.geom_type == "MultiPoint" else 1 for g in incidents.geometry
    )
    frame.locator(".leaflet-control-layers label").filter(has_text="Incidents (").locator(
        "input"
    ).uncheck()
    frame.wait_for_timeout(400)
    assert rendered_markers(frame)["total"] == before - n_incident_icons


def test_reader_highlights_mentions_and_event_sentences(seed_app: App, session: Session) -> None:
    page = session.page
    open_app(page, seed_app.url)
    page.get_by_role("tab", name="Article reader").click()
    wait_idle(page)
    reader = page.locator(".rd-article")
    reader.wait_for()
    article = store.read_articles(seed_app.db)[0]  # the reader opens on the first article
    events = store.read_events(seed_app.db)
    quotes = {
        s["quote"]
        for sources in events["sources"]
        for s in sources
        if s["article"] == article.article_id
    }
    marks = reader.locator(".rd-text mark.rd-event").all_inner_texts()
    mentions = reader.locator(".rd-text span.rd-mention").all_inner_texts()
    assert quotes and mentions
    shown = "".join(marks)
    for quote in quotes:  # every event sentence of this article is highlighted
        assert "".join(quote.split()) in "".join(shown.split())
    for text in mentions:
        assert text in article.text
    first = reader.locator("sup.rd-ref a").first
    target = first.get_attribute("href")
    assert target is not None and reader.locator(target).count() == 1
    assert session.dialogs == []


def test_hostile_fixture_text_is_shown_not_run(fixture_app: App, session: Session) -> None:
    page = session.page
    frame = open_app(page, fixture_app.url)
    _focus_on(page, fixture_app.db, "ev-protest")
    frame = map_frame(page)
    frame.locator('.ev-icon[data-ev="ev-protest"]').click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE in popup.inner_text()  # shown literally, as text
    assert "Wire <b>One</b>" not in popup.inner_text()
    page.get_by_role("tab", name="Article reader").click()
    wait_idle(page)
    page.get_by_label("Article", exact=True).click()
    page.get_by_role("option", name="Fixture article a3").click()
    wait_idle(page)
    assert HOSTILE in page.locator(".rd-article").inner_text()
    page.wait_for_timeout(500)
    assert session.dialogs == []
    assert injected_scripts(page, 'alert("xss-script")') == 0
    assert event_handler_attributes(page) == 0


def test_uploaded_article_appears_on_the_map(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    before, _ = _expected_markers(upload_app.db)
    _upload(page, "upload_jarinje.txt", UPLOAD_TEXT.encode("utf-8"), outlet="Upload Test Wire")
    assert page.locator('[data-testid="stAlert"]').filter(has_text="Added 1 article").count()
    events = store.read_events(upload_app.db)
    new = events[events["sources"].map(
        lambda sources: any(s["article"] == "upload_jarinje" for s in sources))]
    assert len(new) >= 1
    expected, _ = _expected_markers(upload_app.db)
    assert expected > before
    frame = map_frame(page)
    zoom_world(frame)
    assert rendered_markers(frame)["total"] == expected
    event_id = str(new["id"].iloc[0])
    _focus_on(page, upload_app.db, event_id)
    assert event_id in rendered_markers(map_frame(page))["ids"]
    assert session.dialogs == []


def test_bad_upload_is_refused_and_changes_nothing(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    stamp = upload_app.db.stat().st_mtime_ns
    _upload(page, "binary.txt", b"\x00\x01\x02 not text \x00" * 20, outlet="X")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Nothing was added")
    assert alert.count() == 1 and "binary.txt" in alert.inner_text()
    assert upload_app.db.stat().st_mtime_ns == stamp


def test_hostile_upload_fires_no_dialog(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    _upload(page, "hostile.txt", HOSTILE_UPLOAD.encode("utf-8"), outlet="Hostile <b>Wire</b>")
    events = store.read_events(upload_app.db)
    new = events[events["sources"].map(
        lambda sources: any(s["article"] == "hostile" for s in sources))]
    assert len(new) >= 1
    event_id = str(new["id"].iloc[0])
    _focus_on(page, upload_app.db, event_id)
    frame = map_frame(page)
    frame.locator(f'.ev-icon[data-ev="{event_id}"]').click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Hostile <b>Wire</b>" in popup.inner_text()
    assert '<script>alert("xss-upload")</script>' in popup.inner_text()
    page.get_by_role("tab", name="Article reader").click()
    wait_idle(page)
    page.get_by_label("Article", exact=True).click()
    page.get_by_role("option").filter(has_text="Hostile <b>Wire</b>").click()
    wait_idle(page)
    text = page.locator(".rd-article").inner_text()
    assert '<script>alert("xss-upload")</script>' in text
    assert "onerror=\"alert('xss-upload-img')\"" in text
    page.wait_for_timeout(500)
    assert session.dialogs == []
    assert injected_scripts(page, 'alert("xss-upload")') == 0
    assert event_handler_attributes(page) == 0


def test_choosing_a_table_row_focuses_the_map(seed_app: App, session: Session) -> None:
    page = session.page
    open_app(page, seed_app.url)
    page.get_by_role("tab", name="Timeline and table").click()
    wait_idle(page)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()  # the timeline
    events = store.read_events(seed_app.db)
    row = int(events.index[events["layer"] == "incidents"][0])
    geom = events.geometry.iloc[row]
    point = geom.geoms[0] if geom.geom_type == "MultiPoint" else geom.representative_point()
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    row_px = 35  # Streamlit's default header and row height
    page.mouse.click(box["x"] + 15, box["y"] + row_px * (row + 1) + row_px / 2)
    wait_idle(page)
    assert page.get_by_role("tab", name="Map").get_attribute("aria-selected") == "true"
    frame = map_frame(page)
    frame.wait_for_function("() => window.map.getZoom() === 11")
    lat, lon = frame.evaluate("() => [window.map.getCenter().lat, window.map.getCenter().lng]")
    assert abs(lat - point.y) < 0.01 and abs(lon - point.x) < 0.01


def test_filter_change_swaps_the_events_on_the_same_map(seed_app: App,
                                                        session: Session) -> None:
    """A date change redraws the event layers only: same Leaflet map, view and choices."""
    page = session.page
    frame = open_app(page, seed_app.url)
    events = store.read_events(seed_app.db)
    frame.evaluate("() => { window.__sameMap = 1; }")
    before = frame.evaluate("() => window.map._evOverlay.evGeneration")
    frame.locator(".leaflet-control-layers label").filter(has_text="Diplomacy (").locator(
        "input").uncheck()
    day = dt.date(2023, 9, 24)
    last = max(dt.date.fromisoformat(d) for d in events["date_end"])
    _set_one_day(page, day, last=last)
    frame = map_frame(page)
    frame.wait_for_function(
        "(n) => window.map._evOverlay && window.map._evOverlay.evGeneration > n "
        "&& window.map._evOverlay.evDrawn()", arg=before)
    assert frame.evaluate("() => window.__sameMap") == 1  # not rebuilt
    labels = " | ".join(frame.locator(".leaflet-control-layers label").all_inner_texts())
    kept = events[(events["date"] == day.isoformat()) & (events["date_end"] == day.isoformat())]
    for layer, label in (("incidents", "Incidents"), ("troop_positions", "Troop positions")):
        assert f"{label} ({int((kept['layer'] == layer).sum())})" in labels
    assert labels.count("Incidents (") == 1  # old layers left the control
    diplomacy = frame.locator(".leaflet-control-layers label").filter(has_text="Diplomacy (")
    assert not diplomacy.locator("input").is_checked()  # still hidden, as the user chose
    assert frame.locator(".ev-legend").count() == 1
    zoom_world(frame)
    want = set(kept.loc[kept["layer"] != "diplomacy", "id"])
    assert want and set(rendered_markers(frame)["ids"]) == want
    assert session.dialogs == [] and session.errors == []
