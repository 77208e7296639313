#!/usr/bin/env bash
# Side-by-side benchmark: runs the load scenarios of ../shared/bench (bench-mqtt, the lean C generator) against
# Starling and against Mosquitto on this machine, alternating, several runs each, and writes the medians and the
# ratios into docs/benchmarks.md (between the compare markers). A run whose other_cpu (load from outside the
# broker and the generator) is above OTHER_CPU_MAX is repeated, up to RETRIES times.
#
#   bench/compare.sh                 # s1..s5, 3 runs each
#   RUNS=5 SCENARIOS="s2 s4" bench/compare.sh
#
# Environment: RUNS (3), SCENARIOS ("s1 s2 s3 s4 s5"), BENCH_DURATION / BENCH_WARMUP / BENCH_CONNS (passed to
# bench-mqtt), OTHER_CPU_MAX (10), RETRIES (3), SHARED (path of the shared/ folder, default ../shared beside the
# checkout), NO_DOC=1 to print the table without touching docs/benchmarks.md, RESULTS=FILE to add this run's
# result lines to FILE and build the table from all of them (e.g. to redo one scenario).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED:-$root/../shared}"
bench="$shared/bench/bench-mqtt"
[ -x "$bench" ] || { echo "compare.sh: $bench not found (set SHARED)" >&2; exit 2; }
RUNS=${RUNS:-3}
SCENARIOS=${SCENARIOS:-"s1 s2 s3 s4 s5"}
OTHER_CPU_MAX=${OTHER_CPU_MAX:-10}
RETRIES=${RETRIES:-3}
SPORT=18870
MPORT=18871
work="$(mktemp -d)"
results="${RESULTS:-$work/results.txt}"   # RESULTS=file keeps adding to one file across invocations
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

command -v mosquitto >/dev/null 2>&1 || /usr/sbin/mosquitto -h >/dev/null 2>&1 || {
  echo "compare.sh: installing mosquitto" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
}
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)

cleanup() { [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null; [ -n "${mpid:-}" ] && kill "$mpid" 2>/dev/null; true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

start_starling() {
  "$root/bin/starling" broker --port "$SPORT" --data-dir "$work/data" >"$work/starling.log" 2>&1 &
  spid=$!
  wait_port "$SPORT" || { echo "compare.sh: Starling did not start" >&2; cat "$work/starling.log" >&2; exit 1; }
}
start_mosquitto() {
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\nlog_dest none\n' "$MPORT" \
    >"$work/mosquitto.conf"
  "$MOSQ" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
  mpid=$!
  wait_port "$MPORT" || { echo "compare.sh: Mosquitto did not start" >&2; exit 1; }
}
restart() { # fresh brokers before each s5 run, so the RSS delta is per run
  cleanup
  if [ -n "${spid:-}" ]; then wait "$spid" 2>/dev/null || true; fi
  if [ -n "${mpid:-}" ]; then wait "$mpid" 2>/dev/null || true; fi
  spid=; mpid=
  while (exec 3<>/dev/tcp/127.0.0.1/"$SPORT") 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/"$MPORT") 2>/dev/null; do
    sleep 0.2
  done
  start_starling; start_mosquitto
}

run_one() { # broker scenario port -> appends "broker scenario RESULT..." to results
  local broker=$1 scen=$2 port=$3 line other try tries=$RETRIES
  [ "$scen" = s5 ] && tries=1   # s5 measures the RSS growth of a fresh broker: a second try would not be fresh
  for try in $(seq 1 "$tries"); do
    line=$("$bench" "$scen" 127.0.0.1 "$port" 2>/dev/null | grep '^RESULT' | tail -1 || true)
    other=$(sed -n 's/.*other_cpu=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -n "$line" ] && { [ -z "$other" ] || [ "$other" -le "$OTHER_CPU_MAX" ]; }; then break; fi
    echo "  ($broker $scen: other_cpu=${other:-?}, repeating)" >&2
  done
  echo "$broker $scen $line" | tee -a "$results" >&2
}

echo "compare.sh: building and starting brokers" >&2
start_starling
start_mosquitto
for scen in $SCENARIOS; do
  for run in $(seq 1 "$RUNS"); do
    [ "$scen" = s5 ] && restart
    if [ $((run % 2)) -eq 1 ]; then
      run_one starling "$scen" "$SPORT"; run_one mosquitto "$scen" "$MPORT"
    else
      run_one mosquitto "$scen" "$MPORT"; run_one starling "$scen" "$SPORT"
    fi
  done
done

machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
java_version="$("$root/bin/starling" --version 2>/dev/null | head -1 || true)"
mosq_version="$("$MOSQ" -h 2>/dev/null | head -1 || true)"
python3 - "$results" "$root/docs/benchmarks.md" "$machine" "$RUNS" "$mosq_version" "${NO_DOC:-}" <<'PY'
import re, statistics, sys, datetime
results, doc, machine, runs, mosq, no_doc = sys.argv[1:7]
rows = {}
for line in open(results):
    parts = line.split(None, 2)
    if len(parts) < 3:
        continue
    broker, scen, rest = parts
    kv = dict(re.findall(r'(\w+)=([^\s]+)', rest))
    rows.setdefault((scen, broker), []).append(kv)

def med(scen, broker, key):
    vals = []
    for kv in rows.get((scen, broker), []):
        v = kv.get(key)
        try:
            vals.append(float(v))
        except (TypeError, ValueError):
            pass
    return statistics.median(vals) if vals else None

specs = [
    ("s1", "fan-in 100→1, QoS 0, 64 B: delivered msg/s", "delivered_per_s", "higher", "≥ 2.0×"),
    ("s2", "50 pairs, QoS 1, 256 B: msg/s", "delivered_per_s", "higher", "≥ 1.3×"),
    ("s2", "50 pairs, QoS 1: p99 latency (ms)", "latency_p99_ms", "lower", "≤ Mosquitto"),
    ("s3", "fan-out 1→500, QoS 0, 64 B: deliveries/s", "delivered_per_s", "higher", "≥ 1.5×"),
    ("s4", "20 pairs, QoS 2, 256 B: msg/s", "delivered_per_s", "higher", "≥ 1.3×"),
    ("s4", "20 pairs, QoS 2: p99 latency (ms)", "latency_p99_ms", "lower", "≤ Mosquitto"),
    ("s5", "10,000 idle connections: bytes per connection (RSS delta)", "broker_bytes_per_conn", "lower", "≤ 1,200 B"),
    ("s5", "10,000 idle connections: time to all CONNACKs (s)", "time_to_all_s", "lower", ""),
]
out = []
out.append(f"Run {datetime.date.today().isoformat()} on {machine}; {runs} runs per broker and scenario, alternating, "
           f"medians; Mosquitto: {mosq or 'Debian package'}. Command: `RUNS={runs} bench/compare.sh`.")
out.append("")
out.append("| scenario | Starling | Mosquitto | ratio | goal |")
out.append("|---|---|---|---|---|")
for scen, label, key, better, goal in specs:
    s, m = med(scen, "starling", key), med(scen, "mosquitto", key)
    if s is None and m is None:
        continue
    ratio = ""
    if s is not None and m:
        ratio = f"{s / m:.2f}×"
    fmt = lambda v: "n/a" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")
    out.append(f"| {label} | {fmt(s)} | {fmt(m)} | {ratio} | {goal} |")
# broker CPU per delivered message in s2
sc, sd = med("s2", "starling", "broker_cpu"), med("s2", "starling", "delivered_per_s")
mc, md = med("s2", "mosquitto", "broker_cpu"), med("s2", "mosquitto", "delivered_per_s")
if sc and sd and mc and md:
    s_us, m_us = sc / 100 / sd * 1e6, mc / 100 / md * 1e6
    out.append(f"| s2 broker CPU per delivered message (µs) | {s_us:.2f} | {m_us:.2f} | {s_us / m_us:.2f}× | ≤ 0.7× |")
out.append("")
out.append("Raw result lines:")
out.append("")
out.append("```")
out.extend(l.rstrip() for l in open(results))
out.append("```")
table = "\n".join(out)
print(table)
if no_doc:
    sys.exit(0)
text = open(doc).read()
begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
block = f"{begin}\n{table}\n{end}"
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip() + "\n\n## Side by side with Mosquitto\n\n" + block + "\n"
open(doc, "w").write(text)
PY
