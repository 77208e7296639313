#!/usr/bin/env bash
# Bridge throughput, Starling -> Mosquitto (docs/integrations.md, "Bridges"; figures in docs/benchmarks.md). Starts a
# Mosquitto broker and a Starling broker whose bridge forwards bench/# to it, then for each QoS runs
# `starling bench pub` (PUBS publishers, flat out) against Starling for DURATION seconds while `mosquitto_sub` on
# Mosquitto timestamps every message it receives; the rate is the messages received over the time from the first to
# the last. The bridge is one connection on one event loop: this is what one bridge carries.
#
#   bench/bridge.sh                          # QoS 0 and 1, 64-byte payloads, 20 s, 3 runs
#   DURATION=5 RUNS=1 bench/bridge.sh        # a short check
#   QOS="1" SIZE=1024 bench/bridge.sh
#
# Environment: DURATION (20), PUBS (4), SIZE (payload bytes, 64), QOS ("0 1"), RUNS (3), PROTOCOL (bridge protocol,
# "3.1.1"), STARLING_ARGS (more arguments for `bin/starling broker`).
# Needs /usr/sbin/mosquitto, mosquitto_pub and mosquitto_sub (Debian packages mosquitto, mosquitto-clients).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-20}
PUBS=${PUBS:-4}
SIZE=${SIZE:-64}
QOS=${QOS:-"0 1"}
RUNS=${RUNS:-3}
PROTOCOL=${PROTOCOL:-3.1.1}
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bridge.sh: nothing listens on port $1" >&2
  return 1
}

mport=$(free_port)
sport=$(free_port)
cat >"$work/mosquitto.conf" <<CONF
user $(id -un)
allow_anonymous true
max_queued_messages 0
max_inflight_messages 100
log_dest none
listener $mport 127.0.0.1
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.out" 2>&1 &
pids+=($!)
wait_port "$mport"

cat >"$work/starling.yaml" <<CONF
port: $sport
bind: 127.0.0.1
storage: memory
max-queued-messages: 1000000
max-queued-bytes: 1000000000
max-inflight-messages: 100
admin: {enabled: false}
bridges:
  - name: bench
    addresses: ["127.0.0.1:$mport"]
    protocol: "$PROTOCOL"
    topics:
      - {pattern: "bench/#", direction: out, qos: 2}
CONF
# shellcheck disable=SC2086
STARLING_LOG_LEVEL=WARN "$root/bin/starling" broker --config "$work/starling.yaml" ${STARLING_ARGS:-} \
  >"$work/starling.out" 2>&1 &
pids+=($!)
wait_port "$sport"
# the bridge's state topic is retained: "1" once it is connected and subscribed
for _ in $(seq 1 300); do
  state=$(mosquitto_sub -p "$sport" -t '$SYS/broker/connection/bench/state' -C 1 -W 2 2>/dev/null || true)
  [ "$state" = "1" ] && break
  sleep 0.1
done
[ "$state" = "1" ] || { echo "bridge.sh: the bridge did not connect" >&2; cat "$work/starling.out" >&2; exit 1; }

printf '%-5s %-4s %12s %12s %12s\n' qos run received window_s msg/s
for q in $QOS; do
  for run in $(seq 1 "$RUNS"); do
    topic="bench/q$q/r$run"
    # each message received is one line: its arrival time (%U: Unix time with nanoseconds)
    mosquitto_sub -p "$mport" -t "$topic/#" -q "$q" -W $((DURATION + 10)) -F '%U' >"$work/received" 2>/dev/null &
    sub=$!
    sleep 0.5 # time for mosquitto_sub to subscribe (a benchmark, not a test: nothing else to wait on)
    "$root/bin/starling" bench pub -p "$sport" -c "$PUBS" -q "$q" -s "$SIZE" -t "$topic/%i" \
      --duration "$DURATION" --warmup 0 >"$work/bench.out" 2>&1 || { cat "$work/bench.out" >&2; exit 1; }
    wait "$sub" || true
    # the rate at which messages reached Mosquitto: from the first to the last one received
    awk -v q="$q" -v r="$run" 'NR == 1 { first = $1 } { last = $1; n++ }
      END { s = last - first; printf "%-5s %-4s %12d %12.2f %12.0f\n", q, r, n, s, (s > 0 ? (n - 1) / s : 0) }' \
      "$work/received"
  done
done
dropped=$(grep -c 'full' "$work/starling.out" || true)
[ "$dropped" -eq 0 ] || echo "note: the bridge's queue was full at times (Starling's log); QoS 0 messages were dropped" >&2
