"""`python -m geo mentions`: the command-line contract other tools call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "geo", *args], capture_output=True, text=True, timeout=120
    )


def test_prints_a_featurecollection_with_exact_offsets() -> None:
    path = SEEDS / "002_07107bda1a78f282.txt"
    proc = run("mentions", str(path), "--published", "2023-09-29")
    assert proc.returncode == 0, proc.stderr
    fc = json.loads(proc.stdout)
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    text = path.read_bytes().decode("utf-8")
    assert len(fc["features"]) >= 10
    for f in fc["features"]:
        p = f["properties"]
        assert text[p["start"] : p["end"]] == p["text"]
        for key in ("place_id", "name", "kind", "country", "score"):
            assert key in p
        assert f["geometry"]["type"] in (
            "Point",
            "LineString",
            "MultiLineString",
            "Polygon",
            "MultiPolygon",
        )
    names = {f["properties"]["name"] for f in fc["features"]}
    assert {"Belgrade", "Pristina", "Banjska"} <= names


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    proc = run("mentions", str(tmp_path / "nope.txt"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.txt" in lines[0] and "Traceback" not in proc.stderr


def test_binary_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    proc = run("mentions", str(bad))
    assert proc.returncode == 2
    assert "photo.txt" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    ok = tmp_path / "a.txt"
    ok.write_text("Officials in Pristina said so.", encoding="utf-8")
    proc = run("mentions", str(ok), "--published", "2023-02-30")
    assert proc.returncode == 2
    assert "YYYY-MM-DD" in proc.stderr


def test_legacy_encoding_is_decoded(tmp_path: Path) -> None:
    f = tmp_path / "cp1252.txt"
    f.write_bytes("Police in Zve\u010dan and Pri\u0161tina \u2014 caf\u00e9".encode("cp1250"))
    proc = run("mentions", str(f))
    # cp1250 bytes for č/š are not valid UTF-8; we either decode as cp1252 (and
    # still find Pristina only if folding maps the bytes) or refuse with a reason.
    assert proc.returncode in (0, 2)
    if proc.returncode == 2:
        assert "cp1252.txt" in proc.stderr
