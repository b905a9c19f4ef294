#!/usr/bin/env bash
# Build validate-krew-manifest (krew's offline check of a plugin manifest, used on plugins/memgraph.yaml) from
# the Go module proxy through a wrapper module, like tools/versitygw. The binary goes to a cache outside the
# repository, keyed by version; a second run only checks it exists. Prints the output directory.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/krew-$KREW}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
cd "$(dirname "$0")"
if [ -x "$OUT/validate-krew-manifest" ]; then echo "$OUT"; exit 0; fi
if [ ! -f go.mod ] || ! grep -q "sigs.k8s.io/krew $KREW" go.mod; then
  # krew's own go.mod says go 1.17, whose module-graph pruning rules make `go mod tidy` fail on its test
  # dependencies; the wrapper declares 1.21 (the toolchain here is newer anyway).
  printf 'module local/krewbin\n\ngo 1.21\n' > go.mod
  go get "sigs.k8s.io/krew@$KREW"
  go mod tidy
fi
mkdir -p "$OUT.tmp"
go build -ldflags="-s -w" -o "$OUT.tmp/validate-krew-manifest" sigs.k8s.io/krew/cmd/validate-krew-manifest
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
