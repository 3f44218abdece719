"""One review run: read the tracker store, write the review files."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL

from rasa_llm_components.review import plots
from rasa_llm_components.review.annotations import (
    annotation_csv,
    annotation_yaml,
    messages_to_annotate,
)
from rasa_llm_components.review.errors import ReviewError
from rasa_llm_components.review.events import FALLBACK_INTENT, conversation_turns
from rasa_llm_components.review.feedback import HANDOFF_ACTION, disliked_answers, handoffs
from rasa_llm_components.review.gaps import DEFAULT_SIMILARITY, Encoder, gap_questions, group_gaps
from rasa_llm_components.review.report import ReportData, render_report
from rasa_llm_components.review.store import EventReader
from rasa_llm_components.review.timeline import timeline

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.7
ANNOTATIONS_FILE = "annotations.yml"
ANNOTATIONS_TABLE = "annotations.csv"
GAPS_FILE = "knowledge_gaps.json"
FEEDBACK_FILE = "thumbs_down.json"
HANDOFFS_FILE = "handoffs.json"
REPORT_FILE = "report.html"


@dataclass
class ReviewOptions:
    """The options of a review (see `python -m rasa_llm_components.review --help`)."""

    threshold: float = DEFAULT_THRESHOLD
    similarity: float = DEFAULT_SIMILARITY
    since: float | None = None
    handoff_action: str = HANDOFF_ACTION

    def __post_init__(self) -> None:
        for name in ("threshold", "similarity"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
                raise ReviewError(f"--{name} must be a number in (0, 1]; got {value!r}.")


@dataclass
class ReviewSummary:
    """What a review found and where it wrote it."""

    conversations: int
    messages: int
    annotations: int
    gap_groups: int
    disliked: int
    handoffs: int
    files: dict[str, Path] = field(default_factory=dict)


def default_encoder() -> Encoder:
    """The project's sentence encoder (packaged MiniLM), loaded on first use."""
    from rasa_llm_components.encoders import SentenceEncoder

    return SentenceEncoder().encode


def run_review(
    store: str | URL,
    out_dir: Path,
    options: ReviewOptions | None = None,
    encode: Encoder | None = None,
) -> ReviewSummary:
    """Reads the tracker store at `store` (SQLAlchemy URL) and writes the review to `out_dir`."""
    options = options or ReviewOptions()
    reader = EventReader(store)
    try:
        turns = list(conversation_turns(reader.events(options.since)))
        source = reader.url.render_as_string(hide_password=True)
    finally:
        reader.close()

    customer = [t for t in turns if t.user is not None and not t.user.is_command]
    candidates = messages_to_annotate(turns, options.threshold)
    questions = gap_questions(turns)
    groups = []
    if questions:
        groups = group_gaps(questions, encode or default_encoder(), options.similarity)
    disliked = disliked_answers(turns)
    handed = handoffs(turns, options.handoff_action)
    period = timeline(turns, options.handoff_action)
    kinds = Counter(
        str(m.answer.get("answer_kind") or "unknown") for t in turns for m in t.bot if m.answer
    )
    charts = {
        "intent confidence": plots.confidence_histogram(
            [t.user.suggestion()[1] for t in customer], options.threshold
        ),
        "answer kinds over time": plots.answer_kinds_over_time(period),
        "fallback and handoff rates": plots.rates_over_time(period),
        "top knowledge gaps": plots.top_gaps(groups),
    }
    report = ReportData(
        source=source,
        conversations=len({(t.sender_id, t.episode) for t in customer}),
        messages=len(customer),
        fallbacks=sum(t.user.intent == FALLBACK_INTENT for t in customer),
        answer_kinds=dict(kinds),
        threshold=options.threshold,
        candidates=candidates,
        gaps=groups,
        disliked=disliked,
        handoffs=handed,
        charts=charts,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        ANNOTATIONS_FILE: annotation_yaml(candidates),
        ANNOTATIONS_TABLE: annotation_csv(candidates),
        GAPS_FILE: _json([g.as_dict() for g in groups]),
        FEEDBACK_FILE: _json([d.as_dict() for d in disliked]),
        HANDOFFS_FILE: _json([h.as_dict() for h in handed]),
        REPORT_FILE: render_report(report),
    }
    files = {}
    for name, text in contents.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        files[name] = path
    return ReviewSummary(
        conversations=report.conversations,
        messages=report.messages,
        annotations=len(candidates),
        gap_groups=len(groups),
        disliked=len(disliked),
        handoffs=len(handed),
        files=files,
    )


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
