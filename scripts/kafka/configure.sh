#!/usr/bin/env bash
# configure.sh DATA_DIR PORT CONTROLLER_PORT
# Writes DATA_DIR/server.properties and DATA_DIR/log4j.properties for a single-node KRaft Kafka (combined
# broker + controller) listening on 127.0.0.1:PORT (clients) and 127.0.0.1:CONTROLLER_PORT (controller),
# and formats DATA_DIR/kafka-logs once. Run again with other ports, it rewrites the config and keeps the data.
# Used by start.sh and by packages/testing/src/kafka.ts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ $# -eq 3 ] || { echo "usage: configure.sh DATA_DIR PORT CONTROLLER_PORT" >&2; exit 2; }
mkdir -p "$1"
data="$(cd "$1" && pwd)"
port="$2"
cport="$3"
libs="$("$here/fetch.sh")"

mkdir -p "$data/kafka-logs" "$data/logs"
cat > "$data/server.properties" <<PROPS
# Written by scripts/kafka/configure.sh: a single-node KRaft Kafka for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/kafka-logs

# Topics are created by the adapters (with their partition count), never implicitly.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
# One node: every internal topic has one replica, or consumer groups and idempotent producers stall.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
# A group's first member does not wait for others before getting its partitions.
group.initial.rebalance.delay.ms=0
# A broker restarted after a crash (SIGKILL) is refused until its previous registration expires (default 9 s).
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000

# Small machine: few threads, small preallocated indexes, no frequent housekeeping.
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
log.index.size.max.bytes=1048576
log.retention.hours=168
log.retention.check.interval.ms=3600000
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
PROPS

cat > "$data/log4j.properties" <<'PROPS'
# reload4j (Kafka 3.9): everything to stderr, which start.sh / the test fixture send to DATA_DIR/broker.log.
log4j.rootLogger=INFO, err
log4j.appender.err=org.apache.log4j.ConsoleAppender
log4j.appender.err.Target=System.err
log4j.appender.err.layout=org.apache.log4j.PatternLayout
log4j.appender.err.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.controller=WARN
log4j.logger.kafka.log.LogCleaner=WARN
PROPS

if [ ! -f "$data/kafka-logs/meta.properties" ]; then
  # A cluster id is a random UUID in Kafka's URL-safe base64 form (22 characters, never starting with '-');
  # made here rather than with `StorageTool random-uuid`, which would cost one more JVM start.
  while :; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    case "$cluster_id" in -*) ;; *) break ;; esac
  done
  if ! java -Xmx256m -Dlog4j.configuration="file:$data/log4j.properties" -cp "$libs/*" \
       kafka.tools.StorageTool format -t "$cluster_id" -c "$data/server.properties" --ignore-formatted \
       > "$data/format.log" 2>&1; then
    echo "configure.sh: formatting $data/kafka-logs failed:" >&2
    tail -n 30 "$data/format.log" >&2
    exit 1
  fi
fi
