"""Helpers for the browser tests: what a running app is, and how to read the page.

Kept out of conftest.py so test modules import them by a name no other
conftest can shadow.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Frame, Page, Playwright

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
CHROMIUM = os.environ.get("GEO_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium (Playwright's own browser builds need a download)."""
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Launch arguments of every browser run, tests and benchmarks alike: no sandbox (the
test machines run as root), no GPU, nothing that calls out to the network."""


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium with :data:`CHROMIUM_ARGS` (tests and benchmarks)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )


@dataclass
class App:
    """A running app: its URL, the store it uses and its server log."""

    url: str
    db: Path
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)


@dataclass
class Session:
    """A page plus what it saw: JS dialogs (must stay empty) and page errors."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- page helpers


def map_frame(page: Page) -> Frame:
    """The live map's frame: the one visible st_folium iframe, with Leaflet loaded."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        handles = [h for h in page.query_selector_all(MAP_IFRAME) if h.is_visible()]
        if len(handles) == 1:
            frame = handles[0].content_frame()
            with contextlib.suppress(Exception):
                if frame is not None and frame.evaluate(
                    "() => !!(window.map && window.map._loaded)"
                ):
                    return frame
        page.wait_for_timeout(250)
    raise AssertionError("the map did not render within 60 s")


def wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished the current script run and dropped stale elements."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const state = app && app.getAttribute('data-test-script-state');
            return state && state !== 'running' && state !== 'initial'
                && !document.querySelector('[data-stale="true"]');
        }""",
        timeout=90_000,
    )
    page.wait_for_timeout(300)


def open_app(page: Page, url: str) -> Frame:
    page.goto(url)
    map_frame(page)
    wait_idle(page)
    return map_frame(page)


def zoom_world(frame: Frame) -> None:
    """Show the whole world so every marker or cluster is in view (and in the DOM)."""
    frame.evaluate("() => { window.map.setView([25, 0], 1, {animate: false}); }")
    frame.wait_for_timeout(600)


def rendered_markers(frame: Frame) -> dict[str, Any]:
    """Markers drawn now: single icons (with their event ids) plus clustered ones."""
    result: dict[str, Any] = frame.evaluate(
        """() => {
            const icons = Array.from(document.querySelectorAll('.ev-icon'));
            const clusters = Array.from(document.querySelectorAll('.marker-cluster span'));
            return {
                ids: icons.map(e => e.getAttribute('data-ev')),
                clustered: clusters.reduce((n, e) => n + parseInt(e.textContent, 10), 0),
            };
        }"""
    )
    result["total"] = len(result["ids"]) + int(result["clustered"])
    return result


def injected_scripts(page: Page, marker: str) -> int:
    """Script elements, in any frame, whose code would run ``marker`` literally."""
    count = 0
    for frame in page.frames:
        with contextlib.suppress(Exception):
            count += frame.evaluate(
                """(m) => Array.from(document.querySelectorAll('script'))
                        .filter(s => (s.textContent || '').includes(m)).length""",
                marker,
            )
    return count


def event_handler_attributes(page: Page) -> int:
    """Elements, in any frame, carrying an inline onerror/onload handler."""
    count = 0
    for frame in page.frames:
        with contextlib.suppress(Exception):
            count += frame.evaluate(
                "() => document.querySelectorAll('[onerror],[onload]').length"
            )
    return count
