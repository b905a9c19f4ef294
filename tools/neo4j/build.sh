#!/usr/bin/env bash
# Resolves Neo4j 5.26 LTS (neo4j-harness, from Maven Central) and compiles the BoltPeer launcher into the
# cache. Idempotent: seconds when the cache is complete. Prints the cache directory on stdout; everything
# else goes to stderr. Layout: <cache>/lib/*.jar, <cache>/classes/BoltPeer.class, <cache>/.complete
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../versions.env"
NEO4J=$(sed -n 's:.*<neo4j.version>\(.*\)</neo4j.version>.*:\1:p' "$HERE/pom.xml")
OUT=${OUT:-$MGO_CACHE/neo4j-$NEO4J}
stamp_want=$(cat "$HERE/pom.xml" "$HERE/src/BoltPeer.java" | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/.complete" ] && [ "$(cat "$OUT/.complete")" = "$stamp_want" ]; then
  echo "$OUT"
  exit 0
fi
mkdir -p "$OUT"
rm -rf "$OUT/lib.tmp" "$OUT/classes.tmp"
mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$OUT/lib.tmp" >&2
mkdir -p "$OUT/classes.tmp"
javac -nowarn -d "$OUT/classes.tmp" -cp "$OUT/lib.tmp/*" "$HERE/src/BoltPeer.java" >&2
rm -rf "$OUT/lib" "$OUT/classes"
mv "$OUT/lib.tmp" "$OUT/lib"
mv "$OUT/classes.tmp" "$OUT/classes"
echo "$stamp_want" > "$OUT/.complete"
echo "$OUT"
