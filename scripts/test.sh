#!/usr/bin/env bash
# Sets up .venv (if needed), then runs the linter and the whole test suite
# (unit and integration tests: real Rasa training, real servers, real models).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/system_packages.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/ruff check .
.venv/bin/python -m pytest -p no:cacheprovider --timeout 1800 -q "$@"
