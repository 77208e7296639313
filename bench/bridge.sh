#!/usr/bin/env bash
# Bridge throughput, Starling -> Mosquitto (docs/integrations.md, "Bridges"; figures in docs/benchmarks.md). Starts a
# Mosquitto broker and a Starling broker whose bridge forwards bench/# to it, then for each QoS publishes N messages
# to Starling with `mosquitto_pub -l` (one connection, pipelined) while `mosquitto_sub` on Mosquitto counts them; the
# rate is the messages received by the subscriber over the time from the first publish to the last message received.
#
#   bench/bridge.sh                          # QoS 0 and 1, 100000 messages of 64 bytes each, 3 runs
#   N=20000 RUNS=1 bench/bridge.sh           # a short check
#   QOS="1" SIZE=1024 bench/bridge.sh
#
# Environment: N (100000), SIZE (payload bytes, 64), QOS ("0 1"), RUNS (3), PROTOCOL (bridge protocol, "3.1.1"),
# TIMEOUT (seconds one run may take, 120), STARLING_ARGS (more arguments for `bin/starling broker`).
# Needs /usr/sbin/mosquitto, mosquitto_pub and mosquitto_sub (Debian packages mosquitto, mosquitto-clients).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=${N:-100000}
SIZE=${SIZE:-64}
QOS=${QOS:-"0 1"}
RUNS=${RUNS:-3}
PROTOCOL=${PROTOCOL:-3.1.1}
TIMEOUT=${TIMEOUT:-120}
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

payload=$(head -c "$SIZE" /dev/zero | tr '\0' 'x')
awk -v n="$N" -v p="$payload" 'BEGIN { for (i = 0; i < n; i++) print p }' >"$work/messages"

printf '%-5s %-4s %10s %10s %12s\n' qos run received seconds msg/s
for q in $QOS; do
  for run in $(seq 1 "$RUNS"); do
    topic="bench/q$q/r$run"
    mosquitto_sub -p "$mport" -t "$topic" -q "$q" -C "$N" -W "$TIMEOUT" -F '%U' >"$work/received" 2>/dev/null &
    sub=$!
    sleep 0.5 # time for mosquitto_sub to subscribe (a benchmark, not a test: nothing else to wait on)
    t0=$(date +%s.%N)
    mosquitto_pub -p "$sport" -t "$topic" -q "$q" -l <"$work/messages"
    wait "$sub" || true
    got=$(wc -l <"$work/received")
    # the time of the last message received (%U: Unix time with nanoseconds), else now
    last=$(tail -n 1 "$work/received" | tr -d ' ')
    [ -n "$last" ] || last=$(date +%s.%N)
    awk -v q="$q" -v r="$run" -v n="$got" -v t0="$t0" -v t1="$last" \
      'BEGIN { s = t1 - t0; printf "%-5s %-4s %10d %10.2f %12.0f\n", q, r, n, s, (s > 0 ? n / s : 0) }'
  done
done
