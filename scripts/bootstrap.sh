#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh machine, and does nothing that is already
# done: a second run takes seconds. Slow builds (Kubernetes, etcd, Neo4j's jars) are cached outside the
# repository in $MGO_CACHE, keyed by version (tools/versions.env).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tools/versions.env"
log() { printf '[bootstrap %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
start=$(date +%s)

# 1. Debian packages.
mapfile -t pkgs < <(grep -v '^\s*#' "$ROOT/scripts/apt-packages.txt" | grep -v '^\s*$')
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Python virtualenv for the test tooling, rebuilt when the requirements change.
req="$ROOT/test/requirements.txt"
stamp="$ROOT/.venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$ROOT/.venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating the Python virtualenv (.venv)"
  python3 -m venv "$ROOT/.venv"
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

# 3. Components built from registries into the cache (each script is a no-op when its output exists).
mkdir -p "$MGO_CACHE/logs"
for script in "$ROOT"/tools/*/build.sh; do
  name=$(basename "$(dirname "$script")")
  t0=$(date +%s)
  if ! out=$(bash "$script" 2>"$MGO_CACHE/logs/$name.log"); then
    log "building $name failed; last lines of $MGO_CACHE/logs/$name.log:"
    tail -n 30 "$MGO_CACHE/logs/$name.log" >&2
    exit 1
  fi
  t1=$(date +%s)
  [ $((t1 - t0)) -gt 2 ] && log "$name ready in $((t1 - t0)) s: $out"
done
log "done in $(( $(date +%s) - start )) s"
