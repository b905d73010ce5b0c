"""Property tests on hostile text (issue 6), filling the gaps of the existing ones.

tests/test_mentions.py and tests/test_dates.py already feed uniform random
Unicode and date-shaped fragments; tests/test_export.py already checks random
geometries through GDAL. What they rarely generate, and what is here:

* characters whose case mapping changes length (``İ``, ``ß``, ``ﬁ``) or that
  combine, join or reorder (combining marks, ZWJ, bidi controls), mixed into
  real place names and event sentences — the classic way to break offsets;
* the whole pipeline (mentions → dates → events → merge) on such text, with
  every quote checked against ``text[start:end]``;
* arbitrary bytes into the decoder and arbitrary CSV into the manifest reader;
* hostile strings in every text property through the *store* and the
  exporter, read back by GDAL.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import unicodedata
from pathlib import Path

import pyogrio
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from geo import export, store
from geo.corpus import article_from_text, load_corpus
from geo.dates import find_dates
from geo.errors import InputError, ManifestError
from geo.mentions import find_mentions
from geo.models import LAYERS, Article, Dispute, Event, Source
from geo.pipeline import process_articles
from geo.textio import decode_article, html_to_text

# Length-changing case maps, combining/joining/reordering marks, separators.
_TRICKY = [
    "İ", "ı", "ß", "ẞ", "ﬁ", "ﬃ", "ŉ", "ΐ", "ǰ", "Ω", "K", "ſ", "\u0307", "\u0301", "\u0308",
    "\u200d", "\u200b", "\u200e", "\u200f", "\u202e", "\u202c", "\u2066", "\u2069", "\ufeff",
    "\u00a0", "\u2028", "\u2029", "\u3000", "\r\n", "\t", "🇽🇰", "👮\u200d♀️", "🙏🏽", "𝐊𝐨𝐬𝐨𝐯𝐨",
    "ｋｏｓｏｖｏ", "קוסובו", "كوسوفو", "Косово", "科索沃", "Ǆ", "ǅ", "ﾞ", "\x0c", "\x1b",
]  # fmt: skip
_WORDS = [
    "Kosovo", "Zvečan", "ZVEČAN", "Priština", "Pristina", "Banjska", "Mitrovica", "Serbia's",
    "Belgrade", "U.S.", "NATO", "KFOR", "Jarinje", "the", "police", "said", "attacked", "killed",
    "two", "officers", "near", "village", "of", "on", "Sunday", "Sept. 24", "2023", "last week",
    "border", "troops", "massing", "along", "administrative", "line", "denied", "clashed",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "{{7*7}}", "**bold**", ".", ",", "—", "(", ")", '"', "’", " ", " ", " ", "\n", "\n\n",
]  # fmt: skip
_SENTENCES = [
    "Gunmen attacked a police patrol near Zvečan on Sunday, killing one officer, police said.",
    "Protesters clashed with police in Mitrovica on Monday, and three people were injured.",
    "Serbian troops were reported massing along the administrative line over the past week.",
    "Belgrade denied any build-up, calling the reports fabricated.",
    "NATO said KFOR would send extra troops to the north of Kosovo on Thursday.",
    "The US secretary of state spoke by phone with the president in Belgrade on Friday.",
    "PRISTINA, Sept 25 (Reuters) - Kosovo police arrested two men near Jarinje on Sept. 24.",
]


@st.composite
def _event_text(draw: st.DrawFn) -> str:
    """Real event sentences with tricky characters dropped in at random places."""
    parts = draw(st.lists(st.sampled_from(_SENTENCES), min_size=1, max_size=4))
    text = draw(st.sampled_from([" ", "\n", "\n\n", "\r\n"])).join(parts)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_TRICKY + _WORDS)) + text[at:]
    return text


hostile_text = st.lists(st.sampled_from(_WORDS + _TRICKY), max_size=60).map("".join)
mixed_text = st.one_of(
    _event_text(),
    hostile_text,
    st.lists(st.sampled_from(_WORDS), max_size=40).map(" ".join),
    st.lists(st.sampled_from(_TRICKY + list("KosvZečanPrištiBlgd .,\n")), max_size=200)
    .map("".join),
)
published = st.one_of(st.none(), st.dates(min_value=dt.date(1800, 1, 1),
                                          max_value=dt.date(2100, 12, 31)))

def _settings(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings(400)
@given(text=mixed_text, day=published)
def test_mentions_never_raise_and_slice_exactly(text: str, day: dt.date | None) -> None:
    previous = -1
    for m in find_mentions(text, published=day):
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
        assert m.start >= previous  # ordered, no overlap with the previous one
        previous = m.end
        assert -180.0 <= m.place.lon <= 180.0 and -90.0 <= m.place.lat <= 90.0


@_settings(400)
@given(text=mixed_text, day=st.one_of(st.none(), st.dates()))
def test_dates_never_raise_and_slice_exactly(text: str, day: dt.date | None) -> None:
    end = 0
    for d in find_dates(text, published=day):
        assert text[d.start : d.end] == d.text
        assert end <= d.start < d.end <= len(text)
        end = d.end
        assert d.date <= d.date_end


@_settings(400)
@given(texts=st.lists(mixed_text, min_size=1, max_size=3), day=published)
def test_pipeline_never_raises_and_every_quote_is_exact(
    texts: list[str], day: dt.date | None
) -> None:
    articles = [
        article_from_text(t, name=f"a{i}.txt", outlet=f"o{i}", published=day)
        for i, t in enumerate(texts)
    ]
    by_id = {a.article_id: a.text for a in articles}
    events, mentions = process_articles(articles)
    for article_id, m in mentions:
        assert by_id[article_id][m.start : m.end] == m.text
    for event in events:
        assert event.date <= event.date_end
        for s in event.sources:
            assert by_id[s.article_id][s.start : s.end] == s.quote
        for d in event.disputed_by:
            assert by_id[d.article_id][d.start : d.end] == d.quote
    fc = export.events_to_featurecollection(events)
    assert export.validate_rfc7946(fc) == []


# --------------------------------------------------------------------------- decoding


@_settings(1500)
@given(data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00", b"<html>",
                              b"<!DOCTYPE html>", b"Police in Zve\xe8an", b"\xc4\x8d", b"\x9d",
                              b"\x81", b"%PDF-", b"caf\xe9 ", b"\x93quoted\x94", b" ", b"\n"]),
             max_size=20).map(b"".join),
))
def test_decoder_accepts_or_names_the_reason(data: bytes) -> None:
    try:
        text = decode_article(data, name="blob.txt")
    except InputError as exc:
        message = str(exc)
        assert message.startswith("blob.txt: ") and "\n" not in message
        return
    assert text.strip() and "\x00" not in text
    assert unicodedata.normalize("NFC", text) == text


_PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
    min_size=1, max_size=300,
)


@_settings(500)
@given(text=_PRINTABLE, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_unicode_encodings_round_trip(text: str, encoding: str) -> None:
    try:
        decoded = decode_article(text.encode(encoding), name="a.txt")
    except InputError as exc:  # only the documented refusals
        assert not text.strip() or "HTML" in str(exc) or text.lstrip().startswith("<")
        return
    if not text.lstrip("\ufeff \t\n").lower().startswith(("<!doctype html", "<html")):
        expected = text[1:] if encoding == "utf-8" and text.startswith("\ufeff") else text
        assert decoded == unicodedata.normalize("NFC", expected)


_MARKUP = st.lists(
    st.sampled_from(["<", ">", "</", "<!", "<![", "<![CDATA[", "]]>", "<!--", "-->", "<?", "&",
                     "&#", "&#x", ";", "&amp", "&#0;", "&#xD800;", "&#99999999;", "<p>", "</p>",
                     "<script>", "</script>", "<style>", "<head>", "<title>", "</title>", "<pre>",
                     "</pre>", "<nav>", "</nav>", "<svg>", "<br/>", "<![if !IE]>", "=", '"', "'",
                     "x", " ", "\n", "é", "Zvečan"]),
    max_size=50,
).map("".join)


@_settings(1500)
@given(markup=_MARKUP)
@example(markup="<title><script><p></script>")  # script text inside a title leaked
@example(markup="<title><style><p></style>")
def test_html_to_text_never_crashes_and_drops_tags(markup: str) -> None:
    text = html_to_text("<!DOCTYPE html>" + markup)
    assert isinstance(text, str) and "<p>" not in text and "<script>" not in text


_CSV = st.lists(
    st.sampled_from(["file,outlet,published,title\n", "a.txt", "b.txt", "../a.txt", "/etc/passwd",
                     ",", '"', "\n", "\r\n", "2024-01-01", "2023-02-30", "9999-12-31", "X",
                     "\x1b", "\u2028", "a.txt,X,2024-01-01,t\n", ",,,\n", "é", "\t"]),
    max_size=30,
).map("".join)


@_settings(300)
@given(manifest=_CSV)
def test_manifest_reader_refuses_row_by_row_or_names_the_manifest(manifest: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.txt").write_text("Police in Pristina said on Monday.", encoding="utf-8")
        (folder / "b.txt").write_text("Troops moved near Jarinje on Tuesday.", encoding="utf-8")
        (folder / "articles.csv").write_text(manifest, encoding="utf-8")
        refused: list[str] = []
        try:
            articles = load_corpus(folder, refused=refused)
        except ManifestError as exc:
            assert "articles.csv" in str(exc) and "\n" not in str(exc)
            return
    for line in refused:
        assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert len({a.article_id for a in articles}) == len(articles) <= 2


# --------------------------------------------------------------------------- store + export

_HOSTILE_STRING = st.lists(
    st.sampled_from(["<script>alert(1)</script>", "</q>", '"', "\\", "'", "&amp;", "{{x}}",
                     "\u2028", "\u202e", "🙂", "İ", "\r\n", "\t", "Zvečan", "x", " ", "null",
                     "[]", '{"a":1}', "\x1b", "\x7f", "\ufeff"]),
    max_size=8,
).map("".join)


@st.composite
def _events(draw: st.DrawFn) -> list[Event]:
    out = []
    for i in range(draw(st.integers(1, 4))):
        start = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)))
        lon = draw(st.floats(-179.0, 179.0))
        lat = draw(st.floats(-85.0, 85.0))
        geometry = draw(st.sampled_from([
            Point(lon, lat),
            LineString([(lon, lat), (lon + 0.5, lat + 0.5)]),
            Polygon([(lon, lat), (lon + 1, lat), (lon + 1, lat + 1), (lon, lat + 1)]),
        ]))
        quote = draw(_HOSTILE_STRING)
        out.append(Event(
            id=f"ev-{i}-" + draw(_HOSTILE_STRING).replace("\x00", ""),
            layer=draw(st.sampled_from(LAYERS)),
            event_type=draw(_HOSTILE_STRING),
            acled_event_type=draw(st.none() | _HOSTILE_STRING),
            acled_sub_event_type=draw(st.none() | _HOSTILE_STRING),
            date=start,
            date_end=start + dt.timedelta(days=draw(st.integers(0, 30))),
            time_precision=draw(st.sampled_from(["day", "week", "month", "year"])),
            place=draw(_HOSTILE_STRING),
            place_id=draw(_HOSTILE_STRING),
            geo_precision=draw(st.integers(1, 3)),
            country=draw(st.none() | _HOSTILE_STRING),
            actors=draw(st.lists(_HOSTILE_STRING, max_size=3)),
            fatalities=draw(st.none() | st.integers(0, 10**6)),
            summary=draw(_HOSTILE_STRING),
            sources=[Source(f"art-{i}", draw(_HOSTILE_STRING), start, quote, 0, len(quote))],
            disputed_by=[Dispute(draw(_HOSTILE_STRING), quote, f"art-{i}", 0, len(quote))],
            geometry=geometry,
        ))
    return out


def _listed(value: object) -> object:
    """GDAL gives a string list as an array, nested objects as JSON text, [] as None."""
    if value is None:
        return []
    if hasattr(value, "tolist"):
        return value.tolist()
    return json.loads(value) if isinstance(value, str) else value


@_settings(40)
@given(events=_events())
def test_hostile_strings_survive_store_export_and_gdal(events: list[Event]) -> None:
    fc = export.events_to_featurecollection(events)
    assert export.validate_rfc7946(fc) == []
    text = export.dumps_geojson(fc)
    assert not any(ch in text for ch in "<>&")  # safe to inline in HTML
    assert json.loads(text) == fc
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.gpkg"
        articles = [Article(f"art-{i}", f"art-{i}.txt", "o", None, "t", "text")
                    for i in range(len(events))]
        store.write_store(db, articles=articles, events=events)
        frame = store.read_events(db)
        assert export.events_to_featurecollection(frame) == fc  # store is lossless
        out = Path(tmp) / "events.geojson"
        assert export.write_geojson(frame, out) == len(events)
        back = pyogrio.read_dataframe(out, DATE_AS_STRING=True)
    assert back["id"].tolist() == [e.id for e in events]
    for column in ("event_type", "place", "place_id", "summary", "layer", "date", "date_end"):
        assert back[column].fillna("").tolist() == [str(f["properties"][column] or "")
                                                    for f in fc["features"]], column
    for name in ("actors", "sources", "disputed_by"):
        got = [_listed(v) for v in back[name]]
        assert got == [f["properties"][name] for f in fc["features"]], name
    for feature, geometry in zip(fc["features"], back.geometry, strict=True):
        assert shapely.equals_exact(shapely.geometry.shape(feature["geometry"]), geometry, 0.0)
