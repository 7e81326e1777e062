#!/usr/bin/env bash
# stop.sh [DATA_DIR]: stops the broker start.sh started from DATA_DIR (SIGTERM: a controlled shutdown that
# flushes the logs), waiting up to 60 s for it to exit; SIGKILL after that, loudly.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${1:-$repo/.cache/kafka/broker}"
timeout_s="${KAFKA_STOP_TIMEOUT:-60}"

if [ ! -f "$data/kafka.pid" ]; then
  echo "stop.sh: no broker running from $data (no kafka.pid)" >&2
  exit 0
fi
pid="$(cat "$data/kafka.pid")"
# Only signal the process if it is still the broker (the pid may have been reused since).
if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
  kill -TERM "$pid"
  deadline=$((SECONDS + timeout_s))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "stop.sh: the broker (pid $pid) did not stop within ${timeout_s}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  echo "stop.sh: stopped the broker from $data (pid $pid)" >&2
else
  echo "stop.sh: the broker from $data (pid $pid) was not running" >&2
fi
rm -f "$data/kafka.pid" "$data/brokers"
