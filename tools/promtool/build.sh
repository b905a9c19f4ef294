#!/usr/bin/env bash
# promtool (`promtool check metrics` on a live /metrics; `promtool test rules`) from Debian's `prometheus`
# package: `apt-get download` into a temp dir and `dpkg-deb -x`, no daemon installed, nothing run as root.
# Only the promtool binary is kept, in a cache outside the repository keyed by the package version; a second
# run only checks it exists. Prints the output directory on the last line.
set -euo pipefail
. "$(dirname "$0")/../versions.env"

OUT=${OUT:-$MGO_CACHE/promtool-$PROMTOOL}
if [ -x "$OUT/promtool" ]; then echo "$OUT"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download "prometheus=$PROMTOOL" >&2)
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
mkdir -p "$OUT.tmp"
cp "$tmp/root/usr/bin/promtool" "$OUT.tmp/promtool"
"$OUT.tmp/promtool" --version >&2
rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
echo "$OUT"
