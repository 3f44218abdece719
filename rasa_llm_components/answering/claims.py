"""Finding the checkable facts (claims) in a text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rasa_llm_components.answering import claim_patterns as p

# Capitalised words that are not names when they stand alone (discourse words, pronouns ...).
COMMON_WORDS = frozenset(
    """i i'm i'll i've i'd we we're we'll we've you you're you'll your yours our ours us it it's
    its this that these those there here the a an and or but so if for to in on at of with as by
    from yes no not sure ok okay hi hello hey dear thanks thank please sorry great unfortunately
    however also note just what when where which who how why let let's feel free happy glad
    welcome good best regards cheers absolutely certainly of course all any each every some one
    my me he she they them their is are was were be do does did can could would should will may
    might must have has had then than once after before while until unless because since tip
    important answer question step yes! fyi asap id ids faq faqs am pm""".split()
)

_WORD = re.compile(r"(?<![\w'’])[A-Za-z][\w'’&]*(?:-[A-Za-z0-9][\w'’&]*)*")
_SENTENCE_BREAK = re.compile(r"(?:^|[.!?:;\n]|^\s*(?:[-*•+]|\d+[.)]))[\s\"'“‘(*_>#-]*$")
_LIST_MARKER = re.compile(r"(?:^|\n)[ \t]*$")


@dataclass(frozen=True)
class Claim:
    """A checkable fact: ``kind`` (money, duration, name ...), its text and normalised value."""

    kind: str
    text: str
    value: Any
    start: int
    end: int


class ClaimExtractor:
    """Extracts claims in a fixed order; text used by an earlier kind is not looked at again."""

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        names = sorted({name.strip() for name in known_names if name and name.strip()},
                       key=len, reverse=True)
        self.names = tuple(names)
        self.name_vocabulary = frozenset(
            token for name in names for token in p.name_tokens(name)
            if len(token) > 2 and not token.isdigit() and token not in COMMON_WORDS
        )
        self._known = None
        if names:
            alternatives = "|".join(
                r"[\s-]+".join(re.escape(part) for part in re.split(r"[\s-]+", name))
                for name in names
            )
            self._known = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)

    def extract(self, text: str, names: bool = True) -> list[Claim]:
        """All claims in ``text``, in order of appearance."""
        taken = bytearray(len(text))
        claims: list[Claim] = []

        def take(pattern: re.Pattern[str] | None, kind: str,
                 parse: Callable[[re.Match[str]], Any]) -> None:
            if pattern is None:
                return
            for match in pattern.finditer(text):
                start, end = match.span()
                if start == end or any(taken[start:end]):
                    continue
                value = parse(match)
                if value is None:
                    continue
                taken[start:end] = b"\x01" * (end - start)
                written = match.group(0).strip().rstrip(".,;:!?")
                claims.append(Claim(kind, written, value, start, end))

        take(p.EMAIL, "email", lambda m: m.group(0).lower())
        take(p.URL, "url", lambda m: p.normalise_url(m.group(0)))
        take(self._known, "name", lambda m: "".join(p.name_tokens(m.group(0))))
        take(p.ORDER_ID, "order_id", lambda m: str(int(next(g for g in m.groups() if g))))
        take(p.DATE, "date", p.parse_date)
        take(p.WEEKDAY, "weekday", p.parse_weekdays)
        take(p.TIME, "time", p.parse_time)
        take(p.PHONE, "phone", lambda m: p.phone_digits(m.group(0)))
        take(p.MONEY, "money", p.parse_money)
        take(p.PERCENT, "percent", p.parse_percent)
        take(p.DURATION, "duration", p.parse_duration)
        take(p.CODE, "name", lambda m: "".join(p.name_tokens(m.group(0))))
        if names:
            claims.extend(self._name_runs(text, taken))
        take(p.PLAIN_NUMBER, "number", lambda m: self._plain_number(text, m))
        return sorted(claims, key=lambda claim: claim.start)

    @staticmethod
    def _plain_number(text: str, match: re.Match[str]) -> float | None:
        after = text[match.end() : match.end() + 2]
        if _LIST_MARKER.search(text[: match.start()]) and re.match(r"[.)]\s", after):
            return None  # "1. Go to ..." is a list marker
        return p.parse_number(match.group(0))

    def _is_sentence_start(self, text: str, start: int) -> bool:
        return bool(_SENTENCE_BREAK.search(text[max(0, start - 12) : start]))

    def _name_runs(self, text: str, taken: bytearray) -> list[Claim]:
        """Runs of capitalised words that are not ordinary sentence-initial or discourse words."""
        runs: list[list[re.Match[str]]] = []
        for match in _WORD.finditer(text):
            word = match.group(0)
            if any(taken[match.start() : match.end()]) or not any(ch.isupper() for ch in word):
                continue
            previous = runs[-1][-1] if runs else None
            gap = text[previous.end() : match.start()] if previous is not None else ""
            if previous is not None and re.fullmatch(r"[ \t]+", gap):
                runs[-1].append(match)
            else:
                runs.append([match])
        claims = []
        for run in runs:
            while run and run[0].group(0).lower().strip("'’") in COMMON_WORDS:
                run = run[1:]
            while run and run[-1].group(0).lower() in COMMON_WORDS:
                run = run[:-1]
            if not run:
                continue
            first = run[0].group(0)
            if (
                len(run) == 1
                and self._is_sentence_start(text, run[0].start())
                and first.lower() not in self.name_vocabulary
                and not (first.isupper() and len(first) > 1)
            ):
                continue  # an ordinary capitalised first word
            start, end = run[0].start(), run[-1].end()
            value = "".join(p.name_tokens(text[start:end]))
            if value:
                claims.append(Claim("name", text[start:end], value, start, end))
        return claims
