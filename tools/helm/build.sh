#!/usr/bin/env bash
# Build helm (the chart tests of test/e2e/test_helm_chart.py: lint, template, install, upgrade, uninstall) from
# the Go module proxy with `go install pkg@version`: helm's own go.mod pins every dependency, so no wrapper
# module is needed. The binary goes to a cache outside the repository, keyed by version; a second run only
# checks it exists. Prints the output directory.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/helm-$HELM}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
if [ -x "$OUT/helm" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
# The -X flags of helm's Makefile: without them `helm version` says v3.22 with no patch level, and `helm template`
# and `helm lint` assume Kubernetes v1.20 (refusing a chart's kubeVersion >= 1.28). Kubernetes 1.N pairs with
# client-go v0.N, the version helm's go.mod pins.
gomod=$(go mod download -json "helm.sh/helm/v3@$HELM" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
k8sminor=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2] }' "$gomod")
[ -n "$k8sminor" ] || { echo "no k8s.io/client-go in $gomod" >&2; exit 1; }
x=""
for pkg in pkg/lint/rules pkg/chartutil; do
  x="$x -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8sminor"
done
GOBIN="$OUT.tmp" go install -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM$x" \
  "helm.sh/helm/v3/cmd/helm@$HELM"
"$OUT.tmp/helm" version --short >&2
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
