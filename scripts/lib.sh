# shellcheck shell=bash
# lib.sh is sourced by the scripts beside it, after their set -euo pipefail:
#
#	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets root to the repository root and makes that the working directory,
# and prog to the script's name for its messages.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
prog=$(basename "$0" .sh)

# go_env puts the Go tools in reach: the toolchain go.mod pins (fetched
# when the installed Go is older) and what go install put in GOPATH/bin.
go_env() {
	export GOTOOLCHAIN=auto
	PATH="$(go env GOPATH)/bin:$PATH"
	export PATH
}

# require_command NAME HINT fails, saying HINT, when NAME is not on PATH.
require_command() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "$prog: $2" >&2
		exit 1
	fi
}
