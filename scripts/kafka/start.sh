#!/usr/bin/env bash
# start.sh [DATA_DIR]: starts a single-node KRaft Kafka in the background for development and CI.
#   Fetches the jars once (fetch.sh), configures and formats DATA_DIR (configure.sh) on free ports of
#   127.0.0.1, starts the broker (run.sh) with its log in DATA_DIR/broker.log, waits until it serves, and
#   writes DATA_DIR/kafka.pid and DATA_DIR/brokers. The last line on stdout is KAFKA_BROKERS=127.0.0.1:PORT.
#   DATA_DIR defaults to <repo>/.cache/kafka/broker. Stop it with stop.sh [DATA_DIR].
# Example (CI):  export SWITCHYARD_TEST_KAFKA_BROKERS=$(scripts/kafka/start.sh | tail -n1 | cut -d= -f2)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
mkdir -p "${1:-$repo/.cache/kafka/broker}"
data="$(cd "${1:-$repo/.cache/kafka/broker}" && pwd)"
timeout_s="${KAFKA_START_TIMEOUT:-60}"

fail() {
  echo "start.sh: $*" >&2
  if [ -f "$data/broker.log" ]; then
    echo "---- last lines of $data/broker.log ----" >&2
    tail -n 40 "$data/broker.log" >&2
  fi
  exit 1
}

if [ -f "$data/kafka.pid" ] && kill -0 "$(cat "$data/kafka.pid")" 2>/dev/null; then
  echo "start.sh: a broker is already running from $data (pid $(cat "$data/kafka.pid"), $(cat "$data/brokers" 2>/dev/null)); stop it with stop.sh" >&2
  exit 1
fi
rm -f "$data/kafka.pid" "$data/brokers"

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
  # Binding port 0 lets the kernel pick a port nobody uses.
  if [ -x "$repo/node_modules/.bin/node" ]; then
    "$repo/node_modules/.bin/node" -e \
      "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  else
    python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"
  fi
}

# Keep the ports of an existing configuration while they are free (clients keep their address).
port="" cport=""
if [ -f "$data/server.properties" ]; then
  port="$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$data/server.properties")"
  cport="$(sed -n 's|^controller.quorum.voters=1@127.0.0.1:\([0-9]*\)$|\1|p' "$data/server.properties")"
fi
if [ -z "$port" ] || [ -z "$cport" ] || ! port_free "$port" || ! port_free "$cport"; then
  port="$(free_port)"
  cport="$(free_port)"
  while [ "$cport" = "$port" ]; do cport="$(free_port)"; done
fi

"$here/configure.sh" "$data" "$port" "$cport" || fail "configuring $data failed"

[ -f "$data/broker.log" ] && mv "$data/broker.log" "$data/broker.log.previous"
# setsid: the broker outlives this script and ignores the Ctrl-C of the shell that started it.
setsid "$here/run.sh" "$data" > "$data/broker.log" 2>&1 < /dev/null &
pid=$!

deadline=$((SECONDS + timeout_s))
until grep -q "Kafka Server started" "$data/broker.log" 2>/dev/null && ! port_free "$port"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    fail "the broker exited during start-up"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    fail "the broker did not start within ${timeout_s}s"
  fi
  sleep 0.2
done

echo "$pid" > "$data/kafka.pid"
echo "127.0.0.1:$port" > "$data/brokers"
echo "start.sh: Kafka $(basename "$(dirname "$("$here/fetch.sh")")") running from $data (pid $pid)" >&2
echo "KAFKA_BROKERS=127.0.0.1:$port"
