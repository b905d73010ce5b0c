"""Pure filters and summaries over the events GeoDataFrame.

The map app composes these; they never touch Streamlit, so they are tested
without a browser. The frame has the columns of ``store.read_events``; dates
are ISO text (``date``..``date_end`` inclusive). Filters take ``None`` for
"no constraint" and an empty collection for "match nothing", so a user who
unticks every layer sees an empty map rather than everything.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "layer",
    "event_type",
    "acled_event_type",
    "acled_sub_event_type",
    "date",
    "date_end",
    "time_precision",
    "place",
    "place_id",
    "geo_precision",
    "country",
    "actors",
    "fatalities",
    "n_sources",
    "outlets",
    "summary",
    "sources",
    "disputed_by",
    "lon",
    "lat",
    "geometry_wkt",
)
"""Columns of the CSV export; ``lon``/``lat`` are a point on the geometry."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC_CSV = frozenset({"geo_precision", "fatalities", "n_sources", "lon", "lat"})
_PHRASE = re.compile(r'"([^"]+)"|(\S+)')


def normalise(text: str) -> str:
    """Case- and accent-insensitive form, so "Vucic" finds "Vučić"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def _as_list(value: Any) -> list[Any]:
    """Lists survive the store as lists, JSON text or None; give a list."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return [value]
        return parsed if isinstance(parsed, list) else [parsed]
    if isinstance(value, np.ndarray):
        return list(value.tolist())
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return list(value)
    return [value]


def as_list(value: Any) -> list[Any]:
    """Public form of the list coercion, for views that show list columns."""
    return _as_list(value)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _row_search_text(row: Mapping[str, Any]) -> str:
    parts: list[str] = [
        _text(row.get("summary")),
        _text(row.get("place")),
        _text(row.get("country")),
        _text(row.get("event_type")),
        _text(row.get("acled_event_type")),
        _text(row.get("acled_sub_event_type")),
        _text(row.get("layer")),
        _text(row.get("id")),
    ]
    parts.extend(_text(a) for a in _as_list(row.get("actors")))
    for src in _as_list(row.get("sources")):
        if isinstance(src, Mapping):
            parts.extend(_text(src.get(k)) for k in ("outlet", "quote", "article"))
    for dispute in _as_list(row.get("disputed_by")):
        if isinstance(dispute, Mapping):
            parts.extend(_text(dispute.get(k)) for k in ("who", "quote"))
    return normalise("\n".join(p for p in parts if p))


def search_haystack(events: pd.DataFrame) -> pd.Series:
    """One normalised text per event to search in; compute once per store load."""
    if events.empty:
        return pd.Series([], index=events.index, dtype=object)
    records = events.drop(columns="geometry", errors="ignore").to_dict("records")
    return pd.Series([_row_search_text(r) for r in records], index=events.index, dtype=object)


def search_terms(text: str) -> list[str]:
    """Split a query into terms; ``"double quotes"`` keep a phrase together."""
    terms = []
    for match in _PHRASE.finditer(text):
        term = normalise((match.group(1) or match.group(2)).strip())
        if term:
            terms.append(term)
    return terms


def _dates(events: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(events[column], errors="coerce", format="ISO8601")


def date_bounds(events: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """Earliest start and latest end among the events, for the date slider."""
    if events.empty:
        return None
    starts = _dates(events, "date")
    ends = _dates(events, "date_end").fillna(starts)
    if starts.isna().all():
        return None
    return starts.min().date(), ends.max().date()


def filter_events(
    events: gpd.GeoDataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    layers: Collection[str] | None = None,
    event_types: Collection[str] | None = None,
    actors: Collection[str] | None = None,
    min_sources: int = 0,
    text: str | None = None,
    haystack: pd.Series | None = None,
    dates: Literal["within", "overlap"] = "within",
) -> gpd.GeoDataFrame:
    """Rows matching every given constraint, in their original order.

    ``dates="within"`` keeps events whose whole ``date``..``date_end`` range
    lies inside ``start``..``end`` (inclusive): choosing one day shows what
    happened that day, not a week-long build-up that spans it.
    ``dates="overlap"`` keeps every event whose range touches the window (the
    store's ``read_events`` rule). ``actors`` keeps events naming any of them.
    ``text`` keeps events containing every term (accent- and case-blind).
    """
    mask = pd.Series(True, index=events.index)
    if start is not None or end is not None:
        starts = _dates(events, "date")
        ends = _dates(events, "date_end").fillna(starts)
        if dates not in ("within", "overlap"):
            raise ValueError(f"dates must be 'within' or 'overlap', not {dates!r}")
        first, last = (starts, ends) if dates == "within" else (ends, starts)
        if start is not None:
            mask &= first >= pd.Timestamp(start)
        if end is not None:
            mask &= last <= pd.Timestamp(end)
    if layers is not None:
        mask &= events["layer"].isin(list(layers))
    if event_types is not None:
        mask &= events["event_type"].isin(list(event_types))
    if actors is not None:
        wanted = set(actors)
        mask &= events["actors"].map(lambda v: bool(wanted.intersection(_as_list(v))))
    if min_sources > 0:
        mask &= _n_sources(events) >= min_sources
    if text:
        terms = search_terms(text)
        if terms:
            hay = haystack if haystack is not None else search_haystack(events)
            hay = hay.reindex(events.index).fillna("")
            for term in terms:
                mask &= hay.str.contains(term, regex=False)
    result = events.loc[mask.to_numpy(dtype=bool)]
    return result if isinstance(result, gpd.GeoDataFrame) else gpd.GeoDataFrame(result)


def _n_sources(events: pd.DataFrame) -> pd.Series:
    if "n_sources" in events.columns:
        return pd.to_numeric(events["n_sources"], errors="coerce").fillna(0)
    return events["sources"].map(
        lambda v: len({s.get("article") for s in _as_list(v) if isinstance(s, Mapping)})
    )


def actor_options(events: pd.DataFrame) -> list[str]:
    """Actors named in the events, most frequent first, for the actor filter."""
    counts: Counter[str] = Counter()
    for value in events["actors"] if "actors" in events.columns else []:
        counts.update(str(a) for a in _as_list(value) if str(a).strip())
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def event_type_options(events: pd.DataFrame) -> list[str]:
    """Distinct event types, sorted, for the event-type filter."""
    if events.empty:
        return []
    return sorted({str(v) for v in events["event_type"].dropna()})


def layer_counts(events: pd.DataFrame, *, layers: Iterable[str]) -> dict[str, int]:
    """Events per layer, zero for layers without any, in the given order."""
    counts = events["layer"].value_counts() if not events.empty else pd.Series(dtype=int)
    return {layer: int(counts.get(layer, 0)) for layer in layers}


def timeline(events: pd.DataFrame) -> pd.DataFrame:
    """Events per day per layer, counted on each event's start date.

    Returns long-form rows ``date`` (datetime64), ``layer``, ``events``, with
    zero rows filled in so bars line up over the whole span.
    """
    columns = ["date", "layer", "events"]
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            columns, ("datetime64[ns]", "object", "int64"), strict=True)})
    days = _dates(events, "date").dt.normalize()
    frame = pd.DataFrame({"date": days, "layer": events["layer"].astype(str)}).dropna()
    if frame.empty:
        return pd.DataFrame(columns=columns)
    counts = frame.groupby(["date", "layer"]).size()
    span = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    layers = sorted(frame["layer"].unique())
    full = pd.MultiIndex.from_product([span, layers], names=["date", "layer"])
    out = counts.reindex(full, fill_value=0).rename("events").reset_index()
    out["events"] = out["events"].astype("int64")
    return out


def _csv_safe(value: str) -> str:
    """Stop spreadsheet formula injection from article text (OWASP advice)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fatalities(value: Any) -> str:
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else str(int(number))


def to_csv(events: gpd.GeoDataFrame) -> str:
    """The filtered events as CSV text: one row per event, lists joined by "; ".

    ``sources`` and ``disputed_by`` keep their full records as JSON so nothing
    is lost; text cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    geoms = events.geometry if len(events) else []
    for (_, row), geom in zip(events.iterrows(), geoms, strict=True):
        sources = [s for s in _as_list(row.get("sources")) if isinstance(s, Mapping)]
        disputes = [d for d in _as_list(row.get("disputed_by")) if isinstance(d, Mapping)]
        point = geom.representative_point() if geom is not None and not geom.is_empty else None
        outlets = list(dict.fromkeys(_text(s.get("outlet")) for s in sources))
        cells: dict[str, str] = {
            "id": _text(row.get("id")),
            "layer": _text(row.get("layer")),
            "event_type": _text(row.get("event_type")),
            "acled_event_type": _text(row.get("acled_event_type")),
            "acled_sub_event_type": _text(row.get("acled_sub_event_type")),
            "date": _text(row.get("date")),
            "date_end": _text(row.get("date_end")),
            "time_precision": _text(row.get("time_precision")),
            "place": _text(row.get("place")),
            "place_id": _text(row.get("place_id")),
            "geo_precision": _fatalities(row.get("geo_precision")),
            "country": _text(row.get("country")),
            "actors": "; ".join(_text(a) for a in _as_list(row.get("actors"))),
            "fatalities": _fatalities(row.get("fatalities")),
            "n_sources": _fatalities(row.get("n_sources")),
            "outlets": "; ".join(o for o in outlets if o),
            "summary": _text(row.get("summary")),
            "sources": json.dumps(sources, ensure_ascii=False, default=str),
            "disputed_by": json.dumps(disputes, ensure_ascii=False, default=str),
            "lon": f"{point.x:.6f}" if point is not None else "",
            "lat": f"{point.y:.6f}" if point is not None else "",
            "geometry_wkt": geom.wkt if geom is not None else "",
        }
        writer.writerow(
            [cells[c] if c in _NUMERIC_CSV else _csv_safe(cells[c]) for c in CSV_COLUMNS]
        )
    return buffer.getvalue()
