#!/usr/bin/env bash
# Usage: scripts/build.sh [GOARCH...]
#
# Builds the bootstrap executable from ./function for linux/amd64 and
# linux/arm64 (or the GOARCHes given) and packages it:
#
#   dist/aws/bootstrap-<arch>.zip  AWS Lambda package (provided.al2023)
#   dist/scf/bootstrap             SCF Custom Runtime package dir (amd64)
#   dist/scf-<arch>.zip            the same package, zipped
#
# The build is reproducible: the toolchain is the one go.mod names, paths
# and build ids are stripped, and the zips carry fixed timestamps and modes,
# so the same source gives byte-identical zips on any machine with the same
# zip tool. It prints each artefact's size and sha256.
#
# Environment:
#   DIST               output directory (default: dist under the repository)
#   SOURCE_DATE_EPOCH  timestamp stored in the zips (default: the last
#                      commit's time, else 2000-01-01T00:00:00Z)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

dist=${DIST:-$root/dist}
archs=("$@")
if [ ${#archs[@]} -eq 0 ]; then
	archs=(amd64 arm64)
fi

# The toolchain go.mod pins, exactly: a newer local Go must not build it.
toolchain=$(awk '$1 == "toolchain" { print $2 }' go.mod)
if [ -z "$toolchain" ]; then
	toolchain=go$(awk '$1 == "go" { print $2 }' go.mod)
fi
export GOTOOLCHAIN=$toolchain

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || true)
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800}
fi
# Zip stores local time: fix the zone so the bytes do not depend on it.
export TZ=UTC

# pack ZIP FILE stores FILE at the root of ZIP with its mode and a fixed time.
pack() {
	local zipfile=$1 file=$2
	touch -d "@$SOURCE_DATE_EPOCH" "$file"
	rm -f "$zipfile"
	if command -v zip >/dev/null 2>&1; then
		(cd "$(dirname "$file")" && zip -q -X -D "$zipfile" "$(basename "$file")")
	else
		go run ./scripts/zipdet -mtime "$SOURCE_DATE_EPOCH" "$zipfile" "$file"
	fi
}

mkdir -p "$dist/aws" "$dist/build" "$dist/scf"
# What this run built, relative to $dist: older builds there are not listed.
built=()
for arch in "${archs[@]}"; do
	bin=$dist/build/$arch/bootstrap
	mkdir -p "$(dirname "$bin")"
	echo "building $bin ($GOTOOLCHAIN linux/$arch)" >&2
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build \
		-trimpath -buildvcs=false -tags lambda.norpc \
		-ldflags='-s -w -buildid=' \
		-o "$bin" ./function
	chmod 0755 "$bin"
	pack "$dist/aws/bootstrap-$arch.zip" "$bin"
	pack "$dist/scf-$arch.zip" "$bin"
	# SCF runs x86_64: the package directory holds the amd64 build.
	built+=("build/$arch/bootstrap" "aws/bootstrap-$arch.zip" "scf-$arch.zip")
	if [ "$arch" = amd64 ]; then
		cp -p "$bin" "$dist/scf/bootstrap"
		built+=(scf/bootstrap)
	fi
done

cd "$dist"
for f in "${built[@]}"; do
	printf '%10d  %s  %s\n' "$(wc -c <"$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$f"
done
