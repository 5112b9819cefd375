#!/bin/bash
# ARX 3.9.2's SafePub beside deidentify's (see README.md in this folder).
#
#   run.sh build                                            build ARX's core and SafePub.java
#   run.sh safepub DATA EPSILON DELTA SEARCH_BUDGET STEPS N OUT
#       DATA: adult (= datasets/adult/adult.csv of this repository) or a ';'-separated CSV with
#       hierarchies/<column>.csv beside it; OUT: folder for release-<i>.csv, or - for none.
#       Builds first when needed. One JSON line per release and a summary line on stdout.
#
# Environment:
#   ARX_SRC    ARX's source tree at tag v3.9.2 (github arx-deidentifier/arx, Apache-2.0); needed to build
#   ARX_BUILD  build folder (default ~/.cache/arx-peer): ARX's classes go to $ARX_BUILD/arx (the same
#              layout as the older shared build.sh, which wipes the whole folder), ours to
#              $ARX_BUILD/safepub; ARX's core is rebuilt only when $ARX_BUILD/arx.stamp does not
#              name ARX_SRC's commit (or ARX_REBUILD=1)
#   ARX_NICE   nice level of the javac runs (default 10)
#   JAVA_OPTS  JVM options (default -Xms1g -Xmx4g)
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$D/../../.." && pwd)
B=${ARX_BUILD:-$HOME/.cache/arx-peer}
NICE="nice -n ${ARX_NICE:-10}"

# ARX's run-time libraries (lib/ant of its source tree), the set its core compiles against.
JARS="colt-1.2.0 commons-lang-2.6 commons-lang3-3.12.0 commons-math3-3.6.1 objectselector-0.1-lib
commons-io-2.4 commons-codec-1.5 commons-logging-1.1 commons-validator-1.4.1 dom4j-1.6.1 stax-api-1.0.1
xmlbeans-2.3.0 poi-3.10-FINAL-20140208 poi-ooxml-3.10-FINAL-20140208 hppc-0.6.0 univocity-parsers-2.8.4
newtonraphson-0.0.1 jhpl-0.0.1 mahout-core-0.9 mahout-math-0.11.1 guava-18.0 slf4j-api-1.7.13
pdfbox-layout exp4j-0.4.8 smile-1.3.1-java7"

src_commit() { git -C "$ARX_SRC" rev-parse HEAD 2>/dev/null || echo "no-git:$(cd "$ARX_SRC" && pwd)"; }

build_arx() {
  : "${ARX_SRC:?set ARX_SRC to the source tree of ARX at tag v3.9.2}"
  local want; want=$(src_commit)
  if [ "${ARX_REBUILD:-0}" != 1 ] && [ -f "$B/arx.stamp" ] && [ "$(cat "$B/arx.stamp")" = "$want" ] \
     && [ -f "$B/arx/org/deidentifier/arx/ARXAnonymizer.class" ] && [ -f "$B/libcp.txt" ]; then
    return 0
  fi
  local tag; tag=$(git -C "$ARX_SRC" describe --tags --exact-match 2>/dev/null || echo "?")
  [ "$tag" = v3.9.2 ] || echo "WARNING: ARX_SRC is at '$tag', not v3.9.2" >&2
  local libcp
  libcp=$(for j in $JARS; do f=$(find "$ARX_SRC/lib/ant" -name "$j.jar" | head -1)
            [ -n "$f" ] || { echo "missing $j.jar under $ARX_SRC/lib/ant" >&2; exit 1; }; echo "$f"; done | paste -sd:)
  echo "building ARX's core from $ARX_SRC ($want) into $B/arx" >&2
  rm -rf "$B/arx" "$B/stubs" "$B/arx.stamp" "$B/libcp.txt"
  mkdir -p "$B/arx" "$B/stubs"
  # Compile-time stand-ins for three jars a copy of ARX's repository may lack (never on the run-time path).
  $NICE javac -nowarn -source 8 -target 8 -Xlint:-options -d "$B/stubs" $(find "$D/stubs" -name '*.java')
  $NICE javac -J-Xmx1g -nowarn -encoding UTF-8 -source 8 -target 8 -Xlint:-options \
    -cp "$libcp:$B/stubs" -d "$B/arx" $(find "$ARX_SRC/src/main" -name '*.java') 2>&1 | grep -v -E '^Note:' >&2 || true
  (cd "$ARX_SRC/src/main" && find . -type f ! -name '*.java' ! -name '*.txt' -exec cp --parents {} "$B/arx/" \;)
  test -f "$B/arx/org/deidentifier/arx/ARXAnonymizer.class" || { echo "ARX's build failed" >&2; exit 1; }
  echo "$libcp" > "$B/libcp.txt"
  echo "$want" > "$B/arx.stamp"
}

build_safepub() {
  if [ -f "$B/safepub/SafePub.class" ] && [ "$B/safepub/SafePub.class" -nt "$D/SafePub.java" ] \
     && [ "$B/safepub/SafePub.class" -nt "$B/arx.stamp" ]; then return 0; fi
  rm -rf "$B/safepub"; mkdir -p "$B/safepub"
  $NICE javac -nowarn -encoding UTF-8 -cp "$B/arx:$(cat "$B/libcp.txt")" -d "$B/safepub" "$D/SafePub.java"
}

ensure_built() {
  if [ -n "${ARX_SRC:-}" ]; then build_arx
  elif ! [ -f "$B/arx/org/deidentifier/arx/ARXAnonymizer.class" ] || ! [ -f "$B/libcp.txt" ]; then
    echo "ARX is not built in $B: set ARX_SRC (ARX's source at v3.9.2) and run '$0 build'" >&2; exit 1
  fi
  build_safepub
}

case "${1:-}" in
  build)
    shift; ensure_built; echo "built into $B" >&2 ;;
  safepub)
    shift
    [ $# -eq 7 ] || { echo "usage: $0 safepub DATA EPSILON DELTA SEARCH_BUDGET STEPS N OUT" >&2; exit 2; }
    data=$1; shift
    [ "$data" = adult ] && data="$REPO/datasets/adult/adult.csv"
    [ -f "$data" ] || { echo "no such data: $data" >&2; exit 1; }
    ensure_built
    exec java ${JAVA_OPTS:--Xms1g -Xmx4g} -cp "$B/arx:$B/safepub:$(cat "$B/libcp.txt")" SafePub "$data" "$@" ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
