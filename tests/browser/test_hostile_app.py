"""Hostile input in the real browser (issue 6): a store built by the real pipeline
from tests/data/hostile, and uploads through the app's form.

What must hold everywhere article text or upload metadata is shown (popups,
tooltips, the legend, the table, the article reader, alerts): no JS dialog
fires, no script or inline handler from an article reaches the DOM of any
frame (the folium map is an iframe), no ``javascript:`` URL becomes a link,
Markdown in names and titles stays literal text. And nothing is lost: every
accepted article is readable, every event is on the map.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    App,
    Session,
    map_frame,
    open_app,
    rendered_markers,
    wait_idle,
    zoom_world,
)
from conftest import _start, _stop
from playwright.sync_api import Browser, Frame, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from geo import pipeline, store
from geo.textio import MAX_UPLOAD_BYTES

pytestmark = pytest.mark.browser

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
GOOD_TEXT = (
    "Kosovo police said gunmen fired at a patrol near the village of Zubin Potok on Monday, "
    "wounding one officer."
)

_SCAN = """(marker) => {
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
        for (const a of Array.from(el.attributes)) {
            const name = a.name.toLowerCase();
            const value = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
            if (name.startsWith('on')) bad.push(el.tagName + '[' + name + ']');
            if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc']
                    .includes(name) && value.startsWith('javascript:')) {
                bad.push(el.tagName + '[' + name + '=javascript:]');
            }
        }
        const tag = el.tagName.toLowerCase();
        // an article's script as code, not as escaped data inside the map's JSON
        const code = el.textContent || '';
        if (tag === 'script' && ['alert("', "alert('", 'alert(`']
                .some(p => code.includes(p + marker))) bad.push('script');
        if ((tag === 'img' || tag === 'iframe' || tag === 'svg' || tag === 'style')
                && (el.outerHTML || '').includes(marker)) bad.push(tag + ' with ' + marker);
        if (tag === 'img' && el.getAttribute('src') === 'x') bad.push('img[src=x]');
    }
    return bad;
}"""


def injected(page: Page, marker: str = "xss-") -> list[str]:
    """Active content from an article in any frame: inline handlers, javascript:
    URLs, scripts that would call ``alert('<marker>...')``, images, iframes,
    SVGs or styles carrying the marker."""
    found: list[str] = []
    for frame in page.frames:
        if frame.is_detached():
            continue
        found += [f"{frame.url[:40]}: {item}" for item in frame.evaluate(_SCAN, marker)]
    return found


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The app on a store the real pipeline built from the hostile corpus."""
    work = tmp_path_factory.mktemp("hostile_app")
    corpus = work / "corpus"
    shutil.copytree(HOSTILE, corpus)
    (corpus / "26_a_folder").mkdir()
    db = work / "store.gpkg"
    report = pipeline.build_store(corpus, db)
    assert report.articles == 7 and len(report.refused) == 23
    app = _start(db, log=work / "streamlit.log")
    yield app
    _stop(app.proc)


def _focus(frame: Frame, lon: float, lat: float) -> None:
    frame.evaluate("([lat, lon]) => { window.map.setView([lat, lon], 17, {animate: false}); }",
                   [lat, lon])
    frame.wait_for_timeout(700)


def _choose_article(page: Page, index: int) -> str:
    page.get_by_label("Article", exact=True).click()
    option = page.get_by_role("option").nth(index)
    label = option.inner_text()
    option.click()
    wait_idle(page)
    return label


def test_hostile_corpus_is_shown_as_text_everywhere(hostile_app: App, session: Session) -> None:
    page = session.page
    frame = open_app(page, hostile_app.url)
    events = store.read_events(hostile_app.db)
    articles = store.read_articles(hostile_app.db)
    assert len(articles) == 7
    # nothing lost: every event is drawn
    zoom_world(frame)
    assert rendered_markers(frame)["total"] == len(events)
    legend = frame.locator(".ev-legend")
    assert legend.is_visible() and "<" not in legend.inner_text()
    # every popup and tooltip shows its quotes and outlets literally
    for row in events.itertuples():
        point = row.geometry.representative_point()
        _focus(frame, point.x, point.y)
        icon = frame.locator(f'.ev-icon[data-ev="{row.id}"]')
        if icon.count() == 0:  # events at one place spiderfy from a cluster
            frame.locator(".marker-cluster").first.click()
            frame.wait_for_timeout(700)
        icon.first.hover()
        tooltip = frame.locator(".leaflet-tooltip")
        tooltip.first.wait_for()
        assert str(row.place) in tooltip.first.inner_text()
        icon.first.click()
        popup = frame.locator(".leaflet-popup-content")
        popup.wait_for()
        shown = _squash(popup.inner_text())
        for source in row.sources:
            assert _squash(source["quote"]) in shown
            assert _squash(source["outlet"]) in shown
        frame.evaluate("() => { window.map.closePopup(); }")
    hostile_quote = '<script>alert("xss-quote")</script>'
    assert any(hostile_quote in s["quote"] for sources in events["sources"] for s in sources)
    # the reader: every article, its title and outlet, as text
    page.get_by_role("tab", name="Article reader").click()
    wait_idle(page)
    for index, article in enumerate(articles):
        label = _choose_article(page, index)
        assert _squash(article.title or article.article_id) in _squash(label)
        shown = _squash(page.locator(".rd-article").inner_text())
        assert _squash(article.outlet) in shown
        shown = _squash(re.sub(r"\[\d+\]", "", shown))  # the reader's links to events
        for line in article.text.splitlines():
            assert _squash(line) in shown
    assert session.dialogs == []
    assert injected(page) == []


def test_hostile_search_and_table(hostile_app: App, session: Session) -> None:
    page = session.page
    open_app(page, hostile_app.url)
    search = page.get_by_role("textbox", name="Search")
    # the quote of the riot event holds this script tag: the search finds it as text
    search.fill('<script>alert("xss-quote")</script>')
    search.press("Enter")
    wait_idle(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Events shown").first
    assert metric.locator('[data-testid="stMetricValue"]').inner_text() == "1 of 7"
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "xss-quote" in csv_text and len(csv_text.strip().splitlines()) >= 2
    page.get_by_role("tab", name="Timeline and table").click()  # the table has its own tab
    wait_idle(page)
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.scroll_into_view_if_needed()
    assert grid.is_visible()
    page.wait_for_timeout(500)
    assert session.dialogs == []
    assert injected(page) == []


# --------------------------------------------------------------------------- uploads


def _open_form(page: Page) -> None:
    if not page.get_by_label("Outlet").is_visible():
        page.get_by_text("Add articles").click()
    page.get_by_label("Outlet").wait_for(state="visible")


def _submit(page: Page, files: list[dict[str, Any]], *, outlet: str, title: str = "") -> None:
    _open_form(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files=files)
    page.get_by_label("Outlet").fill(outlet)
    if title:
        page.get_by_label("Title (optional; default: first line)").fill(title)
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Parse and add to the map").click()
    wait_idle(page)


def _file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": data}


def _alerts(page: Page) -> list[str]:
    return [_squash(t) for t in page.locator('[data-testid="stAlert"]').all_inner_texts()]


def test_upload_batch_adds_good_files_and_names_bad_ones(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    before = {a.article_id for a in store.read_articles(upload_app.db)}
    _submit(page, [
        _file("batch_good.txt", GOOD_TEXT.encode()),
        _file("batch_binary.txt", b"\x00\x01\x02" * 50),
        _file("batch_cyrillic.txt", "Сербские войска у границы с Косово.".encode("cp1251")),
        _file("batch_page.html", (HOSTILE / "06_saved_page.html").read_bytes()),
    ], outlet="Batch Wire")
    alerts = _alerts(page)
    assert any("Added 2 article(s)" in a for a in alerts), alerts
    skipped = [a for a in alerts if a.startswith("Skipped:")]
    assert len(skipped) == 2
    assert any("batch_binary.txt" in a and "binary" in a for a in skipped)
    assert any("batch_cyrillic.txt" in a for a in skipped)
    after = {a.article_id for a in store.read_articles(upload_app.db)}
    assert after - before == {"batch_good", "batch_page"}
    page_text = next(a.text for a in store.read_articles(upload_app.db)
                     if a.article_id == "batch_page")
    assert "xss" not in page_text and "Protesters clashed with police" in page_text
    assert session.dialogs == [] and injected(page) == []


def test_upload_over_the_size_limit_changes_nothing(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    stamp = upload_app.db.stat().st_mtime_ns
    big = (GOOD_TEXT + "\n").encode() * (MAX_UPLOAD_BYTES // len(GOOD_TEXT) + 10)
    assert len(big) > MAX_UPLOAD_BYTES
    _open_form(page)
    uploader = page.locator('[data-testid="stFileUploader"]')
    uploader.locator('input[type="file"]').set_input_files(files=[_file("too_big.txt", big)])
    page.wait_for_timeout(1000)
    shown = _squash(uploader.inner_text())
    assert "too_big.txt" in shown and "must be 2.0MB or smaller" in shown
    page.get_by_role("button", name="Parse and add to the map").click()
    wait_idle(page)
    assert "Added" not in " ".join(_alerts(page))
    assert upload_app.db.stat().st_mtime_ns == stamp
    assert "too_big" not in {a.article_id for a in store.read_articles(upload_app.db)}


def test_hostile_upload_names_and_fields_stay_text(upload_app: App, session: Session) -> None:
    page = session.page
    open_app(page, upload_app.url)
    name = "[x](javascript:alert('xss-name')) <img src=x onerror=alert('xss-nimg')> :red[r] $x$.txt"
    title = "**Bold** :red[red] <script>alert('xss-title-upload')</script> [a](javascript:alert(1))"
    text = (HOSTILE / "07_script_injection.txt").read_bytes()
    _submit(page, [_file(name, text)], outlet="<b>Upload</b> [o](javascript:alert('xss-o'))",
            title=title)
    assert any("Added 1 article(s)" in a for a in _alerts(page)), _alerts(page)
    # the same text again: refused, and the refusal names the file literally
    _submit(page, [_file(name, text)], outlet="again")
    alerts = _alerts(page)
    refusal = next(a for a in alerts if "already in the store" in a)
    assert "[x](javascript:alert('xss-name'))" in refusal
    assert "<img src=x onerror=alert('xss-nimg')>" in refusal and ":red[r] $x$" in refusal
    page.get_by_role("tab", name="Article reader").click()
    wait_idle(page)
    page.get_by_label("Article", exact=True).click()
    page.get_by_role("option").filter(has_text="**Bold** :red[red]").click()
    wait_idle(page)
    reader = _squash(page.locator(".rd-article").inner_text())
    assert _squash(title) in reader
    assert "<b>Upload</b> [o](javascript:alert('xss-o'))" in reader
    assert '<script>alert("xss-quote")</script>' in reader
    page.wait_for_timeout(500)
    assert session.dialogs == []
    assert injected(page) == []


def test_two_uploads_at_the_same_time_both_land(upload_app: App, browser: Browser) -> None:
    pages: list[Page] = []
    contexts = []
    dialogs: list[str] = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(90_000)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        contexts.append(context)
        pages.append(page)
    try:
        texts = {
            "simultaneous_a": "Two Kosovo police officers were wounded on Tuesday when gunmen "
            "opened fire on a patrol near the village of Leposavic in northern Kosovo, "
            "police said.",
            "simultaneous_b": "Protesters clashed with police in Zvecan on Wednesday, and two "
            "people were injured, police said.",
        }
        for page, (name, text) in zip(pages, texts.items(), strict=True):
            open_app(page, upload_app.url)
            _open_form(page)
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
                files=[_file(f"{name}.txt", text.encode())]
            )
            page.get_by_label("Outlet").fill(name)
            page.wait_for_timeout(300)
        buttons = [p.get_by_role("button", name="Parse and add to the map") for p in pages]
        for button in buttons:  # back to back: the second lands while the first parses
            button.click(no_wait_after=True)
        for page in pages:
            # Wait for the outcome itself: an idle page right after the click may
            # be the run before the submission (its rerun not started yet while
            # the server works on the other one), so sampling once is racy.
            try:
                page.locator(
                    '[data-testid="stAlert"]', has_text="Added 1 article(s)"
                ).first.wait_for(timeout=90_000)
            except PlaywrightTimeout:
                pytest.fail(
                    f"page {pages.index(page)}: no 'Added' alert in 90 s; alerts of the pages: "
                    f"{[_alerts(p) for p in pages]}; server log: "
                    f"{upload_app.log.read_text(errors='replace')[-3000:]}"
                )
            wait_idle(page)
        for page in pages:
            assert any("Added 1 article(s)" in a for a in _alerts(page)), _alerts(page)
        ids = {a.article_id for a in store.read_articles(upload_app.db)}
        assert set(texts) <= ids
        events = store.read_events(upload_app.db)
        sourced = {s["article"] for sources in events["sources"] for s in sources}
        assert set(texts) <= sourced
        assert dialogs == []
        frame = map_frame(pages[0])
        assert frame is not None
    finally:
        for context in contexts:
            context.close()


def test_touching_a_widget_while_an_upload_parses_neither_loses_it_nor_its_outcome(
    upload_app: App, session: Session
) -> None:
    """Streamlit stops a running script when any widget changes. The upload must
    survive that: all files land and the outcome is shown by the next run."""
    page = session.page
    open_app(page, upload_app.url)
    seeds = sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.txt"))
    files = [  # long enough that parsing them takes a few seconds
        _file(f"interrupted_{i}.txt",
              (f"Dispatch {i} of the interrupted batch.\n\n"
               + seeds[i % len(seeds)].read_text(encoding="utf-8") * 3).encode())
        for i in range(20)
    ]
    _open_form(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files=files)
    page.get_by_label("Outlet").fill("Interrupted Wire")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Parse and add to the map").click()
    page.get_by_role("tab", name="Timeline and table").click()  # a rerun while it parses
    try:
        page.locator('[data-testid="stAlert"]', has_text="Added 20 article(s)").first.wait_for(
            timeout=120_000
        )
    except PlaywrightTimeout:
        pytest.fail(f"no 'Added 20' alert in 120 s; alerts: {_alerts(page)}")
    wait_idle(page)
    ids = {a.article_id for a in store.read_articles(upload_app.db)}
    assert {f"interrupted_{i}" for i in range(20)} <= ids
    assert page.get_by_role("tab", name="Timeline and table").get_attribute(
        "aria-selected") == "true"
    # the outcome is shown once: the next rerun (another widget) drops it
    page.get_by_role("tab", name="Map").click()
    wait_idle(page)
    assert not any("Added 20 article(s)" in a for a in _alerts(page)), _alerts(page)
    assert session.dialogs == []
