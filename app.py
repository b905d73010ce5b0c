"""The news-event map: ``streamlit run app.py``.

A thin composition of tested pieces: :mod:`geo.query` filters, :mod:`geo.mapview`
draws, :mod:`geo.reader` renders articles, :mod:`geo.export` writes GeoJSON and
:mod:`geo.pipeline` builds or extends the store. Configuration by environment:
``GEO_DB`` (the GeoPackage store; default ``store.DEFAULT_DB``) and
``GEO_SEEDS`` (the folder with ``articles.csv`` used to build a missing store;
default ``seeds/`` beside this file).

Article text is untrusted: it reaches the page only through escaped HTML built
in ``geo/`` or through Streamlit widgets that render text as text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import corpus, export, jobs, mapview, query, reader, store, textio
from geo.errors import GeoError, InputError
from geo.models import LAYERS, Article

APP_DIR = Path(__file__).resolve().parent
DB = Path(os.environ.get("GEO_DB") or store.DEFAULT_DB).expanduser()
SEEDS = Path(os.environ.get("GEO_SEEDS") or APP_DIR / "seeds").expanduser()
MAP_HEIGHT = 620
FOCUS_ZOOM = 11
# (Comments, not attribute docstrings: Streamlit's magic would print bare strings.)
TABLE_ROWS = 10_000  # the table lists at most this many rows (map and exports have all)
TAB_MAP, TAB_DATA, TAB_READER = "Map", "Timeline and table", "Article reader"
MAX_UPLOAD_FILES = 20  # files per upload: parsed together in one job, store locked

st.set_page_config(page_title="News event map", page_icon=":world_map:", layout="wide")


# --------------------------------------------------------------------------- cached resources


@st.cache_resource(show_spinner=False)
def _styles() -> mapview.MapStyles:
    return mapview.load_styles()


@st.cache_resource(show_spinner=False)
def _reference() -> mapview.ReferenceLayers:
    return mapview.load_reference_layers()


@st.cache_resource(show_spinner=False)
def _bundle_url() -> str | None:
    """Serve Leaflet, its plugins and the land polygons as one static script, written
    once per content version (:func:`geo.mapview.script_bundle`).

    One request instead of four before the map can start, the largest reference
    layer out of every rerun's message, and the browser caches it. None (separate
    files, land inline) if static serving is off or ``static/generated`` is not
    writable.
    """
    if not st.get_option("server.enableStaticServing"):
        return None
    try:
        text = mapview.script_bundle(_reference())
    except OSError:
        return None
    name = f"map-{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}.js"
    folder = APP_DIR / "static" / "generated"
    try:
        if not (folder / name).is_file():
            folder.mkdir(exist_ok=True)
            part = folder / f".{name}.{os.getpid()}.part"
            part.write_text(text, encoding="utf-8")
            part.replace(folder / name)  # atomic: a browser never sees half a file
    except OSError:
        return None
    return f"{_static_base()}/generated/{name}"


@st.cache_resource(show_spinner=False)
def _write_lock() -> threading.Lock:
    """One store writer per server process; the store lock covers other processes."""
    return threading.Lock()


@dataclass
class _Builds:
    """The server's store builds by store path: one build however many sessions wait."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    running: dict[str, jobs.Job[Any]] = field(default_factory=dict)


@st.cache_resource(show_spinner=False)
def _builds() -> _Builds:
    return _Builds()


def _stamp(db: Path) -> tuple[int, int]:
    info = db.stat()
    return info.st_mtime_ns, info.st_size


@st.cache_resource(show_spinner="Reading the event store…", max_entries=2)
def _load_store(db: str, stamp: tuple[int, int]) -> dict[str, Any]:
    """Events, articles and mention places; keyed on the file's stamp.

    A resource, not data: every rerun shares these read-only objects instead of
    unpickling a copy (1.4 s per rerun at 100,000 events). Nothing may modify them.
    """
    del stamp  # only part of the cache key: a rewrite of the store invalidates
    events = store.read_events(db)
    mentions = store.read_mentions(db)
    return {
        "events": events,
        "articles": store.read_articles(db),
        "mention_places": mapview.aggregate_mentions(mentions),
    }


@st.cache_resource(show_spinner="Indexing the text for search…", max_entries=2)
def _haystack(db: str, stamp: tuple[int, int], _events: gpd.GeoDataFrame) -> pd.Series:
    """The search index, built on the first search only (read-only, shared)."""
    return query.search_haystack(_events)


@st.cache_resource(show_spinner="Preparing the map…", max_entries=2)
def _event_index(db: str, stamp: tuple[int, int], _events: gpd.GeoDataFrame) -> mapview.EventIndex:
    """Symbols, anchors and texts of every event, once per store version (shared)."""
    return mapview.EventIndex(_events, styles=_styles())


@st.cache_resource(show_spinner=False, max_entries=4)
def _filtered(
    db: str,
    stamp: tuple[int, int],
    key: str,
    _events: gpd.GeoDataFrame,
    _haystack: pd.Series | None,
    _criteria: dict[str, Any],
) -> gpd.GeoDataFrame:
    """The events matching the filters (``key`` is their JSON), shared read-only:
    reruns that keep the filters (new visitors, tabs, a table row) skip filtering."""
    return query.filter_events(_events, haystack=_haystack, **_criteria)


@st.cache_resource(show_spinner=False, max_entries=16)
def _payload(
    db: str, stamp: tuple[int, int], criteria: str, _shown: gpd.GeoDataFrame
) -> mapview.EventPayload:
    """Map data per store version and filter: a filter change selects and groups rows
    of the store's :class:`geo.mapview.EventIndex`; going back to a filter reuses it."""
    index = _event_index(db, stamp, _load_store(db, stamp)["events"])
    return index.payload(index.positions_of(_shown))


@st.cache_data(show_spinner=False, max_entries=32)
def _article_mentions(db: str, stamp: tuple[int, int], article_id: str) -> pd.DataFrame:
    del stamp
    mentions = store.read_mentions(db, article_id=article_id)
    return pd.DataFrame(mentions.drop(columns="geometry"))


# --------------------------------------------------------------------------- store life cycle


def _ensure_store() -> None:
    """Build the store from the seeds on first run, with a visible progress bar.

    The build runs as a :class:`geo.jobs.Job`, once per server: a rerun (any widget
    touched) does not abort it, and every session that opens meanwhile waits on
    the same build. A failed build is started again by the next run.
    """
    if DB.exists():
        return
    from geo import pipeline

    lock = _write_lock()

    def build(progress: jobs.Progress) -> None:
        with lock, store.store_lock(DB):
            if not DB.exists():
                pipeline.build_store(SEEDS, DB, progress=progress)

    builds = _builds()
    with builds.guard:
        job = builds.running.get(str(DB))
        if job is None or job.error is not None:
            job = builds.running[str(DB)] = jobs.Job.start(build, name=f"build {DB.name}")
    _wait(job, st, text=f"Building the event store from {SEEDS.name}/ …",
          step="Parsing articles")
    if job.error is not None:
        st.error(_plain(f"Could not build the event store: {job.error}"))
        st.stop()
    st.toast(f"Built the event store at {DB}")


def _wait(job: jobs.Job[Any], box: Any, *, text: str, step: str) -> None:
    """Draw the job's progress until it finishes. A rerun may stop this wait at
    any bar update; the job goes on, and the next run waits again."""
    if job.finished:
        return
    slot = box.empty()
    bar = slot.progress(job.share, text=text)
    seen = (-1, -1)
    while not job.wait(0.2):
        if (job.done, job.total) != seen and job.total:
            seen = (job.done, job.total)
            bar.progress(job.share, text=f"{step}: {job.done} of {job.total}")
    slot.empty()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""


_MARKDOWN_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def _plain(text: str) -> str:
    """Untrusted text (file names, refusal reasons) for ``st.error``/``st.warning``,
    which render Markdown: one line, every ASCII punctuation backslash-escaped so
    no link, image, HTML, directive (``:red[...]``) or formula can form."""
    return _MARKDOWN_PUNCT.sub(r"\\\1", textio.display_name(" ".join(text.split())))


@dataclass(eq=False)
class _Upload:
    """One submission of the upload form and what became of it.

    Kept in the session until a complete script run has shown it, so neither the
    outcome nor the write itself is lost to a rerun (see :mod:`geo.jobs`).
    """

    messages: list[tuple[str, str]]  # (kind, Markdown-safe text) known at submission
    job: jobs.Job[Any] | None = None  # the store write, when anything was left to add
    articles: int = 0  # articles handed to the job
    refused: list[str] = field(default_factory=list)  # files that did not decode (raw)


_UPLOADS = "_geo_uploads"  # session state: this session's submissions not shown yet


def _handle_upload(box: Any) -> list[_Upload]:
    """The upload form: parse, merge and persist; bad files change nothing.

    The same checks as ``python -m geo build``: each file is decoded by
    :func:`geo.textio.decode_article` (size limit :data:`geo.textio.MAX_UPLOAD_BYTES`,
    encodings, binary, HTML) and a bad file is skipped with its one-line reason
    while the others are added. The write runs as a :class:`geo.jobs.Job`: touching
    a widget while it parses does not abort it, and its outcome is shown by the
    next complete run. Two uploads at once both land: writers queue on the
    store lock inside :func:`geo.pipeline.add_articles`. Returns the submissions
    drawn in this run (the caller forgets them once the run completes).
    """
    pending: list[_Upload] = st.session_state.setdefault(_UPLOADS, [])
    submitted, files, outlet, published, title = _upload_form(box)
    if submitted:
        pending.append(_submit(files, outlet=outlet, published=published, title=title))
    for upload in pending:
        _show_upload(box, upload)
    return list(pending)


def _upload_form(box: Any) -> tuple[bool, list[Any], str, Any, str]:
    today = dt.date.today()
    # Lazy: the form (and its widgets' browser code) only when the user opens it.
    expander = box.expander("Add articles", expanded=False, key="upload_open", on_change="rerun")
    if not expander.open:
        return False, [], "", None, ""
    with expander, st.form("upload", clear_on_submit=True):
        files = st.file_uploader(
            "Article text files (.txt, .html)",
            type=["txt", "html", "htm"],
            accept_multiple_files=True,
            max_upload_size=max(1, textio.MAX_UPLOAD_BYTES // (1024 * 1024)),
            help=f"Up to {MAX_UPLOAD_FILES} files of at most "
            f"{textio.MAX_UPLOAD_BYTES // (1024 * 1024)} MB each.",
        )
        outlet = st.text_input("Outlet", placeholder="e.g. Reuters", max_chars=corpus.MAX_FIELD)
        published = st.date_input(
            "Publication date",
            value=today,
            min_value=corpus.EARLIEST,
            max_value=today + dt.timedelta(days=1),
            format="YYYY-MM-DD",
        )
        title = st.text_input("Title (optional; default: first line)", max_chars=corpus.MAX_FIELD)
        submitted = st.form_submit_button("Parse and add to the map")
    return bool(submitted), list(files or []), outlet or "", published, title or ""


def _submit(files: list[Any], *, outlet: str, published: Any, title: str) -> _Upload:
    """Check and decode the files now (cheap); start the store write as a job."""
    if not files:
        return _Upload([("warning", "Choose at least one .txt file to add.")])
    if len(files) > MAX_UPLOAD_FILES:
        return _Upload([("error", f"Nothing was added: {len(files)} files; "
                                  f"add at most {MAX_UPLOAD_FILES} at once.")])
    from geo import gazetteer, pipeline

    refused: list[str] = []
    articles: list[Article] = []
    for upload in files:
        try:
            text = textio.decode_article(
                upload.getvalue(), name=upload.name, limit=textio.MAX_UPLOAD_BYTES
            )
        except InputError as exc:
            refused.append(str(exc))
            continue
        articles.append(
            corpus.article_from_text(
                text,
                name=upload.name,
                outlet=corpus.clean_field(outlet),
                published=published if isinstance(published, dt.date) else None,
                title=corpus.clean_field(title) or corpus.clean_field(_first_line(text)),
            )
        )
    if not articles:
        return _Upload([("error", _plain("Nothing was added: " + "; ".join(refused)))])
    lock = _write_lock()

    def add(progress: jobs.Progress) -> Any:
        gazetteer.load()  # once per process; cached
        with lock:
            return pipeline.add_articles(DB, articles, progress=progress)

    return _Upload([], jobs.Job.start(add, name="upload"), articles=len(articles),
                   refused=refused)


def _show_upload(box: Any, upload: _Upload) -> None:
    """The outcome of one submission: its progress while the write runs, then one
    success or error line, then one warning per skipped file."""
    job = upload.job
    if job is not None:
        _wait(job, box, text="Parsing articles…", step="Parsing articles")
        if isinstance(job.error, InputError):
            box.error(_plain("Nothing was added: " + "; ".join([*upload.refused, str(job.error)])))
            return
        if isinstance(job.error, GeoError):
            box.error(_plain(f"Nothing was added: the store could not be updated ({job.error})"))
            return
        if job.error is not None:
            box.error(_plain(f"Nothing was added: unexpected {type(job.error).__name__} "
                             f"({job.error}); the store is unchanged; see the server log"))
            return
        report = job.result
        skipped = list(getattr(report, "refused", []) or [])
        box.success(f"Added {upload.articles - len(skipped)} article(s). {_report_text(report)}")
        for line in [*upload.refused, *skipped]:
            box.warning(_plain(f"Skipped: {line}"))
    for kind, text in upload.messages:
        getattr(box, kind)(text)


def _forget_shown(drawn: list[_Upload]) -> None:
    """Called at the end of a complete run: what it drew has reached the page."""
    pending: list[_Upload] = st.session_state.get(_UPLOADS, [])
    pending[:] = [u for u in pending if u not in drawn]  # identity: eq=False


def _report_text(report: Any) -> str:
    """One line from the pipeline's BuildReport: what the store now holds."""
    articles = getattr(report, "articles", None)
    events = getattr(report, "events", None)
    if isinstance(articles, int) and isinstance(events, int):
        return f"The store now holds {articles} articles and {events} merged events."
    return ""


# --------------------------------------------------------------------------- filters


@st.cache_data(show_spinner=False, max_entries=4)
def _options(db: str, stamp: tuple[int, int], _events: gpd.GeoDataFrame) -> dict[str, Any]:
    """Choices for the filter widgets, computed once per store version."""
    return {
        "bounds": query.date_bounds(_events),
        "layers": [layer for layer in LAYERS if (_events["layer"] == layer).any()],
        "types": query.event_type_options(_events),
        "actors": query.actor_options(_events),
        "most_sources": int(_events["n_sources"].max()) if len(_events) else 1,
    }


def _filters(box: Any, options: dict[str, Any], styles: mapview.MapStyles) -> dict[str, Any]:
    """Sidebar widgets; returns keyword arguments for :func:`query.filter_events`."""
    box.header("Filters")
    out: dict[str, Any] = {}
    bounds = options["bounds"]
    if bounds is not None:
        low, high = bounds
        if low == high:
            low, high = low - dt.timedelta(days=1), high + dt.timedelta(days=1)
        start, end = box.slider(
            "Dates",
            min_value=low,
            max_value=high,
            value=(low, high),
            step=dt.timedelta(days=1),
            format="YYYY-MM-DD",
            key=f"dates:{low}:{high}",
            help="Events dated within these days; see the option below for longer events.",
        )
        out["start"], out["end"] = start, end
        spanning = box.checkbox(
            "Also show longer events that overlap these days",
            value=False,
            help="Off: only events whose whole date range lies inside the chosen days.",
        )
        out["dates"] = "overlap" if spanning else "within"
    present = options["layers"] or list(LAYERS)
    # three fixed choices: toggle chips, lighter for the browser than a multiselect
    out["layers"] = list(box.pills(
        "Layers", options=list(LAYERS), default=present, format_func=styles.layer_label,
        selection_mode="multi",
    ) or [])
    types = box.multiselect(
        "Event types",
        options=options["types"],
        placeholder="All event types",
        format_func=lambda t: styles.type_style("", t).label,
    )
    out["event_types"] = types or None
    actors = box.multiselect(
        "Actors", options=options["actors"], placeholder="All actors"
    )
    out["actors"] = actors or None
    most = options["most_sources"]
    out["min_sources"] = int(
        box.number_input("Minimum sources", min_value=1, max_value=max(1, most), value=1, step=1)
    )
    out["text"] = box.text_input(
        "Search", placeholder='e.g. Banjska, KFOR, "armed group"', help="All words must occur."
    ).strip()
    return out


# --------------------------------------------------------------------------- views


def _table(events: gpd.GeoDataFrame, styles: mapview.MapStyles) -> pd.DataFrame:
    """The events as plain text columns (Streamlit shows cells as text, not HTML)."""
    return pd.DataFrame(
        {
            "date": events["date"],
            "date_end": events["date_end"],
            "layer": events["layer"].map(styles.layer_label),
            "type": [
                styles.type_style(str(layer), str(kind)).label
                for layer, kind in zip(events["layer"], events["event_type"], strict=True)
            ],
            "place": events["place"],
            "geo_precision": events["geo_precision"],
            "actors": events["actors"].map(lambda a: ", ".join(map(str, query.as_list(a)))),
            "fatalities": events["fatalities"],
            "sources": events["n_sources"],
            "disputed": events["disputed_by"].map(lambda d: len(query.as_list(d))),
            "summary": events["summary"],
            "id": events["id"],
        }
    )


def _focus(events: gpd.GeoDataFrame) -> tuple[list[float] | None, int | None]:
    """Centre [lat, lon] and zoom of the focused event, if it is still shown."""
    event_id = st.session_state.get("focus_event")
    if not event_id:
        return None, None
    rows = events[events["id"] == event_id]
    if rows.empty:
        return None, None
    anchors = mapview.anchors_lonlat(rows.geometry.iloc[0])
    if not anchors:
        return None, None
    lon, lat = anchors[0]
    return [lat, lon], FOCUS_ZOOM


def _on_table_select() -> None:
    selection = st.session_state.get("events_table")
    ids: Sequence[str] = st.session_state.get("table_ids", [])
    rows = selection.selection.rows if selection is not None else []
    if rows and 0 <= rows[0] < len(ids):
        _show_on_map(ids[rows[0]])


def _map_tab(
    data: dict[str, Any], shown: gpd.GeoDataFrame, criteria: str, styles: mapview.MapStyles
) -> None:
    """Counts, the map and the downloads: what a filter change must redraw, nothing more.

    The Leaflet map itself (base, reference layers, controls) does not depend on
    the filters, so st_folium keeps it across reruns; only the event overlay
    (``feature_group_to_add``) is sent and swapped.
    """
    total = len(data["events"])
    counts = query.layer_counts(shown, layers=LAYERS)
    cols = st.columns([2] + [1] * len(LAYERS))  # room for "100000 of 100000"
    cols[0].metric("Events shown", f"{len(shown)} of {total}")
    for col, layer in zip(cols[1:], LAYERS, strict=True):
        col.metric(styles.layer_label(layer), counts[layer])
    payload = _payload(str(DB), _stamp(DB), criteria, shown)
    fmap = mapview.base_map(
        reference=_reference(),
        mention_places=data["mention_places"],
        asset_base=_asset_base(),
        bundle_url=_bundle_url(),
    )
    center, zoom = _focus(shown)
    st_folium(
        fmap,
        key="event_map",
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=[],
        center=center,
        zoom=zoom,
        feature_group_to_add=mapview.event_overlay(payload, styles=styles),
        render=False,  # st_folium renders the map itself once more; once is enough
    )
    downloads = st.columns([1, 1, 3])
    downloads[0].download_button(
        "Download GeoJSON",
        data=_geojson_of(shown),
        file_name="events.geojson",
        mime="application/geo+json",
        on_click="ignore",
        help="Exactly the filtered events, RFC 7946 (same writer as `geo export`).",
    )
    downloads[1].download_button(
        "Download CSV",
        data=_csv_of(shown),
        file_name="events.csv",
        mime="text/csv",
        on_click="ignore",
    )


def _data_tab(shown: gpd.GeoDataFrame, styles: mapview.MapStyles) -> None:
    """The timeline and the table of the filtered events (a tab of its own, so the map
    tab loads and redraws without the chart and grid code)."""
    st.subheader("Timeline")
    line = query.timeline(shown)
    if line.empty:
        st.info("No events match the filters.")
    else:
        line["layer"] = line["layer"].map(styles.layer_label)
        st.bar_chart(line, x="date", y="events", color="layer", height=220)
    st.subheader("Events")
    listed = shown.iloc[:TABLE_ROWS]
    note = (
        f" Showing the first {TABLE_ROWS:,} of {len(shown):,}: narrow the filters, or download "
        "the CSV for all." if len(shown) > TABLE_ROWS else ""
    )
    st.caption("Choose a row to show that event on the map." + note)
    st.session_state["table_ids"] = list(listed["id"])
    st.dataframe(
        _table(listed, styles),
        key="events_table",
        on_select=_on_table_select,
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
    )


def _geojson_of(events: gpd.GeoDataFrame) -> Callable[[], str]:
    def make() -> str:
        return export.dumps_geojson(export.events_to_featurecollection(events))

    return make


def _csv_of(events: gpd.GeoDataFrame) -> Callable[[], str]:
    def make() -> str:
        return query.to_csv(events)

    return make


def _static_base() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static" if base else "/app/static"


def _asset_base() -> str:
    return f"{_static_base()}/vendor"


def _show_on_map(event_id: str) -> None:
    st.session_state["focus_event"] = event_id
    st.session_state["main_tabs"] = TAB_MAP


def _reader_tab(data: dict[str, Any], styles: mapview.MapStyles) -> None:
    articles: list[Article] = data["articles"]
    if not articles:
        st.info("The store has no articles yet.")
        return
    labels = [
        f"{a.title or a.article_id} — {a.outlet or 'unknown outlet'}"
        f" ({a.published.isoformat() if a.published else 'undated'})"
        for a in articles
    ]
    choice = st.selectbox(
        "Article", options=range(len(articles)), format_func=lambda i: labels[i], key="reader_pick"
    )
    article = articles[choice if choice is not None else 0]
    mentions = _article_mentions(str(DB), _stamp(DB), article.article_id)
    layer_labels: dict[str, str] = {layer: styles.layer_label(layer) for layer in LAYERS}
    refs = reader.article_events(data["events"], article.article_id)
    type_labels = {r.event_type: styles.type_style(r.layer, r.event_type).label for r in refs}
    st.html(
        reader.article_html(
            article,
            mentions=mentions,
            events=data["events"],
            layer_labels=layer_labels,
            type_labels=type_labels,
        )
    )
    if refs:
        st.caption("Show an event of this article on the map:")
        cols = st.columns(min(4, len(refs)))
        for i, ref in enumerate(refs):
            cols[i % len(cols)].button(
                f"[{ref.number}] {type_labels[ref.event_type]} · {ref.place}"[:60],
                key=f"show:{ref.id}",
                on_click=_show_on_map,
                args=(ref.id,),
            )


# --------------------------------------------------------------------------- page


def main() -> None:
    """Compose the page; every widget's state lives in Streamlit's session."""
    styles = _styles()
    # a static style (no article text): less empty space above the map (markdown, not
    # st.html: the page already loads the markdown code, st.html would add its own)
    st.markdown("<style>.block-container { padding-top: 2.2rem; }</style>",
                unsafe_allow_html=True)
    st.title("News event map")
    filters_box = st.sidebar.container()
    upload_box = st.sidebar.container()
    _ensure_store()
    drawn = _handle_upload(upload_box)
    try:
        data = _load_store(str(DB), _stamp(DB))
    except GeoError as exc:
        st.error(f"Cannot read the event store: {exc}")
        st.stop()
    events: gpd.GeoDataFrame = data["events"]
    criteria = _filters(filters_box, _options(str(DB), _stamp(DB), events), styles)
    haystack = _haystack(str(DB), _stamp(DB), events) if criteria.get("text") else None
    key = json.dumps(criteria, default=str, sort_keys=True)
    shown = _filtered(str(DB), _stamp(DB), key, events, haystack, criteria)
    filters_box.caption(f"{len(shown)} of {len(events)} events match · store: {DB.name}")
    # Lazy tabs: only the open one runs (and loads its browser code).
    map_tab, data_tab, reader_tab = st.tabs(
        [TAB_MAP, TAB_DATA, TAB_READER], key="main_tabs", on_change="rerun"
    )
    if map_tab.open is not False:
        with map_tab:
            _map_tab(data, shown, key, styles)
    if data_tab.open:
        with data_tab:
            _data_tab(shown, styles)
    if reader_tab.open:
        with reader_tab:
            _reader_tab(data, styles)
    _forget_shown(drawn)


main()
