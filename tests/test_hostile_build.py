"""``python -m geo build`` on hostile input, run as a user runs it (issue 6).

Each bad input is refused with one line naming the file while the rest is
built (exit 1); ``--strict`` fails instead and writes nothing (exit 2); store
problems exit 3; a build killed with SIGKILL leaves the previous store intact.
"Lost" is measured, not assumed: every event an accepted article yields on
its own must still be in the store built from the whole hostile corpus.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo.corpus import article_from_text, load_corpus
from geo.mentions import find_mentions
from geo.pipeline import process_articles
from geo.store import read_articles, read_events, read_mentions
from geo.textio import MAX_ARTICLE_BYTES

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
N_ACCEPTED, N_REFUSED = 7, 23


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, cwd=ROOT,
        timeout=timeout, check=False,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The hostile corpus plus what git cannot hold: a directory row, a FIFO and
    a symlink to /etc/passwd (both listed in the manifest)."""
    folder = tmp_path / "hostile"
    shutil.copytree(HOSTILE, folder)
    (folder / "26_a_folder").mkdir()
    os.mkfifo(folder / "27_fifo.txt")
    (folder / "28_passwd_link.txt").symlink_to("/etc/passwd")
    with (folder / "articles.csv").open("a", encoding="utf-8") as fh:
        fh.write("27_fifo.txt,X,2024-03-12,fifo\n28_passwd_link.txt,X,2024-03-12,link\n")
    return folder


@pytest.fixture(scope="module")
def seeds_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seeds") / "store.gpkg"
    proc = _run("build", str(SEEDS), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    return db


def _copy(db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store.gpkg"
    shutil.copy(db, target)
    return target


def test_hostile_corpus_builds_the_good_and_names_every_bad(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.gpkg"
    proc = _run("build", str(corpus), "--db", str(db))
    _no_traceback(proc)
    assert proc.returncode == 1, proc.stderr
    refused = [ln for ln in proc.stderr.splitlines() if ln.startswith("refused: ")]
    assert len(refused) == N_REFUSED + 2
    rows = (corpus / "articles.csv").read_text(encoding="utf-8").splitlines()
    for line in refused:  # one line each, naming the manifest row and its file
        number = int(line.split(":")[2])
        assert (rows[number - 1].split(",")[0] or "(no file)") in line
    assert any("27_fifo.txt: " in ln and "not a regular file" in ln for ln in refused)
    assert any("28_passwd_link.txt: " in ln and "outside the corpus" in ln for ln in refused)
    assert f"{N_ACCEPTED} articles" in proc.stderr and f"{N_REFUSED + 2} refused" in proc.stderr

    # nothing lost: each accepted article's own events are all in the store
    articles = load_corpus(corpus)
    stored = {a.article_id: a for a in read_articles(db)}
    assert set(stored) == {a.article_id for a in articles}
    events = read_events(db)
    stored_sources = {
        (s["article"], s["start"], s["end"]) for sources in events["sources"] for s in sources
    }
    lost = []
    for article in articles:
        assert stored[article.article_id].text == article.text
        alone, _ = process_articles([article])
        assert alone, f"{article.article_id} yields no event; the corpus must exercise events"
        for event in alone:
            for source in event.sources:
                if (source.article_id, source.start, source.end) not in stored_sources:
                    lost.append((article.article_id, source.quote))
    assert lost == []
    # offsets index the stored text exactly (HTML pages: the extracted text)
    for sources in events["sources"]:
        for s in sources:
            assert stored[s["article"]].text[s["start"] : s["end"]] == s["quote"]
    mentions = read_mentions(db)
    for row in mentions.itertuples():
        assert stored[row.article_id].text[row.start : row.end] == row.text
    page = stored["06_saved_page"].text
    assert "xss" not in page and "Protesters clashed with police in Mitrovica" in page


def test_strict_build_fails_and_keeps_the_previous_store(
    corpus: Path, seeds_store: Path, tmp_path: Path
) -> None:
    db = _copy(seeds_store, tmp_path)
    before = _digest(db)
    proc = _run("build", str(corpus), "--db", str(db), "--strict")
    _no_traceback(proc)
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and "10_empty.txt" in errors[0]
    assert _digest(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # a strict build of a clean corpus still succeeds
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("03_latin1.txt", "04_cp1250_serbian.txt", "06_saved_page.html"):
        shutil.copy(HOSTILE / name, clean / name)
    (clean / "articles.csv").write_text(
        "file,outlet,published,title\n03_latin1.txt,A,2024-03-12,t\n"
        "04_cp1250_serbian.txt,B,2024-03-12,t\n06_saved_page.html,C,2024-03-14,t\n",
        encoding="utf-8",
    )
    proc = _run("build", str(clean), "--db", str(db), "--strict")
    assert proc.returncode == 0, proc.stderr
    assert {a.article_id for a in read_articles(db)} == {
        "03_latin1", "04_cp1250_serbian", "06_saved_page"
    }


def test_exit_codes(seeds_store: Path, tmp_path: Path) -> None:
    good = str(HOSTILE / "04_cp1250_serbian.txt")
    bad = str(HOSTILE / "15_cp1251_cyrillic.txt")
    assert _run("events", good, "--published", "2024-03-12").returncode == 0
    partial = _run("events", good, bad, "--published", "2024-03-12")
    assert partial.returncode == 1 and "15_cp1251_cyrillic.txt" in partial.stderr
    strict = _run("events", good, bad, "--strict")
    assert strict.returncode == 2 and strict.stdout == ""
    assert _run("events", bad).returncode == 2
    assert _run("build", "--workers", "0", str(SEEDS)).returncode == 2  # usage
    assert _run("frobnicate").returncode == 2
    # store errors: a corrupt store to export from, a store path that is a folder
    corrupt = tmp_path / "corrupt.gpkg"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    proc = _run("export", "--db", str(corrupt))
    _no_traceback(proc)
    assert proc.returncode == 3 and "corrupt.gpkg" in proc.stderr
    folder = tmp_path / "folder.gpkg"
    folder.mkdir()
    proc = _run("build", str(SEEDS), "--db", str(folder))
    assert proc.returncode == 3 and "folder.gpkg" in proc.stderr
    for line in (proc.stderr + partial.stderr).splitlines():
        assert line.startswith(("error: ", "refused: ", "note: ", "built ")) or "events (" in line


def test_build_never_overwrites_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    victim = tmp_path / "notes.md"
    victim.write_text("# my notes\n", encoding="utf-8")
    proc = _run("build", str(SEEDS), "--db", str(victim))
    assert proc.returncode == 3 and "not a GeoPackage" in proc.stderr
    assert victim.read_text(encoding="utf-8") == "# my notes\n"


def test_hostile_file_names_stay_on_one_line(tmp_path: Path) -> None:
    evil = tmp_path / "evil\n\x1b[2Jname\u202e.txt"
    evil.write_bytes(b"\x00\x01 not text")
    proc = _run("mentions", str(evil))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr
    assert "evil\\n\\x1b[2Jname\\u202e.txt" in proc.stderr


def test_unpunctuated_text_is_not_quadratic() -> None:
    """A paste with no full stops is one 'sentence': it is cut into bounded
    pieces so event matching stays linear (was minutes for 100 kB)."""
    sentence = ("police said gunmen attacked a patrol near the village on sunday and two "
                "officers were wounded while troops moved")
    words = sentence.split(" ")
    text = " ".join(words[i % len(words)] for i in range(40_000))  # ~230 kB, no punctuation
    article = article_from_text(text, name="paste.txt", published=dt.date(2024, 3, 12))
    started = time.perf_counter()
    events, _ = process_articles([article])
    assert time.perf_counter() - started < 60
    for event in events:
        for source in event.sources:
            assert text[source.start : source.end] == source.quote


# --------------------------------------------------------------------------- big inputs


def _big_corpus(folder: Path, name: str, text: str) -> Path:
    folder.mkdir()
    shutil.copy(SEEDS / "000_b772c7fb9489d75e.txt", folder / "seed.txt")
    (folder / name).write_text(text, encoding="utf-8")
    (folder / "articles.csv").write_text(
        f"file,outlet,published,title\nseed.txt,S,2023-09-29,s\n{name},Big,2023-09-29,big\n",
        encoding="utf-8",
    )
    return folder


def _news_text(size: int, *, newlines: bool) -> str:
    """Varied real sentences (the seeds), so the text is not one repeated line."""
    parts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    n = 0
    block = "\n\n".join(parts)
    if not newlines:
        block = " ".join(block.split())
    out = []
    while n < size:
        out.append(block)
        n += len(block) + 1
    return (("\n\n" if newlines else " ").join(out))[:size]


@pytest.mark.slow
def test_twenty_megabyte_article_is_built(tmp_path: Path) -> None:
    text = _news_text(20_000_000, newlines=True)
    assert len(text.encode("utf-8")) < MAX_ARTICLE_BYTES
    folder = _big_corpus(tmp_path / "c", "big.txt", text)
    db = tmp_path / "store.gpkg"
    proc = _run("build", str(folder), "--db", str(db), timeout=1500)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    stored = {a.article_id: a for a in read_articles(db)}
    assert stored["big"].text == text
    events = read_events(db)
    sourced = {s["article"] for sources in events["sources"] for s in sources}
    assert {"big", "seed"} <= sourced


@pytest.mark.slow
def test_five_megabyte_single_line(tmp_path: Path) -> None:
    text = _news_text(5_000_000, newlines=False)
    assert "\n" not in text
    folder = _big_corpus(tmp_path / "c", "line.txt", text)
    db = tmp_path / "store.gpkg"
    proc = _run("build", str(folder), "--db", str(db), timeout=1500)
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    line = next(a for a in read_articles(db) if a.article_id == "line")
    assert line.text == text
    for sources in read_events(db)["sources"]:
        for s in sources:
            if s["article"] == "line":
                assert text[s["start"] : s["end"]] == s["quote"]
    sample = text[:200_000]
    for mention in find_mentions(sample):
        assert sample[mention.start : mention.end] == mention.text


def test_article_over_the_limit_is_refused_by_name(tmp_path: Path) -> None:
    folder = _big_corpus(tmp_path / "c", "huge.txt", "x")
    with (folder / "huge.txt").open("wb") as fh:
        fh.truncate(MAX_ARTICLE_BYTES + 1)
    db = tmp_path / "store.gpkg"
    proc = _run("build", str(folder), "--db", str(db))
    assert proc.returncode == 1
    assert "huge.txt" in proc.stderr and "larger than the 25 MB limit" in proc.stderr
    assert [a.article_id for a in read_articles(db)] == ["seed"]


# --------------------------------------------------------------------------- SIGKILL


def _temp_stores(db: Path) -> list[Path]:
    return [t / "store.gpkg" for t in db.parent.glob(f".{db.name}.tmp-*")]


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["parsing", "writing"])
def test_sigkill_mid_build_keeps_the_previous_store(
    phase: str, seeds_store: Path, tmp_path: Path
) -> None:
    db = _copy(seeds_store, tmp_path)
    before = _digest(db)
    before_events = read_events(db)
    folder = _big_corpus(tmp_path / "c", "big.txt", _news_text(2_000_000, newlines=True))
    child = subprocess.Popen(
        [sys.executable, "-m", "geo", "build", str(folder), "--db", str(db)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 600
        hit = False
        while time.monotonic() < deadline and child.poll() is None:
            if phase == "parsing":
                time.sleep(2.0)  # parsing the 2 MB article takes several seconds
                hit = not _temp_stores(db)
                break
            if any(t.exists() and t.stat().st_size > 0 for t in _temp_stores(db)):
                hit = True
                break
            time.sleep(0.002)
        assert hit and child.poll() is None, f"the build was not caught {phase}"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _digest(db) == before
    assert read_events(db).equals(before_events)
    assert len(read_articles(db)) == 5
    # the next build recovers: it replaces the store and clears the dead temp dir
    proc = _run("build", str(folder), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert {a.article_id for a in read_articles(db)} == {"seed", "big"}
    assert _temp_stores(db) == []


def test_parallel_build_refuses_and_keeps_the_same(corpus: Path, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial.gpkg", tmp_path / "parallel.gpkg"
    one = _run("build", str(corpus), "--db", str(serial))
    two = _run("build", str(corpus), "--db", str(parallel), "--workers", "2")
    assert one.returncode == two.returncode == 1, two.stderr
    refused = sorted(ln for ln in one.stderr.splitlines() if ln.startswith("refused: "))
    assert refused == sorted(ln for ln in two.stderr.splitlines() if ln.startswith("refused: "))
    assert read_events(serial).equals(read_events(parallel))
    assert read_articles(serial) == read_articles(parallel)


def test_api_articles_with_lone_surrogates_are_refused_not_crashing(
    seeds_store: Path, tmp_path: Path
) -> None:
    """Text decoded with ``surrogateescape`` (os.fsdecode, some JSON) cannot be
    stored; an API caller gets a refusal for that article, the others land."""
    from geo.errors import InputError
    from geo.pipeline import add_articles
    from geo.store import write_store

    db = _copy(seeds_store, tmp_path)
    before = _digest(db)
    bad = article_from_text("Gunmen attacked a patrol near Zve\udcc4an on Sunday.",
                            name="bad.txt", published=dt.date(2024, 3, 12))
    good = article_from_text("Protesters clashed with police in Mitrovica on Monday, and "
                             "three people were injured.", name="good.txt",
                             published=dt.date(2024, 3, 12))
    with pytest.raises(InputError, match="unpaired surrogates"):
        add_articles(db, [bad])
    assert _digest(db) == before
    report = add_articles(db, [bad, good])
    assert len(report.refused) == 1 and "bad.txt" in report.refused[0]
    assert {a.article_id for a in read_articles(db)} >= {"good"}
    assert "bad" not in {a.article_id for a in read_articles(db)}
    with pytest.raises(InputError, match="unpaired surrogates"):
        write_store(db, articles=[bad], events=[])
    assert "good" in {a.article_id for a in read_articles(db)}


def test_command_output_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """Article text reaches stdout only as JSON; the characters JSON leaves raw that
    a terminal acts on (C1 controls such as CSI, bidi overrides) are escaped."""
    import json

    article = tmp_path / "term.txt"
    article.write_text("Police in Pristina said \u009b2J\u202eevil\u202c on Sunday that gunmen "
                       "attacked a patrol near Zvečan, killing one officer.\u2028",
                       encoding="utf-8")
    for args in (("mentions", str(article)), ("events", str(article), "--published",
                                               "2024-03-12")):
        proc = _run(*args)
        assert proc.returncode == 0, proc.stderr
        for raw in ("\u009b", "\u202e", "\u202c", "\u2028"):
            assert raw not in proc.stdout
        fc = json.loads(proc.stdout)
        assert fc["type"] == "FeatureCollection" and fc["features"]
    quotes = [s["quote"] for f in fc["features"] for s in f["properties"]["sources"]]
    assert any("\u202eevil\u202c" in q for q in quotes)  # escaped, not dropped
