#!/usr/bin/env bash
# Retained-message figures for docs/benchmarks.md ("Retained messages"):
#   1. fill: N retained messages of S bytes, each on its own topic (starling bench retained, QoS 1);
#   2. restart: stop the broker (SIGTERM), start it again; time from the start of the process to the first
#      CONNACK, heap used after a full GC (jcmd GC.run, GC.heap_info), RSS;
#   3. receive: one '#' subscriber (QoS 1) is timed until it has received all N; heap and RSS after.
# Usage: bench/retained.sh [N] [S]      (default 1000000 1024; needs the built jar: mvn -q package -DskipTests)
#   JAR=path/to/starling.jar  measures another build (an older one, for comparison); the generator is always
#                             this tree's jar
#   BROKER_OPTS               JVM options of the broker (default -Xms512m -Xmx2g -Xmn64m -XX:+UseParallelGC)
#   STORAGE=memory            the same without RocksDB (no restart: the retained messages would be gone)
#   LIMIT_KEYS=0              never write max-retained-* into the config (for builds that do not know them)
#   GEN_OPTS                  more options for the generator, e.g. '-V 5' (5.0 publishers count 0x97 refusals)
# Everything it runs is in this repository: the generator is `starling bench retained` (the scenario is not one of
# the native generator's), and the broker's readiness is probed by the native generator (probe).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GEN_JAR="$ROOT/starling-cli/target/starling.jar"
JAR="${JAR:-$GEN_JAR}"
JAVA="${JAVA:-java}"
PORT="${PORT:-18992}"
N="${1:-1000000}"
SIZE="${2:-1024}"
STORAGE="${STORAGE:-rocksdb}"
WORK="$(mktemp -d /tmp/starling-retained.XXXXXX)"
BROKER_OPTS="${BROKER_OPTS:--Xms512m -Xmx2g -Xmn64m -XX:+UseParallelGC}"
PID=""
LOAD_GEN="$("$ROOT/bench/gen/run" build)"   # compiles the native generator (and readiness probe) if needed

stop() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$1" "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=""
}
trap 'stop -KILL; rm -rf "$WORK"' EXIT

# start_broker: starts the broker and waits for its first CONNACK; sets STARTUP_S
start_broker() {
  {
    echo "bind: 127.0.0.1"
    echo "port: $PORT"
    echo "data-dir: $WORK/data"
    echo "storage: $STORAGE"
    echo "fsync: os"
    # the defaults (1,000,000 messages, 4 GiB) hold the default run; more needs more
    if [ "$N" -gt 1000000 ] && [ "${LIMIT_KEYS:-1}" = 1 ]; then
      echo "max-retained-messages: $N"
      echo "max-retained-bytes: 0"
    fi
  } > "$WORK/starling.yaml"
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

heap() { # heap used after a full GC, MB (young + old)
  jcmd "$PID" GC.run > /dev/null 2>&1 || true
  local kb
  kb=$(jcmd "$PID" GC.heap_info 2>/dev/null | grep -o 'used [0-9]*K' | tr -d 'usedK ' | paste -sd+ | bc)
  echo "$((kb / 1024)) MB"
}

rss() {
  awk '/VmRSS/{printf "%d MB", $2 / 1024}' "/proc/$PID/status"
}

gen() { # the generator of this tree
  # shellcheck disable=SC2086
  $JAVA -Xmx1g -jar "$GEN_JAR" bench retained -p "$PORT" --messages "$N" -s "$SIZE" -q 1 --quiet ${GEN_OPTS:-} "$@"
}

echo "## $N retained messages of $SIZE B, storage: $STORAGE ($(date -u +%F), $(nproc) cores, broker $BROKER_OPTS)"
echo "jar: $JAR"
start_broker
echo "- start-up of an empty broker to the first CONNACK: $STARTUP_S s; heap $(heap), RSS $(rss)"
if ! out=$(gen -c 4 --subscribers 0 --inflight 256 2>&1); then
  echo "$out" | grep -E '^(fill|error)' | sed 's/^/- /'
  if grep -q "OutOfMemoryError" "$WORK/broker.log"; then
    echo "- the broker ran out of heap: $(grep -m1 "OutOfMemoryError" "$WORK/broker.log" | cut -c1-160)"
  fi
  exit 0
fi
echo "- $(echo "$out" | grep '^fill')"
echo "- heap after the fill $(heap), RSS $(rss); disk $(du -sm "$WORK/data" | cut -f1) MB"
if [ "$STORAGE" = rocksdb ]; then
  stop -TERM
  start_broker
  echo "- restart: first CONNACK $STARTUP_S s after the start of the process (JVM start included)"
  grep -h "store opened" "$WORK/broker.log" | tail -1 | sed 's/^.*RocksDbStore - /  log: /'
  echo "- heap after the restart $(heap), RSS $(rss)"
fi
t0=$(date +%s.%N)
out=$(gen -c 0 --subscribers 1 2>&1) || true
t1=$(date +%s.%N)
echo "$out" | grep -E '^(receive|error)' | sed 's/^/- /'
echo "  (the subscriber's process, JVM start and connection included: $(echo "$t1 - $t0" | bc) s)"
echo "- heap after the subscriber got them all $(heap), RSS $(rss)"
stop -TERM
