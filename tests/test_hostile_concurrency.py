"""Two uploads at the same time both land (issue 6).

The app's uploads call :func:`geo.pipeline.add_articles`, which reads,
re-merges and rewrites the store under :func:`geo.store.store_lock`. Two
writers without that lock would each write "stored + mine" and one upload
would vanish. Here two processes (two app servers, or the CLI and the app)
and two threads (two browser sessions of one server) race on a real store.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from geo.corpus import article_from_text
from geo.errors import InputError
from geo.pipeline import BuildReport, add_articles, build_store
from geo.store import read_articles, read_events

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TEXTS = {
    "upload_a": "Two Kosovo police officers were wounded on Tuesday when gunmen opened fire on "
    "a patrol near the village of Leposavic in northern Kosovo, police said.",
    "upload_b": "Protesters clashed with police in Zvecan on Wednesday, and two people were "
    "injured, police said.",
}

_ADDER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from geo.corpus import article_from_text
    from geo.pipeline import add_articles
    db, name, text, go = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
    article = article_from_text(text, name=name + ".txt", outlet=name,
                                published=dt.date(2024, 3, 14))
    while not go.exists():
        time.sleep(0.002)
    report = add_articles(db, [article])
    print(report.articles, report.events, len(report.refused))
    """
)


@pytest.fixture(scope="module")
def seeds_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seeds") / "store.gpkg"
    build_store(SEEDS, db)
    return db


def _landed(db: Path) -> None:
    ids = {a.article_id for a in read_articles(db)}
    assert set(TEXTS) <= ids and len(ids) == 5 + len(TEXTS)
    sourced = {s["article"] for sources in read_events(db)["sources"] for s in sources}
    assert set(TEXTS) <= sourced, "an upload's events were lost"
    assert sum(1 for a in read_articles(db) if a.article_id in TEXTS) == len(TEXTS)


@pytest.mark.slow
def test_two_processes_adding_at_once_both_land(seeds_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    shutil.copy(seeds_store, db)
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _ADDER, str(db), name, text, str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )
        for name, text in TEXTS.items()
    ]
    go.touch()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        outputs.append(out.split())
    # one of them saw 6 articles, the other 7: they ran one after the other
    assert sorted(int(o[0]) for o in outputs) == [6, 7]
    _landed(db)


def test_two_threads_adding_at_once_both_land(seeds_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    shutil.copy(seeds_store, db)
    barrier = threading.Barrier(len(TEXTS))
    reports: list[BuildReport] = []
    errors: list[BaseException] = []

    def upload(name: str, text: str) -> None:
        article = article_from_text(text, name=f"{name}.txt", outlet=name,
                                    published=dt.date(2024, 3, 14))
        barrier.wait()
        try:
            reports.append(add_articles(db, [article]))
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=item) for item in TEXTS.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert errors == [] and len(reports) == 2
    assert sorted(r.articles for r in reports) == [6, 7]
    _landed(db)


def test_same_name_twice_at_once_one_lands_one_is_named(seeds_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    shutil.copy(seeds_store, db)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def upload(text: str) -> None:
        article = article_from_text(text, name="same.txt", published=dt.date(2024, 3, 14))
        barrier.wait()
        try:
            add_articles(db, [article])
            outcomes.append("added")
        except InputError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=upload, args=(t,)) for t in TEXTS.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert sorted(outcomes)[0] == "added"
    refusal = sorted(outcomes)[1]
    assert "same.txt" in refusal and "already in the store" in refusal
    assert sum(1 for a in read_articles(db) if a.article_id == "same") == 1
