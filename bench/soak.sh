#!/usr/bin/env bash
# Soak run (not part of CI): the packaged broker in a child process, its data directory on a 1 GiB tmpfs, under
# mixed load for SOAK_MINUTES (default 30) with faults injected: SIGKILL and restart (first half), the disk filled
# for 30 s and freed, take-over churn bursts, garbage and mutated packets, subscribers that never read. At the end
# every acknowledged message must have reached every persistent subscriber (QoS 2 exactly once); the broker's heap
# after a full GC and its RSS are sampled every minute in the second half. Needs root (to mount the tmpfs).
#
#   bench/soak.sh                  # 30 minutes
#   SOAK_MINUTES=5 bench/soak.sh   # a short run
#
# Prints the summary (also in starling-integration-tests/target/soak-summary.txt); exit status 0 when nothing
# acknowledged was lost.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
minutes="${SOAK_MINUTES:-30}"
status=0
mvn -B -ntp -q -pl starling-integration-tests -am verify -Dcheckstyle.skip \
    -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dsoak.minutes="$minutes" \
    -Dsurefire.timeout=$(( (minutes + 15) * 60 )) || status=$?
echo "--- soak summary (${minutes} min) ---"
cat starling-integration-tests/target/soak-summary.txt 2>/dev/null || echo "no summary: see starling-integration-tests/target/surefire-reports"
exit "$status"
