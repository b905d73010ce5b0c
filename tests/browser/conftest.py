"""Browser fixtures: the real app under ``streamlit run``, driven by Debian's Chromium.

Each app fixture starts ``streamlit run app.py`` on a free localhost port with
``GEO_DB`` pointing at a temporary store and waits for the health endpoint.
The main app builds its store from the real seeds itself (the first-run
path); the upload app starts from a seeds store built beforehand; the fixture
store (hostile HTML and Jinja in articles and events) backs the escaping checks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import CHROMIUM, App, Session, launch_chromium
from fixture_store import write_fixture_store
from playwright.sync_api import Browser, sync_playwright

from geo import pipeline

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
STARTUP_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(db: Path, *, log: Path) -> App:
    port = _free_port()
    env = {**os.environ, "GEO_DB": str(db), "GEO_SEEDS": str(SEEDS)}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--server.enableStaticServing", "true",
        "--browser.gatherUsageStats", "false",
    ]
    handle = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited ({proc.returncode}): {log.read_text()[-2000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp,
        ):
            if resp.read().strip() == b"ok":
                return App(url=url, db=db, log=log, proc=proc)
        time.sleep(0.3)
    _stop(proc)
    raise RuntimeError(f"streamlit did not become healthy in {STARTUP_TIMEOUT_S}s: "
                       f"{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the session we started, nothing else
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def seed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The app on the real seeds; the store does not exist yet, so the app builds it."""
    work = tmp_path_factory.mktemp("seed_app")
    app = _start(work / "store.gpkg", log=work / "streamlit.log")
    yield app
    _stop(app.proc)


@pytest.fixture(scope="session")
def fixture_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The app on the fixture store (articles and events carrying hostile HTML)."""
    work = tmp_path_factory.mktemp("fixture_app")
    db = work / "store.gpkg"
    write_fixture_store(db)
    app = _start(db, log=work / "streamlit.log")
    yield app
    _stop(app.proc)


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """A separate app whose store the upload tests may change."""
    work = tmp_path_factory.mktemp("upload_app")
    db = work / "store.gpkg"
    pipeline.build_store(SEEDS, db)
    app = _start(db, log=work / "streamlit.log")
    yield app
    _stop(app.proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(bash scripts/setup.sh --browser)")
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def session(browser: Browser, tmp_path: Path) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    seen = Session(page=page)

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    yield seen
    context.close()
