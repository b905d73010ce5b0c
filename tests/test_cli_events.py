"""The build, events and export commands, run as a user runs them (subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from geo.export import validate_rfc7946

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "events"


def _run(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if db is not None:
        env["GEO_DB"] = str(db)
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=300, check=False,
    )


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert lines, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "events.gpkg"
    proc = _run("build", str(SEEDS), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "5 articles" in proc.stderr
    return db


def _fc(text: str) -> dict[str, Any]:
    fc: dict[str, Any] = json.loads(text)
    assert validate_rfc7946(fc) == []
    assert "crs" not in fc
    return fc


def test_build_default_db_comes_from_geo_db(tmp_path: Path) -> None:
    db = tmp_path / "default.gpkg"
    proc = _run("build", db=db)
    assert proc.returncode == 0, proc.stderr
    assert db.exists()
    assert f"built {db}" in proc.stderr


def test_export_is_rfc7946_and_gdal_reads_it(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.geojson"
    proc = _run("export", "--db", str(built), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    fc = _fc(out.read_text(encoding="utf-8"))
    n = len(fc["features"])
    assert n >= 8
    info = pyogrio.read_info(out)
    assert info["features"] == n
    frame = pyogrio.read_dataframe(out)
    assert {"id", "layer", "event_type", "date", "sources", "n_sources", "disputed_by"} <= set(
        frame.columns
    )
    props = fc["features"][0]["properties"]
    assert list(props)[:3] == ["id", "layer", "event_type"]


def test_export_filters_by_date_and_layer(built: Path) -> None:
    proc = _run("export", "--db", str(built), "--start", "2023-09-01", "--end", "2023-09-30",
                "--layer", "incidents")
    assert proc.returncode == 0, proc.stderr
    fc = _fc(proc.stdout)
    layers = {f["properties"]["layer"] for f in fc["features"]}
    dates = [f["properties"]["date"] for f in fc["features"]]
    assert layers == {"incidents"}
    assert dates == ["2023-09-24"]  # the May caption clashes are outside the range
    proc = _run("export", "--db", str(built), "--layer", "diplomacy", "--layer",
                "troop_positions")
    layers = {f["properties"]["layer"] for f in _fc(proc.stdout)["features"]}
    assert layers == {"diplomacy", "troop_positions"}


def test_export_errors(built: Path, tmp_path: Path) -> None:
    proc = _run("export", "--db", str(tmp_path / "missing.gpkg"))
    assert proc.returncode == 3
    assert "no event store" in _one_line_error(proc)
    proc = _run("export", "--db", str(built), "--start", "2023-10-01", "--end", "2023-09-01")
    assert proc.returncode == 2
    assert "after --end" in _one_line_error(proc)
    proc = _run("export", "--db", str(built), "--layer", "weather")
    assert proc.returncode == 2
    proc = _run("export", "--db", str(built), "--start", "2023-02-30")
    assert proc.returncode == 2 and "not a date" in proc.stderr


def test_events_command_prints_merged_events(tmp_path: Path) -> None:
    files = [str(SEEDS / "002_07107bda1a78f282.txt"), str(SEEDS / "003_7210e56ee1d0009a.txt")]
    proc = _run("events", *files, "--published", "2023-09-29")
    assert proc.returncode == 0, proc.stderr
    fc = _fc(proc.stdout)
    banjska = [f for f in fc["features"] if f["properties"]["place_id"] == "cur:banjska"]
    assert len(banjska) == 1 and banjska[0]["properties"]["n_sources"] == 2
    outlets = {s["outlet"] for s in banjska[0]["properties"]["sources"]}
    assert outlets == {"002_07107bda1a78f282", "003_7210e56ee1d0009a"}


def test_events_command_partial_and_bad_input(tmp_path: Path) -> None:
    good = str(DATA / "leaders_call.txt")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    proc = _run("events", good, str(binary), "--published", "2024-03-12")
    assert proc.returncode == 1
    assert "blob.txt" in proc.stderr and "binary" in proc.stderr
    assert len(_fc(proc.stdout)["features"]) == 2
    proc = _run("events", str(tmp_path / "none.txt"))
    assert proc.returncode == 2
    assert "none.txt" in proc.stderr
    proc = _run("events", good, "--published", "29/09/2023")
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr


def test_build_refuses_bad_rows_with_exit_1_and_strict_stops(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEEDS / "000_b772c7fb9489d75e.txt", folder / "a.txt")
    (folder / "articles.csv").write_text(
        "file,outlet,published,title\na.txt,X,2023-09-29,t\nb.txt,X,2023-13-01,t\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.gpkg"
    proc = _run("build", str(folder), "--db", str(db))
    assert proc.returncode == 1, proc.stderr
    refused = [ln for ln in proc.stderr.splitlines() if ln.startswith("refused:")]
    assert len(refused) == 1 and "b.txt" in refused[0] and "not a real date" in refused[0]
    assert db.exists()
    before = db.read_bytes()
    proc = _run("build", str(folder), "--db", str(db), "--strict")
    assert proc.returncode == 2
    assert "b.txt" in _one_line_error(proc)
    assert db.read_bytes() == before


def test_build_missing_folder(tmp_path: Path) -> None:
    proc = _run("build", str(tmp_path / "nowhere"), "--db", str(tmp_path / "x.gpkg"))
    assert proc.returncode == 2
    assert "nowhere" in _one_line_error(proc)
