"""Messages to annotate (low NLU confidence or `nlu_fallback`) as Rasa NLU YAML, and merging
the annotated file into the training data."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.entities_parser import replace_entities
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from rasa_llm_components.review.errors import ReviewError
from rasa_llm_components.review.events import FALLBACK_INTENT, Turn
from rasa_llm_components.review.redaction import redact

# Where an example with no usable suggestion goes (merge refuses it until it is moved).
UNLABELED = "unlabeled"
_WHITESPACE = re.compile(r"\s+")

ANNOTATION_HEADER = """\
# Messages the bot was unsure about, grouped under the intent the classifier suggested.
# Check every line: keep it, move it under the right intent (add a new "- intent:" block if
# needed), or delete it. Then merge it into the training data and retrain:
#   python -m rasa_llm_components.review merge annotations.yml --into data/nlu.yml
# Personal data is already replaced by placeholders ([EMAIL], [PHONE], [CARD], ...).
"""


def normalized(text: str) -> str:
    """The text as compared for duplicates: case and whitespace do not count."""
    return _WHITESPACE.sub(" ", text).strip().casefold()


@dataclass
class AnnotationCandidate:
    """A distinct (redacted) message to annotate, with the classifier's suggestion."""

    text: str
    suggestion: str
    confidence: float
    count: int = 1
    fallback: bool = False
    alternatives: list[tuple[str, float]] = field(default_factory=list)


def messages_to_annotate(turns: Iterable[Turn], threshold: float) -> list[AnnotationCandidate]:
    """Customer messages that became `nlu_fallback` or whose confidence is below `threshold`,
    redacted and deduplicated (case/whitespace-insensitive), most frequent first."""
    found: dict[str, AnnotationCandidate] = {}
    for turn in turns:
        message = turn.user
        if message is None or message.is_command or not message.text.strip():
            continue
        fallback = message.intent == FALLBACK_INTENT
        if not fallback and message.confidence >= threshold:
            continue
        text = _WHITESPACE.sub(" ", redact(message.text)).strip()
        key = normalized(text)
        if key in found:
            found[key].count += 1
            found[key].fallback |= fallback
            continue
        suggestion, confidence = message.suggestion()
        alternatives = [
            (name, score)
            for name, score in message.ranking
            if name not in (suggestion, FALLBACK_INTENT)
        ][:2]
        found[key] = AnnotationCandidate(
            text, suggestion or UNLABELED, confidence, fallback=fallback, alternatives=alternatives
        )
    return sorted(found.values(), key=lambda c: (-c.count, c.suggestion, c.confidence))


def annotation_yaml(candidates: list[AnnotationCandidate]) -> str:
    """Rasa NLU YAML (version 3.1) with the candidates grouped under their suggested intent."""
    groups: dict[str, list[AnnotationCandidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.suggestion, []).append(candidate)
    lines = [ANNOTATION_HEADER.rstrip("\n"), 'version: "3.1"', "nlu:" if groups else "nlu: []"]
    for intent in sorted(groups, key=lambda name: (-len(groups[name]), name)):
        members = groups[intent]
        low, high = min(c.confidence for c in members), max(c.confidence for c in members)
        lines.append(
            f"# suggested: {intent} ({len(members)} message(s), confidence {low:.2f}-{high:.2f})"
        )
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {c.text}" for c in members)
    return "\n".join(lines) + "\n"


def annotation_csv(candidates: list[AnnotationCandidate]) -> str:
    """The candidates with their counts, confidences and second choices (for sorting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "suggestion", "confidence", "count", "nlu_fallback", "alternatives"])
    for c in candidates:
        alternatives = "; ".join(f"{name} {score:.2f}" for name, score in c.alternatives)
        writer.writerow(
            [c.text, c.suggestion, f"{c.confidence:.3f}", c.count, c.fallback, alternatives]
        )
    return buffer.getvalue()


# -- merging ----------------------------------------------------------------------------------
@dataclass
class MergeResult:
    """What a merge added and left out."""

    added: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    # Examples already in the training data under another intent: (example, that intent).
    conflicts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def added_count(self) -> int:
        return sum(len(examples) for examples in self.added.values())


_LIST_ITEM = re.compile(r"(?m)^( *)- (?:intent|regex|lookup|synonym):")


def _yaml(text: str = "") -> YAML:
    """A round-trip YAML (comments, order and block styles are kept) that indents lists like
    `text` does ("nlu:\n  - intent:" or "nlu:\n- intent:")."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    item = _LIST_ITEM.search(text)
    offset = len(item.group(1)) if item else 2
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    return yaml


def _examples(block: str) -> list[str]:
    """The example lines of an `examples: |` block ("- text" lines)."""
    lines = (line.strip() for line in block.splitlines())
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def _read_checked(text: str, name: str) -> None:
    try:
        RasaYAMLReader().reads(text)
    except (RasaException, YAMLError, ValueError) as error:
        raise ReviewError(f"{name} is not valid Rasa NLU YAML: {error}") from error


def _annotated_examples(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise ReviewError(f"Annotation file '{path}' does not exist.")
    text = path.read_text(encoding="utf-8")
    _read_checked(text, f"Annotation file '{path}'")
    content = _yaml().load(text) or {}
    examples: dict[str, list[str]] = {}
    for item in content.get("nlu") or []:
        if isinstance(item, dict) and item.get("intent") and item.get("examples"):
            examples.setdefault(str(item["intent"]), []).extend(_examples(str(item["examples"])))
    return examples


def _known_intents(target: CommentedMap, domain_path: Path | None) -> set[str]:
    intents = {str(item["intent"]) for item in target.get("nlu") or [] if "intent" in item}
    if domain_path is not None:
        if not domain_path.is_file():
            raise ReviewError(f"Domain file '{domain_path}' (--domain) does not exist.")
        domain = YAML(typ="safe").load(domain_path.read_text(encoding="utf-8")) or {}
        for intent in domain.get("intents") or []:
            intents.add(str(next(iter(intent))) if isinstance(intent, dict) else str(intent))
    return intents


def merge_annotations(
    annotations: Path,
    target: Path,
    domain: Path | None = None,
    allow_new_intents: bool = False,
) -> MergeResult:
    """Adds the annotated examples to `target` (an NLU YAML file, created if missing): into the
    intent's existing block, or a new block at the end; examples already in the file (same text
    ignoring case and whitespace, under any intent) are left out. The file is only written when
    the result is valid Rasa NLU YAML."""
    new = _annotated_examples(Path(annotations))
    target = Path(target)
    original = target.read_text(encoding="utf-8") if target.is_file() else ""
    yaml = _yaml(original)
    if original:
        _read_checked(original, f"Target file '{target}'")
        content = yaml.load(original) or CommentedMap()
    else:
        content = CommentedMap([("version", "3.1")])
    if content.get("nlu") is None:
        content["nlu"] = CommentedSeq()
    blocks = content["nlu"]

    bad = sorted({UNLABELED, FALLBACK_INTENT} & set(new))
    if bad:
        raise ReviewError(
            f"Annotation file '{annotations}' still has examples under {bad}: move each one under "
            "its real intent (or delete it), then merge again."
        )
    unknown = sorted(set(new) - _known_intents(content, domain))
    if unknown and not allow_new_intents:
        raise ReviewError(
            f"Intent(s) {unknown} of '{annotations}' are not in '{target}'"
            + (f" nor in '{domain}'" if domain else "")
            + ": fix the annotation, pass --domain <domain.yml> if they are defined there, or "
            "--allow-new-intents (then add them to the domain)."
        )

    seen: dict[str, str] = {}
    for item in blocks:
        if isinstance(item, dict) and "intent" in item and item.get("examples"):
            for example in _examples(str(item["examples"])):
                seen.setdefault(normalized(replace_entities(example)), str(item["intent"]))

    result = MergeResult()
    for intent, examples in new.items():
        for example in examples:
            key = normalized(replace_entities(example))
            if not key:
                continue
            if key in seen:
                if seen[key] == intent:
                    result.duplicates.append(example)
                else:
                    result.conflicts.append((example, seen[key]))
                continue
            seen[key] = intent
            result.added.setdefault(intent, []).append(example)

    for intent, examples in result.added.items():
        lines = "".join(f"- {example}\n" for example in examples)
        block = next(
            (b for b in blocks if isinstance(b, dict) and b.get("intent") == intent
             and "examples" in b),
            None,
        )
        if block is None:
            block = CommentedMap([("intent", intent), ("examples", LiteralScalarString(lines))])
            blocks.append(block)
        else:
            old = str(block["examples"])
            block["examples"] = LiteralScalarString(old.rstrip("\n") + "\n" + lines)

    if result.added:
        buffer = io.StringIO()
        yaml.dump(content, buffer)
        merged = buffer.getvalue()
        _read_checked(merged, f"The merged '{target}'")
        target.write_text(merged, encoding="utf-8")
    return result
