"""Customer questions drawn from the knowledge passages, each with the answer it should get.

Three sources, as the knowledge loaders give them: FAQ entries (their question, reworded), policy
sections (a question about each statement) and catalog rows (a question per product fact, in
the house style of the extractive answers). Follow-ups carry an earlier exchange about a
product; unanswerable questions (about things the shop's knowledge never mentions) get the
answerer's abstention text. Nothing here reads the benchmark question sets.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rasa_llm_components.answering.evidence import FACT_SEPARATOR, row_facts
from rasa_llm_components.answering.rendering import fact_sentence
from rasa_llm_components.llm.finetune.phrasing import CustomerPhrasing
from rasa_llm_components.retrieval import Passage
from rasa_llm_components.retrieval.chunking import split_sentences

FAQ, POLICY, CATALOG, FOLLOW_UP, UNANSWERABLE = (
    "faq", "policy", "catalog", "follow_up", "unanswerable"
)


@dataclass(frozen=True)
class Draft:
    """A question (with the earlier turns of a follow-up) and the answer it should get.

    `answer` None means "the answerer's own extractive answer", used when a statement of a
    policy section cannot be turned into a fixed reply.
    """

    question: str
    answer: str | None
    kind: str
    source: str
    history: tuple[tuple[str, str], ...] = ()


# Questions about one catalog field; {p} is the product as the customer names it.
FIELD_QUESTIONS: dict[str, tuple[str, ...]] = {
    "price": ("how much is the {p}?", "what does the {p} cost?", "{p} price?",
              "whats the price of the {p}", "how expensive is the {p}?"),
    "stock": ("is the {p} in stock?", "do you have the {p} available right now?",
              "can i order the {p} today or is it sold out?", "{p} in stock?"),
    "warranty_months": ("what warranty does the {p} have?", "how long is the {p} guaranteed?",
                        "warranty on the {p}?"),
    "battery_hours": ("how long does the battery of the {p} last?", "{p} battery life?",
                      "how many hours can i use the {p} on one charge?"),
    "weight": ("how heavy is the {p}?", "what does the {p} weigh?"),
    "water_resistance": ("is the {p} waterproof?", "can the {p} get wet?",
                         "how water resistant is the {p}?"),
    "colours": ("what colours does the {p} come in?", "which colors can i get the {p} in?"),
    "description": ("what is the {p}?", "tell me about the {p}", "can you describe the {p}?"),
    "brand": ("who makes the {p}?",),
    "connectivity": ("how does the {p} connect?", "does the {p} use bluetooth or wifi?"),
    "charging": ("how do i charge the {p}?", "what charger does the {p} use?"),
    "noise_cancelling": ("does the {p} have noise cancelling?",),
    "type": ("what kind of product is the {p}?",),
}
FEATURE_QUESTIONS = ("does the {p} have {f}?", "does the {p} come with {f}?",
                     "{p}: {f}?", "is there {f} on the {p}?")
GENERIC_FIELD_QUESTIONS = ("what's the {label} of the {p}?", "{p} {label}?",
                           "can you tell me the {label} of the {p}?")
# Short follow-ups about another field of the product of the earlier turn.
FOLLOW_UP_QUESTIONS: dict[str, tuple[str, ...]] = {
    "price": ("and how much is it?", "ok and the price?", "what does it cost?"),
    "stock": ("is it in stock?", "and do you have it in stock?"),
    "warranty_months": ("what about the warranty?", "and how long is the warranty?"),
    "battery_hours": ("and the battery life?", "how long does its battery last?"),
    "weight": ("how heavy is it?",),
    "colours": ("which colours does it come in?",),
    "water_resistance": ("is it waterproof?",),
}
# Yes/no questions that name one item of the row ("does the g9 work with xbox?"): the answer
# says yes or no, then the fact.
COMPATIBILITY_QUESTIONS = ("does the {p} work with {t}?", "will the {p} work with my {t}?",
                           "is the {p} compatible with {t}?", "can i use the {p} with {t}?")
OTHER_PRODUCT_QUESTIONS = ("and the {p}?", "what about the {p}?", "same for the {p}?")
POLICY_QUESTIONS = ("what about {k}?", "how does {k} work?", "question about {k}",
                    "can you explain {k}?", "tell me about {k}", "what are the rules for {k}?",
                    "{k}?", "i have a question on {k}")
# About things the shop's knowledge never states: the model must say it does not know.
UNANSWERABLE_QUESTIONS = (
    "what is the name of your ceo?", "how many people work at voltnest?",
    "when will the {p} 2 be released?", "do you have a shop in {city} i can visit?",
    "who designed the {p}?", "what year was voltnest founded?",
    "is the {p} made in china?", "what is the bluetooth range of the {p} in meters?",
    "can i get the {p} engraved with my name in gold?", "what is your stock market ticker?",
    "do you sell {thing}?", "does the {p} come with a printed receipt in spanish?",
    "how many {p} did you sell last year?", "what are the opening hours of your warehouse shop?",
)
CITIES = ("chicago", "london", "berlin", "toronto", "dublin", "paris")
THINGS = ("lawn mowers", "car tyres", "mattresses", "laptops", "washing machines", "bikes")
_STOP = frozenset(
    "the a an and or of to in on for with by at is are be can you your our we it its this that "
    "from as if not no any all only then than after before within each per up more".split()
)


def product_names(passage: Passage) -> list[str]:
    """How customers name a product: full name, without brand, without the category word."""
    name = passage.title
    fields = passage.metadata.get("fields") or {}
    brand = str(fields.get("brand") or "")
    names = [name, name.lower()]
    core = name[len(brand):].strip() if brand and name.startswith(brand) else name
    names.append(core.lower())
    words = core.split()
    if len(words) > 2:
        names.append(" ".join(words[:-1]).lower())
    return list(dict.fromkeys(item for item in names if len(item) > 2))


def faq_drafts(passage: Passage, phrasing: CustomerPhrasing, variants: int) -> Iterator[Draft]:
    answer = _first_sentences(passage.text)
    asked = [passage.title] + [
        part.strip() + "?" for part in re.split(r"\s+and\s+", passage.title.rstrip("?"))[1:]
        if len(part.split()) > 2
    ]
    for index in range(variants):
        question = phrasing.casual(asked[index % len(asked)])
        yield Draft(question, answer, FAQ, passage.id)


def policy_drafts(passage: Passage, phrasing: CustomerPhrasing, variants: int,
                  rng: random.Random) -> Iterator[Draft]:
    for sentence in split_sentences(re.sub(r"[*`_]", "", passage.text)):
        sentence = sentence.lstrip("- ").strip()
        words = re.findall(r"[a-z][a-z-]+", sentence.lower())
        spans = [
            words[start:start + 2] for start in range(len(words) - 1)
            if not {words[start], words[start + 1]} & _STOP
            and min(len(words[start]), len(words[start + 1])) > 3
        ]
        if len(sentence.split()) < 5 or not spans:
            continue
        for _ in range(variants):
            topic = " ".join(rng.choice(spans))
            question = rng.choice(POLICY_QUESTIONS).format(k=topic)
            yield Draft(phrasing.casual(question), None, POLICY, passage.id)


def catalog_facts(passage: Passage, currency: str = "$") -> list[tuple[str, str, str]]:
    """(field, value, the fact as a house-style sentence) for each fact of a catalog row."""
    facts = []
    for fact in row_facts(passage.metadata.get("fields") or {}):
        field, _, value = fact.partition(":")
        sentence = fact_sentence(f"{passage.title}{FACT_SEPARATOR}{fact}", currency)
        facts.append((field.strip().lower(), value.strip(), sentence))
    return facts


def _field_question(field: str, value: str, rng: random.Random) -> str:
    if field == "features":
        feature = re.sub(r"\s+included$", "", value, flags=re.IGNORECASE)
        return rng.choice(FEATURE_QUESTIONS).replace("{f}", feature.lower())
    if field in FIELD_QUESTIONS:
        return rng.choice(FIELD_QUESTIONS[field])
    return rng.choice(GENERIC_FIELD_QUESTIONS).replace("{label}", field.replace("_", " "))


def _yes_or_no(field: str, value: str, sentence: str,
               rng: random.Random) -> tuple[str, str] | None:
    """A yes/no question naming the row's item, with its answer; None for other fields."""
    if field == "compatibility":
        thing = re.sub(r"^(?:works with|not compatible with|not)\s+", "", value,
                       flags=re.IGNORECASE)
        if not thing or re.match(r"(?:no|only|for)\b", thing, re.IGNORECASE):
            return None
        question = rng.choice(COMPATIBILITY_QUESTIONS).replace("{t}", thing)
    elif field == "features" and rng.random() < 0.5:
        question = _field_question(field, value, rng)
    else:
        return None
    answer = "No" if re.match(r"not\b", value, re.IGNORECASE) else "Yes"
    return question, f"{answer}, {sentence[:1].lower()}{sentence[1:]}"


def catalog_drafts(passage: Passage, phrasing: CustomerPhrasing, rng: random.Random,
                   per_row: int) -> Iterator[Draft]:
    facts = [item for item in catalog_facts(passage) if item[0] not in ("sku", "category")]
    names = product_names(passage)
    for field, value, sentence in rng.sample(facts, min(per_row, len(facts))):
        name = rng.choice(names)
        yes_or_no = _yes_or_no(field, value, sentence, rng)
        if yes_or_no is not None:
            question, sentence = yes_or_no
        elif field == "compatibility":
            continue  # "does it work with my phone?" is not answered by any one item
        else:
            question = _field_question(field, value, rng)
        question = question.replace("{p}", name)
        yield Draft(phrasing.casual(question, protected=name), sentence, CATALOG, passage.id)


def follow_up_drafts(rows: Sequence[Passage], phrasing: CustomerPhrasing,
                     rng: random.Random, count: int) -> Iterator[Draft]:
    """Two-turn exchanges: another fact of the same product, or the same fact of another."""
    for _ in range(count):
        row = rng.choice(rows)
        facts = {field: sentence for field, _, sentence in catalog_facts(row)}
        asked = [field for field in FIELD_QUESTIONS if field in facts]
        if len(asked) < 2:
            continue
        first, second = rng.sample(asked, 2)
        name = rng.choice(product_names(row))
        opening = phrasing.casual(rng.choice(FIELD_QUESTIONS[first]).replace("{p}", name), name)
        history = (("user", opening), ("bot", facts[first]))
        if second in FOLLOW_UP_QUESTIONS and rng.random() < 0.6:
            question = rng.choice(FOLLOW_UP_QUESTIONS[second])
            yield Draft(phrasing.casual(question), facts[second], FOLLOW_UP, row.id, history)
            continue
        other = rng.choice(rows)
        other_facts = {field: sentence for field, _, sentence in catalog_facts(other)}
        if other.id == row.id or first not in other_facts:
            continue
        other_name = rng.choice(product_names(other)[1:] or product_names(other))
        question = rng.choice(OTHER_PRODUCT_QUESTIONS).replace("{p}", other_name)
        yield Draft(phrasing.casual(question, other_name), other_facts[first], FOLLOW_UP,
                    other.id, history)


def unanswerable_drafts(rows: Sequence[Passage], phrasing: CustomerPhrasing,
                        rng: random.Random, count: int, abstain_text: str) -> Iterator[Draft]:
    for _ in range(count):
        name = rng.choice(product_names(rng.choice(rows))) if rows else "product"
        question = rng.choice(UNANSWERABLE_QUESTIONS).format(
            p=name, city=rng.choice(CITIES), thing=rng.choice(THINGS)
        )
        yield Draft(phrasing.casual(question, name), abstain_text, UNANSWERABLE, "")


def _first_sentences(text: str, limit: int = 2) -> str:
    """The first `limit` sentences; a bare "Yes." or "No." does not count as one."""
    sentences = split_sentences(text)
    chosen: list[str] = []
    for sentence in sentences:
        chosen.append(sentence)
        if len([item for item in chosen if len(item.split()) > 2]) >= limit:
            break
    return " ".join(chosen)


def draft_questions(passages: Sequence[Passage], seed: int, abstain_text: str,
                    variants: int = 3) -> list[Draft]:
    """All drafts for a knowledge base, in a fixed order for a given seed."""
    rng = random.Random(seed)
    phrasing = CustomerPhrasing(rng)
    drafts: list[Draft] = []
    rows = [p for p in passages if p.metadata.get("kind") == "row"]
    for passage in passages:
        kind = passage.metadata.get("kind")
        if kind == "faq":
            drafts += faq_drafts(passage, phrasing, variants)
        elif kind == "row":
            drafts += catalog_drafts(passage, phrasing, rng, per_row=2 * variants)
        else:
            drafts += policy_drafts(passage, phrasing, 1, rng)
    if rows:
        drafts += follow_up_drafts(rows, phrasing, rng, count=len(drafts) // 6)
        drafts += unanswerable_drafts(rows, phrasing, rng, len(drafts) // 12, abstain_text)
    return drafts
