#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [PACKAGE_DIR...]
#
# Runs every go test -fuzz target of the module (or of the package
# directories given, e.g. push handler), one at a time, and prints for each
# the executions reached, the time taken and the result; a summary table in
# Markdown follows (docs/PERFORMANCE.md quotes it). A crasher is written by
# go test to the package's testdata/fuzz/<Target>/, where it becomes a
# regression case of the ordinary go test run; the script goes on with the
# next target and fails at the end.
#
# Environment:
#   FUZZTIME   -fuzztime of each target: a duration (30s) or an execution
#              count (1000000x, the default; go counts the executions of all
#              workers together and stops at exactly that number)
#   PARALLEL   fuzzing workers per target (default: half the CPUs, at least
#              1; other work on the machine slows every worker)
#   FILTER     regular expression the target names must match (default: all)
#   MINIMIZE   -fuzzminimizetime: how long a new interesting input is
#              shrunk (default 10s; go's 60s default stalls slow targets)
#   OUT        directory for each target's full log (default:
#              ${TMPDIR:-/tmp}/ccc-enricher-fuzz)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export GOTOOLCHAIN=auto

fuzztime=${FUZZTIME:-1000000x}
cpus=$(nproc 2>/dev/null || echo 2)
parallel=${PARALLEL:-$((cpus / 2 > 0 ? cpus / 2 : 1))}
filter=${FILTER:-.}
minimize=${MINIMIZE:-10s}
out=${OUT:-${TMPDIR:-/tmp}/ccc-enricher-fuzz}
mkdir -p "$out"

dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
	mapfile -t dirs < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
fi

# targets lists "dir name" for every fuzz target in the directories.
targets() {
	local d
	for d in "${dirs[@]}"; do
		d=./${d#./}
		grep -ho '^func Fuzz[A-Za-z0-9_]*' "$d"/*_test.go 2>/dev/null |
			sed 's/^func //' | sort -u | grep -E -- "$filter" | sed "s|^|$d |" || true
	done
}

results=$out/results.tsv
: >"$results"
failed=0
printf '%-14s %-26s %12s %9s  %s\n' package target execs seconds result
while read -r dir name; do
	log=$out/$(echo "${dir#./}" | tr / _)-$name.log
	start=$(date +%s.%N)
	status=PASS
	# No test timeout: a slow target may need more than go test's 10
	# minutes. New inputs are minimized for at most MINIMIZE.
	if ! go test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimize" \
		-parallel="$parallel" -timeout=0 "$dir" >"$log" 2>&1; then
		status=FAIL
		failed=1
	fi
	end=$(date +%s.%N)
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
	secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }')
	if [ "$status" = FAIL ] && grep -q 'Failing input written to' "$log"; then
		status="FAIL: $(grep -o 'testdata/fuzz/[^ ]*' "$log" | head -1 || true)"
	fi
	printf '%-14s %-26s %12s %9s  %s\n' "${dir#./}" "$name" "${execs:-0}" "$secs" "$status"
	printf '%s\t%s\t%s\t%s\t%s\n' "${dir#./}" "$name" "${execs:-0}" "$secs" "$status" >>"$results"
done < <(targets)

echo
echo "| package | target | executions | seconds | result |"
echo "|---|---|---:|---:|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$results"
echo
echo "FUZZTIME=$fuzztime PARALLEL=$parallel on $cpus CPUs, $(go version | cut -d' ' -f3); logs in $out"
exit $failed
