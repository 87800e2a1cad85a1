#!/usr/bin/env bash
# Runs every test: unit, loopback integration (CCC API emulator, webhook
# receiver, kfake broker), the Lambda runtime emulator, moto_server and
# cfn-lint where present. Usage: scripts/test.sh [go test flags...]
#
# Tests that need an outside tool skip with a message when it is missing,
# and the run ends with the list of skipped tests and why; CI sets
# CCC_ENRICHER_REQUIRE_{RIE,MOTO,CFNLINT,SHELLCHECK}=1 so that they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# go.mod pins a patched toolchain; "auto" lets go fetch it even where the
# installed Go defaults to GOTOOLCHAIN=local.
export GOTOOLCHAIN=auto
gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

if ! command -v aws-lambda-rie >/dev/null 2>&1; then
  echo "installing aws-lambda-rie (the AWS Lambda runtime interface emulator)..."
  go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest
fi
# aws-lambda-go's event fixtures are read from the module cache.
go mod download github.com/aws/aws-lambda-go

# go test's usual output, through scripts/testsum so that it ends with the
# tests that skipped and why (an outside tool missing, most often).
go test -count=1 -json "$@" ./... | go run ./scripts/testsum
