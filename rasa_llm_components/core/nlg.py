"""`LLMNaturalLanguageGenerator`: writes the text of `utter_llm_answer` without blocking Rasa.

Configure it in `endpoints.yml`::

    nlg:
      type: rasa_llm_components.LLMNaturalLanguageGenerator
      timeout: 10            # seconds for the whole LLM answer; the domain text after that
      responses: [utter_llm_answer]
      llm: {}                # optional overrides of the model's LLM settings (e.g. base_url)
      answer: {}             # optional overrides of the answer settings

Design:

- Rasa's graph (NLU and policies) runs synchronously inside the server's event loop, so
  nothing slow may run there. `LLMResponsePolicy` only predicts `utter_llm_answer`; Rasa then
  awaits `generate()` here, in async code, where retrieval runs in a one-thread executor and the
  LLM is called through an async client (the embedded llama.cpp model runs in its own worker
  process). Other conversations keep being served while an answer is being generated.
- The knowledge index and the LLM settings belong to the trained model. When the model is loaded,
  `LLMResponsePolicy.load` registers them as an `LLMRuntime` under the model id (see
  `core/runtime.py`); this class looks up the runtime of the tracker's `model_id` on each call.
  It therefore works with `rasa run`, `rasa shell` and
  model replacement through the HTTP API without passing anything through events.
- Every other response, and `utter_llm_answer` whenever generation fails, times out or no model
  with the policy is loaded, comes from the domain templates (the domain's text for
  `utter_llm_answer` is the polite fallback). The class *is* a `TemplatedNaturalLanguageGenerator`
  so that Rasa's `Agent.load_model` hands it the loaded domain's responses (Rasa builds the NLG
  before the model, with an empty domain, and only refreshes templated generators); responses
  that custom actions send by name (`dispatcher.utter_message(response=...)`) thus work.
- A generated or extractive reply carries the passages it used as
  `{"custom": {"sources": [{"id": ..., "title": ...}], "answer_kind": ...}}`. The REST channel
  returns that as a second message `{"recipient_id": ..., "custom": {...}}` after the text; the
  `BotUttered` event in the tracker holds both. `rasa shell` gets the text only (it would print
  the payload as raw JSON); the sources stay in the stored answer diagnostics.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from rasa_llm_components.answering import (
    ANSWER_METADATA_KEY,
    FAILED,
    AnswerResult,
    ConversationContext,
)
from rasa_llm_components.answering.settings import AnswerConfigError, answer_config
from rasa_llm_components.config_validation import check_known_options
from rasa_llm_components.core.runtime import get_runtime, register_generator
from rasa_llm_components.llm import LLMConfigError, llm_config

logger = logging.getLogger(__name__)
# The channel of `rasa shell` (`CmdlineInput.name()`).
CONSOLE_CHANNEL = "cmdline"

DEFAULT_NLG_CONFIG: dict[str, Any] = {
    "timeout": 10.0,
    "responses": ["utter_llm_answer"],
    "llm": {},
    "answer": {},
}
NLG_OWNER = "LLMNaturalLanguageGenerator ('nlg' in endpoints.yml)"


class NLGConfigError(RasaException, ValueError):
    """The `nlg:` options of `LLMNaturalLanguageGenerator` in endpoints.yml are invalid."""


def nlg_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """The NLG options over their defaults; raises `NLGConfigError` naming a bad option."""
    check_known_options(
        NLG_OWNER, options, DEFAULT_NLG_CONFIG, error=NLGConfigError, allow_rasa_keys=False
    )
    merged = {**DEFAULT_NLG_CONFIG, **(options or {})}
    timeout = merged["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise NLGConfigError(f"{NLG_OWNER}: 'timeout' must be a number of seconds > 0.")
    responses = merged["responses"]
    if isinstance(responses, str):
        responses = [responses]
    if not isinstance(responses, (list, tuple)) or not all(
        isinstance(name, str) and name for name in responses
    ):
        raise NLGConfigError(f"{NLG_OWNER}: 'responses' must be a list of response names.")
    merged["responses"] = list(responses)
    try:
        llm_config(merged["llm"])
        answer_config(merged["answer"])
    except (LLMConfigError, AnswerConfigError) as error:
        raise NLGConfigError(f"{NLG_OWNER}: {error}") from error
    return merged


def conversation_context(
    tracker: DialogueStateTracker, slot_names: list[str], max_turns: int = 4
) -> ConversationContext:
    """The latest user text, the turns before it and the relevant slots of a tracker."""
    question = ""
    if tracker.latest_message is not None and tracker.latest_message.text:
        question = tracker.latest_message.text
    turns: list[tuple[str, str]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered) and event.text:
            turns.append(("user", event.text))
        elif isinstance(event, BotUttered) and event.text:
            turns.append(("bot", event.text))
    # Drop the question itself (the last user turn).
    for position in range(len(turns) - 1, -1, -1):
        if turns[position][0] == "user":
            turns = turns[:position]
            break
    slots = {name: tracker.get_slot(name) for name in slot_names if tracker.slots.get(name)}
    slots = {name: value for name, value in slots.items() if value not in (None, "")}
    intent = None
    if tracker.latest_message is not None:
        intent = (tracker.latest_message.intent or {}).get("name")
    return ConversationContext(
        question=question, history=turns[-max_turns:], slots=slots, intent=intent
    )


@contextmanager
def replayable_variations(tracker: DialogueStateTracker) -> Iterator[None]:
    """Picks response variations from the conversation id and its length (since the latest
    restart), not at random.

    Rasa draws a response variation with numpy's global generator. Seeding it from the
    conversation makes a conversation replay with the same replies (tests, `rasa test`, bug
    reports) while different conversations still see different variations. The templated
    generator draws synchronously, so no other conversation runs in between.
    """
    turn = len(tracker.events_after_latest_restart())
    digest = hashlib.sha256(f"{tracker.sender_id}:{turn}".encode()).digest()
    state = np.random.get_state()
    np.random.seed(int.from_bytes(digest[:4], "little"))
    try:
        yield
    finally:
        np.random.set_state(state)


class LLMNaturalLanguageGenerator(TemplatedNaturalLanguageGenerator):
    """Generates grounded answers for the LLM response; templates for everything else."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        self.domain = domain or Domain.empty()
        super().__init__(self.domain.responses)
        options = nlg_options(endpoint_config.kwargs if endpoint_config is not None else None)
        self.timeout = float(options["timeout"])
        self.llm_responses = set(options["responses"])
        self.llm_overrides = dict(options.get("llm") or {})
        self.answer_overrides = dict(options.get("answer") or {})
        register_generator(self)  # a loaded model warms up the LLM this NLG calls

    async def _from_template(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        kwargs: dict[str, Any],
    ) -> dict[str, Any] | None:
        # Response actions pass the current domain's responses; for custom actions' responses
        # `self.responses` holds the ones `Agent.load_model` set.
        responses = kwargs.get("domain_responses")
        with replayable_variations(tracker):
            if responses:
                generator = TemplatedNaturalLanguageGenerator(responses)
                return await generator.generate(utter_action, tracker, output_channel, **kwargs)
            return await super().generate(utter_action, tracker, output_channel, **kwargs)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        if utter_action not in self.llm_responses:
            return await self._from_template(utter_action, tracker, output_channel, kwargs)
        result = await self.answer(tracker)
        logger.info(
            "LLM answer for %s: %s (retrieval %.2f)%s",
            tracker.sender_id,
            result.kind,
            result.retrieval_score,
            f", {result.reason}" if result.reason else "",
        )
        if result.text is None:
            message = await self._from_template(utter_action, tracker, output_channel, kwargs)
        else:
            message = {"text": result.text}
            # `rasa shell` would print the payload as raw JSON after every answer; the sources
            # stay in the stored diagnostics there.
            # (Rasa names the output channel "collector" for REST and the shell alike; the
            # tracker knows where the message came from.)
            shell = tracker.get_latest_input_channel() == CONSOLE_CHANNEL
            if result.sources and not shell:
                message["custom"] = result.custom_payload()
        if message is not None:
            # Rasa keeps unknown keys of a generated message as the bot event's metadata: stored
            # in the tracker (for the repair layer and reviews), never sent to the customer.
            message[ANSWER_METADATA_KEY] = result.diagnostics()
        return message

    async def answer(self, tracker: DialogueStateTracker) -> AnswerResult:
        """Runs the grounded answerer under `timeout`; a failure yields a FAILED result."""
        runtime = get_runtime(tracker.model_id)
        if runtime is None or runtime.index is None:
            logger.warning("No LLMResponsePolicy knowledge is loaded; using the domain response.")
            return AnswerResult(None, FAILED, reason="no runtime")
        started = time.monotonic()
        try:
            answerer = await runtime.answerer_async(self.llm_overrides, self.answer_overrides)
            context = conversation_context(
                tracker,
                list(answerer.config.get("slots") or []),
                int(answerer.config.get("max_history_turns", 4)),
            )
            if not context.question:
                return AnswerResult(None, FAILED, reason="no user text")
            # The answerer gives the LLM what is left of the budget; wait_for is the backstop.
            deadline = started + self.timeout * 0.9
            result = await asyncio.wait_for(answerer.answer(context, deadline), self.timeout)
        except asyncio.TimeoutError:
            logger.warning("LLM answer timed out after %.1f s.", self.timeout)
            return AnswerResult(None, FAILED, reason="timeout")
        except Exception:  # noqa: BLE001 - a reply must always come back
            logger.exception("LLM answer failed.")
            return AnswerResult(None, FAILED, reason="error")
        logger.debug(
            "LLM answer (%s, %.2f s): %s", result.kind, time.monotonic() - started, result.text
        )
        return result
