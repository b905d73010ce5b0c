"""The speed-ups of issue 5 must not change a single output: each fast path is
compared with the plain computation it replaces, on real texts and stores."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from geo import dates, events, store
from geo.export import write_geojson
from geo.pipeline import build_store
from geo.scan import Anchored, AnchoredSet, WordIndex

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "data" / "texts").glob("*.txt"))
]
# Characters that case-insensitive matching treats as ASCII letters (Kelvin sign, long s,
# dotless i, dotted I), digits, dashes and quotes around words.
TRICKY = "K\u212aſsıİi0123456789 -\u2010'’.,:/\n\tAaMmOoNnTtHhEeSsDdYy"


def _patterns() -> list[re.Pattern[str]]:
    rules = events.load_rules()
    found = [p for p, _ in dates._RULES]
    found += [t.regex for t in rules.triggers]
    found += [a.pattern for a in events._denial_anchors(rules.path).patterns]
    found += [a.pattern for a in events._actor_anchors(rules.path).patterns]
    return found


PATTERNS = _patterns()
ANCHORED = AnchoredSet([Anchored(p) for p in PATTERNS])


def _same(text: str) -> None:
    index = WordIndex(text)
    starts = ANCHORED.starts(index)
    for anchored, cands in zip(ANCHORED.patterns, starts, strict=True):
        want = [(m.span(), m.groups()) for m in anchored.pattern.finditer(text)]
        got = [(m.span(), m.groups()) for m in anchored.finditer(index, starts=cands)]
        assert got == want, anchored.pattern.pattern[:80]
        third = len(text) // 3
        window = [m.span() for m in anchored.pattern.finditer(text, third, 2 * third)]
        assert [m.span() for m in anchored.finditer(index, third, 2 * third)] == window


def test_most_patterns_take_the_fast_path() -> None:
    fast = [a for a in ANCHORED.patterns if a.keys is not None]
    assert len(fast) >= 0.9 * len(PATTERNS)


def test_anchored_matches_equal_a_full_scan_on_real_texts() -> None:
    for text in TEXTS:
        _same(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=TRICKY, max_size=120))
def test_anchored_matches_equal_a_full_scan_on_tricky_text(text: str) -> None:
    _same(text)


def test_unguarded_or_empty_matching_patterns_fall_back_to_a_scan() -> None:
    assert Anchored(re.compile(r"x?")).keys is None  # can match the empty string
    assert Anchored(re.compile(r"ab")).keys is None  # may start inside a word
    lazy = Anchored(re.compile(r"\bab"))
    assert lazy.keys is not None
    text = "cab ab xab Ab ab"
    assert [m.span() for m in lazy.finditer(WordIndex(text))] == [
        m.span() for m in lazy.pattern.finditer(text)
    ]


def test_fast_export_writes_the_standard_bytes(tmp_path: Path) -> None:
    db = tmp_path / "seeds.gpkg"
    build_store(ROOT / "seeds", db)
    fast, slow = tmp_path / "fast.geojson", tmp_path / "slow.geojson"
    assert store._verified_rows(db) is not None  # the writer's fingerprint holds
    n = store.export_geojson(db, fast)
    assert n == write_geojson(store.read_events(db), slow) > 0
    assert fast.read_bytes() == slow.read_bytes()


def test_edited_store_is_exported_the_standard_way(tmp_path: Path) -> None:
    db = tmp_path / "seeds.gpkg"
    build_store(ROOT / "seeds", db)
    with sqlite3.connect(db) as connection:  # another tool edits a summary
        # the GeoPackage R-tree triggers call these; the geometry is not changed
        for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            connection.create_function(name, 1, lambda _geom: 0)
        connection.execute("UPDATE events SET summary = 'edited by hand' WHERE fid = 1")
    assert store._verified_rows(db) is None
    fast, slow = tmp_path / "fast.geojson", tmp_path / "slow.geojson"
    store.export_geojson(db, fast)
    write_geojson(store.read_events(db), slow)
    assert fast.read_bytes() == slow.read_bytes()
    assert b"edited by hand" in fast.read_bytes()
