#!/usr/bin/env bash
# The prometheus-operator CRDs for ServiceMonitor, PodMonitor and PrometheusRule, so the Helm chart's optional
# monitoring objects are validated by the real API server of the tests (test/e2e/test_helm_chart.py applies them
# and runs a server-side dry run of the chart with everything enabled). Taken from the prometheus-operator Go
# module on the module proxy (its example/prometheus-operator-crd/ holds the generated CRDs); nothing is built.
# Copied to a cache outside the repository, keyed by version; a second run only checks they exist (a file added
# to FILES is fetched then). Prints the directory.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/prometheus-operator-crds-$PROMETHEUS_OPERATOR}
FILES=(monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_podmonitors.yaml
  monitoring.coreos.com_prometheusrules.yaml)
export GOTOOLCHAIN=local
have=1
for f in "${FILES[@]}"; do [ -s "$OUT/$f" ] || have=0; done
if [ "$have" = 1 ]; then echo "$OUT"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir=$(cd "$tmp" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
for f in "${FILES[@]}"; do
  cp "$dir/example/prometheus-operator-crd/$f" "$OUT.tmp/$f"
  chmod 644 "$OUT.tmp/$f"
done
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
