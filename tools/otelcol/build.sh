#!/usr/bin/env bash
# Build an OpenTelemetry Collector (the real OTLP/HTTP receiver of test/e2e/test_tracing.py and
# bench/trace_bench.py) with the collector builder (ocb) from the Go module proxy: the OTLP receiver, the
# debug exporter and the contrib file exporter, which writes what it receives as OTLP JSON lines. The
# generated module is tidied with `go mod tidy -e`, then built. The binary goes to a cache outside the repository, keyed by version; a second run
# only checks it exists. Prints the output directory.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/otelcol-$OTELCOL}
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
if [ -x "$OUT/otelcol" ]; then echo "$OUT"; exit 0; fi
rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp/src"
GOBIN="$OUT.tmp" go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL"
cat > "$OUT.tmp/builder.yaml" <<YAML
dist:
  name: otelcol
  description: OpenTelemetry Collector for the memgraph-operator tests
  output_path: $OUT.tmp/src
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $OTELCOL
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $OTELCOL
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter $OTELCOL_CONTRIB
YAML
# The builder's own strict `go mod tidy` fails on a test-only dependency of the file exporter that the proxy
# does not serve; it has written go.mod by then, and `go mod tidy -e` below tolerates that module.
"$OUT.tmp/builder" --config "$OUT.tmp/builder.yaml" --skip-compilation >&2 || true
[ -f "$OUT.tmp/src/go.mod" ] || { echo "the collector builder wrote no go.mod" >&2; exit 1; }
(cd "$OUT.tmp/src" && go mod tidy -e >&2 && go build -ldflags="-s -w" -o "$OUT.tmp/otelcol" .)
"$OUT.tmp/otelcol" components >&2
rm -rf "$OUT.tmp/src" "$OUT.tmp/builder"
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
