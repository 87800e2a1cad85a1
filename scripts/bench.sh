#!/usr/bin/env bash
# Usage: scripts/bench.sh [COUNT]
#
# Runs the benchmarks (go test -bench -benchmem) of the packages on the
# push path COUNT times each (default 6), summarises them with benchstat
# when it is installed (go install golang.org/x/perf/cmd/benchstat@latest),
# and profiles the handler's basic-auth CDR push (BenchmarkHandlerPush,
# "handler overhead without network"): the top CPU and allocation sites
# are printed, and the profiles kept for go tool pprof.
#
# Run it on a quiet machine: the figures of docs/PERFORMANCE.md come from
# it.
#
# Environment:
#   OUT        directory for bench.txt and the profiles (default:
#              ${TMPDIR:-/tmp}/ccc-enricher-bench)
#   BENCHTIME  -benchtime of each run (default 1s)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
go_env

count=${1:-6}
out=${OUT:-${TMPDIR:-/tmp}/ccc-enricher-bench}
benchtime=${BENCHTIME:-1s}
mkdir -p "$out"
pkgs=(./handler ./internal/push ./internal/record ./internal/sink/webhook ./internal/sink/stdout ./internal/ccc ./internal/cccapi)

echo "== $(go version | cut -d' ' -f3), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go test -run='^$' -bench=. -benchmem -benchtime="$benchtime" -count="$count" "${pkgs[@]}" | tee "$out/bench.txt"

if command -v benchstat >/dev/null 2>&1; then
	echo
	echo "== benchstat"
	benchstat "$out/bench.txt"
fi

echo
echo "== profile: BenchmarkHandlerPush/auth=basic"
# CPU and memory are profiled in separate runs: recording every
# allocation (-memprofilerate=1) slows the allocations down.
go test -run='^$' -bench='^BenchmarkHandlerPush$/^auth=basic$' -benchmem -benchtime=5s \
	-cpuprofile="$out/handler.cpu" -o "$out/handler.test" ./handler | grep Benchmark
go test -run='^$' -bench='^BenchmarkHandlerPush$/^auth=basic$' -benchtime=20000x \
	-memprofile="$out/handler.mem" -memprofilerate=1 ./handler >/dev/null
echo
echo "-- CPU, cumulative, the project's functions and encoding/json"
go tool pprof -top -cum -nodecount=200 "$out/handler.test" "$out/handler.cpu" 2>/dev/null |
	grep -E 'flat%|ccc-enricher/(handler|push|record|enrich|sink)\.|encoding/json\.(Marshal|Unmarshal|Compact)$|runtime\.(mallocgc|gcBgMarkWorker)$' | head -30
echo
echo "-- allocations (objects per 20000 pushes), by function"
go tool pprof -sample_index=alloc_objects -top -nodecount=25 "$out/handler.test" "$out/handler.mem" 2>/dev/null | sed -n '6,32p'
echo
echo "profiles: go tool pprof $out/handler.test $out/handler.cpu (or handler.mem)"
