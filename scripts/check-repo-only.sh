#!/usr/bin/env bash
# The repository alone must pass its tests: no tracked file may read (or point a reader at) a path outside the
# repository, except the build caches and system paths. Greps every tracked file (git grep) for
#   1. the steering reference folder (the shared/ folder beside a clone; shared/reference),
#   2. absolute machine paths (/work/..., /home/..., /Users/..., /root/...),
#   3. home-relative paths (~/..., $HOME/..., ${HOME}/..., expanduser("~/...")) other than the allowed caches
#      and the defaults that the product or the emulator must keep (listed in HOME_ALLOWED below),
#   4. relative climbs above the repository root: a "../../.." chain, or os.path.join(..., "..", ...) with more
#      ".." than the file has directories above it, or ROOT/.. and SOURCE_DIR/..
# Prints each offending line and exits 1; exits 0 and prints one line when clean. Run by scripts/test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SELF=scripts/check-repo-only.sh
# Home-relative paths that may appear: the build caches (bootstrap's ~/.cache/memgraph-operator, Go and Maven),
# the operator's documented kubeconfig default, and Memgraph's own config search that the emulator reproduces.
HOME_ALLOWED='^(\.cache/memgraph-operator|\.cache/go-build|go/pkg/mod|\.m2/|\.kube/config|\.memgraph/config)'

bad=0
report() { # file:line:text, reason
  printf '%s\n    -> %s\n' "$1" "$2"
  bad=1
}

# 1 and 2: fixed patterns.
while IFS= read -r hit; do
  report "$hit" "reads outside the repository (reference folder or absolute machine path)"
done < <(git grep -n -I -E '\.\./shared|shared/reference|(^|[^A-Za-z0-9_.])/(work|home|Users|root)/' -- . ":!$SELF" || true)

# 3: home-relative paths, each occurrence checked against HOME_ALLOWED.
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  occ=${rest#*:}
  tail=$(printf '%s' "$occ" | sed -E 's#^(~|\$HOME|\$\{HOME\}|expanduser\(["'\'']~)/##')
  if ! printf '%s' "$tail" | grep -qE "$HOME_ALLOWED"; then
    report "$file:$line: $occ" "home-relative path that is not an allowed cache"
  fi
done < <(git grep -n -o -I -E '(~|\$HOME|\$\{HOME\}|expanduser\(["'\'']~)/[A-Za-z0-9._/-]*' -- . ":!$SELF" || true)

# 4: relative climbs. depth = number of directories between the repository root and the file.
depth_of() { local d=${1//[^\/]/}; echo ${#d}; }
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  text=${rest#*:}
  depth=$(depth_of "$file")
  # longest "../" chain on the line
  chain=$(printf '%s' "$text" | grep -oE '(\.\./)+\.\.?' | awk '{ n = gsub(/\.\./, ""); if (n > m) m = n } END { print m + 0 }' || true)
  # ".." arguments of one os.path.join(...) call on the line
  joins=$(printf '%s' "$text" | grep -oE "os\.path\.join\([^)]*\)" | awk '{ n = gsub(/["'\'']\.\.["'\'']/, ""); if (n > m) m = n } END { print m + 0 }' || true)
  if [ "$chain" -gt "$depth" ] || [ "$joins" -gt "$depth" ]; then
    report "$hit" "climbs above the repository root (file depth $depth)"
  fi
done < <(git grep -n -I -E '(\.\./)+\.\.|["'\'']\.\.["'\'']' -- . ":!$SELF" || true)

while IFS= read -r hit; do
  report "$hit" "climbs above the repository root from its root directory"
done < <(git grep -n -I -E '(ROOT|SOURCE_DIR)\}?"?/\.\.([/"'\'' ]|$)' -- . ":!$SELF" || true)

if [ "$bad" -ne 0 ]; then
  echo "check-repo-only: files above read outside the repository; put the data under test/data/ and use a" \
    "repository-relative path" >&2
  exit 1
fi
echo "check-repo-only: ok (no tracked file reads outside the repository)"
