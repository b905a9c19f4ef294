#!/usr/bin/env bash
# Build versitygw (an S3 gateway over a POSIX directory; the real S3 server the src/s3 integration tests
# and bench/run-s3-bench.sh run against) from the Go module proxy through a wrapper module, like
# tools/etcd-bin. The binary goes to a cache outside the repository, keyed by version; a second run only
# checks it exists. Prints the output directory.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/versitygw-$VERSITYGW}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
cd "$(dirname "$0")"
if [ -x "$OUT/versitygw" ]; then echo "$OUT"; exit 0; fi
if [ ! -f go.mod ] || ! grep -q "github.com/versity/versitygw $VERSITYGW" go.mod; then
  vmod=$(go mod download -json "github.com/versity/versitygw@$VERSITYGW" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  goline=$(go mod edit -json "$vmod" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Go"])')
  printf 'module local/versitygwbin\n\ngo %s\n' "$goline" > go.mod
  go get "github.com/versity/versitygw@$VERSITYGW"
  go mod tidy
fi
mkdir -p "$OUT.tmp"
go build -ldflags="-s -w" -o "$OUT.tmp/versitygw" github.com/versity/versitygw/cmd/versitygw
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
