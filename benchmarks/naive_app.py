"""The naive map the issue asks to compare against: one folium.Marker per event, through
st_folium, nothing else (no clustering, no compact payload).

Run only by bench_app.py (it copies this file next to a link to ``static/`` so
Leaflet is served locally, as in the real app; the machine is offline).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

sys.path.insert(0, os.environ["GEO_ROOT"])

from geo import store

ASSETS = "/app/static/vendor"


@st.cache_resource(show_spinner=False)
def _events(db: str) -> object:
    return store.read_events(db)


events = _events(os.environ["GEO_DB"])
st.title("Naive map")
points = [g.representative_point() for g in events.geometry]  # type: ignore[attr-defined]
lat0 = sum(p.y for p in points) / max(1, len(points))
lon0 = sum(p.x for p in points) / max(1, len(points))
fmap = folium.Map(location=[lat0, lon0], zoom_start=7, tiles=None)
fmap.default_js = [("leaflet", f"{ASSETS}/leaflet/leaflet.js")]
fmap.default_css = [("leaflet_css", f"{ASSETS}/leaflet/leaflet.css")]
for point, summary in zip(points, events["summary"], strict=True):  # type: ignore[index]
    # A tooltip, not a popup: folium's popup template needs jQuery, which offline
    # Streamlit cannot load; the per-marker payload is the same kind of text.
    folium.Marker([point.y, point.x], tooltip=str(summary)).add_to(fmap)
st.caption(f"{len(points)} markers")
st_folium(fmap, height=620, returned_objects=[], key=Path(os.environ["GEO_DB"]).name)
