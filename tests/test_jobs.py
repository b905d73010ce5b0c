"""geo.jobs: work that outlives the script run that started it (the app's uploads)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest

from geo import corpus, jobs, store
from geo.errors import InputError
from geo.pipeline import add_articles

TEXT = (
    "Two Kosovo police officers were wounded on Tuesday when gunmen opened fire on a "
    "patrol near the village of Leposavic in northern Kosovo, police said."
)


def test_the_work_runs_in_its_own_thread_and_reports_progress() -> None:
    seen: list[str] = []

    def work(progress: jobs.Progress) -> int:
        seen.append(threading.current_thread().name)
        for i in range(1, 5):
            progress(i, 4)
        return 42

    job = jobs.Job.start(work, name="count")
    assert job.wait(10)
    assert job.finished and job.result == 42 and job.error is None
    assert (job.done, job.total, job.share) == (4, 4, 1.0)
    assert seen == ["geo-job: count"]


def test_a_job_completes_after_its_waiter_gave_up() -> None:
    """The app's case: a rerun stops the script that waits; the write must go on."""
    release = threading.Event()
    reached = threading.Event()

    def work(progress: jobs.Progress) -> str:
        progress(1, 2)
        reached.set()
        release.wait(10)
        progress(2, 2)
        return "written"

    job = jobs.Job.start(work, name="slow")
    assert reached.wait(10)
    assert job.wait(0.05) is False  # the waiter times out (the rerun) ...
    assert not job.finished and job.share == 0.5 and job.result is None
    release.set()  # ... and the work, untouched, finishes on its own
    assert job.wait(10) and job.result == "written"


def test_the_thread_is_not_a_daemon() -> None:
    """A server asked to exit waits for a store write in progress."""
    release = threading.Event()
    job = jobs.Job.start(lambda progress: release.wait(10), name="hold")
    try:
        assert job._thread.daemon is False
    finally:
        release.set()
        job.wait(10)


def test_errors_are_kept_and_only_unexpected_ones_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(progress: jobs.Progress) -> None:
        raise InputError("x.txt: the article is empty")

    def broken(progress: jobs.Progress) -> None:
        raise ZeroDivisionError("division by zero")

    with caplog.at_level(logging.ERROR, logger="geo.jobs"):
        a = jobs.Job.start(refused, name="refused")
        b = jobs.Job.start(broken, name="broken")
        assert a.wait(10) and b.wait(10)
    assert isinstance(a.error, InputError) and a.result is None
    assert isinstance(b.error, ZeroDivisionError)
    logged = [r for r in caplog.records if r.name == "geo.jobs"]
    assert [r.getMessage() for r in logged] == ["job 'broken' failed"]
    assert logged[0].exc_info is not None


def test_share_is_zero_before_a_total_is_known() -> None:
    job: jobs.Job[None] = jobs.Job(lambda progress: None, name="idle")
    assert job.share == 0.0 and not job.finished


def test_an_upload_job_writes_a_real_store(tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    article = corpus.article_from_text(
        TEXT, name="patrol.txt", outlet="Wire", published=dt.date(2023, 9, 26), title="Patrol"
    )
    job = jobs.Job.start(lambda progress: add_articles(db, [article], progress=progress),
                         name="upload")
    assert job.wait(120), "the upload job did not finish"
    assert job.error is None, job.error
    assert job.total >= 1 and job.done == job.total
    assert [a.article_id for a in store.read_articles(db)] == ["patrol"]
    again = jobs.Job.start(lambda progress: add_articles(db, [article], progress=progress),
                           name="again")
    assert again.wait(120)
    assert isinstance(again.error, InputError) and "already in the store" in str(again.error)
    assert [a.article_id for a in store.read_articles(db)] == ["patrol"]
