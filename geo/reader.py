"""The article reader: one article as HTML with its evidence highlighted.

Place mentions, the sentences that report events and the sentences that
dispute them are marked by their character offsets, and every event sentence
links to the event it supports. Why offsets and not string search: the same
words can occur twice, and the offsets are what the store guarantees
(``quote == text[start:end]``).

The article text is untrusted: every piece of it is HTML-escaped, and spans
whose offsets do not fit the text are dropped rather than trusted.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from geo.models import Article
from geo.query import as_list

SpanKind = Literal["event", "dispute", "mention"]

READER_CSS = """
<style>
.rd-article { font-size: 1rem; line-height: 1.6; }
.rd-meta { color: #607d8b; margin-bottom: .5rem; }
.rd-text { white-space: pre-wrap; }
.rd-event { background: #fff3b0; border-bottom: 2px solid #f9a825; padding: 0 1px; }
.rd-dispute { background: #ffd8d8; border-bottom: 2px solid #c62828; padding: 0 1px; }
.rd-mention { background: #cfe8ff; border-radius: 3px; padding: 0 2px;
              outline: 1px solid #64a6e8; }
.rd-ref { font-size: .72em; margin-left: 1px; }
.rd-ref a { text-decoration: none; }
.rd-legend span { margin-right: 1rem; }
.rd-events li { margin-bottom: .35rem; }
</style>
"""


@dataclass(frozen=True, slots=True)
class Span:
    """A highlighted range ``text[start:end]``; ``refs`` are event numbers."""

    start: int
    end: int
    kind: SpanKind
    title: str
    refs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EventRef:
    """An event the article supports or disputes, numbered for the links."""

    number: int
    id: str
    layer: str
    event_type: str
    date: str
    place: str
    summary: str
    n_sources: int
    disputes: bool


def _int(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else int(number)


def _valid(start: int | None, end: int | None, text: str) -> bool:
    return start is not None and end is not None and 0 <= start < end <= len(text)


def article_events(events: pd.DataFrame | None, article_id: str) -> list[EventRef]:
    """Events with a source or a dispute in this article, in store order."""
    if events is None or events.empty:
        return []
    refs: list[EventRef] = []
    for row in events.drop(columns="geometry", errors="ignore").to_dict("records"):
        sources = [s for s in as_list(row.get("sources")) if isinstance(s, Mapping)]
        disputes = [d for d in as_list(row.get("disputed_by")) if isinstance(d, Mapping)]
        reports = any(str(s.get("article")) == article_id for s in sources)
        disputes_here = any(str(d.get("article")) == article_id for d in disputes)
        if not (reports or disputes_here):
            continue
        refs.append(
            EventRef(
                number=len(refs) + 1,
                id=str(row.get("id") or ""),
                layer=str(row.get("layer") or ""),
                event_type=str(row.get("event_type") or ""),
                date=str(row.get("date") or ""),
                place=str(row.get("place") or ""),
                summary=str(row.get("summary") or ""),
                n_sources=_int(row.get("n_sources")) or len({s.get("article") for s in sources}),
                disputes=disputes_here and not reports,
            )
        )
    return refs


def article_spans(
    article: Article,
    *,
    mentions: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[list[Span], list[EventRef]]:
    """The spans to highlight in ``article`` and the events they link to.

    Event sentences that several events share become one span with several
    refs. Spans whose offsets fall outside the text, or whose stored quote
    differs from the text there, are skipped.
    """
    text = article.text
    refs = article_events(events, article.article_id)
    by_id = {ref.id: ref for ref in refs}
    merged: dict[tuple[int, int, SpanKind], list[int]] = {}
    titles: dict[tuple[int, int, SpanKind], str] = {}
    if events is not None and not events.empty:
        for row in events.drop(columns="geometry", errors="ignore").to_dict("records"):
            ref = by_id.get(str(row.get("id") or ""))
            if ref is None:
                continue
            for kind, key in (("event", "sources"), ("dispute", "disputed_by")):
                for item in as_list(row.get(key)):
                    if not isinstance(item, Mapping):
                        continue
                    if str(item.get("article")) != article.article_id:
                        continue
                    start, end = _int(item.get("start")), _int(item.get("end"))
                    if not _valid(start, end, text):
                        continue
                    assert start is not None and end is not None
                    quote = item.get("quote")
                    if isinstance(quote, str) and quote and text[start:end] != quote:
                        continue
                    span_kind: SpanKind = "event" if kind == "event" else "dispute"
                    span_key = (start, end, span_kind)
                    numbers = merged.setdefault(span_key, [])
                    if ref.number not in numbers:
                        numbers.append(ref.number)
                    who = f" by {item.get('who')}" if kind == "dispute" and item.get("who") else ""
                    titles[span_key] = ("Disputed" + who) if kind == "dispute" else "Reports event"
    spans = [
        Span(
            start=s,
            end=e,
            kind=k,
            title=f"{titles[(s, e, k)]} " + ", ".join(f"[{n}]" for n in sorted(nums)),
            refs=tuple(sorted(nums)),
        )
        for (s, e, k), nums in merged.items()
    ]
    if mentions is not None and not mentions.empty:
        for row in mentions.drop(columns="geometry", errors="ignore").to_dict("records"):
            if "article_id" in row and str(row["article_id"]) != article.article_id:
                continue
            start, end = _int(row.get("start")), _int(row.get("end"))
            if not _valid(start, end, text):
                continue
            assert start is not None and end is not None
            surface = row.get("text")
            if isinstance(surface, str) and surface and text[start:end] != surface:
                continue
            detail = ", ".join(
                str(v) for v in (row.get("kind"), row.get("country"), row.get("place_id")) if v
            )
            title = f"{row.get('name') or text[start:end]}" + (f" ({detail})" if detail else "")
            spans.append(Span(start=start, end=end, kind="mention", title=title))
    spans.sort(key=lambda s: (s.start, -s.end, s.kind))
    return spans, refs


def _open(kind: SpanKind, spans: list[Span]) -> str:
    title = html.escape(" · ".join(dict.fromkeys(s.title for s in spans)), quote=True)
    refs = sorted({n for s in spans for n in s.refs})
    data = f' data-events="{" ".join(map(str, refs))}"' if refs else ""
    tag = "span" if kind == "mention" else "mark"
    return f'<{tag} class="rd-{kind}" title="{title}"{data}>'


def _close(kind: SpanKind) -> str:
    return "</span>" if kind == "mention" else "</mark>"


def highlight(text: str, spans: Iterable[Span]) -> str:
    """Escaped ``text`` with spans wrapped; overlapping spans are split cleanly.

    Each stretch between span boundaries is wrapped in the marks active over
    it (sentence marks outside, mention marks inside), so tags always nest
    even when spans overlap partially. A link ``[n]`` follows each event
    sentence.
    """
    items = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in items), *(s.end for s in items)})
    starting: dict[int, list[Span]] = {}
    ending_at: dict[int, list[Span]] = {}
    for span in items:
        starting.setdefault(span.start, []).append(span)
        ending_at.setdefault(span.end, []).append(span)
    live: dict[int, Span] = {}
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        for span in ending_at.get(a, ()):
            live.pop(id(span), None)
        for span in starting.get(a, ()):
            live[id(span)] = span
        active = list(live.values())
        piece = html.escape(text[a:b], quote=False)
        for kind in ("mention", "dispute", "event"):
            group = [s for s in active if s.kind == kind]
            if group:
                piece = _open(kind, group) + piece + _close(kind)
        out.append(piece)
        ending = sorted({n for s in ending_at.get(b, ()) if s.kind != "mention" for n in s.refs})
        if ending:
            links = "".join(f'<a href="#rd-ev-{n}">[{n}]</a>' for n in ending)
            out.append(f'<sup class="rd-ref">{links}</sup>')
    return "".join(out)


def article_html(
    article: Article,
    *,
    mentions: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    layer_labels: Mapping[str, str] | None = None,
    type_labels: Mapping[str, str] | None = None,
) -> str:
    """The reader's HTML: header, highlighted text, and the linked event list."""
    spans, refs = article_spans(article, mentions=mentions, events=events)
    labels = layer_labels or {}
    types = type_labels or {}
    published = article.published.isoformat() if article.published else "date unknown"
    n_mentions = sum(1 for s in spans if s.kind == "mention")
    n_event = sum(1 for s in spans if s.kind == "event")
    n_dispute = sum(1 for s in spans if s.kind == "dispute")
    parts = [
        READER_CSS,
        '<div class="rd-article">',
        f"<h3>{html.escape(article.title or article.article_id)}</h3>",
        f'<div class="rd-meta">{html.escape(article.outlet or "unknown outlet")} · '
        f"{html.escape(published)} · {html.escape(article.article_id)}</div>",
        '<div class="rd-legend"><span><mark class="rd-event">event sentence</mark> '
        f"{n_event}</span><span><span class=\"rd-mention\">place mention</span> {n_mentions}"
        f'</span><span><mark class="rd-dispute">denial / dispute</mark> {n_dispute}</span></div>',
        f'<div class="rd-text">{highlight(article.text, spans)}</div>',
        '<div class="rd-events">',
    ]
    if refs:
        parts.append("<h4>Events this article reports</h4><ol>")
        for ref in refs:
            layer = labels.get(ref.layer, ref.layer)
            role = " (disputed here)" if ref.disputes else ""
            parts.append(
                f'<li id="rd-ev-{ref.number}" value="{ref.number}" data-event-id="'
                f'{html.escape(ref.id, quote=True)}"><b>'
                f"{html.escape(types.get(ref.event_type, ref.event_type))}</b> · "
                f"{html.escape(ref.date)} · {html.escape(ref.place)} · "
                f"{html.escape(layer)}{role} — {html.escape(ref.summary)} "
                f"({ref.n_sources} source(s))</li>"
            )
        parts.append("</ol>")
    else:
        parts.append("<p>No events were extracted from this article.</p>")
    parts.append("</div></div>")
    return "".join(parts)
