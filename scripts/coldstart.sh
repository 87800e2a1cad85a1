#!/usr/bin/env bash
# Usage: scripts/coldstart.sh [RUNS]
#
# Builds the release packages with scripts/build.sh (which prints the size
# and sha256 of bootstrap and of every zip) and measures the cold start of
# dist/build/amd64/bootstrap, RUNS times per mode (default 20), with
# go run ./scripts/coldstart:
#
#   lambda  exec -> first GET /runtime/invocation/next on a Lambda Runtime
#           API on loopback: Lambda's "Init Duration"; and -> the response
#           to a first GET /healthz event
#   scf     exec -> POST /runtime/init/ready on the SCF runtime API
#           emulator; and -> the reply to a first /healthz event
#   local   exec -> first GET /healthz answered 200 by the local server
#   rie     aws-lambda-rie's own INIT REPORT for the first invocation
#
# Then, with hyperfine when installed (apt-get install hyperfine), the
# process's fixed cost: exec, Go runtime and package initialisation,
# printing the usage and exiting (bootstrap help).
#
# Environment:
#   DIST    output directory of scripts/build.sh (default: dist)
#   ARCHES  architectures to build (default: "amd64 arm64"); the
#           measurement uses amd64, this machine's
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
go_env

runs=${1:-20}
dist=${DIST:-$root/dist}
read -r -a arches <<<"${ARCHES:-amd64 arm64}"

echo "== packages (scripts/build.sh)"
DIST=$dist scripts/build.sh "${arches[@]}"
bin=$dist/build/amd64/bootstrap
if [ ! -x "$bin" ]; then
	echo "coldstart: $bin was not built (ARCHES must include amd64)" >&2
	exit 1
fi

echo
echo "== cold start"
go run ./scripts/coldstart -bootstrap "$bin" -n "$runs"

echo
echo "== process start and exit (bootstrap help)"
if command -v hyperfine >/dev/null 2>&1; then
	hyperfine --warmup 5 --runs "$((runs * 5))" --shell=none --style basic "$bin help"
else
	echo "hyperfine not installed; $((runs * 5)) runs in a loop:"
	start=$(date +%s%N)
	for _ in $(seq "$((runs * 5))"); do
		"$bin" help >/dev/null
	done
	end=$(date +%s%N)
	echo "mean $(((end - start) / runs / 5 / 1000)) µs per run"
fi
