"""Customers' ways of writing a question: lower case, openers, short forms and typos (seeded)."""

from __future__ import annotations

import random
import re

OPENERS = ("", "", "", "hi, ", "hey ", "hello, ", "quick question: ", "hi there! ", "um ",
           "sorry to bother you, ", "hey, ")
CLOSERS = ("", "", "", " thanks", " thx", " pls", " please", "?? thanks!", " cheers")
# What customers say before the question; the answer must not depend on it.
SITUATIONS = ("thinking about ordering. ", "it's a gift for my dad. ", "before i buy: ",
              "comparing a few options. ", "my old one broke. ", "for my daughter, ",
              "been looking at your site. ", "ok so ")
SHORT_FORMS = (
    (r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bplease\b", "pls"), (r"\bI am\b", "im"),
    (r"\bdo not\b", "dont"), (r"\bdoes not\b", "doesnt"), (r"\bwhat is\b", "whats"),
    (r"\bhow much is\b", "how much's"), (r"\bcan not\b", "cant"),
)
_WORD = re.compile(r"[A-Za-z]{5,}")


class CustomerPhrasing:
    """Rewrites a clean question the way customers type it; the same seed gives the same text.

    Words in `protected` (product names, codes, figures) keep their spelling so that a typo
    never turns a question into one about another product.
    """

    def __init__(self, rng: random.Random, typo_rate: float = 0.08) -> None:
        self.rng = rng
        self.typo_rate = typo_rate

    def casual(self, question: str, protected: str = "") -> str:
        rng = self.rng
        text = question.strip()
        if rng.random() < 0.7:
            text = text.lower()
        for pattern, short in SHORT_FORMS:
            if rng.random() < 0.3:
                text = re.sub(pattern, short, text, flags=re.IGNORECASE)
        keep = {word.lower() for word in re.findall(r"\w+", protected)}
        text = _WORD.sub(lambda match: self._typo(match.group(0), keep), text)
        if rng.random() < 0.35:
            text = text.rstrip("?").rstrip()
        closer = rng.choice(CLOSERS)
        opener = rng.choice(OPENERS)
        if rng.random() < 0.2:
            opener = f"{opener}{rng.choice(SITUATIONS)}"
        return f"{opener}{text}{closer}".strip()

    def _typo(self, word: str, keep: set[str]) -> str:
        if word.lower() in keep or self.rng.random() >= self.typo_rate:
            return word
        position = self.rng.randrange(1, len(word) - 1)
        kind = self.rng.random()
        if kind < 0.4:  # swapped letters
            return word[:position] + word[position + 1] + word[position] + word[position + 2:]
        if kind < 0.7:  # a dropped letter
            return word[:position] + word[position + 1:]
        return word[:position] + word[position] + word[position:]  # a doubled letter
