#!/usr/bin/env bash
# run.sh DATA_DIR: runs the broker configured by configure.sh in the foreground (exec, so this process's id
# is the JVM's and SIGTERM reaches Kafka directly). Logs go to stderr. Used by start.sh and the test fixture.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 1 ] || { echo "usage: run.sh DATA_DIR" >&2; exit 2; }
data="$(cd "$1" && pwd)"
[ -f "$data/server.properties" ] || { echo "run.sh: $data/server.properties missing (run configure.sh)" >&2; exit 1; }
libs="$("$here/fetch.sh")"

# KAFKA_WATCH_PID (the test fixture sets it to its own pid): stop the broker when that process is gone, even
# if it died without cleaning up (SIGKILL, test timeout). The watcher outlives the exec below as a sibling.
if [ -n "${KAFKA_WATCH_PID:-}" ]; then
  self=$$
  (
    while kill -0 "$KAFKA_WATCH_PID" 2>/dev/null && kill -0 "$self" 2>/dev/null; do sleep 1; done
    if kill -0 "$self" 2>/dev/null; then kill -TERM "$self"; fi
  ) </dev/null >/dev/null 2>&1 &
fi

# The JVM flags of Kafka's kafka-server-start.sh / kafka-run-class.sh, with a small heap.
exec java -Xms128m -Xmx${KAFKA_HEAP_MAX:-512m} -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 \
  -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$data/log4j.properties" -Dkafka.logs.dir="$data/logs" \
  -cp "$libs/*" kafka.Kafka "$data/server.properties"
