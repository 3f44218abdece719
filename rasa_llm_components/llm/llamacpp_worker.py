"""A separate process that serves one GGUF model over llama.cpp's OpenAI-compatible HTTP API.

Started by `LlamaCppBackend` (mode `process`) as `python -m rasa_llm_components.llm.llamacpp_worker
'<json settings>'`. It prints one JSON line `{"address": "http://127.0.0.1:PORT"}` once the model
is loaded and serves until its stdin is closed, so it never outlives the Rasa process that
started it. Running the model in its own process keeps its CPU threads away from Rasa's event
loop and the GIL.
"""

from __future__ import annotations

import json
import os
import sys


def build_params(settings: dict):  # noqa: ANN201 - xllamacpp types have no stubs
    """Turns the worker settings into `xllamacpp.CommonParams`."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = settings["model_path"]
    params.n_ctx = int(settings.get("n_ctx", 2048))
    threads = int(settings.get("n_threads", 1))
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_parallel = int(settings.get("n_parallel", 1))
    params.n_gpu_layers = int(settings.get("n_gpu_layers", 0))
    params.hostnames = ["127.0.0.1"]
    params.port = int(settings.get("port", 0))
    params.endpoint_metrics = False
    return params


def main(argv: list[str]) -> int:
    settings = json.loads(argv[1]) if len(argv) > 1 else {}
    nice = int(settings.get("nice", 0))
    if nice:
        try:
            os.nice(nice)
        except OSError:  # pragma: no cover - not permitted on some systems
            pass
    import xllamacpp

    server = xllamacpp.Server(build_params(settings))
    sys.stdout.write(json.dumps({"address": server.listening_address, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    # Serve until the parent closes our stdin (or dies).
    for _ in sys.stdin:
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
