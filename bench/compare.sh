#!/usr/bin/env bash
# bench/compare.sh OLD NEW: two futures binaries side by side on make bench's
# everyday workloads (trivial jobs, grouped output, one job, process vs thread
# executor, --pipe), in one hyperfine run per workload, so that a change that
# should not change speed (a restructure) is judged against its own baseline
# on the same noisy machine. Prints a table of medians and NEW/OLD ratios.
#
#   bash bench/compare.sh /tmp/futures-before bin/futures
#   RUNS=5 bash bench/compare.sh …         (default 10 runs per command)
set -euo pipefail
export LC_ALL=C
[ $# = 2 ] || { echo "usage: bench/compare.sh OLD NEW" >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2")
RUNS=${RUNS:-10}
command -v hyperfine >/dev/null || { echo "bench/compare.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench/compare.sh: needs jq (apt-get install jq)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/futures-compare.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

head -c 1048576 /dev/urandom >"$TMP/mib"
awk -v f="$TMP/mib" 'BEGIN { for (i = 0; i < 200; i++) print f }' >"$TMP/files"
head -c 786432 /dev/urandom | base64 -w 99 | head -c 1048576 >"$TMP/pipe-mib"
for ((i = 0; i < 512; i++)); do cat "$TMP/pipe-mib"; done >"$TMP/pipe-in"

# workload NAME COMMAND-WITH-@F@: OLD and NEW alternate in one hyperfine run.
printf '| workload | old (s) | new (s) | new/old |\n|---|---|---|---|\n'
workload() {
	local name=$1 cmd=$2
	hyperfine -N -w 2 -r "$RUNS" --export-json "$TMP/h.json" \
		"sh -c '${cmd//@F@/$OLD}'" "sh -c '${cmd//@F@/$NEW}'" >/dev/null 2>&1
	jq -r --arg n "$name" '.results | "| \($n) | \(.[0].median|.*1000|round/1000) | \(.[1].median|.*1000|round/1000) | \((.[1].median/.[0].median)|.*100|round/100)× |"' "$TMP/h.json"
}
workload "1. 2,000 trivial jobs, -j2" "seq 2000 | @F@ map -q -j2 true"
workload "2. 200 × 1 MiB output, grouped" "@F@ map -q -j2 cat :::: $TMP/files >/dev/null"
workload "3. one job" "@F@ map -q echo ::: hi >/dev/null"
workload "5a. 2,000 jobs, thread executor" "seq 2000 | @F@ map -q -j2 --executor thread true"
workload "5b. 2,000 jobs, process executor" "seq 2000 | @F@ map -q -j2 --executor process true"
workload "6. --pipe 512 MiB, wc -l" "@F@ map -q --pipe -j2 wc -l < $TMP/pipe-in >/dev/null"
