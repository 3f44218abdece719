"""Readable answers from evidence sentences, without the LLM.

Catalog rows are stored as ``"<field>: <value>"`` facts; `fact_sentence` turns each into a sentence
about the product ("The Nimbra Pulse 3 Smartwatch is water resistant to 5 ATM."), with templates
per well-known field name and a plain "The X's field is value." for any other ("The X has
field." for a yes); a product named by a plural noun takes a plural verb ("The Auralis X200
Headphones cost $249.00."). Prose passages are
used as written. `extractive_answer` picks the best sentence and close runners-up of the same
passage, so an answer never mixes two products' facts or copies another question's opener.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rasa_llm_components.answering.claim_patterns import YES_NO_QUESTION
from rasa_llm_components.answering.evidence import FACT_SEPARATOR, EvidenceSentence
from rasa_llm_components.answering.numbers import TENS, UNITS
from rasa_llm_components.retrieval.text import tokenize

# A question asking for an amount, and a sentence stating one (digits or number words).
_ASKS_FOR_AMOUNT = re.compile(
    r"\bhow (?:long|many|much|soon|fast|quickly|far|heavy|big|large|old|late|early)\b"
    r"|\bwhat(?:'s|s| is| are)?\s+(?:the|ur|your)\s+(?:\w+\s+){0,2}?(?:window|period|"
    r"limit|fees?|costs?|price|deadline|minimum|maximum|time ?frame|rate|charge)\b",
    re.IGNORECASE,
)
_STATES_AMOUNT = re.compile(
    r"\d|\b(?:" + "|".join(word for word in (*UNITS, *TENS) if word not in ("a", "an"))
    + r")\b",
    re.IGNORECASE,
)
# An FAQ answer that leans on its question ("Under Account → Privacy or by email to ..."
# answering "How can I delete my account?") says more with the sentence after it.
_FRAGMENT = re.compile(r"^(?:under|by|via|through|within|from|in|at|on|only|just|\d)\b",
                       re.IGNORECASE)
# How far below the best sentence the one stating the amount may rank.
AMOUNT_MARGIN = 0.25
_KEYED_UNIT = re.compile(r"^([a-z ]+?)[ _](minutes|hours|days|weeks|months|years)$")


def _price(name: str, value: str, currency: str) -> str:
    amount = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", amount):
        amount = f"{currency}{float(amount):,.2f}"
    return f"The {name} costs {amount}."


def _stock(name: str, value: str, currency: str) -> str:
    if value.strip() in ("0", "0.0", "no", "false", "out of stock"):
        return f"The {name} is currently out of stock."
    if value.strip().isdigit():
        return f"The {name} is in stock ({value.strip()} available)."
    return f"The {name} stock: {value.strip()}."


# A feature that is a quality, not a thing ("foldable", "dishwasher safe", "splash-proof").
_QUALITY = re.compile(r"^[\w -]*?(?:\b\w{2,}(?:able|ible)|proof|resistant|safe|free)$",
                      re.IGNORECASE)


def _feature(name: str, value: str, currency: str) -> str:
    item = value.strip()
    missing = re.sub(r"\s+not\s+included$", "", item, flags=re.IGNORECASE)
    if missing != item:
        return _finish(f"{_counted(missing)} not included with the {name}")
    included = re.sub(r"\s+included$", "", item, flags=re.IGNORECASE)
    if included != item:
        return _finish(f"{_counted(included)} included with the {name}")
    if _QUALITY.match(item):
        return f"The {name} is {item}."
    return f"The {name} has {item}."


def _compatibility(name: str, value: str, currency: str) -> str:
    item = value.strip()
    if re.match(r"(works|fits)\b", item, re.IGNORECASE):
        return f"The {name} {item}."
    if re.match(r"not\s+(?!compatible\b)", item, re.IGNORECASE):
        return f"The {name} is not compatible with {item[4:].strip()}."
    if re.match(r"(not |compatible\b|only\b)", item, re.IGNORECASE):
        return f"The {name} is {item}."
    return f"The {name} works with {item}."


FIELD_TEMPLATES: dict[str, Callable[[str, str, str], str]] = {
    "price": _price,
    "stock": _stock,
    "features": _feature,
    "compatibility": _compatibility,
    "warranty_months": lambda n, v, c: f"The {n} comes with a {v.strip()}-month warranty.",
    "battery_hours": lambda n, v, c: f"The {n}'s battery lasts up to {v.strip()} hours.",
    "battery_days": lambda n, v, c: f"The {n}'s battery lasts up to {v.strip()} days.",
    "weight": lambda n, v, c: f"The {n} weighs {v.strip()}.",
    "water_resistance": lambda n, v, c: f"The {n} is water resistant to {v.strip()}.",
    "colours": lambda n, v, c: f"The {n} comes in {_list(v)}.",
    "colors": lambda n, v, c: f"The {n} comes in {_list(v)}.",
    "description": lambda n, v, c: _description(n, v),
    "category": lambda n, v, c: f"The {n} is in our {v.strip()} range.",
    "brand": lambda n, v, c: f"The {n} is made by {v.strip()}.",
    "sku": lambda n, v, c: f"The {n} has the item code {v.strip()}.",
    "type": lambda n, v, c: f"The {n} is {_article(v.strip())} {v.strip()} model.",
    # fields named by what the product does: "fits: laptops from 10 to 17 inch"
    "fits": lambda n, v, c: f"The {n} fits {v.strip()}.",
    "charges": lambda n, v, c: f"The {n} charges {v.strip()}.",
}


# A description that is a sentence of its own, not a noun phrase ("Works with ...", "The ...").
_SENTENCE_START = frozenset(
    "the a an this these it its our we you works fits comes includes made designed ideal "
    "perfect great built".split()
)


def _description(name: str, value: str) -> str:
    """ "Rugged portable speaker that floats." -> "The Wave 2 is a rugged portable speaker that
    floats."; a description that is a sentence stays as written."""
    text = value.strip()
    first = text.split(" ", 1)[0]
    if not text or first.lower() in _SENTENCE_START:
        return _finish(text)
    if first[:1].isupper() and first[1:] == first[1:].lower():
        text = text[0].lower() + text[1:]  # "Rugged" -> "rugged"; "LiDAR", "3.1" stay
    if _plural_name(name):  # "The X100 Headphones are over-ear wireless headphones ..."
        return _finish(f"The {name} are {text}")
    return _finish(f"The {name} is {_article(text)} {text}")


def _ends_plural(text: str) -> bool:
    """ "headphones", "codecs" (not "glass", "is"): a plural noun's s."""
    return re.search(r"[^s]s$", text) is not None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" and not word.lower().startswith(
        ("usb", "uni", "use", "eu", "one")) else "a"


_COUNTED = re.compile(r"^(?:\d+|two|three|four|five|six|a|an|one|the)\b", re.IGNORECASE)


def _counted(item: str) -> str:
    """ "wall mount" -> "a wall mount is", "2 ear tip sizes" -> "2 ear tip sizes are"."""
    plural = re.match(r"^(?:[2-9]|\d{2,}|two|three|four|five|six)\b", item, re.IGNORECASE) or (
        _ends_plural(item.split(" (")[0]))
    if not _COUNTED.match(item) and not plural:
        item = f"{_article(item)} {item}"
    return f"{item} {'are' if plural else 'is'}"


def _list(value: str) -> str:
    items = [item.strip() for item in re.split(r"\s*/\s*|\s*,\s*", value) if item.strip()]
    if len(items) > 1:
        return ", ".join(items[:-1]) + f" and {items[-1]}"
    return value.strip()


def _finish(sentence: str) -> str:
    sentence = sentence.strip()
    if sentence and sentence[0].islower():
        sentence = sentence[0].upper() + sentence[1:]
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def fact_sentence(sentence: str, currency: str = "$") -> str:
    """A catalog fact ``"<name> - <field>: <value>"`` as a sentence; other text unchanged."""
    if FACT_SEPARATOR not in sentence:
        return _finish(sentence)
    name, fact = sentence.split(FACT_SEPARATOR, 1)
    name = name.strip()
    field, _, value = fact.partition(":")
    key = field.strip().lower()
    if not value.strip():
        return _finish(sentence.replace(FACT_SEPARATOR, ": "))
    template = FIELD_TEMPLATES.get(key)
    if template is not None:
        return _agreeing(template(name, value, currency), name)
    return _agreeing(_any_field(name, key, value.strip()), name)


def _any_field(name: str, key: str, value: str) -> str:
    """A field without a template: "The Kettle's capacity is 1.7 L.", "The Smart Plug has
    energy monitoring." (yes), "The Home One has no battery." (no)."""
    nested = _NESTED_FACT.match(value)
    if nested:  # a fact nested in a field ("specs: built-in phono preamp: yes")
        key, value = nested.group(1).strip(), value[nested.end():].strip()
    label = key.replace("_", " ")
    if value.lower() in ("yes", "true"):
        return f"The {name} has {label}."
    if value.lower() in ("no", "false", "none"):
        return f"The {name} has no {label}."
    keyed = _KEYED_UNIT.match(label)
    if keyed:
        label, value = keyed.group(1), f"{value} {keyed.group(2)}"
    verb = "are" if _ends_plural(label) else "is"
    return f"{_possessive(f'The {name}')} {label} {verb} {value}."


_NESTED_FACT = re.compile(r"^([a-z][a-z _-]*):\s")


def _possessive(noun: str) -> str:
    return f"{noun}'" if _ends_plural(noun) else f"{noun}'s"


# A product named by a plural noun ("Auralis X200 Headphones") takes a plural verb.
_PLURAL_VERBS = {"is": "are", "has": "have", "costs": "cost", "comes": "come", "works": "work",
                 "weighs": "weigh", "fits": "fit"}


def _plural_name(name: str) -> bool:
    head = re.sub(r"\s*\([^)]*\)\s*$", "", name).split()
    return bool(head) and len(head[-1]) > 2 and head[-1].isalpha() and _ends_plural(head[-1])


def _agreeing(sentence: str, name: str) -> str:
    if not _plural_name(name):
        return sentence
    sentence = sentence.replace(f"The {name}'s ", f"The {name}' ")
    prefix = f"The {name} "
    if not sentence.startswith(prefix):
        return sentence
    verb, _, rest = sentence[len(prefix):].partition(" ")
    return f"{prefix}{_PLURAL_VERBS.get(verb, verb)} {rest}"


_LEAD_IN = re.compile(r"^(yes|no|never|not|only|sure|none)\b[^.!?]{0,40}[.!?]?$", re.IGNORECASE)
# A sentence that leans on the one before it ("Card refunds then take ...", "It is free ...").
_OPENER = re.compile(r"^(?:yes|no|never|sure)[.!]\s+(?=\S)", re.IGNORECASE)
_LEANS_BACK = re.compile(r"^(it|this|that|they|these|those|then|also|however|but|otherwise)\b"
                         r"|\bthen\b", re.IGNORECASE)
# "From Canada, the UK and the EU the customer pays ...": a rule for some places only; the
# sentence before it says what holds everywhere else.
_PLACE_SCOPE = re.compile(
    r"^(?i:from|in|for|outside(?: of)?)\s+(?P<places>(?:the\s+)?[A-Z][\w.]*"
    r"(?:(?:,\s*|\s+and\s+|\s+or\s+)(?:the\s+)?[A-Z][\w.]*)*)"
)
_NEGATED = re.compile(r"\b(?:not|no|never|cannot|can't|isn't|aren't|doesn't|don't|won't)\b",
                      re.IGNORECASE)
_YES_COMMA = re.compile(r"^(?:yes|sure),\s+(?=\w)", re.IGNORECASE)
_YES_OPENER = re.compile(r"^(?:yes|sure)\b[,.!]?\s*", re.IGNORECASE)


def _for_places_not_asked(sentence: str, question: str) -> bool:
    """Whether the sentence states a rule for places the question does not name (a customer
    who names no country is told the general rule before the exception)."""
    match = _PLACE_SCOPE.match(sentence.strip())
    if match is None or not question:
        return False
    places = set(re.findall(r"[a-z]+", match.group("places").lower())) - {"the", "and", "or"}
    return not places & set(re.findall(r"[a-z]+", question.lower()))


def _answers_the_faq(question: str, title: str) -> bool:
    """Whether a yes/no question asks what a FAQ entry asks (so its "Yes."/"Never." fits)."""
    from rasa_llm_components.retrieval.text import tokenize

    if not YES_NO_QUESTION.search(question):
        return False
    asked, faq = set(tokenize(question)), set(tokenize(title))
    return bool(faq) and len(asked & faq) / len(faq) >= 0.5


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _covering_sentence(
    question: str, same_passage: Sequence[EvidenceSentence], chosen: list[EvidenceSentence]
) -> EvidenceSentence | None:
    """The best-ranked other sentence of the passage that names a term of the question which
    the chosen sentences leave out ("... with express to hawaii": the sentence on Hawaii)."""
    from rasa_llm_components.retrieval.text import tokenize

    said = {token for item in chosen for token in tokenize(item.text)}
    missing = set(tokenize(question)) - said
    if not missing:
        return None
    for item in same_passage:
        if item not in chosen and missing & set(tokenize(item.text)):
            return item
    return None


# A denial's scope: from the negation to the end of its clause or an aside ("... (US, UK)").
_DENIED_SCOPE = re.compile(_NEGATED.pattern + r"[^.;()]*", re.IGNORECASE)
_PROPER_WORD = re.compile(r"\b[A-Z][\w-]*")


def denies_something_else(question: str, sentence: str) -> bool:
    """Whether a denial names what the question asks about only where it does not deny it:
    "We do not ship to Australia, Switzerland ... or any other country outside our list (US,
    Canada, UK ...)" for "do you ship to the uk"."""
    scopes = [match.group() for match in _DENIED_SCOPE.finditer(sentence)]
    denied_names = [word for scope in scopes for word in _PROPER_WORD.findall(scope[1:])]
    if len(denied_names) < 2:
        return False  # a list of what is denied, and an aside of what is not
    asked = set(tokenize(question))
    denied = {term for word in denied_names for term in tokenize(word)} & asked
    asides = " ".join(re.findall(r"\(([^)]*)\)", _DENIED_SCOPE.sub(" ", sentence)))
    named = {term for word in _PROPER_WORD.findall(asides) for term in tokenize(word)} & asked
    return bool(named) and not denied


def unasked_denials_last(
    question: str, ranked: Sequence[EvidenceSentence]
) -> list[EvidenceSentence]:
    """The ranked sentences with those that deny something else than what is asked
    (`denies_something_else`) moved behind the others."""
    other = [item for item in ranked if denies_something_else(question, item.text)]
    return [item for item in ranked if item not in other] + other


# A sentence that limits what the one before it says: who may use it, from what amount.
_LIMITS = re.compile(
    r"\b(?:only|not available|free for|free (?:from|over|above)|at least|unless|except)\b",
    re.IGNORECASE,
)
_LIMIT_MAX_WORDS = 20
_BACK_REFERENCE = re.compile(r"(?:it|this|they|these|that)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"\b[A-Z][a-z]*[A-Z]\w*\b")  # "SplitPay", "VoltNest"


def _limiting_sentence(
    same_passage: Sequence[EvidenceSentence], chosen: list[EvidenceSentence]
) -> EvidenceSentence | None:
    """The passage's sentence right after the chosen ones when it limits them ("SplitPay is
    available for US billing addresses only.", "It is free for orders of $150 or more."): an
    answer without it misleads the customers it excludes."""
    last = max(item.position for item in chosen)
    following = [item for item in same_passage if item.position == last + 1]
    if not following or following[0] in chosen:
        return None
    text = following[0].text
    if not _LIMITS.search(text) or len(text.split()) > _LIMIT_MAX_WORDS:
        return None
    # about the same thing: "It is free ...", or the name the chosen sentences use ("SplitPay")
    names = {word for item in chosen for word in _NAME_WORD.findall(item.text)}
    same_subject = _BACK_REFERENCE.match(text) or names & set(_NAME_WORD.findall(text))
    return following[0] if same_subject else None


def _amount_sentence(
    question: str, same_passage: Sequence[EvidenceSentence], chosen: list[EvidenceSentence],
    margin: float,
) -> EvidenceSentence | None:
    """For a question asking for an amount ("whats ur return window", "how long does it
    take"), when no chosen sentence states one: the passage's best other sentence that does,
    if it ranks within `margin` of the best ("The return window is counted from the delivery
    date." names the words; "... within 30 calendar days ..." answers)."""
    if not _ASKS_FOR_AMOUNT.search(question) or any(
        _STATES_AMOUNT.search(item.text) for item in chosen
    ):
        return None
    floor = chosen[0].score - margin
    return next((item for item in same_passage if item not in chosen
                 and item.score >= floor and _STATES_AMOUNT.search(item.text)), None)


def _without_repeats(sentences: list[str]) -> list[str]:
    """Product facts without one that only repeats earlier ones ("The Soundbar has Dolby Atmos."
    after "The Soundbar is a 3.1 channel soundbar with Dolby Atmos.")."""
    kept: list[str] = []
    said: set[str] = set()
    for sentence in sentences:
        terms = set(tokenize(sentence))
        if kept and terms <= said:
            continue
        kept.append(sentence)
        said |= terms
    return kept


def extractive_answer(
    ranked: Sequence[EvidenceSentence],
    max_sentences: int = 3,
    margin: float = 0.1,
    currency: str = "$",
    question: str = "",
) -> tuple[str, list[str]]:
    """The best evidence sentence plus close runners-up of the same passage, as readable text.

    A short best sentence ("We do not swap items directly.") or a fragment that leans on the FAQ's
    question ("Under Account → Privacy or by email to ...") brings the sentence after it, and
    one that leans on the sentence before it ("Card refunds then take ...") brings that one.
    A FAQ's "Yes."/"Never." opener is kept only when the question asks what the FAQ asks.
    Returns (text, [the passage id]).
    """
    if not ranked:
        return "", []
    best = ranked[0]
    same_passage = [item for item in ranked if item.passage_id == best.passage_id]
    chosen = [best]
    for item in same_passage[1:]:
        if len(chosen) >= max_sentences:
            break
        if item.score >= best.score - margin:
            chosen.append(item)
    prose = FACT_SEPARATOR not in best.text
    if prose and (len(best.text.split()) < 8 or _FRAGMENT.match(best.text)):
        following = [item for item in same_passage if item.position == best.position + 1]
        if following and following[0] not in chosen:
            chosen.append(following[0])
    if prose and (_LEANS_BACK.search(best.text) or _for_places_not_asked(best.text, question)):
        previous = [item for item in same_passage if item.position == best.position - 1]
        if previous and previous[0] not in chosen:
            chosen.append(previous[0])
    amount = _amount_sentence(question, same_passage, chosen, AMOUNT_MARGIN) if prose else None
    if amount is not None:
        chosen.append(amount)
    covering = _covering_sentence(question, same_passage, chosen) if question else None
    if covering is not None:
        chosen.append(covering)
    limit = _limiting_sentence(same_passage, chosen) if prose else None
    if limit is not None:
        chosen.append(limit)
    # A question's own term that only a negated sentence names ("not available for ... Hawaii")
    # turns the FAQ's "Yes" into a wrong answer.
    denied = covering is not None and bool(_NEGATED.search(covering.text))
    lead = [item for item in same_passage if item.position == 0 and item not in chosen]
    if (
        lead
        and not denied
        and _LEAD_IN.match(lead[0].text.strip())
        and _answers_the_faq(question, best.title)
    ):
        chosen.append(lead[0])
    # Prose reads in its own order; a product's facts lead with the one that answers best.
    chosen.sort(key=(lambda item: item.position) if prose else (lambda item: -item.score))
    if denied:
        chosen = [item for item in chosen if not (_LEAD_IN.match(item.text.strip())
                                                  and _YES_OPENER.match(item.text.strip()))]
    sentences = [fact_sentence(item.text, currency) for item in chosen]
    if not prose:
        sentences = _without_repeats(sentences)
    if denied:
        sentences = [_capitalised(_YES_OPENER.sub("", sentence)) for sentence in sentences]
    if not _answers_the_faq(question, best.title):
        # "No. We currently do not ship to ..." answered another question's "No".
        sentences = [_OPENER.sub("", sentence) or sentence for sentence in sentences]
        sentences = [sentence for sentence in sentences if not _LEAD_IN.match(sentence)]
        # "what is splitpay?" is no yes/no question: "Yes, with SplitPay: ..." loses its "Yes"
        sentences = [_capitalised(_YES_COMMA.sub("", sentence)) for sentence in sentences]
    text = " ".join(sentences)
    return text, [best.passage_id]
