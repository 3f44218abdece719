"""One llama.cpp server for several Rasa replicas: `python -m rasa_llm_components.llm.serve`.

    python -m rasa_llm_components.llm.serve [--model-path FILE.gguf] [--host 127.0.0.1]
        [--port 8080] [--threads N] [--ctx 4096] [--parallel 2] [--api-key-env NAME] [--nice 0]

Serves llama.cpp's OpenAI-compatible API (`/v1/chat/completions`, `/health`) through
`xllamacpp.Server`, with the packaged SmolLM2 GGUF unless `--model-path` names another file.
Without it every `rasa run` would start its own embedded llama.cpp worker (one model copy and
its threads per replica); with it the replicas share one model through the NLG's endpoint
option in endpoints.yml:

    nlg:
      type: rasa_llm_components.LLMNaturalLanguageGenerator
      llm: {backend: openai, base_url: "http://127.0.0.1:8080/v1"}

Once the model is loaded it prints one JSON line `{"address": ..., "model_path": ..., "pid": ...}`
(so `--port 0` picks a free port and tells it), then serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from rasa_llm_components.llm.base import LLMConfigError
from rasa_llm_components.llm.llamacpp import resolve_model_path
from rasa_llm_components.llm.llamacpp_worker import build_params

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def default_threads() -> int:
    """Half the machine's cores (at least one): the other half stays with the Rasa replicas."""
    return max(1, (os.cpu_count() or 2) // 2)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rasa_llm_components.llm.serve",
        description="Serve a GGUF model over an OpenAI-compatible API for several Rasa servers.",
    )
    parser.add_argument(
        "--model-path", default=None, help="GGUF file (default: the packaged SmolLM2-135M)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument(
        "--threads", type=int, default=default_threads(), help="CPU threads of the model"
    )
    parser.add_argument(
        "--ctx", type=int, default=4096, help="context tokens in all, shared by the slots"
    )
    parser.add_argument(
        "--parallel", type=int, default=2, help="requests generated at the same time (slots)"
    )
    parser.add_argument(
        "--api-key-env",
        default=None,
        help="environment variable holding the API key clients must send (Bearer); "
        "the replicas name the same variable in `llm.api_key_env`",
    )
    parser.add_argument("--nice", type=int, default=0, help="lower the CPU priority by this")
    return parser


def server_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Checks the arguments and turns them into the settings of `build_params`."""
    if not 0 <= args.port <= 65535:
        raise LLMConfigError(f"--port must lie in 0..65535, got {args.port}.")
    for name in ("threads", "ctx", "parallel"):
        if getattr(args, name) < 1:
            raise LLMConfigError(f"--{name} must be at least 1, got {getattr(args, name)}.")
    if args.ctx < 256 * args.parallel:
        raise LLMConfigError(
            f"--ctx {args.ctx} leaves fewer than 256 tokens to each of the {args.parallel} "
            "slots; raise --ctx or lower --parallel."
        )
    return {
        "model_path": resolve_model_path(args.model_path),
        "n_ctx": args.ctx,
        "n_threads": args.threads,
        "n_parallel": args.parallel,
        "port": args.port,
    }


def api_key(env_name: str | None) -> str | None:
    """The API key from the environment variable `env_name` (None without one)."""
    if not env_name:
        return None
    key = os.environ.get(env_name, "")
    if not key:
        raise LLMConfigError(
            f"--api-key-env names ${env_name}, which is empty; set it or drop --api-key-env."
        )
    return key


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = server_settings(args)
        key = api_key(args.api_key_env)
    except LLMConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.host not in LOOPBACK_HOSTS and key is None:
        logger.warning(
            "Serving on %s without --api-key-env: anyone who reaches the port can use the model.",
            args.host,
        )
    if args.nice:
        try:
            os.nice(args.nice)
        except OSError:  # pragma: no cover - not permitted on some systems
            logger.warning("Could not lower the CPU priority by %d.", args.nice)
    # Block the stop signals before llama.cpp starts its threads, so that only sigwait sees them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    import xllamacpp

    params = build_params(settings)
    params.hostnames = [args.host]
    if key is not None:
        params.api_keys = [key]
    try:
        server = xllamacpp.Server(params)
    except Exception as error:  # noqa: BLE001 - xllamacpp raises plain exceptions
        print(f"error: llama.cpp could not start: {error}", file=sys.stderr)
        return 1
    ready = {"address": server.listening_address, "model_path": settings["model_path"]}
    print(json.dumps({**ready, "pid": os.getpid()}), flush=True)
    received = signal.sigwait(stop_signals)
    logger.info("Stopping on %s.", signal.Signals(received).name)
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
