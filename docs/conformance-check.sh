#!/usr/bin/env bash
# Checks docs/conformance.md against the source tree:
#   1. rows that bind the server (`server` or `both`) whose test column is still TODO, per MQTT version;
#   2. test references (`ClassName#method`) whose class or method does not exist under */src/test/java;
#   3. references whose test file never mentions the row's statement id (as [MQTT-x.y.z-n] or MQTT_x_y_z_n);
#      only for cells that start with a reference (not for reasons that point at a related test).
# Usage: docs/conformance-check.sh [path/to/conformance.md]. Exit status 1 when 1. or 2. found something.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
doc="${1:-$root/docs/conformance.md}"

todo=0
missing=0
unmentioned=0
declare -A todo_by_version=()
declare -A file_of=()

# every test source file, by simple class name
while IFS= read -r f; do
    file_of["$(basename "$f" .java)"]+="$f "
done < <(find "$root" -path '*/src/test/java/*' -name '*.java' -not -path '*/target/*')

version=""
while IFS= read -r line; do
    case "$line" in
        "## MQTT 3.1.1"*) version="3.1.1"; continue ;;
        "## MQTT 5.0"*) version="5.0"; continue ;;
        "| MQTT-"*) ;;
        *) continue ;;
    esac
    # | id | paraphrase | applies | test |
    id="$(awk -F' [|] ' '{ sub(/^[|] /, "", $1); print $1 }' <<<"$line")"
    applies="$(awk -F' [|] ' '{ print $(NF-1) }' <<<"$line")"
    test_cell="$(awk -F' [|] ' '{ t = $NF; sub(/ [|]$/, "", t); print t }' <<<"$line")"
    case "$applies" in
        server|both) ;;
        *) continue ;;
    esac
    if [[ "$test_cell" == "TODO" ]]; then
        echo "TODO      $version $id"
        todo=$((todo + 1))
        todo_by_version[$version]=$(( ${todo_by_version[$version]:-0} + 1 ))
        continue
    fi
    underscore="${id//[.-]/_}"
    for ref in $(grep -oE '[A-Z][A-Za-z0-9]*#[a-z][A-Za-z0-9_]*' <<<"$test_cell" || true); do
        cls="${ref%%#*}"
        method="${ref#*#}"
        files="${file_of[$cls]:-}"
        if [[ -z "$files" ]]; then
            echo "MISSING   $version $id: no test class $cls ($ref)"
            missing=$((missing + 1))
            continue
        fi
        found=""
        for f in $files; do
            if grep -qE "void ${method}\(" "$f"; then
                found="$f"
                break
            fi
        done
        if [[ -z "$found" ]]; then
            echo "MISSING   $version $id: no method $method in $cls ($ref)"
            missing=$((missing + 1))
        elif [[ "$test_cell" == [A-Z]* ]] && ! grep -qF -e "[$id]" -e "$underscore" "$found"; then
            echo "UNMENTIONED $version $id: $ref does not name the statement id"
            unmentioned=$((unmentioned + 1))
        fi
    done
done < "$doc"

echo "---"
for v in 3.1.1 5.0; do
    echo "server/both rows still TODO in $v: ${todo_by_version[$v]:-0}"
done
echo "test references that do not exist: $missing"
echo "references whose test file does not name the id: $unmentioned (warning)"
if (( todo > 0 || missing > 0 )); then
    exit 1
fi
