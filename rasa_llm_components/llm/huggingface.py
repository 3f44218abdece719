"""A local Hugging Face causal language model (transformers + torch) loaded from a path."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from pathlib import Path
from typing import Any

from rasa_llm_components.llm.base import (
    ChatMessages,
    GenerationSettings,
    LLMBackend,
    LLMConfigError,
    LLMError,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class HuggingFaceBackend(LLMBackend):
    """Generates with `AutoModelForCausalLM` in a one-thread executor (torch releases the GIL)."""

    name = "huggingface"

    def __init__(
        self,
        model_path: str,
        n_threads: int = 0,
        settings: GenerationSettings | None = None,
    ) -> None:
        super().__init__(settings)
        if not model_path or not Path(model_path).expanduser().is_dir():
            raise LLMConfigError(
                f"Hugging Face model directory '{model_path}' does not exist. Set 'model_path' "
                "to a local directory with config.json, weights and tokenizer files."
            )
        self.model_path = str(Path(model_path).expanduser())
        self.n_threads = int(n_threads)
        self._model: Any = None
        self._tokenizer: Any = None
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hf-llm"
        )

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.n_threads > 0:
            torch.set_num_threads(self.n_threads)
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self._model = AutoModelForCausalLM.from_pretrained(self.model_path, local_files_only=True)
        self._model.eval()

    def _prompt_ids(self, messages: ChatMessages) -> Any:
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            encoded = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return encoded["input_ids"]
        text = "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"
        return tokenizer(text, return_tensors="pt")["input_ids"]

    def _generate_blocking(self, messages: ChatMessages, settings: GenerationSettings) -> str:
        import torch

        self._load()
        input_ids = self._prompt_ids(messages)
        kwargs: dict[str, Any] = {"max_new_tokens": settings.max_tokens}
        if settings.temperature > 0:
            kwargs.update(do_sample=True, temperature=settings.temperature)
        else:
            kwargs.update(do_sample=False)
        pad_id = self._tokenizer.pad_token_id or self._tokenizer.eos_token_id
        with torch.inference_mode():
            output = self._model.generate(
                input_ids,
                attention_mask=torch.ones_like(input_ids),
                pad_token_id=pad_id,
                **kwargs,
            )
        text = self._tokenizer.decode(output[0, input_ids.shape[1] :], skip_special_tokens=True)
        for stop in settings.stop:
            text = text.split(stop)[0]
        return text.strip()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._load)

    async def generate(
        self,
        messages: ChatMessages,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        settings = self.settings.merged(max_tokens=max_tokens, temperature=temperature)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, self._generate_blocking, messages, settings
            )
        except (OSError, RuntimeError, ValueError) as error:
            raise LLMError(f"Hugging Face generation failed: {error}") from error

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        self._model = None

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model_path": self.model_path}
