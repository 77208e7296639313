#!/usr/bin/env bash
# Cluster benchmark: three Starling nodes on this machine (one cluster, node link on loopback) driven by the native
# generator (bench/gen), in three placements for each scenario:
#   single  a broker without a cluster section, publishers and subscribers on it (the reference);
#   same    publishers and subscribers on node 1 of the cluster (what a cluster costs a node that needs no peer);
#   cross   publishers on node 1, subscribers on node 2 (every message crosses the node link).
# Scenarios: s2 (QoS 1 pairs) and s3 (fan-out), as docs/bench.md describes them. Prints one RESULT line per run and a
# table of delivered messages per second and p99 latency (medians over the runs).
#
#   bench/cluster.sh                                   # s2 and s3, 3 runs each, 20 s windows
#   RUNS=1 BENCH_DURATION=3 BENCH_WARMUP=2 bench/cluster.sh    # a short check that everything works
#
# Environment: RUNS (3), SCENARIOS ("s2 s3"), PLACEMENTS ("single same cross"), BENCH_DURATION / BENCH_WARMUP
# (passed to the generator), BASE_PORT (18880: MQTT ports BASE..BASE+3, membership +10.., link +20.., admin +30..).
# The machine is shared by everything on it: the three nodes, the generator and whatever else runs; read the
# other_cpu field of each RESULT line before trusting a figure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=${RUNS:-3}
SCENARIOS=${SCENARIOS:-"s2 s3"}
PLACEMENTS=${PLACEMENTS:-"single same cross"}
base=${BASE_PORT:-18880}
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

"$root/bench/gen/run" build >/dev/null
wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# ------------------------------------------------------------------------------------------------ brokers
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/cluster.secret"
chmod 600 "$work/cluster.secret"
members="127.0.0.1:$((base + 11)), 127.0.0.1:$((base + 12)), 127.0.0.1:$((base + 13))"

start() { # NAME MQTT_PORT ADMIN_PORT CONFIG
  "$root/bin/starling" broker --config "$4" --admin-port "$3" >>"$work/$1.log" 2>&1 &
  pids+=($!)
  declare -g "pid_$1=$!"
  wait_port "$2" || { echo "cluster.sh: $1 did not start" >&2; tail -20 "$work/$1.log" >&2; exit 1; }
}

cat >"$work/single.yaml" <<EOF
bind: 127.0.0.1
port: $base
data-dir: $work/data-single
storage: memory
EOF
for i in 1 2 3; do
  cat >"$work/n$i.yaml" <<EOF
bind: 127.0.0.1
port: $((base + i))
data-dir: $work/data-n$i
storage: memory
cluster:
  node-name: n$i
  bind: 127.0.0.1
  membership-port: $((base + 10 + i))
  link-port: $((base + 20 + i))
  members: [$members]
  secret-file: $work/cluster.secret
EOF
done

echo "cluster.sh: starting a single broker and a cluster of three (logs in $work)" >&2
[[ " $PLACEMENTS " == *" single "* ]] && start single "$base" "$((base + 30))" "$work/single.yaml"
# the nodes refuse clients until a majority has joined: wait for the MQTT port, then for a CONNACK that accepts
for i in 1 2 3; do
  "$root/bin/starling" broker --config "$work/n$i.yaml" --admin-port "$((base + 30 + i))" >>"$work/n$i.log" 2>&1 &
  pids+=($!)
  declare -g "pid_n$i=$!"
done
for i in 1 2 3; do
  wait_port "$((base + i))" || { echo "cluster.sh: n$i did not start" >&2; tail -20 "$work/n$i.log" >&2; exit 1; }
  for _ in $(seq 1 600); do "$root/bench/gen/run" probe 127.0.0.1 "$((base + i))" >/dev/null 2>&1 && break; sleep 0.1; done
done

# ------------------------------------------------------------------------------------------------ runs
results="$work/results.txt"
run() { # PLACEMENT SCENARIO
  local placement=$1 scen=$2 line pid opts
  case "$placement" in
    single) pid=$pid_single; port=$base; opts="" ;;
    same) pid=$pid_n1; port=$((base + 1)); opts="" ;;
    cross) pid=$pid_n1; port=$((base + 1)); opts="-O $((base + 2))" ;;
  esac
  line=$(BROKER_PID=$pid BENCH_GEN_OPTS="$opts ${BENCH_GEN_OPTS:-}" "$root/bench/gen/run" "$scen" 127.0.0.1 "$port" \
    2>/dev/null | grep '^RESULT' | tail -1 || true)
  echo "$placement $scen $line" | tee -a "$results" >&2
}
for scen in $SCENARIOS; do
  for r in $(seq 1 "$RUNS"); do
    for placement in $PLACEMENTS; do run "$placement" "$scen"; done
  done
done

# ------------------------------------------------------------------------------------------------ table
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
printf '\n| scenario | placement | delivered msg/s | p99 latency (ms) | runs |\n|---|---|---:|---:|---:|\n'
for scen in $SCENARIOS; do
  for placement in $PLACEMENTS; do
    sel=$(grep "^$placement $scen RESULT" "$results" || true)
    n=$(grep -c . <<<"$sel" || true)
    [ -z "$sel" ] && n=0
    rate=$(field delivered_per_s <<<"$sel" | median)
    p99=$(field latency_p99_ms <<<"$sel" | median)
    printf '| %s | %s | %s | %s | %s |\n' "$scen" "$placement" "$rate" "$p99" "$n"
  done
done
