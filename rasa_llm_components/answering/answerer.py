"""`GroundedAnswerer`: answers a customer's question from the knowledge base.

`answer(context)` is a coroutine: retrieval and sentence ranking run in a one-thread executor and
generation through the async `LLMBackend`, under a deadline. Steps:

1. request checks (`request_checks`): prompt-injection attempts and demands for refunds,
   discounts or exceptions get a fixed refusal; the model is never asked;
2. the query (`follow_ups`): a follow-up is read with the customer's previous message, and the
   products it is about come from the question or the earlier turns;
3. retrieval: the named products' catalog rows are pinned and other products' rows dropped, so
   a question about one product never gets a similar product's facts; below
   `min_retrieval_score` the bot abstains. It also abstains, without generating, when the
   question names a model the knowledge lacks ("iphone 16") or asks whether a named product has
   a feature its details do not state;
4. the sentences of the chosen passages are ranked for the question (`evidence`): the best ones
   form the prompt context and the extractive answer (`rendering`);
5. generation from the prompt (`prompt`);
6. the generated answer is kept only if every claim in it is backed by the evidence
   (`verification.ClaimVerifier`) and it promises nothing outside policy. Otherwise the
   extractive answer replaces it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rasa_llm_components.answering import figure_checks
from rasa_llm_components.answering.comparison import (
    FACTS_PER_PRODUCT,
    aspect_facts,
    distinguishing_facts,
    is_comparison,
)
from rasa_llm_components.answering.evidence import (
    FACT_SEPARATOR,
    EvidenceSentence,
    SentenceCache,
    covered_by_family,
    missing_model_names,
    model_words,
    prompt_context,
    rank_sentences,
    squashed,
)
from rasa_llm_components.answering.faults import FAULT_QUERY, reports_a_fault
from rasa_llm_components.answering.follow_ups import resolve
from rasa_llm_components.answering.prompt import PromptPassage, build_messages
from rasa_llm_components.answering.rendering import (
    extractive_answer,
    fact_sentence,
    unasked_denials_last,
)
from rasa_llm_components.answering.request_checks import check_request, grants_something
from rasa_llm_components.answering.results import (
    ABSTAINED,
    EXTRACTIVE,
    FAILED,
    GENERATED,
    REFUSED,
    AnswerResult,
    ConversationContext,
)
from rasa_llm_components.answering.settings import (
    SERVED_MODEL_PASSAGES,
    SMALL_MODEL_PASSAGES,
    answer_config,
)
from rasa_llm_components.answering.suggestions import (
    asks_for_a_product,
    asks_for_the_most,
    suggested_rows,
)
from rasa_llm_components.answering.value_fields import ValueFields
from rasa_llm_components.answering.verification import (
    FACT_WORDS,
    GENERIC_TERMS,
    STRICT_COVERAGE,
    ClaimVerifier,
    KnowledgeVocabulary,
    encoder_words,
    without_idioms,
    words_of,
)
from rasa_llm_components.intent.sentences import asks_something
from rasa_llm_components.llm.base import LLMBackend, LLMError
from rasa_llm_components.retrieval.index import RetrievedPassage
from rasa_llm_components.retrieval.places import PlaceNames, shipping_cue
from rasa_llm_components.retrieval.products import ProductCatalog, ProductMention
from rasa_llm_components.retrieval.text import tokenize

logger = logging.getLogger(__name__)

# The model saying it cannot answer (not an apology that goes on to answer).
_IDK = re.compile(
    r"\b(i don'?t know|i do not know|not (?:mentioned|stated|provided|specified|listed) in"
    r"|no information|(?:don'?t|do not) have (?:any )?(?:information|details)|cannot find"
    r"|can'?t find|i'?m not sure|as an ai|(?:i'?m |i am )?unable to (?:provide|answer|help|find)"
    r"|(?:can'?t|cannot) (?:provide|answer|help with) (?:that|this|a response)"
    r"|(?:don'?t|doesn'?t|do not|does not) (?:list|say|mention|state|specify|include details)"
    r"|(?:we )?(?:don'?t|do not) (?:sell|carry|stock) |can'?t tell you"
    r"|i (?:don'?t|do not) have (?:the|a|an|any|that|this|those|their|its|it)"
    r"|(?:don'?t|do not) have (?:the |a |any )?(?:names?|dates?|restock date|details|"
    r"information|that information))\b",
    re.IGNORECASE,
)
# "Do you sell fridges?": a question about the range, where "we don't sell that" is the answer.
_RANGE_QUESTION = re.compile(
    r"\b(do|does) (you|u|y'?all|voltnest|the shop|your shop)(?: guys| all| folks| even)? "
    r"(sell|carry|stock|have|offer)\b"
    r"|\bcan i (buy|get|order)\b|\b(you|u) (sell|carry|stock)\b",
    re.IGNORECASE,
)
# What the shop will do later (releases, restocks, sales, plans): knowledge states what holds
# now, so these are not answered from it ("is the pulse 4 coming out this year?", "when will
# they be back?", "is it gonna get cheaper after christmas?", "do you plan to ship to japan?").
# "when will my order arrive" and "will it work with my iphone" ask about facts of today.
_FUTURE_PLANS = re.compile(
    r"\b(?:coming out|come out|be released|released (?:soon|next)|new (?:version|model)s?"
    r"|successor|next (?:version|model|generation|gen)|around the corner"
    r"|restock(?:ed|s)?\b|restocking(?! fee)"
    r"|(?:will|when|until)\b[^.?!]{0,30}\b(?:they|it|this|that|these|those|the \w+)"
    r"(?:'ll|\s+will)?\s+be back(?: in stock)?\s*(?:[?.!]|$)"
    r"|(?:gonna|going to|will|ever)\s+(?:get|go|be)\s+(?:cheaper|on sale|discounted|reduced)"
    r"|(?:next|upcoming|any) sales?\b|black friday|cyber monday|boxing day"
    r"|(?:you|u|voltnest|they)(?: guys| all)?\s+(?:(?:are|r)\s+)?plan(?:ning|s)?\s+(?:to|on)\b"
    r"|(?:are|r)\s+(?:you|u)(?: guys)?\s+planning|any ?time soon|in the future)",
    re.IGNORECASE,
)
_GRANT_WORDS = re.compile(r"\b(refund\w*|discount\w*|credit\w*|waive\w*|exception\w*|free|"
                          r"difference|compensat\w*|voucher\w*)\b", re.IGNORECASE)
_ANSWER_PREFACE = re.compile(r"^(?:the\s+)?(?:short\s+)?answer(?:\s+is)?\s*:\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A question of its own within a message ("... If not, how long does standard take?").
_QUESTION_PART = re.compile(
    r"\?\s*$|^\W*(?:and |but |also |if not,? |otherwise,? )?(?:what|where|when|why|how|which|who"
    r"|can|could|do|does|did|is|are|will|would)\b",
    re.IGNORECASE,
)
MAX_QUESTION_PARTS = 3
_WHEN_THE_CUSTOMER_SAYS = re.compile(
    r"\b(?:this|next|last|coming|that)\s+(?:weekend|saturday|sunday|holiday|holidays)\b",
    re.IGNORECASE,
)
# A policy passage that states what a product question asks about (a restocking fee) answers
# it when it scores this share of the retrieval threshold.
POLICY_SHARE_OF_THRESHOLD = 0.45
# Words that open a message without being asked about ("wait, what's your return policy"): they
# must not pick the sentence that happens to use them ("wait until it is delivered").
# "how long is the warranty on it": a question about the thing the conversation is about.
_REFERS_BACK = re.compile(r"\b(?:it|its|it's|they|them|their|this|that|these|those|one)\b",
                          re.IGNORECASE)
_AFTER_A_CONDITION = re.compile(
    r"^\W*(?:and |but |so )?if\b[^.!?,]*?\b((?:how|what|when|where|which|who|why)\b[^.!?]*[?]*)"
    r"\s*$", re.IGNORECASE)
_THEY_PEOPLE = re.compile(r"\b(?:they|them|someone|somebody|anyone)\b.*\b(?:me|us)\b",
                          re.IGNORECASE)
_DISCOURSE_LEAD = re.compile(
    r"^\W*(?:(?:wait|ok(?:ay)?|so|um+|hmm+|ug+h|fine|alright|right|yeah|lol|well|oh|btw|also|"
    r"actually|sorry|hi|hey|hello)\b[\s,.!]*)+",
    re.IGNORECASE,
)
# What customers say for what shop knowledge calls a return, shipping or a refund ("mail it back",
# "the postage", "get my money back").
_CUSTOMER_WORDS = (
    (re.compile(
        r"\b(?:send|sending|sent|mail|mailing|ship|shipping|post|posting|bring|take)\s+"
        r"(?:(?:it|them|this|that|these|those|(?:the|my|your) \w+)\s+)?back\b",
        re.IGNORECASE), "return"),
    (re.compile(r"\b(?:postage|p&p)\b", re.IGNORECASE), "shipping"),
    # "if i dont like it": a return for any reason
    (re.compile(r"\b(?:(?:do ?n'?t|do not|didn'?t|did not) (?:like|love|want|need) (?:it|them)|"
                r"chang(?:e|ed|ing) (?:my|of) mind|(?:not|isn'?t) (?:happy|satisfied) with)\b",
                re.IGNORECASE), "return any item"),
    (re.compile(r"\bamex\b", re.IGNORECASE), "American Express card payment"),
    (re.compile(r"\b(?:less money|get less|less back|deduct\w*|keep (?:some|part) of (?:it|the "
                r"money))\b", re.IGNORECASE), "a restocking fee"),
    (re.compile(r"\b(?:swim|swimming|go in the pool|shower)\b", re.IGNORECASE),
     "water resistant swimming"),
    # "whats the phone number", not "is my phone number stored"
    (re.compile(r"\b(?:(?:the|your|ur|a|support|service) (?:tele)?phone (?:number|no)|"
                r"number to (?:call|ring)|hotline)\b", re.IGNORECASE), "support by phone"),
    (re.compile(r"\b(?:(?:get|getting|see|seeing|have)\s+)?(?:my |the |our )?money back\b",
                re.IGNORECASE), "get a refund"),
    (re.compile(
        r"\bpay\b[^.?!]{0,60}?\b(?:over (?:a few|several|some|\d+|two|three|six) months|"
        r"in (?:chunks|parts|bits|installments|instalments)|monthly|later)\b"
        r"|\b(?:spread (?:out )?the (?:cost|payment)|monthly payments?|financ(?:e|ing))\b",
        re.IGNORECASE), "pay in instalments"),
    (re.compile(r"\b(?:customs(?: fees| charges| duty| duties)?|(?:fees|charges) at the door)\b",
                re.IGNORECASE), "import duties and VAT"),
    # "your customer service people", "a real person": the support colleagues
    (re.compile(r"\b(?:customer (?:service|care|support)"
                r"(?: (?:people|team|reps?|agents?|staff))?"
                r"|(?:service|support) (?:reps?|agents?|people|staff)"
                r"|real (?:person|people|human)s?)\b", re.IGNORECASE), "human colleagues support"),
)
_RETURN_WORD = re.compile(r"\breturn", re.IGNORECASE)
# "what is your return policy", "how do returns work": the passage's summary answers it, not
# the sentence that repeats the question's words most.
_BROAD_QUESTION = re.compile(
    r"\b(?:what(?:'s| is| are)|whats|tell me about|explain)\b[^.?!]{0,30}\b(?:policy|policies|"
    r"rules|terms)\b|\bhow (?:do|does) (?:\w+ ){1,3}work\b",
    re.IGNORECASE,
)
# Words of asking, not of a topic: "how long does the battery last on it" is about the product,
# "what's your return policy" about returns.
_ASKING_TERMS = frozenset(tokenize(
    "long much many often soon far old big get need know like want take work tell still now "
    "policy policies rule rules"
))
MAX_ANSWER_SENTENCES = 4
# A question of at most this many own terms, each used by at most `_RARE_PASSAGES` passages,
# names what it asks about ("what's care+?", "the newsletter thing?").
_KEYWORD_TERMS = 2
_RARE_PASSAGES = 3
_ASKS = re.compile(
    r"\?|^\W*(?:(?:so|ok|okay|and|then|ugh|fine|hm+)\W+)*(?:who|what|whats|how|where|when|which|"
    r"can|could|do|does|should)\b",
    re.IGNORECASE,
)
# A follow-up of at most this many words without a fact of its own leans on the bot's reply.
_LEANING_WORDS = 12
_HOW_MUCH = re.compile(r"\bhow (?:long|much|many|soon|far|often)\b", re.IGNORECASE)
_LEANING_SENTENCES = 3
# Verbs a knowledge base uses rarely that ask how, not about what ("who do i call").
_RARE_VERBS = frozenset(tokenize("call phone ring contact reach email write"))
# Chat filler and particles, which name no topic ("charge the thing itself back up").
_NO_TOPIC = frozenset(tokenize(
    "thing things stuff lol lmao haha tho kinda sorta btw ok okay yeah yep ya guys exactly back"
))

# A closing offer a fluent model adds ("Anything else I can help with?").
_OFFER_QUESTION = re.compile(
    r"(?:^|(?<=[.!]))\s*(?:is there )?(?:anything else|can i help|would you like|do you want|"
    r"shall i|need anything|let me know)[^.!?]*\?\s*$",
    re.IGNORECASE,
)


def in_shop_words(text: str) -> str:
    """The customer's words replaced by the knowledge's (`_CUSTOMER_WORDS`): "mail it back" is
    "return", "amex" "American Express card payment"."""
    for pattern, words in _CUSTOMER_WORDS:
        text = pattern.sub(words, text)
    return text


def _shop_words_for(text: str) -> list[str]:
    """The knowledge's words for what the customer said in their own (`_CUSTOMER_WORDS`)."""
    return [words for pattern, words in _CUSTOMER_WORDS if pattern.search(text)]


def _merged(hits: list[Any], more: Iterable[Any]) -> list[Any]:
    """The hits of both lists, each passage once with its best score, best first."""
    best = {hit.passage.id: hit for hit in hits}
    for hit in more:
        if hit.passage.id not in best or hit.score > best[hit.passage.id].score:
            best[hit.passage.id] = hit
    return sorted(best.values(), key=lambda hit: -hit.score)


def _lead_first(ranked: list[EvidenceSentence]) -> list[EvidenceSentence]:
    """The best passage's first sentence, its summary, ranked first."""
    best = ranked[0]
    lead = next((item for item in ranked
                 if item.passage_id == best.passage_id and item.position == 0), None)
    if lead is None or lead is best:
        return ranked
    return [dataclasses.replace(lead, score=best.score), *[i for i in ranked if i is not lead]]


# A second question joined by "and" ("will it fit in my fridge door and can i order it now?").
_JOINED_QUESTION = re.compile(
    r",?\s+and\s+(?=(?:what|how|when|where|which)(?:'?s)?\b|(?:can|could|do|does|is|are|will|would)"
    r"\s+(?:i|it|they|you|u|we|the|there|my|this|that)\b)",
    re.IGNORECASE,
)


def question_parts(text: str) -> list[str]:
    """The sentences of a message that ask something, of three words or more; a question
    sentence of two questions joined by "and" gives both."""
    parts = []
    for sentence in _SENTENCE_END.split(text.strip()):
        pieces = _JOINED_QUESTION.split(sentence)
        asks = len(pieces) > 1 and sentence.rstrip().endswith("?")
        parts += [piece for piece in pieces
                  if len(piece.split()) >= 3 and (asks or _QUESTION_PART.search(piece))]
    return parts


_ELLIPSIS_WORDS = frozenset(tokenize(
    "and what about how about the one ones same for then ok so quick question please pls "
    "thanks thank you thx ty cheers"
))


# "what is the cold brew maker?", "tell me about the x200": what the product is, its description.
_DESCRIBE = re.compile(
    r"\b(?:what(?:'s|s| is| are)|tell (?:me|us) (?:a bit |more )?about|describe|info(?:rmation)? "
    r"(?:on|about)|details (?:on|of|about))\b",
    re.IGNORECASE,
)


def _description_first(
    ranked: list[EvidenceSentence], question: str, products: Sequence[ProductMention]
) -> list[EvidenceSentence]:
    """For a question that only asks what a named product is, its description first."""
    if not products or not _DESCRIBE.search(question) or not _names_only(
        _DESCRIBE.sub(" ", question), products
    ):
        return ranked
    pinned = {mention.passage_id for mention in products}
    described = [item for item in ranked if item.passage_id in pinned and item.text.startswith(
        f"{item.title}{FACT_SEPARATOR}description:")]
    if not described:
        return ranked
    best = ranked[0].score
    return [*(dataclasses.replace(item, score=best) for item in described),
            *(item for item in ranked if item not in described)]


def _names_only(question: str, products: Sequence[ProductMention]) -> bool:
    """Whether the question names products and asks nothing else ("what about the b30?")."""
    named = {term for mention in products
             for term in tokenize(f"{mention.name} {mention.alias}")}
    return not set(tokenize(question)) - named - _ELLIPSIS_WORDS


def _words_after(question: str, word: str) -> list[str]:
    """The word right after each use of `word` in the question ("fee" of "restocking fee"):
    a policy that states "gift cards" says nothing about a "gift wrapped" order."""
    words = re.findall(r"[\w'-]+|[^\w\s]", question.lower())
    return [words[i + 1] for i, found in enumerate(words[:-1]) if found == word
            and re.match(r"\w", words[i + 1])]


@dataclass
class _Evidence:
    hits: list[Any]
    ranked: list[EvidenceSentence]
    extractive: str
    extractive_ids: list[str]
    query: str = ""
    products: list[ProductMention] = field(default_factory=list)
    abstain_reason: str = ""
    abstain_text: str = "abstain"

    @property
    def lead(self) -> str:
        """The first sentence of the extractive answer: what the answer leads with."""
        return _SENTENCE_END.split(self.extractive)[0] if self.extractive else ""


def _topic_of(passage: Any) -> str:
    """A passage's topic: its `topic` field, else its section or title ("Payments")."""
    topic = passage.metadata.get("topic")
    if topic:
        return str(topic).lower()
    section = str(passage.metadata.get("section") or passage.title)
    last = section.split(">")[-1].strip().lower()
    return last[:-1] if last.endswith("s") and not last.endswith("ss") else last


class GroundedAnswerer:
    """Answers a question from a `KnowledgeIndex` with an `LLMBackend`, checking every claim."""

    def __init__(
        self,
        index: Any,
        backend: LLMBackend | None,
        guard: Any,
        config: dict[str, Any] | None = None,
        executor: concurrent.futures.Executor | None = None,
        sentence_cache: SentenceCache | None = None,
    ) -> None:
        self.index = index
        self.backend = backend
        self.guard = guard
        self.config = answer_config(config)
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="retrieval"
        )
        if sentence_cache is None and index is not None:
            sentence_cache = SentenceCache(index.encoder)
        self.sentences = sentence_cache
        passages = list(index.passages) if index is not None else []
        self._knowledge = squashed(f"{p.title}. {p.text}" for p in passages)
        self._model_words = model_words(
            p.title for p in passages if p.metadata.get("kind") == "row"
        )
        # The encoder's whole words: ordinary English, which never names a product alone.
        english = encoder_words(getattr(index.encoder, "model_path", "")) if index else []
        self.catalog = ProductCatalog.from_passages(passages, english)
        self.value_fields = ValueFields.from_passages(passages, english)
        self.places = PlaceNames.load() if self.config["resolve_places"] else None
        self.verifier = ClaimVerifier(
            guard,
            KnowledgeVocabulary.build(f"{p.title}. {p.text}" for p in passages),
            common_share=float(self.config["common_term_share"]),
            english_words=english if self.config["claim_check"] == "lenient" else (),
            min_sentence_coverage=STRICT_COVERAGE if self.config["claim_check"] == "strict"
            else 0.0,
        )

    # -- retrieval and evidence (blocking, run in the executor) -----------------------------
    def _choose_hits(
        self,
        hits: list[Any],
        products: list[ProductMention],
        carried: bool = False,
        question: str = "",
    ) -> tuple[list[Any], bool]:
        """(the passages the answer may use, whether the question is about the products).

        Named products' rows are pinned and other products' rows dropped. When a policy
        passage matches the question better than the products' rows ("can I return the
        x200?"), it comes first and the rows follow as context.
        """
        threshold = self._min_score()
        if not products:
            count, relative = self._passage_limits()
            floor = hits[0].score * relative
            chosen = [hit for hit in hits if hit.score >= floor]
            return chosen[:count] or hits[:1], False
        pinned_ids = list(dict.fromkeys(mention.passage_id for mention in products))
        scores = {hit.passage.id: hit.score for hit in hits}
        pinned = [
            RetrievedPassage(self.index.get(pid), max(scores.get(pid, 0.0), threshold), 0, 0)
            for pid in pinned_ids
            if self.index.get(pid) is not None
        ][:3]
        policies = [
            hit for hit in hits
            if hit.passage.metadata.get("kind") != "row" and hit.passage.id not in pinned_ids
        ]
        others = [hit for hit in policies if hit.score >= 0.7 * threshold]
        best_row = max((scores.get(pid, 0.0) for pid in pinned_ids), default=0.0)
        # "do u ship to canada? how much is it" after the keyboard: the customer's own words
        # name a policy's terms and none of the rows', so the policy answers; "does care+ work
        # on the boom xl?" too, when those words are rare (a close policy may match by any).
        policy = self._policy_instead_of_rows(
            question, pinned, [hit for hit in others if hit.score >= threshold], rare=not carried
        ) or self._policy_instead_of_rows(question, pinned, others, rare=True)
        if policy is not None:
            return [policy, *[hit for hit in others if hit is not policy][:1], *pinned], False
        if carried:
            return pinned + others[:2], True
        if others and others[0].score > best_row:
            return others[:2] + pinned, False
        policy, named, by_rows = self._policy_naming_more(question, pinned, policies,
                                                          0.5 * threshold)
        if policy is None:
            return pinned + others[:2], True
        rest = [hit for hit in others if hit is not policy][:1]
        if named > max(by_rows, 1):
            # "dropped my pulse 3 and the screen cracked, is that under warranty": the
            # warranty's exclusions answer it, not the watch's 24 months.
            return [policy, *rest, *pinned], False
        # "how much would care+ be on the x200?": the row answers, the policy is context.
        return [*pinned, policy, *rest], True

    def _policy_instead_of_rows(
        self, question: str, pinned: list[Any], policies: list[Any], rare: bool = False
    ) -> Any | None:
        """The best policy passage naming a term of the question (with `rare`, a fact-bearing
        one) that the products' rows do not name, even by a synonym ("much" is the rows'
        price); None if every term of the question is about the rows."""
        names = {term for hit in pinned for term in tokenize(hit.passage.title)}
        rows = {term for hit in pinned for term in tokenize(hit.passage.text)} | names
        own = {term for term in set(tokenize(question)) - names - _ASKING_TERMS - GENERIC_TERMS
               if not self.verifier.expand({term}) & rows
               and (not rare or (self.verifier.is_fact_term(term) and term not in _NO_TOPIC))}
        for hit in policies:
            if own & set(tokenize(f"{hit.passage.title} {hit.passage.text}")):
                return hit
        return None

    @staticmethod
    def _policy_naming_more(
        question: str, pinned: list[Any], policies: list[Any], floor: float
    ) -> tuple[Any | None, int, int]:
        """(the policy passage naming the most terms of the question that the named products'
        rows leave out, how many of the question's terms it names, how many the rows name)."""
        names = {term for hit in pinned for term in tokenize(hit.passage.title)}
        asked = set(tokenize(question)) - names
        rows = {term for hit in pinned for term in tokenize(hit.passage.text)}
        best, best_named = None, 0
        for hit in policies:
            if hit.score < floor:
                continue
            terms = set(tokenize(f"{hit.passage.title} {hit.passage.text}"))
            if (asked & terms) - rows and len(asked & terms) > best_named:
                best, best_named = hit, len(asked & terms)
        return best, best_named, len(asked & rows)

    def _search(
        self, context: ConversationContext, query: str, countries: Sequence[str] = (),
        reworded: str | None = None,
    ) -> tuple[list[Any], Any, Any]:
        """(hits for the query, the best over its variants (see below); the query's vector; the
        question's vector)."""
        query_vector = self.index.encode_query(query)
        question_vector = (
            query_vector if query == context.question
            else self.index.encode_query(context.question)
        )
        top_k = int(self.config["top_k"])
        hits = self.index.search(query, top_k=top_k, query_vector=query_vector)
        # A follow-up is also searched alone, and a message of several sentences ("my son is
        # turning 4. are the kids headphones ok for him?") sentence by sentence: the context a
        # customer adds dilutes the question.
        extra = [context.question] if query != context.question else []
        sentences = [s for s in _SENTENCE_END.split(context.question) if len(s.split()) >= 3]
        extra += sentences if len(sentences) > 1 else []
        last_bot = next((text for role, text in reversed(context.history) if role == "bot"), "")
        if last_bot and query != context.question and _THEY_PEOPLE.search(context.question):
            # "how long till they get back to me" after "a colleague will reply ...": "they"
            # are the people the bot just talked about
            extra.append(f"{context.question} {last_bot}")

        # "ugh fine, who's the carrier then": the chatter in front dilutes the question too.
        plain = _DISCOURSE_LEAD.sub("", context.question)
        if plain != context.question and len(plain.split()) >= 3:
            extra.append(plain)
        # "if she changes her mind again how long do i still have to send them back?": the
        # condition in front dilutes the question as well
        asked = _AFTER_A_CONDITION.search(_SENTENCE_END.split(plain.strip())[-1])
        if asked and len(asked.group(1).split()) >= 5:
            extra.append(asked.group(1))
        # Each in the knowledge's words: "mail it back from montreal" is a return from Canada.
        if reworded is None:
            reworded = self._in_knowledge_words(context.question)
        for text in dict.fromkeys([plain, query]):
            in_words = reworded if text == context.question else self._in_knowledge_words(text)
            if in_words != text:
                extra.append(in_words)
        # "shipped Australia": a long message dilutes the one word that names the destination;
        # "relocating to zurich, can i keep ordering?" asks about shipping there too.
        cue = (shipping_cue(context.question) or "ship to") if countries else None
        if cue and _RETURN_WORD.search(reworded):
            cue = "return shipping from"  # "im in toronto, do i pay for return shipping?"
        extra += [f"{cue} {country}" for country in countries] if cue else []
        for text in extra:
            vector = question_vector if text == context.question else None
            hits = _merged(hits, self.index.search(text, top_k=top_k, query_vector=vector))
        if (not hits or hits[0].score < self._min_score()) and last_bot and (
            self._leans_on_the_reply(context.question)
        ):
            # "who do i call then" after "... You can ask UPS to redirect the parcel.", which
            # nothing else answered: about one of the last things the bot said
            said = [part for part in _SENTENCE_END.split(last_bot) if part.strip()]
            for sentence in said[-_LEANING_SENTENCES:]:
                hits = _merged(hits, self.index.search(f"{plain} {sentence}", top_k=top_k))
        hits = hits[:top_k]
        if query != context.question:
            hits = self._prefer_new_terms(hits, context.question, query)
        hits = self._on_topic(hits, context.intent, query, query_vector)
        if hits and hits[0].score < self._min_score():
            hits = self._naming_rare_terms(hits, context.question)
        for words in _shop_words_for(context.question):
            if hits and hits[0].score < self._min_score():
                # "will i get less money if i just changed my mind": the knowledge's own word
                # for it ("restocking fee") names the passage, however long the message
                hits = self._naming_rare_terms(hits, self._rare_terms_of(words))
        return hits, query_vector, question_vector

    def _leans_on_the_reply(self, question: str) -> bool:
        """A short question with no fact-bearing term of its own ("who do i call then", "so
        what can i do"): it is about the bot's last reply."""
        words = question.split()
        own = _HOW_MUCH.sub(" ", question)  # "how long do i have to decide": "long" asks
        return len(words) <= _LEANING_WORDS and bool(_ASKS.search(question)) and not any(
            self.verifier.is_fact_term(term) and term not in _RARE_VERBS
            for term in tokenize(own)
        )

    def _rare_terms_of(self, text: str) -> str:
        """The words of `text` that only a few passages use."""
        vocabulary = self.verifier.vocabulary
        if vocabulary is None:
            return ""
        rare = []
        for word in text.split():
            terms = tokenize(word)
            if terms and all(0 < vocabulary.frequencies.get(term, 0) <= _RARE_PASSAGES
                             for term in terms):
                rare.append(word)
        return " ".join(rare)

    def _naming_rare_terms(self, hits: list[Any], question: str) -> list[Any]:
        """ "whats the newsletter thing": a question of one or two words of its own, each one
        that only a few passages use, is answered by the passages that use them all, however
        little the short question's meaning says to the encoder."""
        terms = set(tokenize(question)) - _ASKING_TERMS - GENERIC_TERMS - _NO_TOPIC
        vocabulary = self.verifier.vocabulary
        if vocabulary is None or not 1 <= len(terms) <= _KEYWORD_TERMS or not all(
            0 < vocabulary.frequencies.get(term, 0) <= _RARE_PASSAGES for term in terms
        ):
            return hits
        floor = self._min_score()
        # a policy's own word ("splitpay"), not a product's feature ("calls")
        lifted = [
            dataclasses.replace(hit, score=floor)
            if hit.passage.metadata.get("kind") != "row"
            and terms <= set(tokenize(f"{hit.passage.title}. {hit.passage.text}")) else hit
            for hit in hits
        ]
        return sorted(lifted, key=lambda hit: -hit.score)

    def _policies_beside_products(
        self, hits: list[Any], question: str, named: list[ProductMention]
    ) -> list[Any]:
        """ "does care+ work on the boom xl": the product's name dominates the search, so the
        rest of the question is searched alone too, for the policies naming its own terms (those
        the products' rows do not name, even by a synonym)."""
        rest = question
        for mention in named:
            words = r"[\s-]+".join(re.escape(word) for word in mention.alias.split())
            rest = re.sub(rf"\b{words}s?\b", " ", rest, flags=re.IGNORECASE)
        rows = [self.index.get(mention.passage_id) for mention in named]
        row_terms = {term for row in rows if row is not None
                     for term in tokenize(f"{row.title} {row.text}")}
        own = {term for term in tokenize(rest) if term not in _ASKING_TERMS
               and term not in GENERIC_TERMS and not self.verifier.expand({term}) & row_terms}
        if not own:
            return hits
        # As close as a policy must be to follow a product; half that for one of the few
        # passages that use a term of the question ("care+": 2 passages, "colours": 8).
        threshold = self._min_score()
        frequencies = self.verifier.vocabulary.frequencies if self.verifier.vocabulary else {}
        policies = []
        for hit in self.index.search(rest, top_k=int(self.config["top_k"]),
                                     min_score=0.5 * threshold):
            passage = hit.passage
            shared = own & set(tokenize(f"{passage.title} {passage.text}"))
            rare = any(frequencies.get(term, 0) <= _RARE_PASSAGES for term in shared)
            if passage.metadata.get("kind") != "row" and shared and (
                hit.score >= 0.7 * threshold or rare
            ):
                policies.append(hit)
        return _merged(hits, policies)

    def _prefer_new_terms(self, hits: list[Any], question: str, query: str) -> list[Any]:
        """In "and to germany?" after a question about Canada, "germany" is what is asked:
        passages with the follow-up's own specific terms come first."""
        earlier = set(tokenize(query[len(question):]))
        new = {term for term in tokenize(question)
               if term not in earlier and term not in _ASKING_TERMS
               and self.verifier.is_fact_term(term)}
        if not new:
            return hits
        boosted = [
            dataclasses.replace(hit, score=min(1.0, hit.score + 0.1))
            if new & set(tokenize(f"{hit.passage.title} {hit.passage.text}")) else hit
            for hit in hits
        ]
        return sorted(boosted, key=lambda hit: -hit.score)

    def _countries_asked(self, question: str) -> list[str]:
        """The countries of the places a question names that the knowledge does not ("lives in
        sydney": Australia; but "Hawaii" is named in the shipping policy itself)."""
        if self.places is None:
            return []
        return list(dict.fromkeys(
            country for place, country in self.places.places_in(question)
            if squashed([place]) not in self._knowledge
        ))

    def _suggested_products(self, context: ConversationContext) -> list[ProductMention]:
        """For a question asking which product to take, the products of the kind it names (or
        of the kind of the product the conversation named last) that answer it best."""
        if self.catalog is None or not asks_for_a_product(context.question):
            return []
        rows = self.catalog.rows_of_kinds_named(context.question)
        for _, text in reversed(context.history):
            if rows:
                break
            rows = self.catalog.rows_like(self.catalog.mentions(text))
        hits = [RetrievedPassage(passage, self._min_score(), 0.0, 0.0)
                for passage in map(self.index.get, rows) if passage is not None]
        if not hits:
            return []
        ranked = rank_sentences(context.question, hits, self.index.encoder, len(hits),
                                cache=self.sentences)
        titles = {hit.passage.id: hit.passage.title for hit in hits}
        return [ProductMention(row, titles[row], titles[row].lower())
                for row in suggested_rows(ranked, context.question)]

    def _in_knowledge_words(self, text: str) -> str:
        """The text in the words shop knowledge uses: "mail it back from montreal" -> "return
        from Canada" (each place named as its country, `_CUSTOMER_WORDS` replaced)."""
        for place, country in self.places.places_in(text) if self.places is not None else []:
            text = re.sub(rf"\b{re.escape(place)}\b", country, text, flags=re.IGNORECASE)
        return in_shop_words(text)

    def _with_countries(self, text: str, countries: list[str]) -> str:
        """A country the knowledge never names is asked about as a country ("Poland country")."""
        return " ".join([text, *(name if squashed([name]) in self._knowledge else f"{name} country"
                                 for name in countries)])

    def _gather_evidence(self, context: ConversationContext) -> _Evidence:
        query, products = resolve(context.question, context.history, context.slots, self.catalog)
        # the products the question names itself (the others come from the conversation)
        named = self.catalog.mentions(context.question) if products else []
        if products and not named and (self.config["intent_topics"] or {}).get(
            context.intent or ""
        ) and not _REFERS_BACK.search(context.question):
            # "do u take amex" during a return of the cable: a payment question, whatever
            # product the conversation is about
            query, products = context.question, []
        if _FUTURE_PLANS.search(context.question):
            return _Evidence([], [], "", [], query, products, "asks about future plans")
        countries = self._countries_asked(context.question)
        query = self._with_countries(query, countries)
        reworded = self._in_knowledge_words(context.question)
        hits, _, question_vector = self._search(context, query, countries, reworded)
        if named:
            hits = self._policies_beside_products(hits, context.question, named)
        defect = self._defect_passage(context.question, query)
        if defect is not None:
            hits = [defect, *(hit for hit in hits if hit.passage.id != defect.passage.id)]
        top = hits[0].score if hits else 0.0
        if not products and (top < self._min_score() or asks_for_the_most(context.question)):
            # "which of ur watches has the longest battery life?": the rows of the kind asked for
            products = self._suggested_products(context)
        if not products and top < self._min_score():
            reason_key = "not_sold" if _RANGE_QUESTION.search(context.question) else "abstain"
            return _Evidence(hits, [], "", [], query, products, "low retrieval score", reason_key)
        # "is it waterproof?" after a product was named is about that product, whatever else
        # the words match.
        carried = bool(products) and not named
        asked_in_both = (context.question if reworded == context.question
                         else f"{context.question} {reworded}")
        chosen, about_products = self._choose_hits(hits, products, carried, asked_in_both)
        topic_word = str(self.config["defect_topic"] or "")
        if defect is not None:
            # a fault is a question for the warranty, whatever the product's rows say
            rows = [hit for hit in chosen if hit.passage.id != defect.passage.id]
            chosen, about_products = [defect, *rows], False
        texts = [f"{hit.passage.title}. {hit.passage.text}" for hit in chosen]
        if self.config["abstain_on_unknown_models"]:
            # Against the whole knowledge: "my iphone 15" is a phone the catalog knows of, even
            # when the passages chosen for the answer do not mention it.
            unknown = [
                name for name in
                missing_model_names(context.question, self._knowledge, self._model_words)
                if not covered_by_family(name, texts)
            ]
            if unknown:
                key = "not_sold" if _RANGE_QUESTION.search(context.question) else "abstain"
                return _Evidence(chosen, [], "", [], query, products,
                                 f"unknown product {unknown}", key)
        earlier = [text for role, text in context.history if role == "user"]
        # "and the b30 buds?" after "does the x200 have ldac": the earlier question says which
        # fact
        names_only = bool(products and earlier and _names_only(
            _DISCOURSE_LEAD.sub("", context.question) or context.question, products))
        about = f"{context.question} {earlier[-1]}" if names_only else context.question
        if about_products and self.config["abstain_on_unstated_features"]:
            rows = [hit.passage.id for hit in chosen if hit.passage.metadata.get("kind") == "row"]
            # "does the kettle have bluetooth": its connectivity answers it
            unstated = [term for term in self.unstated_terms(about, texts)
                        if not self.value_fields.answered_by(term, rows)]
            policy = self._policy_stating(unstated, context.question) if unstated else None
            if policy is not None:
                # "if the trail pro doesn't fit, do you charge a restocking fee?": the rows do
                # not say, a policy does; the question is about the policy.
                pinned = [hit for hit in chosen if hit.passage.metadata.get("kind") == "row"]
                chosen, about_products = [policy, *pinned], False
            elif unstated:
                return _Evidence(chosen, [], "", [], query, products,
                                 f"product details do not state {unstated}", "not_stated")
        # Sentences are ranked for the question itself: in "and how much is it?" the earlier
        # question only chose the passages.
        asked = _DISCOURSE_LEAD.sub("", context.question) or context.question
        in_words = in_shop_words(asked)
        if in_words != asked:
            # "do u take amex": ranked as "do u take American Express", not as express shipping
            # (places stay: "alaska" is named in the knowledge itself)
            asked, question_vector = in_words, None
        asked = self._with_countries(asked, countries)
        if names_only:
            asked, question_vector = f"{asked} {earlier[-1]}", None
        ranked = rank_sentences(
            asked, chosen, self.index.encoder, len(chosen),
            query_vector=question_vector, cache=self.sentences,
        )
        if about_products:
            ranked = _description_first(ranked, asked, products)
        if about_products and self.config["abstain_on_unstated_features"]:
            # Nothing in the rows is about what the question asks, in words or in meaning.
            pinned = {mention.passage_id for mention in products}
            closest = max((item.cosine for item in ranked if item.passage_id in pinned),
                          default=0.0)
            aspects = [item for items in aspect_facts(ranked, list(pinned), context.question)
                       .values() for item in items]
            valued: list[EvidenceSentence] = []
            for pid in pinned:
                # "does the x100 have ldac": its codecs; the B30 lists no codecs at all
                facts, missing = self.value_fields.facts_for(about, ranked, pid)
                if missing:
                    return _Evidence(chosen, [], "", [], query, products,
                                     f"product details do not state {missing}", "not_stated")
                valued += facts
            if valued:
                # the fact answers on its own: lifted above the margin of the others
                lift = ranked[0].score + 1.0
                ranked = [*(dataclasses.replace(item, score=lift) for item in valued),
                          *(item for item in ranked if item not in valued)]
            elif aspects:
                # "and the cheapest one?": too short to resemble the price, but it asks for it
                ranked = [*aspects, *(item for item in ranked if item not in aspects)]
            elif closest < float(self.config["min_fact_similarity"]) and not (
                self.verifier.asks_about(context.question, texts, products)
            ):
                return _Evidence(chosen, [], "", [], query, products,
                                 "product details do not state what the question asks about",
                                 "not_stated")
        if defect is not None:
            # the warranty's answer, then the product's own fact on it ("... 36-month warranty")
            rows = {hit.passage.id for hit in chosen if hit.passage.metadata.get("kind") == "row"}
            policy = [item for item in ranked if item.passage_id == defect.passage.id]
            text, ids = self._extractive(policy or ranked, [], f"{topic_word} {FAULT_QUERY}")
            first = _SENTENCE_END.split(text)[0] if text else ""
            own, own_id = self._own_fact(ranked, rows, topic_word)
            if own:
                text, ids = f"{own} {first}".strip(), [own_id, *ids[:1]]
        elif products and not about_products:
            # A policy question that names a product: the policy answers it, the rows are context.
            rows = {mention.passage_id for mention in products}
            policy = [item for item in ranked if item.passage_id not in rows]
            text, ids = self._extractive(policy or ranked, [], asked)
            text, ids = self._with_own_fact(text, ids, ranked, rows, asked)
        else:
            text, ids = self._extractive(ranked, products, asked)
        if len(products) < 2 and defect is None:
            # (a fault's answer is the warranty's, whatever else its sentences ask: "are you
            # kidding me. what happens if it dies next month")
            # the earlier question a names-only follow-up borrowed is no part of its own
            parts_of = context.question if names_only else asked
            text, ids = self._answer_each_part(parts_of, chosen, ranked, products, text, ids)
        return _Evidence(chosen, ranked, text, ids, query, products)

    def _with_own_fact(
        self, text: str, ids: list[str], ranked: list[EvidenceSentence], rows: set[str],
        question: str,
    ) -> tuple[str, list[str]]:
        """A policy answer about a named product, with the product's own fact on what is asked
        ("how long is the warranty on the wave 2": the policy, then "The Tidewell Wave 2 comes
        with a 12-month warranty.")."""
        if not text or len(_SENTENCE_END.split(text)) >= MAX_ANSWER_SENTENCES:
            return text, ids
        sentence, passage_id = self._own_fact(ranked, rows, question)
        if sentence and sentence not in text:
            return f"{text} {sentence}", [*ids, passage_id]
        return text, ids

    def _own_fact(self, ranked: list[EvidenceSentence], rows: set[str], question: str
                  ) -> tuple[str, str]:
        """(the best fact sentence of the products' `rows` on what `question` asks, its passage
        id), or ("", "")."""
        asked = (set(tokenize(question)) - _ASKING_TERMS - GENERIC_TERMS
                 - set(self.verifier.name_terms))
        asked = {term for term in asked if not term.isdigit()}
        for item in ranked:
            if item.passage_id in rows and asked & set(tokenize(item.text)):
                return fact_sentence(item.text, str(self.config["currency_symbol"])), (
                    item.passage_id)
        return "", ""

    def _answer_each_part(
        self,
        question: str,
        chosen: list[Any],
        ranked: list[EvidenceSentence],
        products: list[ProductMention],
        text: str,
        ids: list[str],
    ) -> tuple[str, list[str]]:
        """A message asking two things ("Can I get express to Hawaii? If not, how long does
        standard take?") gets the best evidence for each question, not only for the whole."""
        parts = question_parts(question)
        if len(parts) < 2 or not text:
            return text, ids
        ids = list(ids)
        # Ranked for the part and the whole message together: in "do you ship to canada? how
        # much is it?" the second part is about Canada too. About one product, the product is
        # the context and the part alone says which of its facts it asks for.
        whole = {(item.passage_id, item.position): item.score for item in ranked}
        share = 0.0 if products else 0.5
        rows = {mention.passage_id for mention in products}
        currency = str(self.config["currency_symbol"])
        for part in parts[:MAX_QUESTION_PARTS]:
            part_ranked = sorted(
                (dataclasses.replace(item, score=(1 - share) * item.score + share * whole.get(
                    (item.passage_id, item.position), 0.0))
                 for item in rank_sentences(part, chosen, self.index.encoder, len(chosen),
                                            cache=self.sentences)),
                key=lambda item: -item.score,
            )
            # "is the boom xl waterproof?": the product's fact in the field the word asks for
            valued = [fact for pid in rows
                      for fact in self.value_fields.facts_for(part, part_ranked, pid)[0]]
            part_ranked = [*valued, *(item for item in part_ranked if item not in valued)]
            # "... and how long does shipping to texas take" is not about the product named
            # before it; "... and how much is it?" is
            about = products if (self.catalog is None or self.catalog.mentions(part)
                                 or _REFERS_BACK.search(part)) else []
            if not about:
                part_ranked = [item for item in part_ranked if item.passage_id not in rows]
            part_text, part_ids = self._extractive(part_ranked, about, part)
            if set(part_ids) <= set(ids) - rows:
                continue  # the passage already answering (its lead-in would only repeat it)
            new = [sentence for sentence in _SENTENCE_END.split(part_text)
                   if sentence and sentence not in text]
            current = _SENTENCE_END.split(text)
            if _SENTENCE_END.split(part_text)[0] in text:
                continue  # the whole message's answer already says what the part asks
            best = next((sentence for item in part_ranked
                         for sentence in [fact_sentence(item.text, currency)] if sentence in new),
                        None)
            if len(current) + len(new) > MAX_ANSWER_SENTENCES and best:
                # The part's best sentence answers what it asks ("And how much is it?"); it
                # takes the place of the whole message's last runner-up.
                current, new = current[: MAX_ANSWER_SENTENCES - 1], [best]
            if new and len(current) + len(new) <= MAX_ANSWER_SENTENCES:
                text = " ".join([*current, *new])
                ids += [pid for pid in part_ids if pid not in ids]
        return text, ids

    def _defect_passage(self, question: str, query: str) -> Any:
        """The best passage of `defect_topic` when the question reports a fault, else None."""
        topic = self.config["defect_topic"]
        if not topic or not reports_a_fault(question):
            return None
        if _RANGE_QUESTION.search(question) or re.search(
            rf"\b(?:{re.escape(str(topic))}|cover(?:ed|s)?)\b", question, re.IGNORECASE
        ):
            # "ours finally died, do you sell printers?"; "cracked, is that under warranty?"
            # asks its own question, which retrieval answers
            return None
        # what a fault needs is how the topic's passages say to get it fixed, whatever product
        on_topic = self._topic_hits(f"{topic} {FAULT_QUERY}", str(topic), None)
        return on_topic[0] if on_topic else None

    def _topic_hits(self, query: str, topic: str, query_vector: Any) -> list[Any]:
        """The passages of `topic` among the best matches of `query`, each at least at the
        retrieval threshold."""
        wide = self.index.search(query, top_k=4 * int(self.config["top_k"]),
                                 query_vector=query_vector)
        floor = self._min_score()
        return [dataclasses.replace(hit, score=max(hit.score, floor))
                for hit in wide if _topic_of(hit.passage) == topic.lower()]

    def _on_topic(self, hits: list[Any], intent: str | None, query: str, query_vector: Any
                  ) -> list[Any]:
        """For an intent mapped to a knowledge topic (`intent_topics`), that topic's best
        passages come first and count as relevant whatever their score: the classifier already
        knows that "do you take bitcoin" is about payment."""
        topic = (self.config["intent_topics"] or {}).get(intent or "")
        if not topic:
            return hits
        lifted = self._topic_hits(query, str(topic), query_vector)[:2]
        if not lifted:
            return hits
        ids = {hit.passage.id for hit in lifted}
        return lifted + [hit for hit in hits if hit.passage.id not in ids]

    def _policy_stating(self, terms: Sequence[str], question: str) -> Any:
        """The best passage other than a product row that states every one of `terms` and
        matches the question, or one of its sentences, well enough to answer it (None if there
        is none)."""
        floor = POLICY_SHARE_OF_THRESHOLD * self._min_score()
        best: dict[str, Any] = {}
        sentences = [s for s in _SENTENCE_END.split(question) if len(s.split()) >= 3]
        for text in dict.fromkeys([question, *sentences]):
            for hit in self.index.search(text, top_k=4 * int(self.config["top_k"])):
                known = best.get(hit.passage.id)
                if hit.passage.metadata.get("kind") != "row" and (
                    known is None or hit.score > known.score
                ):
                    best[hit.passage.id] = hit
        for hit in sorted(best.values(), key=lambda hit: -hit.score):
            if hit.score < floor:
                break
            stated = set(tokenize(f"{hit.passage.title}. {hit.passage.text}"))
            if all(
                any(self.verifier.supported_term(term, stated) for term in tokenize(phrase))
                for surface in terms
                for phrase in [surface, *_words_after(question, surface)]
            ):
                return hit
        return None

    def unstated_terms(self, question: str, texts: Sequence[str]) -> list[str]:
        """Features the question asks about that the evidence never mentions ("radio"); a
        time the customer mentions ("pool party this weekend") asks about nothing, and neither
        does a sentence that only tells ("79mm wide with the case on. would it fit the clamp
        of the tripod?")."""
        evidence_terms = set(tokenize(" ".join(texts)))
        sentences = _SENTENCE_END.split(question)
        asking = [sentence for sentence in sentences if asks_something(sentence)]
        if len(sentences) > 1 and asking:
            question = " ".join(asking)
        question = without_idioms(_WHEN_THE_CUSTOMER_SAYS.sub(" ", question))
        return [
            surface for surface, term in dict.fromkeys(words_of(question))
            if surface in FACT_WORDS and not self.verifier.supported_term(term, evidence_terms)
        ]

    def _extractive(
        self, ranked: list[EvidenceSentence], products: list[ProductMention], question: str
    ) -> tuple[str, list[str]]:
        currency = str(self.config["currency_symbol"])
        ranked = unasked_denials_last(question, ranked)
        if len(products) < 2:
            # About a product: its own facts, not a policy sentence that shares a word.
            pinned = {mention.passage_id for mention in products}
            own = [item for item in ranked if item.passage_id in pinned] or ranked
            if not products and _BROAD_QUESTION.search(question):
                own = _lead_first(own)
            return extractive_answer(own, currency=currency, question=question)
        # Several products: what sets each apart when the question compares them, else the
        # best fact of each.
        named = list(dict.fromkeys(mention.passage_id for mention in products[:3]))
        differences = aspect_facts(ranked, named, question) or (
            distinguishing_facts(ranked, named, question) if is_comparison(question) else {}
        )
        parts, ids = [], []
        for mention in products[:3]:
            if differences.get(mention.passage_id):
                text, _ = extractive_answer(
                    differences[mention.passage_id], max_sentences=FACTS_PER_PRODUCT,
                    margin=float("inf"), currency=currency,
                )
                parts.append(text)
                ids.append(mention.passage_id)
                continue
            own = [item for item in ranked if item.passage_id == mention.passage_id]
            if own:
                text, _ = extractive_answer(own, max_sentences=1, currency=currency)
                parts.append(text)
                ids.append(mention.passage_id)
        return " ".join(parts), ids

    # -- helpers ---------------------------------------------------------------------------
    def _text(self, key: str, products: Sequence[ProductMention] = ()) -> str:
        text = self.config["texts"][key]
        product = products[0].name if products else "product"
        return text.replace("{product}", product)

    @staticmethod
    def _sources(hits: Sequence[Any], ids: Sequence[str]) -> list[dict[str, str]]:
        by_id = {hit.passage.id: hit for hit in hits}
        return [
            {"id": by_id[i].passage.id, "title": by_id[i].passage.title} for i in ids if i in by_id
        ]

    def _clean(self, text: str) -> str:
        text = text.strip().strip('"').strip()
        text = re.sub(r"\[[\w:#./-]+\]\s*", "", text)  # passage ids in brackets
        text = re.split(r"\n\s*\n", text)[0]  # the REST channel splits text on blank lines
        text = re.sub(r"\s+", " ", text).strip()
        text = _OFFER_QUESTION.sub("", text).strip()
        text = _ANSWER_PREFACE.sub("", text)  # "The answer is: No, ..." -> "No, ..."
        if text[:1].islower():
            text = text[0].upper() + text[1:]
        limit = int(self.config["max_answer_chars"])
        if len(text) > limit:
            text = text[:limit]
        # A generation cut by max_tokens ends mid-sentence: drop the unfinished tail.
        if text and text[-1] not in ".!?)":
            end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
            text = text[: end + 1] if end > 0 else ""
        return text

    def _guard_evidence(self, evidence: _Evidence, context: ConversationContext) -> list[str]:
        """What a generated answer may state: the passages, the slots, and what the bot and
        the customer said before ("it's on ios 14"), except sentences about other products
        ("The Wave Mini is IP67" does not support "The Boom XL is IP67" in the answer to "and
        the boom xl?")."""
        texts = [f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits]
        about = {mention.passage_id for mention in evidence.products}
        for _, text in context.history:
            texts += [sentence for sentence in _SENTENCE_END.split(text or "") if not {
                mention.passage_id for mention in self.catalog.mentions(sentence)} - about]
        texts += [f"{name}: {value}" for name, value in context.slots.items() if value]
        return texts

    def check_answer(
        self, answer: str, evidence: _Evidence, context: ConversationContext
    ) -> list[str]:
        """The reasons a generated answer cannot be shown (empty when it can)."""
        texts = self._guard_evidence(evidence, context)
        if grants_something(answer) and not self._stated_policy(answer, texts):
            return ["promises a refund, discount or exception"]
        if "?" in answer:
            return ["asks or echoes a question instead of answering"]
        if self._small_model():
            # A small model often says something true but beside the point, or nothing at all.
            if not self.verifier.answers_from_evidence(answer, texts, context.question):
                return ["says nothing the evidence states"]
            if not self.verifier.addresses(answer, context.question, texts, evidence.products):
                return ["does not answer what the question asks"]
            if self.verifier.denies_its_yes(answer):
                return ["says yes and denies it"]
            if self.verifier.answers_the_other_way(answer, evidence.extractive):
                return ["answers yes or no the other way from the best evidence"]
            item = self.verifier.leaves_out_the_item_asked(
                answer, context.question, evidence.extractive)
            if item:
                return [f"does not name '{item}', which the question asks about"]
        problems = self.verifier.verify(answer, texts, context.question)
        required = self.config["require_key_numbers"]
        if required == "auto":
            required = self._small_model()
        if not problems and required and evidence.ranked:
            # the figures of the answer shown otherwise: its first sentence, from the best
            # evidence for what is asked (a product's row, not the policy that outranked it)
            lead = evidence.lead or evidence.ranked[0].text
            missing = set(figure_checks.figures(lead)) - set(figure_checks.figures(answer))
            if missing:
                problems = [f"leaves out the figures {sorted(missing)} of the best evidence"]
        required = self.config["require_key_terms"]
        if required == "auto":
            required = self._small_model()
        if not problems and required:
            missing_terms = self._missing_key_terms(answer, evidence, context.question)
            if missing_terms:
                problems = [f"leaves out {missing_terms} of the extractive answer"]
        return problems

    def _missing_key_terms(self, answer: str, evidence: _Evidence, question: str) -> list[str]:
        """The fact terms of the extractive answer's first sentence that the answer leaves out,
        when it keeps less than `key_term_share` of them (the question's and the products'
        own words do not count)."""
        first = evidence.lead
        known = set(tokenize(question)) | {
            term for mention in evidence.products for term in tokenize(mention.name)
        }
        key = [term for term in dict.fromkeys(tokenize(first))
               if term not in known and self.verifier.is_fact_term(term)]
        said = set(tokenize(answer))
        missing = [term for term in key if term not in said]
        if key and len(key) - len(missing) < float(self.config["key_term_share"]) * len(key):
            return missing
        return []

    def _min_score(self) -> float:
        if self.backend is not None and self.config["mode"] == "generate" and (
            self._trusts_abstention()
        ):
            return float(self.config["trusted_model_min_score"])
        return float(self.config["min_retrieval_score"])

    def _passage_limits(self) -> tuple[int, float]:
        """(prompt_passages, relative_passage_score), "auto" resolved for the backend."""
        served = self.backend is not None and not self._small_model()
        auto = SERVED_MODEL_PASSAGES if served else SMALL_MODEL_PASSAGES
        count, relative = self.config["prompt_passages"], self.config["relative_passage_score"]
        return (auto[0] if count == "auto" else int(count),
                auto[1] if relative == "auto" else float(relative))

    def _small_model(self) -> bool:
        """The embedded and local models (small by default) get the stricter checks."""
        return getattr(self.backend, "name", "") in ("llamacpp", "huggingface")

    def _trusts_abstention(self) -> bool:
        setting = self.config["on_model_abstain"]
        if setting == "auto":
            return not self._small_model()
        return setting == "abstain"

    def _stated_policy(self, answer: str, texts: list[str]) -> bool:
        """Whether each sentence that grants something restates a passage ("we refund the
        difference once, on request" where the price-drop policy says so)."""
        passages = [text for text in texts if grants_something(text) or _GRANT_WORDS.search(text)]
        for sentence in _SENTENCE_END.split(answer):
            if not grants_something(sentence):
                continue
            grants = set(_GRANT_WORDS.findall(sentence.lower()))
            if not any(grants <= set(_GRANT_WORDS.findall(text.lower())) for text in passages):
                return False
            if self.verifier.verify(sentence, texts):
                return False
        return True

    def _extractive_result(self, evidence: _Evidence, reason: str, **extra: Any) -> AnswerResult:
        top = evidence.hits[0].score if evidence.hits else 0.0
        common = {"retrieval_score": top, "query": evidence.query,
                  "products": [m.name for m in evidence.products]}
        if not evidence.extractive:
            return AnswerResult(self._text("abstain"), ABSTAINED, reason=reason, **common, **extra)
        return AnswerResult(
            evidence.extractive,
            EXTRACTIVE,
            sources=self._sources(evidence.hits, evidence.extractive_ids),
            reason=reason,
            evidence=[f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits],
            **common,
            **extra,
        )

    # -- entry point -----------------------------------------------------------------------
    async def answer(
        self, context: ConversationContext, deadline: float | None = None
    ) -> AnswerResult:
        """Produces the reply for `context.question`; `deadline` is a `time.monotonic()` value."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        # The request checks run dozens of regular expressions over the whole message (100 ms
        # for 2000 characters): off the event loop, like retrieval.
        check = await loop.run_in_executor(self._executor, check_request, context.question)
        if check.refused:
            return AnswerResult(self._text(check.category), REFUSED, reason=check.category)

        evidence = await loop.run_in_executor(self._executor, self._gather_evidence, context)
        timings["retrieval"] = time.perf_counter() - started
        if not evidence.ranked:
            return AnswerResult(
                self._text(evidence.abstain_text, evidence.products),
                ABSTAINED,
                retrieval_score=evidence.hits[0].score if evidence.hits else 0.0,
                reason=evidence.abstain_reason or "no evidence",
                timings=timings,
                query=evidence.query,
                products=[m.name for m in evidence.products],
            )
        if self.config["mode"] == "extractive" or self.backend is None:
            result = self._extractive_result(evidence, "extractive mode", timings=timings)
            timings["total"] = time.perf_counter() - started
            return result

        result = await self._generate(context, evidence, deadline, timings)
        timings["total"] = time.perf_counter() - started
        result.timings = timings
        return result

    async def _generate(
        self,
        context: ConversationContext,
        evidence: _Evidence,
        deadline: float | None,
        timings: dict[str, float],
    ) -> AnswerResult:
        passages = prompt_context(
            evidence.ranked, evidence.hits, int(self.config["sentences_per_passage"])
        )
        messages = build_messages(
            context.question,
            [PromptPassage(pid, title, text) for pid, title, text in passages],
            history=context.history,
            slots=context.slots,
            system_prompt=str(self.config["system_prompt"]),
            max_history_turns=int(self.config["max_history_turns"]),
        )
        generation_started = time.perf_counter()
        try:
            remaining = None if deadline is None else max(0.05, deadline - time.monotonic())
            raw = await asyncio.wait_for(self.backend.generate(messages), remaining)
        except (LLMError, asyncio.TimeoutError) as error:
            timings["generation"] = time.perf_counter() - generation_started
            reason = f"llm error: {error!r}"
            logger.warning("LLM generation failed: %r", error)
            if self.config["on_llm_error"] == "extractive":
                return self._extractive_result(evidence, reason)
            return AnswerResult(None, FAILED, retrieval_score=evidence.hits[0].score,
                                reason=reason, query=evidence.query)
        timings["generation"] = time.perf_counter() - generation_started

        text = self._clean(raw)
        if not text or _IDK.search(text):
            if self._trusts_abstention():
                # The model's own honest "I don't know" is kept when it states no fact the
                # evidence lacks; otherwise the stock text.
                own = text and not grants_something(text) and not self.verifier.verify(
                    text, self._guard_evidence(evidence, context), context.question
                )
                return AnswerResult(
                    text if own else self._text("abstain"), ABSTAINED,
                    retrieval_score=evidence.hits[0].score, reason="model abstained",
                    generated=raw, query=evidence.query,
                    products=[m.name for m in evidence.products],
                )
            return self._extractive_result(evidence, "model abstained", generated=raw)
        problems = self.check_answer(text, evidence, context)
        if problems:
            return self._extractive_result(
                evidence, "generation rejected", generated=raw, unsupported=problems
            )
        used = list(dict.fromkeys(
            [m.passage_id for m in evidence.products] + [evidence.ranked[0].passage_id]
        ))
        return AnswerResult(
            text,
            GENERATED,
            sources=self._sources(evidence.hits, used),
            retrieval_score=evidence.hits[0].score,
            generated=raw,
            evidence=[f"{hit.passage.title}. {hit.passage.text}" for hit in evidence.hits],
            query=evidence.query,
            products=[m.name for m in evidence.products],
        )
