#!/usr/bin/env bash
# Side-by-side benchmark with the load scenarios s1-s5 (docs/bench.md, "Native generator"). By default it drives
# Starling and Mosquitto on this machine with Starling's own native generator (bench/gen, compiled on first use),
# alternating, several runs each, and writes the medians and the ratios into docs/benchmarks.md (between the
# compare markers). A run whose other_cpu (load from outside the broker and the generator) is above OTHER_CPU_MAX
# is repeated, up to RETRIES times.
#
#   bench/compare.sh                                  # Starling against Mosquitto, s1..s5, 3 runs each
#   RUNS=5 SCENARIOS="s2 s4" bench/compare.sh
#   GEN=shared bench/compare.sh                       # the same with the reference generator (see SHARED below)
#   GENS="own shared" bench/compare.sh                # one broker, both generators alternately: section
#                                                     # "Our generator against the reference generator"
#   STARLING_A=/path/a STARLING_B=/path/b bench/compare.sh
#                                                     # two Starling checkouts (A = before, B = after), s1..s4,
#                                                     # no Mosquitto: section "Metrics overhead"
#
# Environment:
#   RUNS (3), SCENARIOS (s1..s5; s1..s4 with STARLING_A/B), BENCH_DURATION / BENCH_WARMUP / BENCH_CONNS (passed to
#   the generator), OTHER_CPU_MAX (10), RETRIES (3);
#   GEN        own (default): bench/gen/run, this repository's generator; shared: the reference generator
#              $SHARED/bench/bench-mqtt, which is not part of this repository (SHARED defaults to ../shared
#              beside the checkout);
#   GENS       several generators against the same broker(s), alternately (e.g. "own shared");
#   BROKERS    brokers of a GENS run (default "starling"; "starling mosquitto" for both);
#   STARLING_A, STARLING_B   checkouts of two Starling builds to compare (each started with its bin/starling);
#   STARLING_ARGS            more arguments for every Starling broker (e.g. "--config FILE");
#   NO_DOC=1 to print the table without touching docs/benchmarks.md; RESULTS=FILE to add this run's result lines
#   to FILE and build the table from all of them (e.g. to redo one scenario).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${SHARED:-$root/../shared}"
RUNS=${RUNS:-3}
OTHER_CPU_MAX=${OTHER_CPU_MAX:-10}
RETRIES=${RETRIES:-3}
GEN=${GEN:-own}
work="$(mktemp -d)"
results="${RESULTS:-$work/results.txt}"   # RESULTS=file keeps adding to one file across invocations
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ------------------------------------------------------------------------------------------------ what to run
if [ -n "${STARLING_A:-}" ] || [ -n "${STARLING_B:-}" ]; then
  [ -x "${STARLING_A:-}/bin/starling" ] && [ -x "${STARLING_B:-}/bin/starling" ] ||
    { echo "compare.sh: STARLING_A and STARLING_B must both name checkouts with bin/starling" >&2; exit 2; }
  mode=ab
  brokers=(A B)
  gens=("$GEN")
  SCENARIOS=${SCENARIOS:-"s1 s2 s3 s4"}
elif [ -n "${GENS:-}" ]; then
  mode=gens
  read -r -a brokers <<<"${BROKERS:-starling}"
  read -r -a gens <<<"$GENS"
  SCENARIOS=${SCENARIOS:-"s1 s2 s3 s4 s5"}
else
  mode=pair
  brokers=(starling mosquitto)
  gens=("$GEN")
  SCENARIOS=${SCENARIOS:-"s1 s2 s3 s4 s5"}
fi
for g in "${gens[@]}"; do
  case "$g" in
    own) "$root/bench/gen/run" build >/dev/null ;;
    shared) [ -x "$shared/bench/bench-mqtt" ] ||
              { echo "compare.sh: $shared/bench/bench-mqtt not found (set SHARED, or use GEN=own)" >&2; exit 2; } ;;
    *) echo "compare.sh: unknown generator '$g' (own or shared)" >&2; exit 2 ;;
  esac
done
# targets: "broker generator"; a result line is labelled with the broker (pair, ab) or broker/generator (gens)
targets=()
for b in "${brokers[@]}"; do for g in "${gens[@]}"; do targets+=("$b $g"); done; done

# ------------------------------------------------------------------------------------------------ brokers
declare -A port pid
port[starling]=18870; port[mosquitto]=18871; port[A]=18872; port[B]=18873

needs_mosquitto=0
for b in "${brokers[@]}"; do [ "$b" = mosquitto ] && needs_mosquitto=1; done
MOSQ=""
if [ "$needs_mosquitto" = 1 ]; then
  command -v mosquitto >/dev/null 2>&1 || /usr/sbin/mosquitto -h >/dev/null 2>&1 || {
    echo "compare.sh: installing mosquitto" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
  }
  MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
fi

cleanup() { local b; for b in "${!pid[@]}"; do [ -n "${pid[$b]}" ] && kill "${pid[$b]}" 2>/dev/null; done; true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

checkout_of() { case "$1" in A) echo "$STARLING_A" ;; B) echo "$STARLING_B" ;; *) echo "$root" ;; esac; }

start_broker() { # NAME
  local b=$1 p=${port[$1]} dir args=()
  if [ "$b" = mosquitto ]; then
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\npersistence false\nlog_dest none\n' "$p" \
      >"$work/mosquitto.conf"
    "$MOSQ" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
  else
    dir=$(checkout_of "$b")
    # its own admin port, where the build has an admin listener, so that two builds (and other brokers on the
    # machine) do not meet on the default one
    if "$dir/bin/starling" broker --help 2>/dev/null | grep -q -- '--admin-port'; then args+=(--admin-port "$((p + 100))"); fi
    # shellcheck disable=SC2086
    "$dir/bin/starling" broker --port "$p" --data-dir "$work/data-$b" "${args[@]}" ${STARLING_ARGS:-} \
      >>"$work/$b.log" 2>&1 &
  fi
  pid[$b]=$!
  wait_port "$p" || { echo "compare.sh: $b did not start" >&2; cat "$work/$b.log" >&2 2>/dev/null; exit 1; }
}
restart_broker() { # NAME: a fresh process (s5 measures the RSS growth of a fresh broker)
  local b=$1
  if [ -n "${pid[$b]:-}" ]; then kill "${pid[$b]}" 2>/dev/null || true; wait "${pid[$b]}" 2>/dev/null || true; fi
  pid[$b]=""
  while (exec 3<>/dev/tcp/127.0.0.1/"${port[$b]}") 2>/dev/null; do sleep 0.2; done
  start_broker "$b"
}

# ------------------------------------------------------------------------------------------------ runs
generate() { # GEN SCENARIO PORT
  case "$1" in
    own) "$root/bench/gen/run" "$2" 127.0.0.1 "$3" ;;
    shared) "$shared/bench/bench-mqtt" "$2" 127.0.0.1 "$3" ;;
  esac
}

run_one() { # BROKER GEN SCENARIO -> appends "label scenario RESULT..." to results
  local broker=$1 gen=$2 scen=$3 label=$1 line other try tries=$RETRIES
  [ "$mode" = gens ] && label="$broker/$gen"
  [ "$scen" = s5 ] && tries=1   # s5 measures the RSS growth of a fresh broker: a second try would not be fresh
  for try in $(seq 1 "$tries"); do
    [ "$scen" = s5 ] && restart_broker "$broker"
    line=$(generate "$gen" "$scen" "${port[$broker]}" 2>/dev/null | grep '^RESULT' | tail -1 || true)
    other=$(sed -n 's/.*other_cpu=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -n "$line" ] && { [ -z "$other" ] || [ "$other" -le "$OTHER_CPU_MAX" ]; }; then break; fi
    echo "  ($label $scen: other_cpu=${other:-?}, repeating)" >&2
  done
  echo "$label $scen $line" | tee -a "$results" >&2
}

echo "compare.sh: building and starting ${brokers[*]} (generators: ${gens[*]})" >&2
for b in "${brokers[@]}"; do start_broker "$b"; done
for scen in $SCENARIOS; do
  for run in $(seq 1 "$RUNS"); do
    # alternate the order from run to run
    order=("${targets[@]}")
    if [ $((run % 2)) -eq 0 ]; then
      order=(); for ((i = ${#targets[@]} - 1; i >= 0; i--)); do order+=("${targets[$i]}"); done
    fi
    for t in "${order[@]}"; do
      read -r b g <<<"$t"
      run_one "$b" "$g" "$scen"
    done
  done
done

describe() { # a checkout's commit, for the table's header
  git -C "$1" log -1 --format='%h %s' 2>/dev/null | cut -c1-80 || echo "$1"
}
machine="$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r)"
mosq_version=""
[ -n "$MOSQ" ] && mosq_version="$("$MOSQ" -h 2>/dev/null | head -1 || true)"
desc_a=""; desc_b=""
if [ "$mode" = ab ]; then desc_a="$(describe "$STARLING_A")"; desc_b="$(describe "$STARLING_B")"; fi
python3 - "$results" "$root/docs/benchmarks.md" "$machine" "$RUNS" "$mosq_version" "${NO_DOC:-}" "$mode" \
  "${gens[*]}" "${brokers[*]}" "$desc_a" "$desc_b" <<'PY'
import re, statistics, sys, datetime
results, doc, machine, runs, mosq, no_doc, mode, gens, brokers, desc_a, desc_b = sys.argv[1:12]
gens, brokers = gens.split(), brokers.split()
rows = {}
for line in open(results):
    parts = line.split(None, 2)
    if len(parts) < 3:
        continue
    label, scen, rest = parts
    kv = dict(re.findall(r'(\w+)=([^\s]+)', rest))
    rows.setdefault((scen, label), []).append(kv)

def med(scen, label, key):
    vals = []
    for kv in rows.get((scen, label), []):
        try:
            vals.append(float(kv.get(key)))
        except (TypeError, ValueError):
            pass
    return statistics.median(vals) if vals else None

def fmt(v):
    return "n/a" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")

def ratio(a, b):
    return f"{a / b:.2f}×" if a is not None and b else ""

def us_per_msg(scen, label):  # broker CPU per delivered message, µs
    c, d = med(scen, label, "broker_cpu"), med(scen, label, "delivered_per_s")
    return c / 100 / d * 1e6 if c and d else None

specs = [
    ("s1", "fan-in 100→1, QoS 0, 64 B: delivered msg/s", "delivered_per_s", "≥ 2.0×"),
    ("s2", "50 pairs, QoS 1, 256 B: msg/s", "delivered_per_s", "≥ 1.3×"),
    ("s2", "50 pairs, QoS 1: p99 latency (ms)", "latency_p99_ms", "≤ Mosquitto"),
    ("s3", "fan-out 1→500, QoS 0, 64 B: deliveries/s", "delivered_per_s", "≥ 1.5×"),
    ("s4", "20 pairs, QoS 2, 256 B: msg/s", "delivered_per_s", "≥ 1.3×"),
    ("s4", "20 pairs, QoS 2: p99 latency (ms)", "latency_p99_ms", "≤ Mosquitto"),
    ("s5", "10,000 idle connections: bytes per connection (RSS delta)", "broker_bytes_per_conn", "≤ 1,200 B"),
    ("s5", "10,000 idle connections: time to all CONNACKs (s)", "time_to_all_s", ""),
]
gen_name = {"own": "Starling's generator (bench/gen)", "shared": "the reference generator (../shared bench-mqtt)"}
out = []
if mode == "pair":
    begin, end, title = "<!-- compare:begin -->", "<!-- compare:end -->", "Side by side with Mosquitto"
    cmd = f"RUNS={runs} bench/compare.sh" if gens == ["own"] else f"RUNS={runs} GEN={gens[0]} bench/compare.sh"
    out.append(f"Run {datetime.date.today().isoformat()} on {machine}; {runs} runs per broker and scenario, alternating, "
               f"medians; generator: {gen_name.get(gens[0], gens[0])}; Mosquitto: {mosq or 'Debian package'}. "
               f"Command: `{cmd}`.")
    out.append("")
    out.append("| scenario | Starling | Mosquitto | ratio | goal |")
    out.append("|---|---|---|---|---|")
    for scen, label, key, goal in specs:
        s, m = med(scen, "starling", key), med(scen, "mosquitto", key)
        if s is None and m is None:
            continue
        out.append(f"| {label} | {fmt(s)} | {fmt(m)} | {ratio(s, m)} | {goal} |")
    s_us, m_us = us_per_msg("s2", "starling"), us_per_msg("s2", "mosquitto")
    if s_us and m_us:
        out.append(f"| s2 broker CPU per delivered message (µs) | {s_us:.2f} | {m_us:.2f} | {s_us / m_us:.2f}× | ≤ 0.7× |")
elif mode == "gens":
    begin, end, title = "<!-- gens:begin -->", "<!-- gens:end -->", "Our generator against the reference generator"
    out.append(f"Run {datetime.date.today().isoformat()} on {machine}; the same broker process driven by each generator "
               f"in turn, {runs} runs per generator and scenario, alternating, medians (s5: a fresh broker per run). "
               f"Command: `RUNS={runs} GENS=\"{' '.join(gens)}\" BROKERS=\"{' '.join(brokers)}\" bench/compare.sh`.")
    out.append("")
    head = "| scenario |"
    for b in brokers:
        head += "".join(f" {b}, {g} |" for g in gens)
        if len(gens) == 2:
            head += f" {b}, {gens[0]} / {gens[1]} |"
    out.append(head)
    out.append("|---|" + "---|" * (head.count("|") - 2))
    for scen, label, key, _ in specs + [("s2", "s2 broker CPU (% of a core)", "broker_cpu", ""),
                                         ("s2", "s2 generator CPU (% of a core)", "gen_cpu", "")]:
        cells, any_value = [], False
        for b in brokers:
            vals = [med(scen, f"{b}/{g}", key) for g in gens]
            any_value = any_value or any(v is not None for v in vals)
            cells += [(f"{v:.0f}" if v is not None and key.endswith("_cpu") else fmt(v)) for v in vals]
            if len(gens) == 2:
                cells.append(ratio(vals[0], vals[1]))
        if any_value:
            out.append(f"| {label} | " + " | ".join(cells) + " |")
else:
    begin, end, title = "<!-- overhead:begin -->", "<!-- overhead:end -->", "Metrics overhead"
    out.append(f"Run {datetime.date.today().isoformat()} on {machine}; two Starling builds, {runs} runs per build and "
               f"scenario, alternating, medians; generator: {gen_name.get(gens[0], gens[0])}. "
               f"A: `{desc_a}`; B: `{desc_b}`. Command: `RUNS={runs} STARLING_A=… STARLING_B=… bench/compare.sh`.")
    out.append("")
    out.append("| scenario | A | B | B / A |")
    out.append("|---|---|---|---|")
    for scen, label, key, _ in specs:
        a, b = med(scen, "A", key), med(scen, "B", key)
        if a is None and b is None:
            continue
        out.append(f"| {label} | {fmt(a)} | {fmt(b)} | {ratio(b, a)} |")
    for scen in ("s1", "s2", "s3", "s4"):
        a, b = us_per_msg(scen, "A"), us_per_msg(scen, "B")
        if a and b:
            out.append(f"| {scen} broker CPU per delivered message (µs) | {a:.2f} | {b:.2f} | {b / a:.2f}× |")
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
block = f"{begin}\n{table}\n{end}"
if begin in text and end in text:
    text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip() + f"\n\n## {title}\n\n" + block + "\n"
open(doc, "w").write(text)
PY
