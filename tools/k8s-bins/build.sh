#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-proxy and kubectl for one Kubernetes tag from the Go module proxy.
# The wrapper module pins every k8s.io staging module to the tag's published v0.X.Y, because
# k8s.io/kubernetes itself cannot be consumed as a module (its staging requirements are v0.0.0 placeholders).
# Binaries go to a cache outside the repository, keyed by version; a second run only checks they exist.
set -euo pipefail
. "$(dirname "$0")/../versions.env"
STG=v0${K8S#v1}

OUT=${OUT:-$MGO_CACHE/k8s-$K8S}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
cd "$(dirname "$0")"

bins=(kube-apiserver kube-controller-manager kube-proxy kubectl)
missing=()
for b in "${bins[@]}"; do [ -x "$OUT/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} = 0 ]; then echo "$OUT"; exit 0; fi

if [ ! -f go.mod ] || ! grep -q "k8s.io/kubernetes $K8S" go.mod; then
  # Generate the wrapper from the chosen release's own go.mod: never hard-code the staging list.
  kmod=$(go mod download -json "k8s.io/kubernetes@$K8S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  kjson=$(go mod edit -json "$kmod")
  read -r goline godebug < <(printf '%s' "$kjson" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = [g["Value"] for g in d.get("Godebug") or [] if g["Key"] == "default"]
print(d["Go"], v[0] if v else "go" + ".".join(d["Go"].split(".")[:2]))')
  staging=$(printf '%s' "$kjson" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])')
  printf 'module local/k8sbins\n\ngo %s\n\ngodebug default=%s\n' "$goline" "$godebug" > go.mod
  for m in $staging; do go mod edit -replace="$m=$m@$STG"; done
  go mod edit -require="k8s.io/kubernetes@$K8S"
  go mod tidy
fi

minor=$(echo "$K8S" | cut -d. -f2)
ver=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ver="$ver -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
# Only what is missing (a cache from before kube-proxy joined keeps its other binaries), each moved in whole.
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp" "$OUT"
pkgs=()
for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
go build -tags=notest,grpcnotrace -ldflags="-s -w$ver" -o "$OUT.tmp/" "${pkgs[@]}"
for b in "${missing[@]}"; do mv "$OUT.tmp/$b" "$OUT/$b"; done
rm -rf "$OUT.tmp"
echo "$OUT"
