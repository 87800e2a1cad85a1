#!/usr/bin/env bash
# Runs govulncheck against a vulnerability database built offline from the
# golang.org/x/vulndb module (the module proxy serves it; the usual
# database host is not reachable everywhere). The built database is cached.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=auto
PATH="$(go env GOPATH)/bin:$PATH"
export PATH
command -v govulncheck >/dev/null || go install golang.org/x/vuln/cmd/govulncheck@v1.1.4

cache="${XDG_CACHE_HOME:-$HOME/.cache}/ccc-enricher/vulndb"
src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json golang.org/x/vulndb@latest | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
version=$(basename "$src")
if [ ! -f "$cache/$version/index/db.json" ]; then
  echo "building the vulnerability database from $version..."
  rm -rf "$cache" && mkdir -p "$cache/src"
  cp -r "$src/." "$cache/src/" && chmod -R u+w "$cache/src"
  (cd "$cache/src" && go run ./cmd/indexdb -vulns data/osv -out "$cache/$version")
  rm -rf "$cache/src"
fi
govulncheck -db "file://$cache/$version" ./...
