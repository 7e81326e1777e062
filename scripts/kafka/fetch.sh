#!/usr/bin/env bash
# Fetches the jars of the Kafka broker (see pom.xml) from Maven Central into
# <repo>/.cache/kafka/<version>/libs, once, and prints that directory on stdout.
# A second run finds the `.complete` marker (written only after a successful copy) and fetches nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
[ -n "$version" ] || { echo "fetch.sh: cannot read kafka.version from $here/pom.xml" >&2; exit 1; }
libs="$repo/.cache/kafka/$version/libs"
marker="$libs/.complete"

complete() { [ -f "$marker" ] && [ "$(cat "$marker")" = "$(sha256sum < "$here/pom.xml")" ]; }

if ! complete; then
  mkdir -p "$(dirname "$libs")"
  # One fetch at a time (a test run and start.sh may both get here first).
  exec 9>"$(dirname "$libs")/.fetch.lock"
  flock 9
fi
if ! complete; then
  command -v mvn >/dev/null || { echo "fetch.sh: mvn (Maven) is needed to fetch Kafka $version" >&2; exit 1; }
  echo "fetch.sh: fetching Kafka $version jars from Maven Central into $libs" >&2
  tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >&2; then
    echo "fetch.sh: mvn dependency:copy-dependencies failed" >&2
    exit 1
  fi
  [ -f "$tmp/kafka_2.13-$version.jar" ] || { echo "fetch.sh: kafka_2.13-$version.jar missing after fetch" >&2; exit 1; }
  rm -rf "$libs"
  mv "$tmp" "$libs"
  trap - EXIT
  sha256sum < "$here/pom.xml" > "$marker"
fi
echo "$libs"
