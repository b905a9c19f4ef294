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

# 2. Python virtualenv for the test tooling: built once per Python version and requirements in the cache
#    ($MGO_CACHE/venv/<python>-<hash of test/requirements.txt>), and .venv is a link to it, so a fresh clone on a
#    warm machine does not reinstall it. A .venv that is a real directory (an older checkout) is kept and rebuilt
#    in place when the requirements change.
req="$ROOT/test/requirements.txt"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -d "$ROOT/.venv" ] && [ ! -L "$ROOT/.venv" ]; then
  venv="$ROOT/.venv"
else
  pyver=$(python3 -c 'import sys; print("py%d.%d" % sys.version_info[:2])')
  venv="$MGO_CACHE/venv/$pyver-${want:0:16}"
fi
mkdir -p "$MGO_CACHE/venv"
(
  flock 9
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    log "creating the Python virtualenv ($venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$venv/.requirements.sha256"
  fi
) 9>"$MGO_CACHE/venv/.lock"
[ "$venv" = "$ROOT/.venv" ] || ln -sfn "$venv" "$ROOT/.venv"

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
