#!/usr/bin/env bash
# The main job: set up, seed the demo shop, train the example bot and talk to it in the terminal.
#
#   bash scripts/run_example_bot.sh                 # chat as the demo customer C1001
#   CUSTOMER_ID=C1002 bash scripts/run_example_bot.sh
#   bash scripts/run_example_bot.sh --no-shell      # set up, seed and train only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CUSTOMER_ID="${CUSTOMER_ID:-C1001}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"

bash "$ROOT/scripts/setup.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3
RASA="$ROOT/.venv/bin/rasa"
cd "$ROOT/example_bot"

echo "== Seeding the demo shop database"
"$ROOT/.venv/bin/python" -m shop.seed --keep-existing

echo "== Training the example bot (cached when nothing changed)"
started=$(date +%s)
"$RASA" train --fixed-model-name voltnest --out models
echo "== Training took $(( $(date +%s) - started )) s"

if [ "${1:-}" = "--no-shell" ]; then
    exit 0
fi

# The action server accepts only calls with this shared secret; Rasa sends it (endpoints.yml).
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
    ACTION_SERVER_TOKEN="$("$ROOT/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')"
fi
export ACTION_SERVER_TOKEN

echo "== Starting the action server on 127.0.0.1:$ACTIONS_PORT (log: example_bot/actions.log)"
"$ROOT/.venv/bin/python" -m rasa_llm_components.repair.action_server --actions actions \
    --port "$ACTIONS_PORT" --health-check database=actions.common:check_shop_database \
    > actions.log 2>&1 &
actions_pid=$!
trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    if curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$actions_pid" 2>/dev/null; then
        echo "The action server stopped:" >&2
        tail -n 5 actions.log >&2
        exit 1
    fi
    sleep 1
done

echo "== Talking as customer $CUSTOMER_ID (see example_bot/README.md for orders to ask about)."
echo "   Try: 'where is my order ORD-10002', 'I want to return ORD-10001', 'do you ship to Canada?'"
"$RASA" shell --model models/voltnest.tar.gz --conversation-id "$CUSTOMER_ID"
