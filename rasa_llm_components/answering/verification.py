"""Claim verification: every claim of an answer must be backed by the evidence, not just its words.

`ClaimVerifier.verify` splits the answer into clauses and checks each claim in it:

- numbers, amounts, durations and ranges in any notation, names, ids, e-mails ... (`FactGuard`);
- terms that carry facts (features, included items, places, payment methods, policy words such as
  "receipt" or "free"): each must occur in the evidence outside a negation ("no app" does not
  back "it has an app"), possibly as a known synonym. Generic wording ("happy to help",
  "typically") is free; a term is fact-bearing when it is in `FACT_WORDS` or is rare in the
  knowledge base (and, with `english_words`, is not an ordinary English word);
- polarity: a clause that denies what its best-matching evidence sentences affirm (or the
  reverse), a refusal the evidence contradicts ("you cannot split the payment"), and a leading
  "yes" to a question about something the evidence does not state;
- figures (`figure_checks`): units, ranges, stock, comparisons, sums, thresholds and where the
  customer stands against a time window;
- attribution (`attribution`): with several products in the evidence, a clause about one of them
  holds to that product's row ("the Lite also has NFC" is no fact when only the Pulse 3 has it);
- opposites and exceptions: a word swapped for its opposite ("old address" for "new address"),
  a rule said to hold "even when" the evidence makes an exception ("unless it is defective");
- with `min_sentence_coverage` (`claim_check: strict`), each sentence must restate one evidence
  sentence: that share of its own terms must come from it.

An offer of a human colleague ("Would you like me to connect you with a colleague?") is the bot's
own handoff, not a claim about the shop, and is left out of the checks.

It is deliberately lexical: the embedded models cannot judge entailment reliably on 2 CPU cores,
and a lexical rule is explainable in the turn's diagnostics ("unsupported term 'radio'").
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa_llm_components.answering import figure_checks
from rasa_llm_components.answering.attribution import (
    CatalogRow,
    catalog_rows,
    is_row,
    rows_of_clauses,
)
from rasa_llm_components.answering.claim_patterns import YES_NO_QUESTION
from rasa_llm_components.answering.fact_guard import FactGuard
from rasa_llm_components.answering.numbers import WORD_NUMBER
from rasa_llm_components.retrieval.text import stem, tokenize

# Terms that state a fact about a product or a policy whenever they are used.
FACT_WORDS = frozenset("""
    radio fm am dab wifi wi-fi bluetooth nfc gps lte cellular esim alexa siri google assistant
    homekit matter zigbee thread airplay chromecast spotify microphone mic mics camera app apps
    waterproof water-resistant dustproof shockproof rechargeable battery batteries charger
    adapter cable cables case pouch remote display screen touchscreen aux jack usb hdmi ethernet
    stereo anc multipoint wireless wired solar voice heart oxygen ecg sleep calls speakerphone
    receipt receipts free gift wrap wrapping insurance signature pickup collect
    install installation assembly lifetime overnight same-day weekend weekends saturday sunday
    holiday holidays discount discounts coupon coupons code codes student military loyalty points
    subscription trial paypal klarna afterpay affirm crypto bitcoin cash invoice cheque check
    refund refunds exchange exchanges replacement repair repairs restocking fee fees deposit
    international worldwide everywhere unlimited guaranteed guarantee submersible swim
    dishwasher dishwasher-safe bpa-free organic vegan recycled leather metal glass titanium
    aluminium steel plastic wood gold silver rose pink red blue green purple yellow orange
    refurbished second-hand bundle bundled spare lens tripod strap band bands
    ultrasonic thermometer timer clock alarm snooze torch flashlight projector subwoofer
    equaliser equalizer karaoke party lights rgb backlit backlight mechanical ergonomic foldable
    portable 4k 8k hdr dolby atmos surround lossless hi-res bass treble noise-cancelling
    colour colours color colors weight heavy dimensions height width depth numpad keypad jug
    carafe frequency impedance latency codec codecs resolution wattage lumens brightness decibel
    decibels megapixel megapixels refresh sensitivity runtime voltage db loud louder loudest
    quiet quieter driver drivers cord black white grey gray navy beige brown cream
""".split())
FACT_TERMS = frozenset(stem(word) for word in FACT_WORDS)

# Words that carry no fact: discourse, courtesy and hedges a fluent model adds.
GENERIC_TERMS = frozenset(stem(word) for word in """
    happy glad help helping great good nice perfect sure certainly definitely absolutely indeed
    course really quite just simply basically generally usually typically normally around about
    roughly approximately currently also too well still already actually exactly right okay ok
    hope enjoy note notes noted keep mind worry let know feel reach ask asked asking question
    questions answer answers need needs want wants like would love option options choose choice
    pick find check look see make makes made take takes taking get gets give gives go goes use
    using used able possible way ways thing things anything something everything else more info
    information detail details here there handy ideal perfectly fine plenty whether either
    unfortunately sadly afraid sorry apologies thank thanks welcome great-news good-news news
    side plus though although however whereas while since because so therefore means meaning
    come comes coming included includes including include whole entire bit lot lots pretty fairly
    yes yeah yep nope sure thing certain kind sort type kinds types one ones both two three
    first second other another each either neither own same such set up quick quicker fast
    faster slow slower instead via limit limits single longer further shorter total overall
    rated rating place places possibly possible his her him their theirs qualify qualifies
    continuous continuously regular regularly separately separate designed design fit fits
    fitting old function functions hot cold warm year years month months week weeks day days
    hour hours minute minutes time times whole still even only just unless turn yourself
    record recording recordings store stores storing europe european pass passed past next
    under below above over between within inside outside near beyond
    count counts counted nobody wait last lasts per low call requires require required connect
    connects cover covers covered manual control controls personal capped cap dollar
    dollars guest checkout extend extended track tracks listed list lists among
    become becomes became otherwise through show shows shown soon straight tonight night
    morning evening afternoon today tomorrow yesterday range until long shortly directly
    slipped slip
""".split()) - FACT_TERMS

# A yes/no lead of this many terms or fewer, none of them a fact, states nothing to restate.
_SHORT_LEAD_TERMS = 2
_ANSWER_LEAD = re.compile(r"^\W*(?:yes|no|not|nope|sadly|unfortunately|sorry|i'?m afraid)\b",
                          re.IGNORECASE)

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ship", "shipping", "deliver", "delivery", "delivered", "send", "sent", "arrive", "arrives",
     "shipped", "post"),
    ("cost", "costs", "price", "priced", "charge", "charged", "fee", "pay", "paid", "run", "$",
     "much", "expensive", "cheap", "cheaper"),
    ("return", "returns", "returned", "send back", "back"),
    ("refund", "refunds", "refunded", "money", "reimburse"),
    ("cancel", "cancelled", "cancellation", "canceled"),
    ("buy", "purchase", "purchased", "order", "ordered", "bought"),
    ("item", "items", "product", "products", "thing", "stuff"),
    ("customer", "you", "your"),
    ("business", "working", "weekday", "weekdays"),
    ("headphone", "headphones", "headset", "earbuds", "buds", "earphones"),
    ("watch", "smartwatch"),
    ("colour", "colours", "color", "colors"),
    ("water", "water_resistance", "water-resistant", "resistant", "resistance", "splash", "sweat",
     "rain", "raining", "rainy", "wet"),
    ("waterproof", "proof", "protection", "ip67", "ip68"),
    ("handled", "handles", "processed", "processes"),
    ("tall", "height", "high"),
    ("noise", "anc", "noise_cancelling", "cancelling", "canceling"),
    ("battery", "battery_hours", "charge", "runtime", "last", "lasts"),
    ("charge", "charging", "charges", "recharge", "recharges", "recharging", "rechargeable"),
    ("compatible", "compatibility", "works", "work", "support", "supports"),
    ("weight", "weigh", "weighs", "heavy", "light", "lighter", "heavier"),
    ("colour", "color", "colours", "colors", "black", "white"),
    ("size", "big", "dimension", "dimensions", "small", "large", "inch", "inches"),
    ("g", "gram", "grams"),
    ("kg", "kilogram", "kilograms", "kilo", "kilos"),
    ("oz", "ounce", "ounces"),
    ("lb", "lbs", "pound", "pounds"),
    ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    ("fast", "speed", "quick", "mb/s", "mbps", "gbps"),
    ("shower", "rain", "waterproof", "swim", "swimming", "pool", "ip67", "ip68", "atm"),
    ("subscription", "subscriptions", "subscribe", "cloud"),
    ("sd", "microsd", "storage"),
    ("socket", "plug", "outlet"),
    ("loud", "louder", "loudest", "output", "watts", "volume", "db", "decibel", "decibels"),
    ("quiet", "quieter", "noise", "db", "decibel", "decibels"),
    ("cord", "cable", "lead"),
    ("mic", "mics", "microphone", "microphones"),
    ("connected", "multipoint", "pairing", "pair", "devices"),
    ("stock", "available", "availability", "in-stock"),
    ("warranty", "guarantee", "coverage", "covered", "cover"),
    ("business days", "working days"),
    ("account", "profile", "login", "sign"),
    ("support", "team", "colleague", "agent", "human", "staff", "someone"),
    ("email", "e-mail", "mail"),
    ("password", "pass"),
    ("usa", "us", "states", "united", "america", "american"),
    ("uk", "united kingdom", "britain", "england"),
    ("before", "earlier", "prior"),
    ("after", "later"),
)

_NEGATION = re.compile(
    r"\b(no|not|never|none|nothing|cannot|can't|cant|won't|don't|doesn't|didn't|isn't|aren't"
    r"|wasn't|weren't|haven't|hasn't|without|neither|nor|unavailable|excluded|except)\b|n't\b",
    re.IGNORECASE,
)
# Fact words in phrases that state no fact: "in that case", "in exchange", "check your ...".
_IDIOMS = re.compile(
    r"\b(?:(?:just\s+)?in\s+(?:that\s+|this\s+|which\s+|any\s+|either\s+)?case|in\s+exchange"
    r"|as\s+long\s+as|check(?=\s+(?:your|the|its|their|on|out|whether|if|back|that|with)\b)"
    r"|(?:no|does|doesn'?t|do|don'?t|did|didn'?t|would|wouldn'?t|will|won'?t|should|it|that"
    r"|this|really)\s+(?:(?:it|that|this|really)\s+)*matter)\b",
    re.IGNORECASE,
)


def without_idioms(text: str) -> str:
    """`text` without the phrases that use a fact word for no fact ("does that matter")."""
    return _IDIOMS.sub(" ", text)


# A condition ("unless that's a public holiday") names what the evidence may name in a denial.
_CONDITION = re.compile(r"\b(?:unless|except (?:if|when|on))\b", re.IGNORECASE)
_INCLUSION = re.compile(r"\b(?:included|includes?|including|comes? with|in the box)\b",
                        re.IGNORECASE)
_NOT_INCLUDED = re.compile(r"\b(?:not included|sold separately|not in the box)\b", re.IGNORECASE)
_INCLUDE_TERMS = frozenset(tokenize("included includes include including comes come with box"))
_POLARITY_BREAK = re.compile(r"[()]|\s+but\s+|\s+-\s+|\s+\u2014\s+|,\s+and\s+", re.IGNORECASE)
_ANSWER_WORD = re.compile(r"^\W*(?:yes|no)\b[,.!]?\s*", re.IGNORECASE)
_NO_LEAD = re.compile(r"^\W*(no|nope|unfortunately not|sadly not|not really)\b", re.IGNORECASE)
_YES_LEAD = re.compile(r"^\W*(yes|yep|yeah|sure|absolutely|definitely|of course|it does|they do)\b",
                       re.IGNORECASE)
_CLAUSE_BREAK = re.compile(
    r"(?<=[.!?;])\s+|\s*[;:]\s+|,?\s+\b(?:but|while|whereas|although|though|however|so|"
    r"instead of|even when|even if)\b\s*|,\s+(?=(?:just |but |and )?not\b|except\b)"
    r"|,\s+and\s+(?=(?:you|we|it|they|there|i)\b)",  # ", and you'll get ...": a new clause
    re.IGNORECASE,
)
_LEAD = re.compile(r"^\W*(?:yes|no|yep|nope|sure|sorry|no need|not quite|unfortunately not|"
                   r"i'?m sorry|i am sorry|unfortunately|good news|great news)\b"
                   r"[\s,!.:-]*", re.IGNORECASE)
def encoder_words(model_path: str | Path) -> list[str]:
    """The whole words of a WordPiece encoder's vocabulary (``vocab.txt``), if it has one."""
    vocab = Path(model_path) / "vocab.txt"
    if not vocab.is_file():
        return []
    return [word for word in vocab.read_text(encoding="utf-8").split() if word.isalpha()]


# A term in fewer than this share of the passages names something specific (a codec, a part).
RARE_ASPECT_SHARE = 0.05
_VALUE_LIST = re.compile(r":\s*([^:;|/\n]+(?:/[^:;|/\n]+)+)")
_VALUE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")


@dataclass(frozen=True)
class KnowledgeVocabulary:
    """How many passages of the knowledge base use each term: rare terms carry facts."""

    frequencies: dict[str, int]
    passages: int
    # The words of the catalog's value lists ("colours: black/sand/navy", "codecs: SBC/AAC"):
    # each names one option, so no other word of its kind backs it ("white" is not "black").
    values: frozenset[str] = frozenset()

    @classmethod
    def build(cls, texts: Iterable[str]) -> KnowledgeVocabulary:
        counts: Counter[str] = Counter()
        values: set[str] = set()
        total = 0
        for text in texts:
            total += 1
            counts.update(set(tokenize(text)))
            for listing in _VALUE_LIST.finditer(text):
                values.update(term for item in listing.group(1).split("/")
                              if _VALUE_WORD.fullmatch(item.strip())
                              for term in tokenize(item))
        return cls(dict(counts), total, frozenset(values))

    def share(self, term: str) -> float:
        return self.frequencies.get(term, 0) / max(1, self.passages)


class ClaimVerifier:
    """Checks each claim of an answer against evidence texts; see the module docstring.

    Args:
        guard: the `FactGuard` for numbers, names and the other typed facts.
        vocabulary: term frequencies of the knowledge base (None: every term not generic is
            fact-bearing).
        common_share: a knowledge-base term used in at least this share of passages is shop
            vocabulary ("order", "days"), not a fact; in `FACT_TERMS` it is a fact anyway.
        english_words: ordinary English words (the encoder's word-piece vocabulary): a rare
            knowledge-base term that is an ordinary word ("size", "wait") is wording, while a
            technical one ("ldac", "multipoint") is a fact.
        min_sentence_coverage: the share of each answer sentence's own terms that one evidence
            sentence must hold (0: not checked).
    """

    def __init__(
        self,
        guard: FactGuard,
        vocabulary: KnowledgeVocabulary | None = None,
        common_share: float = 0.08,
        synonym_groups: Sequence[Sequence[str]] = SYNONYM_GROUPS,
        english_words: Iterable[str] = (),
        min_sentence_coverage: float = 0.0,
    ) -> None:
        self.guard = guard
        self.min_sentence_coverage = min_sentence_coverage
        self.english = frozenset(stem(word) for word in english_words if word.isalpha())
        self.vocabulary = vocabulary
        self._values = vocabulary.values if vocabulary is not None else frozenset()
        self.common_share = common_share
        self._synonyms: dict[str, set[str]] = {}
        for group in synonym_groups:
            stems = {term for word in group for term in tokenize(word)} | set(group)
            for term in stems:
                self._synonyms.setdefault(term, set()).update(stems)

    # -- terms -------------------------------------------------------------------------------
    @functools.cached_property
    def name_terms(self) -> frozenset[str]:
        """The words of product and brand names, as written and as index terms ("corvan")."""
        extractor = self.guard.extractor
        words = set(extractor.name_vocabulary)
        # short codes in names ("S5", "X200") too: they name the product, they state nothing
        words |= {token for name in extractor.names
                  for token in re.findall(r"[a-z0-9]+", name.lower())
                  if any(ch.isdigit() for ch in token) and not token.isdigit()}
        return frozenset(words) | frozenset(term for word in words for term in tokenize(word))

    def is_fact_term(self, term: str, surface: str | None = None) -> bool:
        """Whether a term states a fact; ``surface`` is the word as written, when known."""
        if surface is not None:
            if surface in FACT_WORDS or (surface.endswith("s") and surface[:-1] in FACT_WORDS):
                return True
            if _NUMBER_WORD.fullmatch(surface):
                return False
        elif term in FACT_TERMS:
            return True
        if term in GENERIC_TERMS or term.isdigit() or len(term) < 3:
            return False
        if self.vocabulary is None or term in self._values:
            return True
        # A term the knowledge base never uses is the customer's or the model's own wording;
        # inventions that matter are listed in FACT_TERMS.
        return (
            0.0 < self.vocabulary.share(term) < self.common_share and term not in self.english
        )

    def supported_term(self, term: str, evidence_terms: set[str]) -> bool:
        if term in evidence_terms or any(
            term.endswith(ending) and len(term) - len(ending) >= 3
            and term[:-len(ending)] in evidence_terms for ending in ("e", "d", "ed")
        ):
            return True  # "aged" / "age"
        if any(part in evidence_terms for part in re.split(r"[-./]", term) if len(part) > 2):
            return True
        if len(term) >= 5 and any(
            len(other) >= 5 and _same_word(term, other) for other in evidence_terms
        ):
            return True  # "replacement" / "replace", "listed" / "listing"
        if term in self._values:
            return False
        return bool(self._synonyms.get(term, set()) & evidence_terms)

    # -- entry point -------------------------------------------------------------------------
    def verify(self, answer: str, evidence: Sequence[str], question: str = "") -> list[str]:
        """The problems of ``answer`` (empty when every claim is backed by ``evidence``).

        Facts the customer stated in ``question`` ("my $60 order", "with UPS") may be repeated.
        """
        answer = without_handoff_offers(answer)
        texts = [text for text in evidence if text]
        units = _units(texts)
        arithmetic = figure_checks.ARITHMETIC.search(answer)
        derived = figure_checks.derived_figures(texts, answer, question) if arithmetic else []
        problems = [f"unsupported {claim}"
                    for claim in unsupported_claims(self.guard, answer, texts + derived, question)]
        evidence_terms = set(tokenize(" ".join(texts)))
        asked_terms = set(tokenize(_uncontracted(question)))
        affirmed_terms = _affirmed_terms(units)
        parts = _polarity_parts(units)
        part_terms = [self.expand(set(tokenize(part))) for part in parts]
        clauses = _clauses(answer)
        problems += figure_checks.check_figures(answer, clauses, texts, question)
        rows = catalog_rows(texts)
        attributed = rows_of_clauses(clauses, rows) if len(rows) >= 2 else [None] * len(clauses)
        prose = [text for text in texts if not any(row.text == text for row in rows)]
        named = list({id(row): row for row in attributed if row is not None}.values())
        compared = named if len(named) >= 2 else rows if len(rows) == 2 else []
        for clause, row in zip(clauses, attributed, strict=True):
            body = _LEAD.sub("", clause)
            negated = bool(_NEGATION.search(_main_clause(body)))
            words = [(surface, term)
                     for surface, term in words_of(_uncontracted(without_idioms(body)))
                     if not any(ch.isdigit() for ch in term)]
            terms = list(dict.fromkeys(term for _, term in words))
            if not negated:
                # Denying what the evidence never mentions is an inference from what it lists;
                # affirming it is not, and "no app" in the evidence does not back "an app". A
                # clause with a denial only in a condition ("once tracking hasn't changed")
                # may use the words of the evidence's conditions too.
                conditional = _NEGATION.search(body) or _CONDITION.search(body)
                stated = evidence_terms if conditional else affirmed_terms
                problems += [
                    f"unsupported term '{surface}'" for surface, term in dict.fromkeys(words)
                    if self.is_fact_term(term, surface)
                    and not self.supported_term(term, stated)
                ]
            else:
                problems += self._denied_but_stated(body, units)
                problems += self._unbacked_denial(body, terms, units, _NO_LEAD.match(answer))
            problems += self._polarity(body, negated, terms, parts, part_terms, dict(words))
            if not negated:
                problems += self._included_but_not(body, terms, parts)
                problems += self._swapped_antonym(body, terms, units, evidence_terms)
                if row is not None:
                    problems += self._other_products_fact(
                        body, words, row, prose, [question, *derived])
                problems += self._fact_of_both(body, words, compared, prose)
                problems += self._invented_list_items(body, evidence_terms, asked_terms)
        problems += self._ignored_exceptions(answer, parts)
        if self.min_sentence_coverage:
            problems += self._coverage(answer, _coverage_units(texts), question, derived)
        if question and _YES_LEAD.match(answer):
            problems += [
                f"says yes to '{term}', which the evidence does not state"
                for surface, term in dict.fromkeys(words_of(without_idioms(question)))
                if surface in FACT_WORDS and not self.supported_term(term, evidence_terms)
            ]
        return list(dict.fromkeys(problems))

    def _coverage(self, answer: str, units: list[str], question: str,
                  derived: Sequence[str] = ()) -> list[str]:
        """Each answer sentence must draw `min_sentence_coverage` of its own terms (those not
        from the question) from one evidence sentence: a paraphrase keeps much of the wording
        of what it restates, an invented condition rarely does.

        A sentence that joins several facts ("X is $449 and Y is $129, so together $578") may
        instead restate one evidence sentence per clause, leaving out the product names (each
        row has its own) and the figures it computes.
        """
        asked = set(tokenize(_uncontracted(question)))
        unit_terms = [self.expand(set(tokenize(_uncontracted(unit)))) for unit in units]
        computed = set(tokenize(" ".join(derived))) | _ARITHMETIC_TERMS

        def restates(text: str, left_out: set[str] = frozenset()) -> bool:
            # hedges and courtesy ("unfortunately", "currently") restate nothing
            terms = {term for term in tokenize(_uncontracted(_LEAD.sub("", text)))
                     if term not in _CONTRACTED_ENDINGS and not _DURATION_WORD.fullmatch(term)
                     and not (left_out and (term in left_out or len(term) == 1
                                            or _NUMBER_WORD.fullmatch(term)))
                     } - asked - _HEDGE_TERMS
            if not terms:
                return True
            if _ANSWER_LEAD.match(text) and len(terms) <= _SHORT_LEAD_TERMS and not any(
                self.is_fact_term(term) or any(ch.isdigit() for ch in term) for term in terms
            ):
                return True  # "Not necessarily.": no fact to restate
            best = max((len(terms & candidate) / len(terms) for candidate in unit_terms),
                       default=0.0)
            return best >= self.min_sentence_coverage

        problems = []
        for sentence in re.split(r"(?<=[.!?])\s+", answer.strip()):
            clauses = [piece for clause in _clauses(sentence)
                       for piece in _CONDITION.split(clause) if piece.strip()]
            if restates(sentence) or (len(clauses) > 1 and all(
                    restates(clause, self.name_terms | computed) for clause in clauses)):
                continue
            problems.append(f"restates no evidence sentence: '{sentence}'")
        return problems

    def _denied_but_stated(self, clause: str, units: list[str]) -> list[str]:
        """A denial of what the evidence states ("Ireland is not one of the countries we ship
        to" when Ireland is listed): its rare terms are affirmed and never denied there."""
        if self.vocabulary is None:
            return []
        names = self.name_terms  # a product's name is in every row unit
        # Only what the negation covers is denied ("wired only, with no Bluetooth" denies
        # Bluetooth, not "wired"); a scope without rare terms ("a CR2032 battery, which isn't
        # included") denies what the clause is about.
        scope = " ".join(match.group(0) for match in _NEGATED_SCOPE.finditer(clause))
        rare = self._rare_terms(scope, names) or self._rare_terms(clause, names)
        if not rare:
            return []
        affirming = [unit for unit in units if rare <= set(tokenize(unit))
                     and not _NEGATION.search(unit)]
        denying = [unit for unit in units if rare & set(tokenize(unit)) and _NEGATION.search(unit)]
        if affirming and not denying:
            return [f"contradicts the evidence: '{clause.strip()}'"]
        return []

    def _swapped_antonym(self, clause: str, terms: list[str], units: list[str],
                         evidence_terms: set[str]) -> list[str]:
        """A word swapped for its opposite: "sent to your old address" where the evidence says
        "a link sent to the new address" and never "old". The evidence sentence must share two
        more terms with the clause, so that it states the same thing."""
        names = self.name_terms
        content = {term for term in terms if term not in GENERIC_TERMS and term not in names}
        for term in terms:
            opposite = _ANTONYMS.get(term)
            if opposite is None or self.supported_term(term, evidence_terms):
                continue  # "orders paid after 2 pm" restates "orders paid later"
            for unit in units:
                unit_terms = set(tokenize(unit))
                if opposite in unit_terms and len((content - {term}) & unit_terms) >= 2:
                    return [f"says '{term}' where the evidence says '{opposite}': "
                            f"'{clause.strip()}'"]
        return []

    def _other_products_fact(self, clause: str, words: list[tuple[str, str]], row: CatalogRow,
                             prose: list[str], stated: list[str]) -> list[str]:
        """A clause about one product of several must hold to that product's row: "the Pulse 3
        Lite also has NFC payments" is no fact when only the Pulse 3's row lists NFC."""
        if _RELATES_PRODUCTS.search(clause):
            return []
        own = _units([row.text, *prose])
        own_terms = _affirmed_terms(own)
        name = " ".join(row.title)
        problems = [f"says the {name} has '{surface}', which its listing does not state"
                    for surface in self._features_not_in(words, own_terms)]
        # Prices are what a comparison most often swaps; other figures ("the 1.5 m cable") may
        # belong to a part the clause names in passing.
        backed = {value for text in [*own, *stated] for value in figure_checks.figures(text)}
        problems += [
            f"gives the {name} the price ${value:g}, which its listing does not state"
            for value in dict.fromkeys(figure_checks.amounts(clause)) if value not in backed
        ]
        return problems

    def _fact_of_both(self, clause: str, words: list[tuple[str, str]],
                      rows: Sequence[CatalogRow], prose: list[str]) -> list[str]:
        """A feature said of both products ("Both are IP67 and have a speakerphone") must be
        in the row of each."""
        if len(rows) < 2 or not _BOTH.search(clause) or _RELATES_PRODUCTS.search(clause):
            return []
        problems = []
        for row in rows:
            own_terms = _affirmed_terms(_units([row.text, *prose]))
            problems += [
                f"says the {' '.join(row.title)} has '{surface}' too, which its listing does "
                "not state" for surface in self._features_not_in(words, own_terms)
            ]
        return problems

    def _features_not_in(self, words: list[tuple[str, str]], stated: set[str]) -> list[str]:
        """The features and options among `words` that `stated` does not back. Only those:
        other rare words ("close behind") are the model's wording."""
        return [surface for surface, term in dict.fromkeys(words)
                if (surface in FACT_WORDS or term in FACT_TERMS or term in self._values)
                and term not in self.name_terms and not self.supported_term(term, stated)]

    def _invented_list_items(self, clause: str, evidence_terms: set[str],
                             asked_terms: set[str]) -> list[str]:
        """An item of a list whose other items the evidence backs, in words the evidence never
        uses: "8 presets, a shake reminder, a viewing window, a rotisserie spit"."""
        items = [item for item in _LIST_SEPARATOR.split(clause) if item.strip()]
        if len(items) < 3:
            return []
        backed, invented = 0, []
        for item in items:
            terms = [term for surface, term in words_of(item)
                     if term not in GENERIC_TERMS and term not in self.name_terms
                     and len(term) > 2 and not any(ch.isdigit() for ch in term)
                     and surface not in _LIST_FILLERS]
            if not terms:
                continue
            if any(self.supported_term(term, evidence_terms) or term in asked_terms
                   for term in terms):
                backed += 1
            elif any(self.is_fact_term(term) or self.vocabulary is None
                     or not self.vocabulary.share(term) for term in terms):
                # a fact, or a word the knowledge never uses ("rotisserie"), not an ordinary
                # word of the shop's ("keeps water warm")
                invented.append(item.strip(" .!"))
        if backed < 2:
            return []
        return [f"lists '{item}', which the evidence does not state" for item in invented]

    def _ignored_exceptions(self, answer: str, parts: list[str]) -> list[str]:
        """"You pay the return shipping, even when the item is defective" against "the customer
        pays the return shipping, unless the item is defective": the rule is said to hold where
        the evidence makes an exception."""
        exceptions = [self.expand(set(tokenize(part))) for part in parts
                      if part.startswith(_EXCEPTION_MARK)]
        problems = []
        for match in _EVEN_WHEN.finditer(answer):
            facts = {term for _, term in words_of(match.group(1))
                     if term not in GENERIC_TERMS and term not in self.name_terms}
            if len(facts) >= 2 and any(facts <= terms for terms in exceptions):
                problems.append(f"ignores an exception of the evidence: '{match.group(0)}'")
        return problems

    def _denies_a_fact(self, clause: str) -> bool:
        """Whether the clause's negations cover a term that is neither generic nor a name."""
        scope = " ".join(match.group(0) for match in _NEGATED_SCOPE.finditer(
            _uncontracted(clause)))
        return any(term not in GENERIC_TERMS and term not in self.name_terms
                   for _, term in words_of(scope) if not term.isdigit())

    def _rare_terms(self, text: str, names: frozenset[str]) -> set[str]:
        return {term for term in tokenize(text) if term not in names
                and 0.0 < self.vocabulary.share(term) < self.common_share / 2}

    def _unbacked_denial(
        self, clause: str, terms: list[str], units: list[str], answers_no: Any = None
    ) -> list[str]:
        """A denial needs a denial in the evidence when the evidence affirms the same thing:
        "you cannot split the payment" against "orders can be split into 4 payments". Checked
        for refusals ("cannot", "don't accept") and for answers that start with "No"."""
        if not (_REFUSAL.search(clause) or answers_no) or re.match(r"\W*not\b", clause, re.I):
            return []  # "..., not the UK" contrasts; it does not deny
        names = self.name_terms
        facts = self.expand({term for term in terms
                              if term not in GENERIC_TERMS and term not in names})
        if len(facts) < 2:
            return []
        for unit in units:
            if _NEGATION.search(unit) and facts & set(tokenize(unit)):
                return []
        for unit in units:
            if len(facts & self.expand(set(tokenize(unit)))) >= 2 and not _NEGATION.search(unit):
                return [f"denies what the evidence states: '{clause.strip()}'"]
        return []

    def asks_about(self, question: str, evidence: Sequence[str], products: Sequence[Any]) -> bool:
        """Whether the evidence mentions any aspect the question asks about ("colours",
        "weight", "range"); True when the question names no aspect ("is it any good?")."""
        names = set(self.name_terms)
        for product in products:
            names |= set(tokenize(getattr(product, "alias", "")))
        aspects = {
            term for term in tokenize(question)
            if term not in GENERIC_TERMS and term not in names and not term.isdigit()
            and term not in _QUESTION_WORDS
        }
        if not aspects:
            return True
        evidence_terms = set(tokenize(" ".join(evidence)))
        return any(self.supported_term(term, evidence_terms) for term in aspects)

    def addresses(self, answer: str, question: str, evidence: Sequence[str],
                  products: Sequence[Any] = ()) -> bool:
        """Whether the answer speaks to what the question asks, when the evidence has it:
        "how many speeds?" is not answered by the motor's wattage."""
        names = set(self.name_terms)
        for product in products:
            names |= set(tokenize(getattr(product, "alias", "")))
        evidence_terms = set(tokenize(" ".join(evidence)))
        aspects = {
            term for term in tokenize(question)
            if term not in GENERIC_TERMS and term not in names and not term.isdigit()
            and term not in _QUESTION_WORDS and self.supported_term(term, evidence_terms)
        }
        if not aspects:
            return True
        answer_terms = self.expand(set(tokenize(answer)))
        return any(self.expand({term}) & answer_terms for term in aspects)

    def answers_from_evidence(self, answer: str, evidence: Sequence[str], question: str) -> bool:
        """Whether the answer says something from the evidence beyond the question's words, or
        answers a yes/no question with what the evidence states ("does the pulse 3 have sleep
        tracking?": "Yes, the Nimbra Pulse 3 has sleep tracking.")."""
        evidence_terms = set(tokenize(" ".join(evidence)))
        asked = set(tokenize(question))
        said = [term for term in tokenize(answer) if term not in GENERIC_TERMS]
        if any(term in evidence_terms and term not in asked for term in said):
            return True
        asks_yes_or_no = any(YES_NO_QUESTION.search(part)
                             for part in re.split(r"(?<=[.!?,:])\s+", question))
        return asks_yes_or_no and bool(said) and all(
            self.supported_term(term, evidence_terms) for term in said
        )

    @staticmethod
    def denies_its_yes(answer: str) -> bool:
        """"Yes, the Sprint S5 have no noise cancelling.": a yes whose first clause denies.
        ("Yes, there is no fee" can be right, so only a small model's answers are held to it.)"""
        clauses = _clauses(answer)
        return bool(clauses and _YES_LEAD.match(answer) and _NEGATION.search(clauses[0]))

    @staticmethod
    def answers_the_other_way(answer: str, fallback: str) -> bool:
        """"No, the return window is 30 days ..." where the answer shown otherwise begins "Yes,
        opened items can be returned": the opposite yes or no, found in another passage. (A
        strong model may answer "does it have to be sealed?" with a right "No", so only a small
        model's answers are held to it.)"""
        return bool((_NO_LEAD.match(answer) and _YES_LEAD.match(fallback))
                    or (_YES_LEAD.match(answer) and _NO_LEAD.match(fallback)))

    def leaves_out_the_item_asked(self, answer: str, question: str,
                                  fallback: str) -> str | None:
        """The most specific thing the question asks about ("does the x200 support ldac?"),
        a term the knowledge rarely uses, when `fallback` (the answer shown otherwise) names it
        and `answer` does not; other words of the question ("on my android phone") only say what
        it is for."""
        if self.vocabulary is None:
            return None
        names = set(self.name_terms)
        asked = [term for term in tokenize(question) if len(term) > 1 and not term.isdigit()
                 and term not in GENERIC_TERMS and term not in names
                 and term not in _QUESTION_WORDS
                 and 0.0 < self.vocabulary.share(term) < RARE_ASPECT_SHARE]
        if not asked:
            return None
        rarest = min(sorted(asked), key=self.vocabulary.share)
        forms = self.expand({rarest})

        def names_it(text: str) -> bool:
            terms = self.expand(set(tokenize(text)))
            return any(term.startswith(form) for form in forms for term in terms)

        return rarest if names_it(fallback) and not names_it(answer) else None

    def expand(self, terms: set[str]) -> set[str]:
        """The terms with their synonyms ("much" brings "price", "cost", ...)."""
        expanded = set(terms)
        for term in terms:
            expanded |= self._synonyms.get(term, set())
        return expanded

    def _included_but_not(self, clause: str, terms: list[str], parts: list[str]) -> list[str]:
        """An inclusion the evidence denies: "a 20 W adapter is included" against "power
        adapter: not included (needs a 20 W USB-C adapter)"."""
        if not _INCLUSION.search(clause):
            return []
        names = self.name_terms
        things = {term for term in terms
                  if term not in GENERIC_TERMS and term not in names and term not in _INCLUDE_TERMS}
        for part in parts:
            if _NOT_INCLUDED.search(part) and things & set(tokenize(part)):
                return [f"contradicts the evidence: '{clause.strip()}'"]
        return []

    def _polarity(
        self,
        clause: str,
        negated: bool,
        terms: list[str],
        units: list[str],
        unit_terms: list[set[str]],
        surfaces: dict[str, str] | None = None,
    ) -> list[str]:
        """A clause must keep the polarity of the evidence sentences that state the same thing.

        Product names are left out of the comparison: they match every sentence of a row.
        `surfaces` maps the clause's terms to its words as written: "applies" is no "app".
        """
        written = {term: surface for surface, term in (surfaces or {}).items()}
        names = self.name_terms
        facts = {term for term in terms if term not in GENERIC_TERMS and term not in names}
        if len(facts) < 3 or re.search(r"\bonly\b", clause, re.IGNORECASE):
            return []  # "we only ship to X" affirms X and denies the rest
        overlaps = [len(facts & candidate) / len(facts) for candidate in unit_terms]
        best = max(overlaps, default=0.0)
        if best < 0.75:
            return []
        # A sentence that lacks one of the clause's rare terms is about something else
        # ("standard shipping to APO addresses" against "express is not available for APO").
        rare = {term for term in facts if self.is_fact_term(term, written.get(term))}
        if negated and not self._denies_a_fact(clause):
            return []  # "an adapter, which isn't included": what it denies is no fact of its own
        close = [
            unit for unit, candidate, overlap in zip(units, unit_terms, overlaps, strict=True)
            if overlap >= best - 0.15 and rare <= candidate and not unit.endswith("?")
        ]
        if not close or negated in [bool(_NEGATION.search(_main_clause(u))) for u in close]:
            return []
        if any(re.search(r"\bonly\b", unit, re.IGNORECASE) for unit in close):
            return []  # "can be changed only before it ships" both affirms and denies
        if not negated and _NEGATION.search(clause) and any(map(_NEGATION.search, close)):
            # "if the payment isn't confirmed in 48 hours, the order is cancelled" restates
            # "orders whose payment is not confirmed in 48 hours are cancelled"
            return []
        return [f"contradicts the evidence: '{clause.strip()}'"]


_NEGATED_SCOPE = re.compile(
    r"(?:\b(?:no|not|never|none|cannot|can't|won't|don't|doesn't|isn't|aren't|without|neither|"
    r"nor|excluded|except)\b|n't\b)[^.;!?()]*",
    re.IGNORECASE,
)
# A condition or an aside does not make its clause a denial: "cancel the whole order (free as
# long as it hasn't shipped)", "if it doesn't fit, you can return it".
_ASIDE = re.compile(r"\([^)]*\)|\b(?:if|as long as|provided|until|once)\b[^,;()]*", re.IGNORECASE)


_WORD_ENDINGS = re.compile(r"(?:e|s|es|ed|d|ing|er|ers|ment|ments|ion|ions|able|al|ly|ity)?")


def _same_word(term: str, other: str) -> bool:
    """Whether two index terms are forms of one word ("replac" / "replacement"), not a word
    and a compound that starts with it ("speaker" / "speakerphone")."""
    shorter, longer = sorted((term, other), key=len)
    return longer.startswith(shorter) and bool(_WORD_ENDINGS.fullmatch(longer[len(shorter):]))


def _main_clause(clause: str) -> str:
    return _ASIDE.sub(" ", clause)


# A denial of everything else: "do not ship to ... any other country outside our list".
_ONLY_OTHERWISE = re.compile(
    r"\w+(?:n't)?\s+(?:(?:be|get|currently)\s+)?([a-z]+)\b(?=.*\b(?:any other|anything else|"
    r"anywhere else|outside)\b)", re.IGNORECASE)


def _affirmed_terms(units: Sequence[str]) -> set[str]:
    """Terms the evidence states positively: outside "no ...", "not ..." scopes and "x: none"."""
    terms: set[str] = set()
    for index, unit in enumerate(units):
        if re.search(r":\s*(none|no)\s*$", unit, re.IGNORECASE) or unit.endswith("?"):
            continue  # "x: none" denies x; a question affirms nothing
        if unit.rstrip(" .").endswith("?") and re.match(
            r"(?i)no\b", units[index + 1] if index + 1 < len(units) else ""
        ):
            continue  # a FAQ's title answered "No." ("Can you ship to Switzerland?. No. ...")
        terms.update(tokenize(_NEGATED_SCOPE.sub(" ", unit)))
        for scope in _NEGATED_SCOPE.finditer(unit):
            # "we do not ship to ... any other country outside our list (US, ...)": shipping
            # to the list is stated ("we only deliver to the US, ...")
            verb = _ONLY_OTHERWISE.match(scope.group())
            if verb:
                terms.update(tokenize(verb.group(1)))
    return terms


# Opposites a fluent model swaps (as index terms): "old address" for "new address".
_ANTONYM_PAIRS = (
    ("includ", "exclud"), ("new", "old"), ("newer", "older"), ("befor", "after"),
    ("earlier", "later"), ("minimum", "maximum"), ("insid", "outsid"), ("requir", "optional"),
    ("allow", "prohibit"), ("domestic", "international"), ("higher", "lower"),
    ("increas", "decreas"), ("lowest", "highest"), ("unopen", "open"),
)
_ANTONYMS = {a: b for pair in _ANTONYM_PAIRS for a, b in (pair, pair[::-1])}
# "the Lite lacks NFC" denies without a negation word; "16 hours versus 10 for the Mini" and
# "longer than the Pulse 3" state figures of two products in one clause.
# Items of a list ("8 presets, a shake reminder and a viewing window").
_LIST_SEPARATOR = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or|plus)\s+", re.IGNORECASE)
_LIST_FILLERS = frozenset("a an the with has have it its they their and or of for in on to at by "
                          "is are was be from this that these those besides apart also like such "
                          "as".split())
_BOTH = re.compile(r"\b(?:both|each of them|they each|all of them)\b", re.IGNORECASE)
_RELATES_PRODUCTS = re.compile(r"\b(?:lacks?|lacking|missing|unlike|versus|vs|than|compared)\b",
                               re.IGNORECASE)


# "you cannot split the payment", "we don't accept PayPal": denials of what can be done.
_REFUSAL = re.compile(
    r"\b(?:can'?t|cannot|can not|unable to|not possible|(?:don'?t|do not|doesn'?t|does not) "
    r"(?:offer|accept|take|have|sell|support|allow|ship|deliver|work|fit|include|come))\b",
    re.IGNORECASE,
)
_QUESTION_WORDS = frozenset(tokenize(
    "tell know wonder wondering curious thinking buy buying get getting want good ok okay "
    "nice cool hey hi thanks please really actually many long"
))
_HEDGE_TERMS = frozenset(tokenize(
    "unfortunately sadly currently afraid sorry happy glad great good news really actually "
    "definitely certainly absolutely course"
))
# "30-day", "24month": the figure and the unit are terms of their own
_DURATION_WORD = re.compile(r"\d+-?(?:minute|hour|day|week|month|year)s?")
# "..., as long as they're complete": a condition restates a sentence of its own
_CONDITION = re.compile(r",?\s+\b(?:as long as|provided that|unless|if)\b\s+", re.IGNORECASE)
_ARITHMETIC_TERMS = frozenset(tokenize("together total combined overall altogether sum save "
                                       "saving difference covered come comes"))
# The sentence coverage of `claim_check: strict`, chosen on the DEV pairs.
STRICT_COVERAGE = 0.4
_RATE = re.compile(r"(?:a|an|per|one) (?:day|week|month|year)", re.IGNORECASE)


def unsupported_claims(guard: FactGuard, answer: str, evidence: Sequence[str],
                       question: str = "") -> list[str]:
    """The typed facts of ``answer`` (figures, names ...) that neither the evidence nor the
    customer states; a rate ("once a month") and a short form of a name the evidence spells out
    ("ET" for "Eastern Time") are no new facts."""
    return [claim for claim in guard.check(answer, [*evidence, question]).unsupported
            if not _RATE.fullmatch(claim) and not _named_in(claim, evidence)]


def _named_in(claim: str, texts: Sequence[str]) -> bool:
    """A short form of a name the evidence spells out: "UK" for "United Kingdom", "Quillon
    Rapid SSD" for "Quillon Rapid Portable SSD 1 TB" (its words in order, in one line)."""
    words = re.findall(r"[A-Za-z0-9]+", claim)
    if not words:
        return False
    for text in texts:
        for line in re.split(r"[\n.;]", text):
            tokens = re.findall(r"[A-Za-z0-9]+", line)
            if len(words) == 1 and words[0].isupper() and 2 <= len(words[0]) <= 4:
                capitals = [token for token in tokens if token[:1].isupper()]
                for start in range(len(capitals)):
                    initials = "".join(token[0] for token in capitals[start:start + len(words[0])])
                    if initials == words[0]:
                        return True
            if len(words) >= 2 and words[0] in tokens:
                start = tokens.index(words[0]) + 1
                if _in_order(words[1:], tokens[start:start + 8]):
                    return True
    return False


def _in_order(words: Sequence[str], tokens: Sequence[str]) -> bool:
    """Whether each word (or its singular) is among `tokens`, in order, each token used once:
    "Halcyra Classic Classic Hybrid Watch" is no short form of "Halcyra Classic Hybrid Watch"."""
    rest = iter(tokens)
    return all(any(token in (word, word.rstrip("s")) for token in rest) for word in words)


_SURFACE_WORD = re.compile(r"[a-z0-9][a-z0-9'’./-]*[a-z0-9]|[a-z0-9]")
_NUMBER_WORD = re.compile(rf"{WORD_NUMBER}", re.IGNORECASE)


def words_of(text: str) -> list[tuple[str, str]]:
    """(word as written, index term) pairs; a code gives one pair per term ("aur-x200")."""
    pairs = []
    for match in _SURFACE_WORD.finditer(text.lower()):
        surface = match.group(0)
        for term in tokenize(surface):
            if not ("'" in surface and term in _CONTRACTED_ENDINGS):  # "it's", "we'll"
                pairs.append((surface, term))
    return pairs


_CONTRACTED_ENDINGS = frozenset({"s", "re", "d", "ll", "m", "ve", "t"})


def _coverage_units(texts: Sequence[str]) -> list[str]:
    """Prose as sentences; a table row ("field: value" lines) whole, since a sentence about a
    product often combines several of its fields."""
    units = []
    for block in texts:
        if is_row(block):
            units.append(block)
        else:
            units.extend(_units([block]))
    return units


_CONTRACTION = re.compile(r"\b(?:(\w+)n't|cannot)\b", re.IGNORECASE)
# The verbs whose contraction is not the verb plus "n't".
_CONTRACTED_VERBS = {"ca": "can", "wo": "will", "sha": "shall"}


def _uncontracted(text: str) -> str:
    """ "don't" as "do not", "can't" and "cannot" as "can not": the same terms however a
    negation is written ("don" would otherwise be a term of its own)."""

    def spelled_out(match: re.Match) -> str:
        verb = match.group(1) or "can"  # "cannot"
        return f"{_CONTRACTED_VERBS.get(verb.lower(), verb)} not"

    return _CONTRACTION.sub(spelled_out, text.replace("\u2019", "'"))


def _units(texts: Sequence[str]) -> list[str]:
    units = []
    for block in texts:
        for line in re.split(r"(?<=[.!?])\s+|\n|;\s+", block):
            if line.strip():
                units.append(line.strip())
    return units


_EXCEPTION = re.compile(r"\s+(?:unless|except when|except if)\s+", re.IGNORECASE)
_EXCEPTION_MARK = "not "  # an exception's part reads as a denial: "not we sent the wrong item"
_EVEN_WHEN = re.compile(r"\beven (?:when|if)\s+([^.;,!?]+)", re.IGNORECASE)


def _polarity_parts(units: Sequence[str]) -> list[str]:
    """Evidence units cut where their polarity may change: "not included (needs a 20 W USB-C
    adapter)" denies the inclusion and affirms the need; "free within the US, and there is no
    restocking fee" affirms one and denies the other. A FAQ answer's "No," answers its question
    and denies nothing, and what follows "unless" is an exception ("paid by the customer unless
    we sent the wrong item": not when we sent the wrong item)."""
    parts = []
    for unit in units:
        for part in _POLARITY_BREAK.split(_ANSWER_WORD.sub("", unit)):
            rule, *exceptions = _EXCEPTION.split(part)
            parts += [rule.strip(),
                      *(f"{_EXCEPTION_MARK}{exception.strip()}" for exception in exceptions)]
    return [part for part in parts if part and part != _EXCEPTION_MARK]


# "I can connect you with a colleague.", "Would you like me to put you through to our support
# team?": the bot's own handoff, which its abstentions offer too, is no claim about the shop.
_HANDOFF_OFFER = re.compile(
    r"(?:(?:if you(?:'d| would)? like|if you want|otherwise|or),?\s+)?(?:i can|i could|i'?ll"
    r"|shall i|should i|would you like me to|do you want me to|want me to|happy to|let me)"
    r"\s+(?:also\s+|gladly\s+)?(?:connect|put|transfer|hand|pass)\s+you\s+(?:over\s+|through\s+)?"
    r"(?:to|with)\s+(?:a|an|one of our|our|someone (?:from|on) our|a member of our)\s+(?:human\s+)?"
    r"(?:colleague|teammate|agent|human|person|support team|team|support|specialist)"
    r"(?:\s+(?:to|who can)\s+(?:help|check|assist|start that|take a look|sort (?:it|this|that) out"
    r"|look (?:into|at) (?:it|this|that|your case))(?: you)?(?: further| with (?:it|this|that))?)?"
    r"\s*[.?!]?",
    re.IGNORECASE,
)


def without_handoff_offers(answer: str) -> str:
    """The answer without its sentences or clauses that only offer a human colleague."""
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+", answer.strip()):
        parts = [part for part in re.split(r"(?<=;)\s+", sentence)
                 if not _HANDOFF_OFFER.fullmatch(part.strip().rstrip(";"))]
        text = " ".join(parts).strip()
        if text:
            kept.append(text.rstrip(";").rstrip() + ("" if text[-1] in ".!?" else "."))
    return " ".join(kept)


def _clauses(answer: str) -> list[str]:
    return [part for part in _CLAUSE_BREAK.split(answer.strip()) if part and part.strip()]


