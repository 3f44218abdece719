#!/usr/bin/env bash
# Re-resolves requirements/requirements.in into requirements/lock.txt (one resolve for everything).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" >/dev/null 2>&1 || true
"$ROOT/.venv/bin/uv" pip compile "$ROOT/requirements/requirements.in" \
    --python "$ROOT/.venv/bin/python" -o "$ROOT/requirements/lock.txt"
