"""Parsing texts through a trained Rasa model while timing each parse."""

from __future__ import annotations

import asyncio
import time
from typing import Any

Prediction = tuple[str, float]
WARM_UP_MESSAGES = 20


def parse_timed(agent: Any, texts: list[str]) -> tuple[list[Prediction], list[float]]:
    """Top intent and confidence of each text, and the seconds each `parse_message` took.

    `Agent.parse_message` is the code behind the HTTP API's `/model/parse`.
    """

    async def run() -> tuple[list[Prediction], list[float]]:
        for text in texts[:WARM_UP_MESSAGES]:
            await agent.parse_message(text)
        predictions, latencies = [], []
        for text in texts:
            began = time.perf_counter()
            result = await agent.parse_message(text)
            latencies.append(time.perf_counter() - began)
            intent = result.get("intent") or {}
            predictions.append((intent.get("name"), float(intent.get("confidence") or 0.0)))
        return predictions, latencies

    return asyncio.run(run())
