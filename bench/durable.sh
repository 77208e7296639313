#!/usr/bin/env bash
# Durable-storage figures for docs/benchmarks.md:
#   1. QoS 1 pairs (the shape of scenario s2: 50 pairs, 256 B, one message in flight per publisher) with
#      persistent sessions, for storage: memory, rocksdb + fsync: os, rocksdb + fsync: always, and clean sessions
#      on rocksdb for reference (they never touch the disk); driven by Starling's native generator (bench/gen,
#      GEN=own, the default) or by `starling bench pairs` (GEN=jvm). The reference generator of compare.sh
#      (GEN=shared there) opens clean sessions only, so it has no place here;
#   2. restart with 1,000,000 queued messages across 10,000 offline sessions: time to the first CONNACK after a
#      SIGKILL, heap and RSS after the restart, time to deliver them all, disk size before and after (10,000
#      publishers and subscribers with topic templates: `starling bench pub|sub`, the JVM generator).
# Usage: bench/durable.sh [pairs|restart|all]   (needs the built jar: mvn -q package -DskipTests)
# Everything it runs is in this repository; the broker's readiness is probed by the native generator (probe).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JAR="$ROOT/starling-cli/target/starling.jar"
JAVA="${JAVA:-java}"
PORT="${PORT:-18990}"
WORK="$(mktemp -d /tmp/starling-durable.XXXXXX)"
BROKER_OPTS="${BROKER_OPTS:--Xms512m -Xmx2g -Xmn64m -XX:+UseParallelGC}"
GEN="${GEN:-own}"
case "$GEN" in own|jvm) ;; *) echo "durable.sh: GEN must be own or jvm" >&2; exit 2 ;; esac
LOAD_GEN="$("$ROOT/bench/gen/run" build)"   # compiles the native generator (and readiness probe) if needed
bench() { # bench SCENARIO [OPTIONS]: starling bench against the broker of this script
  $JAVA -Xmx2g -jar "$JAR" bench "$1" -p "$PORT" "${@:2}"
}
ulimit -n 20000 || true
PID=""

stop() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$1" "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=""
}
trap 'stop -KILL; rm -rf "$WORK"' EXIT

# start_broker DATA_DIR STORAGE FSYNC [MAX_QUEUED]: starts the broker and waits for its first CONNACK
start_broker() {
  cat > "$WORK/starling.yaml" <<EOF
bind: 127.0.0.1
port: $PORT
data-dir: $1
storage: $2
fsync: $3
max-queued-messages: ${4:-1000}
EOF
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  $JAVA $BROKER_OPTS -jar "$JAR" broker --config "$WORK/starling.yaml" >> "$WORK/broker.log" 2>&1 &
  PID=$!
  until "$LOAD_GEN" probe -h 127.0.0.1 -p "$PORT"; do
    kill -0 "$PID" 2>/dev/null || { tail -20 "$WORK/broker.log"; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  STARTUP_S=$(echo "$t1 - $t0" | bc)
}

field() { # field NAME JSON
  echo "$2" | tr ',{}' '\n\n\n' | grep "\"$1\"" | head -1 | cut -d: -f2
}

resfield() { # resfield NAME RESULT_LINE
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

pairs() {
  echo "## QoS 1 pairs, 50 x 256 B, one in flight per publisher ($(date -u +%F), $(nproc) cores, generator: $GEN)"
  echo "| storage | sessions | delivered/s | p50 ms | p99 ms | broker CPU % |"
  echo "|---|---|---|---|---|---|"
  for mode in "memory always 3600" "rocksdb os 3600" "rocksdb always 3600" "rocksdb always 0"; do
    set -- $mode
    rm -rf "$WORK/data"
    start_broker "$WORK/data" "$1" "$2"
    local label="$1" rate p50 p99 cpu
    [ "$1" = rocksdb ] && label="rocksdb, fsync: $2"
    if [ "$GEN" = own ]; then
      local line
      # s2 with the session expiry: 3.1.1 CONNECTs with Clean Session 0 when it is not 0
      line=$(BROKER_PID=$PID BENCH_DURATION=10 BENCH_WARMUP=3 BENCH_GEN_OPTS="-x $3" \
             "$ROOT/bench/gen/run" s2 127.0.0.1 "$PORT" | grep '^RESULT' | tail -1)
      rate=$(resfield delivered_per_s "$line"); p50=$(resfield latency_p50_ms "$line")
      p99=$(resfield latency_p99_ms "$line"); cpu=$(resfield broker_cpu "$line")
    else
      local cpu0 cpu1 json
      cpu0=$(awk '{print $14+$15}' "/proc/$PID/stat")
      json=$(bench pairs -c 50 -q 1 -s 256 --inflight 1 --session-expiry "$3" --duration 10 --warmup 3 --json --quiet)
      cpu1=$(awk '{print $14+$15}' "/proc/$PID/stat")
      rate=$(field delivered_per_s "$json" | cut -d. -f1); p50=$(field latency_p50_ms "$json")
      p99=$(field latency_p99_ms "$json"); cpu=$(( (cpu1 - cpu0) * 100 / $(getconf CLK_TCK) / 13 ))
    fi
    stop -TERM
    echo "| $label | $([ "$3" = 0 ] && echo clean || echo persistent) | $rate | $p50 | $p99 | $cpu |"
  done
}

restart() {
  local sessions=10000
  echo "## Restart with about 1,000,000 queued messages across $sessions sessions ($(date -u +%F))"
  rm -rf "$WORK/data"
  start_broker "$WORK/data" rocksdb os 1000
  # persistent subscribers (3.1.1 Clean Session 0), one topic each, then offline
  bench sub -c $sessions -q 1 -V 311 --session-expiry 1 --prefix dur-sub -t 'dur/%i' --duration 1 --warmup 0 --quiet > /dev/null
  # $per QoS 1 messages of 64 B to each topic: one publisher per topic
  local json
  json=$(bench pub -c $sessions -q 1 -s 64 --inflight 10 --prefix dur-pub -t 'dur/%i' \
         --duration "${PUBLISH_S:-20}" --warmup 0 --json --quiet)
  echo "- published flat out for ${PUBLISH_S:-20} s by $sessions QoS 1 publishers: $(field acked_total "$json") acknowledged"
  sleep 2
  echo "- disk before the restart: $(du -sm "$WORK/data" | cut -f1) MB"
  stop -KILL
  start_broker "$WORK/data" rocksdb os 1000
  echo "- first CONNACK $STARTUP_S s after the start of the process (JVM start included)"
  grep "Recovered" "$WORK/broker.log" | tail -1 | sed 's/^.*Broker - /- /'
  jcmd "$PID" GC.run > /dev/null 2>&1 || true
  echo "- after the restart and a full GC: heap used $(jcmd "$PID" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | tr -d 'usedK ' | paste -sd+ | bc) KB (young + old), RSS $(awk '/VmRSS/{print $2" "$3}' /proc/$PID/status)"
  local t0 t1
  t0=$(date +%s.%N)
  json=$(bench sub -c $sessions -q 1 -V 311 --session-expiry 1 --prefix dur-sub -t 'dur/%i' --duration 30 --warmup 0 --json --quiet)
  t1=$(date +%s.%N)
  echo "- the $sessions subscribers reconnected and received $(field delivered_total "$json") messages in $(echo "$t1 - $t0" | bc) s (30 s window, connections included)"
  echo "- RSS after delivering: $(awk '/VmRSS/{print $2" "$3}' /proc/$PID/status)"
  stop -TERM
  echo "- disk after all are delivered (and a clean shutdown): $(du -sm "$WORK/data" | cut -f1) MB"
}

case "${1:-all}" in
  pairs) pairs ;;
  restart) restart ;;
  all) pairs; restart ;;
  *) echo "usage: $0 [pairs|restart|all]" >&2; exit 2 ;;
esac
