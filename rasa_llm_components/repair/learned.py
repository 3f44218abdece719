"""How the bot answers, learned from its rules and stories.

A digression inside a form is answered the way the bot answers the same intent outside the form,
so the bot builder writes that answer once (a rule `intent: product_info` →
`action: action_product_info`) instead of one rule per form and intent. A "no" to a yes/no
question that the classifier did not recognise ("nah keep it") is answered the way the rules
answer a recognised one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


def _responses_in(tracker: DialogueStateTracker, forms: set[str]) -> Iterable[tuple[str, tuple]]:
    """(intent, actions) for each user turn outside a form, the actions cut after a form."""
    loop: str | None = None
    intent: str | None = None
    actions: list[str] = []

    def finished() -> Iterable[tuple[str, tuple]]:
        if intent and actions:
            yield intent, tuple(actions)

    for event in tracker.events:
        if isinstance(event, ActiveLoop):
            loop = event.name
        elif isinstance(event, UserUttered):
            yield from finished()
            has_entities = bool(event.entities)
            name = (event.intent or {}).get(INTENT_NAME_KEY)
            intent = name if loop is None and not has_entities else None
            actions = []
        elif isinstance(event, ActionExecuted) and intent:
            name = event.action_name
            if name in (ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME) or name is None:
                yield from finished()
                intent, actions = None, []
            elif not actions or actions[-1] not in forms:
                actions.append(name)
    yield from finished()


def learn_responses(
    trackers: Iterable[DialogueStateTracker], domain: Domain
) -> dict[str, tuple[str, ...]]:
    """The action sequence the bot runs for each intent outside forms.

    Only intents answered one way in all rules and stories are kept; an intent whose answer
    depends on the context (different actions in different stories) is left out.
    """
    forms = set(domain.form_names)
    return _agreed(pair for tracker in trackers for pair in _responses_in(tracker, forms))


def _agreed(pairs: Iterable[tuple[str, tuple]]) -> dict[str, tuple[str, ...]]:
    """(key, actions) pairs as one action sequence per key, for the keys answered one way only."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for key, actions in pairs:
        seen[key][actions] += 1
    return {key: next(iter(answers)) for key, answers in sorted(seen.items()) if len(answers) == 1}


def _answers_after(
    tracker: DialogueStateTracker, questions: set[str], intents: set[str]
) -> Iterable[tuple[str, tuple]]:
    """(question, actions) for each user turn with one of `intents` right after a question."""
    previous: str | None = None
    question: str | None = None
    actions: list[str] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            name = (event.intent or {}).get(INTENT_NAME_KEY)
            question = previous if previous in questions and name in intents else None
            actions = []
        elif isinstance(event, ActionExecuted):
            name = event.action_name
            if name in (ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME) or name is None:
                if question and actions:
                    yield question, tuple(actions)
                question = None
            else:
                previous = name
                if question:
                    actions.append(name)
    if question and actions:
        yield question, tuple(actions)


def learn_answers_after(
    trackers: Iterable[DialogueStateTracker], questions: Iterable[str], intents: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """The action sequence the bot runs when one of `intents` answers each of `questions`
    (e.g. a "no" to a yes/no confirmation), kept only where the rules and stories agree."""
    questions, intents = set(questions), set(intents)
    return _agreed(
        pair for tracker in trackers for pair in _answers_after(tracker, questions, intents)
    )
