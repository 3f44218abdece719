#!/usr/bin/env bash
# The example bot in a browser: set up, seed the demo shop, train the bot, start the action server
# and `rasa run` with the signed channels, and print the web chat address with a fresh demo
# customer token.
#
#   bash scripts/run_web_chat.sh                    # chat as the demo customer C1001
#   CUSTOMER_ID=C1002 bash scripts/run_web_chat.sh
#   RASA_PORT=8080 bash scripts/run_web_chat.sh     # the chat on another port (default 5005)
#
# Secrets: CUSTOMER_TOKEN_SECRET (signs customer tokens), ACTION_SERVER_TOKEN (Rasa -> action
# server) and RASA_API_TOKEN (Rasa's HTTP API) are taken from the environment, or generated for
# this run only when unset. Both servers listen on 127.0.0.1 only (HOST=0.0.0.0 to open the
# chat to your network, e.g. to try it on a phone).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CUSTOMER_ID="${CUSTOMER_ID:-C1001}"
RASA_PORT="${RASA_PORT:-5005}"
HOST="${HOST:-127.0.0.1}"
# The port of action_endpoint in example_bot/endpoints.yml.
ACTIONS_PORT=5055

bash "$ROOT/scripts/setup.sh"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false
PYTHON="$ROOT/.venv/bin/python"
RASA="$ROOT/.venv/bin/rasa"
cd "$ROOT/example_bot"

new_secret() { "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
for name in CUSTOMER_TOKEN_SECRET ACTION_SERVER_TOKEN RASA_API_TOKEN; do
    if [ -z "${!name:-}" ]; then
        export "$name=$(new_secret)"
        echo "== $name was not set: generated one for this run"
    fi
done

echo "== Seeding the demo shop database"
"$PYTHON" -m shop.seed --keep-existing

echo "== Training the example bot (cached when nothing changed)"
started=$(date +%s)
"$RASA" train --fixed-model-name voltnest --out models
echo "== Training took $(( $(date +%s) - started )) s"

pids=()
stop_servers() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_servers EXIT

# wait_for NAME PID URL LOG: polls URL until it answers, fails when the process is gone.
wait_for() {
    for _ in $(seq 1 300); do
        if curl -fs "$3" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$2" 2>/dev/null; then
            echo "The $1 stopped (example_bot/$4):" >&2
            tail -n 5 "$4" >&2
            exit 1
        fi
        sleep 1
    done
    echo "The $1 did not start within 5 minutes; see example_bot/$4" >&2
    exit 1
}

echo "== Starting the action server on port $ACTIONS_PORT"
"$PYTHON" -m rasa_llm_components.repair.action_server --actions actions \
    --port "$ACTIONS_PORT" --health-check database=actions.common:check_shop_database \
    > actions.log 2>&1 &
pids+=($!)
wait_for "action server" "${pids[-1]}" "http://127.0.0.1:$ACTIONS_PORT/health" actions.log

echo "== Starting the bot with the web chat on $HOST:$RASA_PORT"
"$RASA" run --model models/voltnest.tar.gz --interface "$HOST" --port "$RASA_PORT" \
    --credentials credentials.yml --endpoints endpoints.yml \
    --enable-api --auth-token="$RASA_API_TOKEN" > rasa.log 2>&1 &
pids+=($!)
wait_for "Rasa server" "${pids[-1]}" "http://127.0.0.1:$RASA_PORT/status?token=$RASA_API_TOKEN" \
    rasa.log

token="$("$PYTHON" -m rasa_llm_components.channels.tokens --customer "$CUSTOMER_ID")"
browser_host="$HOST"
if [ "$HOST" = "0.0.0.0" ]; then
    browser_host=127.0.0.1
fi
cat <<EOF

== The web chat is running (logs: example_bot/rasa.log, example_bot/actions.log).

   As customer $CUSTOMER_ID (the token is valid for one hour):
     http://$browser_host:$RASA_PORT/webchat/#token=$token

   As an anonymous visitor:
     http://$browser_host:$RASA_PORT/webchat/

   Try: 'where is my order?', 'I want to return something', 'do you ship to Canada?'
   Press Ctrl+C to stop both servers.
EOF
wait "${pids[-1]}"
