#!/usr/bin/env bash
# Extra figures for docs/benchmarks.md that the load scenarios of compare.sh (bench/gen) do not give:
#   - start-up time: from launching the JVM to the first CONNACK (jar already built)
#   - memory with 100,000 retained messages (RSS and heap after a full GC)
# Prints a markdown table. Run on a quiet machine: bench/extra.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port=${PORT:-18890}
retained=${RETAINED:-100000}
work="$(mktemp -d)"
"$root/bin/starling" --version >/dev/null   # builds if needed

connack_ms() { # time from launch to the first CONNACK, in ms
  python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
connect = bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 1]) + b"s"
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(connect)
        if s.recv(4)[:1] == b"\x20":
            break
    except OSError:
        time.sleep(0.005)
print(time.time())
PY
}

startups=()
for i in 1 2 3; do
  t0=$(date +%s.%N)
  "$root/bin/starling" broker --port "$port" --data-dir "$work/d$i" >"$work/s$i.log" 2>&1 &
  pid=$!
  t1=$(connack_ms)
  startups+=("$(python3 -c "print(round(($t1 - $t0) * 1000))")")
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

"$root/bin/starling" broker --port "$port" --data-dir "$work/r" >"$work/r.log" 2>&1 &
pid=$!
connack_ms >/dev/null
rss0=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
python3 - "$port" "$retained" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 0, 0, 1]) + b"r")
assert s.recv(4)[:1] == b"\x20"
buf = bytearray()
for i in range(n):
    topic = b"retained/device-%07d/state" % i
    payload = b"x" * 64
    body = len(topic).to_bytes(2, "big") + topic + payload
    buf += bytes([0x31, len(body)]) + body   # PUBLISH QoS 0, RETAIN
    if len(buf) > 65536:
        s.sendall(buf); buf.clear()
s.sendall(buf)
# a PINGREQ round trip: everything before it has been read
s.sendall(bytes([0xC0, 0]))
while s.recv(2)[:1] != b"\xd0":
    pass
PY
jcmd $pid GC.run >/dev/null 2>&1 || true
sleep 1
rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
heap=$(jcmd $pid GC.heap_info 2>/dev/null | awk '/(YoungGen|OldGen|garbage-first heap)/ {for (i=1;i<=NF;i++) if ($i=="used") {v=$(i+1); sub(/K,?/,"",v); sum+=v}} END {if (sum) printf "%d MiB", sum/1024}' || true)
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "| figure | value |"
echo "|---|---|"
echo "| start-up to first CONNACK (3 runs) | ${startups[*]} ms |"
echo "| RSS before / after $retained retained messages (64 B payload) | $((rss0 / 1024)) MiB / $((rss1 / 1024)) MiB |"
echo "| heap used after a full GC with $retained retained messages | ${heap:-n/a} |"
rm -rf "$work"
