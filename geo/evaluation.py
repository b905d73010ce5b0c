"""Scoring a geoparser against gold annotations (precision, recall, F1).

Gold rows (JSON lines) carry ``file, start, end, text, name, country, lat, lon,
kind``. A predicted mention is *correct* when its span overlaps a gold span
not yet matched and its place agrees: the same country for country mentions,
else within ``point_km`` of the gold point (``line_km`` for lines and areas,
measured to the predicted geometry).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import Point

from geo.models import Mention


@dataclass(frozen=True, slots=True)
class Score:
    gold: int
    predicted: int
    correct: int
    detected: int  # span overlaps, whatever the place

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.gold + other.gold,
            self.predicted + other.predicted,
            self.correct + other.correct,
            self.detected + other.detected,
        )


def load_gold(path: Path | str) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def place_distance_km(m: Mention, lon: float, lat: float) -> float:
    """Distance from a gold point to the predicted place (its geometry if any)."""
    geom = m.place.geometry
    if geom is None or geom.geom_type == "Point":
        return _km(m.place.lon, m.place.lat, lon, lat)
    nearest = (
        geom.interpolate(geom.project(Point(lon, lat)))
        if geom.geom_type
        in (
            "LineString",
            "MultiLineString",
        )
        else None
    )
    if nearest is not None:
        return _km(nearest.x, nearest.y, lon, lat)
    if geom.contains(Point(lon, lat)):
        return 0.0
    from shapely.ops import nearest_points

    p = nearest_points(geom, Point(lon, lat))[0]
    return _km(p.x, p.y, lon, lat)


def agrees(m: Mention, gold: dict[str, Any], *, point_km: float, line_km: float) -> bool:
    if gold.get("kind") == "country":
        return m.place.kind == "country" and m.place.country == gold.get("country")
    tol = line_km if gold.get("kind") in ("line", "area", "region") else point_km
    return place_distance_km(m, float(gold["lon"]), float(gold["lat"])) <= tol


def score(
    predicted: Sequence[Mention],
    gold: Iterable[dict[str, Any]],
    *,
    point_km: float = 10.0,
    line_km: float = 25.0,
) -> tuple[Score, list[str]]:
    """Score one document; returns the score and human-readable errors."""
    gold_rows = sorted(gold, key=lambda g: int(g["start"]))
    used: set[int] = set()
    correct = detected = 0
    errors: list[str] = []
    for m in predicted:
        hit = None
        for k, g in enumerate(gold_rows):
            if k not in used and m.start < int(g["end"]) and int(g["start"]) < m.end:
                hit = k
                break
        if hit is None:
            errors.append(
                f"false place {m.text!r}@{m.start} -> {m.place.name} ({m.place.place_id})"
            )
            continue
        used.add(hit)
        detected += 1
        g = gold_rows[hit]
        if agrees(m, g, point_km=point_km, line_km=line_km):
            correct += 1
        else:
            errors.append(
                f"wrong place {m.text!r}@{m.start} -> {m.place.name} ({m.place.place_id}); "
                f"gold {g['name']}"
            )
    for k, g in enumerate(gold_rows):
        if k not in used:
            errors.append(f"missed {g['text']!r}@{g['start']} ({g['name']})")
    return Score(len(gold_rows), len(predicted), correct, detected), errors
