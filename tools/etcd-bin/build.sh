#!/usr/bin/env bash
# Build etcd (the version Kubernetes pins) from the Go module proxy. In 3.5.x the root package of
# go.etcd.io/etcd/server/v3 is the etcd main; its own go.mod has replace directives, hence this wrapper.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/etcd-$ETCD}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
cd "$(dirname "$0")"
if [ -x "$OUT/etcd" ]; then echo "$OUT"; exit 0; fi
if [ ! -f go.mod ] || ! grep -q "go.etcd.io/etcd/server/v3 $ETCD" go.mod; then
  emod=$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  goline=$(go mod edit -json "$emod" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Go"])')
  printf 'module local/etcdbin\n\ngo %s\n' "$goline" > go.mod
  go get "go.etcd.io/etcd/server/v3@$ETCD"
  go mod tidy
fi
mkdir -p "$OUT.tmp"
go build -ldflags="-s -w" -o "$OUT.tmp/etcd" go.etcd.io/etcd/server/v3
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
