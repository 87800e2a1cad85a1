#!/usr/bin/env bash
# Usage: scripts/invoke-rie.sh EVENT [PORT]
#
# Runs bootstrap under the AWS Lambda Runtime Interface Emulator on
# 127.0.0.1:PORT (default 9090), posts EVENT as one invocation, prints
# the function's reply and stops the emulator. No Docker is needed. It
# exits 1 when the invocation fails (the reply names an errorType, or an
# SQS batch reports failed items), so that scripts can rely on it.
#
# EVENT is a file, or the name of an example that works today, generated
# by go run ./scripts/events with the embedded emulator's sample session
# timed to the present: push, record, voicemail, healthz, schedule.
#
# The function's configuration comes from the environment, for example an
# offline run against the embedded CCC API emulator:
#
#   CCC_ENDPOINT=emulator SINK=stdout PUSH_AUTH=none CCC_SDK_APP_IDS=1400000000 \
#     scripts/invoke-rie.sh push
#
# Environment:
#   BOOTSTRAP  executable to run (default: built for this machine, with the
#              toolchain go.mod pins, into dist/build/local/bootstrap)
#   RIE        emulator (default: aws-lambda-rie on PATH or in $(go env GOPATH)/bin;
#              install: go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest)
set -euo pipefail

examples="push record voicemail healthz schedule"
if [ $# -lt 1 ] || { [ ! -f "$1" ] && [[ " $examples " != *" $1 "* ]]; }; then
	echo "usage: scripts/invoke-rie.sh EVENT_FILE|$(echo "$examples" | tr ' ' '|') [PORT]" >&2
	exit 2
fi
if [ -f "$1" ]; then
	event=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fi
port=${2:-9090}

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
go_env

if [ -z "${event:-}" ]; then
	event=$(mktemp)
	trap 'rm -f "$event"' EXIT
	go run ./scripts/events "$1" >"$event"
fi

rie=${RIE:-}
if [ -z "$rie" ]; then
	rie=$(command -v aws-lambda-rie || true)
	rie=${rie:-$(go env GOPATH)/bin/aws-lambda-rie}
fi
if [ ! -x "$rie" ]; then
	echo "invoke-rie: aws-lambda-rie not found; install it with:" >&2
	echo "  go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest" >&2
	exit 1
fi

bootstrap=${BOOTSTRAP:-}
if [ -z "$bootstrap" ]; then
	bootstrap=dist/build/local/bootstrap
	mkdir -p "$(dirname "$bootstrap")"
	CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -o "$bootstrap" ./function
fi

"$rie" --runtime-interface-emulator-address "127.0.0.1:$port" "$bootstrap" >&2 &
rie_pid=$!
# shellcheck disable=SC2064 # $event is fixed by now
trap "kill $rie_pid 2>/dev/null || true; wait $rie_pid 2>/dev/null || true; [ -f '$1' ] || rm -f '$event'" EXIT

url=http://127.0.0.1:$port/2015-03-31/functions/function/invocations
# The emulator gives no readiness signal but its port.
for _ in $(seq 1 100); do
	if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
		break
	fi
	sleep 0.1
done
reply=$(curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary "@$event" "$url")
echo "$reply"
# A function error comes back as 200 with errorType; a queue batch names
# the messages that failed.
case $reply in
*'"errorType"'* | *'"batchItemFailures":[{'*)
	echo "invoke-rie: the invocation failed" >&2
	exit 1
	;;
esac
