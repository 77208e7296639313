#!/usr/bin/env bash
# s1 and s2 (bench/gen, docs/bench.md) with and without a webhook on every message: the webhook's receiver, started
# here, answers each request after 50 ms, so it takes far fewer events than the broker makes; the rest are dropped
# and counted, and the MQTT figures should not change (docs/integrations.md, "Webhooks").
#
#   bench/webhook-bench.sh                                   # s1 and s2, without then with the webhook, 20 s each
#   BENCH_DURATION=3 BENCH_WARMUP=1 bench/webhook-bench.sh   # a quick check that it runs
#
# Environment: SCENARIOS ("s1 s2"), BENCH_DURATION / BENCH_WARMUP (passed to bench/gen/run), PORT (18893),
# RECEIVER_PORT (18894), ADMIN_PORT (18895), RECEIVER_DELAY_MS (50), WEBHOOK_BATCH (1: one event per request),
# WEBHOOK_TOPIC (the webhook's one topic filter, "#": every message; a filter that matches nothing measures the hook
# without the queue), WEBHOOK_EVENTS (the webhook's events, "message.published"; "client.connected" measures a
# webhook that is there but gets no message), ORDER ("without with"; "with without" runs the webhook first, to
# alternate the order over several runs and cancel drift).
# Prints the generator's RESULT line of each run and the webhook counters of each run with the webhook.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port=${PORT:-18893}
receiver_port=${RECEIVER_PORT:-18894}
admin_port=${ADMIN_PORT:-18895}
delay=${RECEIVER_DELAY_MS:-50}
batch=${WEBHOOK_BATCH:-1}
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$root/bench/gen/run" build >/dev/null
"$root/bin/starling" --version >/dev/null   # builds if needed

# the receiver: answers 204 after the delay, one thread per request
python3 - "$receiver_port" "$delay" >"$work/receiver.log" 2>&1 <<'PY' &
import http.server, sys, time
port, delay = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(delay)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)

wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_port "$receiver_port" || { echo "webhook-bench.sh: the receiver did not start" >&2; exit 1; }

metric() { curl -s "http://127.0.0.1:$admin_port/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

run() { # run SCENARIO with|without
  local conf="$work/$1-$2.yaml"
  printf 'port: %s\nadmin: {enabled: true, port: %s}\n' "$port" "$admin_port" >"$conf"
  if [ "$2" = with ]; then
    local events=${WEBHOOK_EVENTS:-message.published} topics=""
    case "$events" in *message.published*) topics=", topics: [\"${WEBHOOK_TOPIC:-#}\"]" ;; esac
    printf 'webhooks:\n  - {url: "http://127.0.0.1:%s/hook", events: [%s]%s, batch-size: %s, max-retries: 0}\n' \
      "$receiver_port" "$events" "$topics" "$batch" >>"$conf"
  fi
  "$root/bin/starling" broker --config "$conf" --data-dir "$work/data-$1-$2" >"$work/broker-$1-$2.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_port "$port" || { echo "webhook-bench.sh: the broker did not start" >&2; cat "$work/broker-$1-$2.log" >&2; exit 1; }
  echo "== $1, $2 webhook"
  BROKER_PID=$pid "$root/bench/gen/run" "$1" 127.0.0.1 "$port" | tail -1
  if [ "$2" = with ]; then
    echo "webhook: sent $(metric starling_webhook_sent_total) dropped $(metric starling_webhook_dropped_total)" \
      "failed $(metric starling_webhook_failed_total) queued $(metric starling_webhook_queued)"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for s in ${SCENARIOS:-s1 s2}; do
  for o in ${ORDER:-without with}; do
    run "$s" "$o"
  done
done
