"""The review as one self-contained HTML file (charts embedded as base64 PNGs; every piece of
customer text escaped)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from rasa_llm_components.review.annotations import AnnotationCandidate
from rasa_llm_components.review.feedback import DislikedAnswer, Handoff
from rasa_llm_components.review.gaps import GapGroup

ANNOTATION_ROWS = 100
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.muted { color: #666; } .figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figure { background: #f5f5f5; border-radius: 6px; padding: 0.6em 1em; min-width: 9em; }
.figure b { display: block; font-size: 1.6em; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.charts img { width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; white-space: nowrap; }
ul.compact { margin: 0; padding-left: 1.2em; }
"""


@dataclass
class ReportData:
    """What the report shows."""

    source: str
    conversations: int
    messages: int
    fallbacks: int
    answer_kinds: dict[str, int]
    threshold: float
    candidates: list[AnnotationCandidate]
    gaps: list[GapGroup]
    disliked: list[DislikedAnswer]
    handoffs: list[Handoff]
    charts: dict[str, bytes]


def _time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """A table; cells are HTML already (callers escape customer text)."""
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: object) -> str:
    return f"<td>{escape(str(text))}</td>"


def _num(value: object) -> str:
    return f'<td class="num">{escape(str(value))}</td>'


def _list(items: Iterable[str]) -> str:
    return "<td><ul class=\"compact\">" + "".join(
        f"<li>{escape(item)}</li>" for item in items
    ) + "</ul></td>"


def render_report(data: ReportData) -> str:
    """The HTML of the report."""
    rate = data.fallbacks / data.messages if data.messages else 0.0
    answers = sum(data.answer_kinds.values())
    figures = [
        ("conversations", data.conversations),
        ("customer messages", data.messages),
        ("nlu_fallback", f"{data.fallbacks} ({rate:.0%})"),
        ("LLM answers", answers),
        ("knowledge gaps", f"{len(data.gaps)} groups"),
        ("thumbs down", len(data.disliked)),
        ("handoffs", len(data.handoffs)),
    ]
    figure_html = "".join(
        f'<div class="figure">{escape(label)}<b>{escape(str(value))}</b></div>'
        for label, value in figures
    )
    charts = "".join(
        f'<img alt="{escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}">'
        for name, png in data.charts.items()
    )
    annotation_rows = (
        [_cell(c.text), _cell(c.suggestion), _num(f"{c.confidence:.2f}"), _num(c.count),
         _cell("nlu_fallback" if c.fallback else "low confidence"),
         _cell(", ".join(f"{n} {s:.2f}" for n, s in c.alternatives))]
        for c in data.candidates[:ANNOTATION_ROWS]
    )
    gap_rows = (
        [_num(i), _list(g.wordings[:8]), _num(g.count), _num(g.conversations),
         _num(f"{g.mean_score:.2f} / {g.max_score:.2f}"),
         _list(f"{reason}: {count}" for reason, count in g.reasons.items())]
        for i, g in enumerate(data.gaps, 1)
    )
    disliked_rows = (
        [_cell(_time(d.timestamp)), _cell(d.sender_id), _cell(d.question), _cell(d.answer),
         _cell(f"{d.kind}" + (f" ({d.reason})" if d.reason else "")),
         _num(f"{d.retrieval_score:.2f}"),
         _list(f"{s['title']} [{s['id']}]" if s["title"] else s["id"] for s in d.sources),
         _cell(d.query)]
        for d in data.disliked
    )
    handoff_rows = (
        [_cell(_time(h.timestamp)), _cell(h.sender_id), _cell(h.ticket or "-"),
         _cell(h.trigger), _cell(h.reason), _list(h.messages)]
        for h in data.handoffs
    )
    more = len(data.candidates) - ANNOTATION_ROWS
    generated = _time(datetime.now(timezone.utc).timestamp())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Conversation review</title>
<style>{_STYLE}</style></head><body>
<h1>Conversation review</h1>
<p class="muted">{escape(data.source)} &middot; generated {escape(generated)}
&middot; personal data replaced by placeholders</p>
<div class="figures">{figure_html}</div>
<h2>Charts</h2><div class="charts">{charts}</div>
<h2>Knowledge gaps</h2>
<p>Questions the bot abstained on, or whose generated answer the fact check rejected, grouped by
similar wording: write help articles for the top groups. Retrieval score: mean / best.</p>
{_table(["#", "questions", "asked", "conversations", "retrieval score", "reasons"], gap_rows,
        "No knowledge gaps.")}
<h2>Thumbs down</h2>
{_table(["time", "conversation", "question", "answer", "kind", "retrieval", "sources", "query"],
        disliked_rows, "No answer got a thumbs down.")}
<h2>Handoffs</h2>
{_table(["time", "conversation", "ticket", "trigger", "reason", "latest customer messages"],
        handoff_rows,
        "No handoffs.")}
<h2>Messages to annotate</h2>
<p>nlu_fallback or confidence below {data.threshold:g}; annotate them in
<code>annotations.yml</code>{f" ({more} more there)" if more > 0 else ""}.</p>
{_table(["message", "suggested intent", "confidence", "times", "why", "alternatives"],
        annotation_rows, "No messages to annotate.")}
</body></html>
"""
