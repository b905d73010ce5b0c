"""The article reader: highlighted, escaped, linked spans."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo import reader, store
from geo.models import Article, Dispute, Event, Mention, Place, Source

TEXT = (
    "Gunmen attacked police in Banjska on Sunday. <script>alert(1)</script>\n"
    "Belgrade denied sending troops to Banjska. Troops gathered near Raška."
)


class _Tree(HTMLParser):
    """Records text by the classes of the marks around it, checking nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.ok = True
        self.pieces: list[tuple[str, frozenset[str]]] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop()[0] != tag:
            self.ok = False

    def handle_data(self, data: str) -> None:
        classes = frozenset(c for _, c in self.stack if c)
        self.pieces.append((data, classes))
        if not any(c in ("rd-ref",) for c in classes):
            self.text.append(data)

    def covered(self, cls: str) -> str:
        return "".join(d for d, c in self.pieces if cls in c and "rd-ref" not in c)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Article, pd.DataFrame, pd.DataFrame]:
    art = Article("a1", "a1.txt", "Outlet", dt.date(2023, 9, 29), "Title <b>", TEXT)
    other = Article("a2", "a2.txt", "Other", dt.date(2023, 9, 29), "Other", "Nothing here.")
    s1 = "Gunmen attacked police in Banjska on Sunday."
    s2 = "Troops gathered near Raška."
    denial = "Belgrade denied sending troops to Banjska."

    def src(q: str) -> Source:
        i = TEXT.index(q)
        return Source("a1", "Outlet", art.published, q, i, i + len(q))

    def event(eid: str, layer: str, sources: list[Source], disputes: list[Dispute]) -> Event:
        return Event(eid, layer, "attack" if layer == "incidents" else "military_buildup",  # type: ignore[arg-type]
                     None, None, dt.date(2023, 9, 24), dt.date(2023, 9, 24), "day", "Banjska",
                     "gn:1", 1, "XK", ["Gunmen"], 1, f"Summary of {eid} <i>", sources, disputes,
                     Point(20.78, 42.97))

    i = TEXT.index(denial)
    events = [
        event("e-attack", "incidents", [src(s1)], []),
        event("e-troops", "troop_positions", [src(s2)],
              [Dispute("Belgrade", denial, "a1", i, i + len(denial))]),
        event("e-same-sentence", "incidents", [src(s1)], []),
        event("e-elsewhere", "incidents", [Source("a2", "Other", None, "Nothing here.", 0, 13)],
              []),
        # a stale offset: the quote is not the text there, so it must not be marked
        event("e-stale", "incidents", [Source("a1", "Outlet", None, "Nope", 0, 4)], []),
    ]
    place = Place("gn:1", "Banjska", "village", "XK", 20.78, 42.97)
    mentions = []
    for surface in ("Banjska", "Raška", "Belgrade"):
        for m in re.finditer(surface, TEXT):
            mentions.append(("a1", Mention(surface, m.start(), m.end(), place, 0.9, "test")))
    path = tmp_path_factory.mktemp("reader") / "s.gpkg"
    store.write_store(path, articles=[art, other], events=events, mentions=mentions)
    return (store.read_articles(path)[0], store.read_events(path),
            pd.DataFrame(store.read_mentions(path, article_id="a1").drop(columns="geometry")))


def test_reader_marks_event_sentences_mentions_and_disputes(
    stored: tuple[Article, pd.DataFrame, pd.DataFrame],
) -> None:
    article, events, mentions = stored
    page = reader.article_html(article, mentions=mentions, events=events,
                               layer_labels={"incidents": "Incidents"})
    tree = _Tree()
    tree.feed(page.split("</style>", 1)[1])
    assert tree.ok
    assert not {"script", "i", "img"} & set(tree.tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Title &lt;b&gt;" in page and "Summary of e-attack &lt;i&gt;" in page
    # the text survives intact once the markup is removed
    body = page.split('<div class="rd-text">', 1)[1].split('<div class="rd-events">', 1)[0]
    assert html.unescape(re.sub(r"<sup.*?</sup>|<[^>]+>", "", body.removesuffix("</div>"))) == TEXT
    text_tree = _Tree()
    text_tree.feed(body)
    assert text_tree.covered("rd-event") == (
        "Gunmen attacked police in Banjska on Sunday.Troops gathered near Raška.")
    assert text_tree.covered("rd-dispute") == "Belgrade denied sending troops to Banjska."
    assert text_tree.covered("rd-mention") == "BanjskaBelgradeBanjskaRaška"
    # the shared sentence links both events; numbers follow store order
    refs = reader.article_events(events, "a1")
    assert [r.id for r in refs] == ["e-attack", "e-troops", "e-same-sentence", "e-stale"]
    first = re.search(r'<mark class="rd-event"[^>]*data-events="([\d ]+)"', page)
    assert first is not None and first.group(1) == "1 3"
    assert '<a href="#rd-ev-1">[1]</a><a href="#rd-ev-3">[3]</a>' in page
    assert 'id="rd-ev-2"' in page and 'data-event-id="e-troops"' in page
    assert "Nope" not in body


def test_spans_outside_the_text_are_dropped(
    stored: tuple[Article, pd.DataFrame, pd.DataFrame],
) -> None:
    article, _, mentions = stored
    broken = mentions.copy()
    broken.loc[0, "start"] = len(TEXT) + 5
    broken.loc[0, "end"] = len(TEXT) + 9
    broken.loc[1, "text"] = "Different"
    spans, _ = reader.article_spans(article, mentions=broken, events=None)
    assert len(spans) == len(mentions) - 2
    assert all(0 <= s.start < s.end <= len(TEXT) for s in spans)


def test_article_without_events_says_so() -> None:
    art = Article("x", "x.txt", "", None, "", "Plain <text> & more.")
    page = reader.article_html(art)
    assert "No events were extracted" in page and "Plain &lt;text&gt; &amp; more." in page
    assert "date unknown" in page and "unknown outlet" in page


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab <>&\"'\nč")), min_size=1, max_size=40),
    raw=st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 12),
                  st.sampled_from(["event", "dispute", "mention"]), st.integers(1, 3)),
        max_size=8,
    ),
)
def test_highlight_nests_and_preserves_text(
    text: str, raw: list[tuple[int, int, str, int]],
) -> None:
    spans = [
        reader.Span(start=s, end=min(len(text), s + n), kind=k,  # type: ignore[arg-type]
                    title="<t>", refs=(r,) if k != "mention" else ())
        for s, n, k, r in raw
        if s < len(text)
    ]
    out = reader.highlight(text, spans)
    tree = _Tree()
    tree.feed(out)
    tree.close()
    assert tree.ok and not tree.stack
    assert set(tree.tags) <= {"mark", "span", "sup", "a"}
    assert "".join(tree.text) == text
    for kind in ("event", "dispute", "mention"):
        want = [i for i in range(len(text)) if any(s.kind == kind and s.start <= i < s.end
                                                     for s in spans)]
        assert len(tree.covered(f"rd-{kind}")) == len(want)


def test_reader_reads_a_real_store_path(tmp_path: Path) -> None:
    art = Article("z", "z.txt", "O", None, "T", "Zvečan was calm.")
    store.write_store(tmp_path / "s.gpkg", articles=[art], events=[])
    got = store.read_articles(tmp_path / "s.gpkg")[0]
    assert reader.article_html(got).count("Zvečan was calm.") == 1


def test_event_list_uses_escaped_labels(
    stored: tuple[Article, pd.DataFrame, pd.DataFrame],
) -> None:
    article, events, _ = stored
    page = reader.article_html(article, events=events, type_labels={"attack": "Attack <x>"},
                               layer_labels={"incidents": "Incidents & co"})
    assert "<b>Attack &lt;x&gt;</b>" in page and "Incidents &amp; co" in page
    assert "<b>military_buildup</b>" in page  # unlabelled types fall back to the raw type
