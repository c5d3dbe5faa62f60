#!/usr/bin/env bash
# Starts a real Apache Kafka cluster (KRaft, every node broker and controller)
# on loopback, from the jars of Maven Central's org.apache.kafka:kafka_2.13.
#
#   bash scripts/kafka/start.sh [--nodes N]     (N = 1 or 3; default 1)
#   bash scripts/kafka/start.sh --restart-node I (start node I of the running
#                                                 cluster again, data kept:
#                                                 for fault tests)
#
# The jars are fetched once (mvn, pom.xml beside this file) into
# $KAFKA_CACHE (default ~/.cache/trace-kafka/<version>) and kept between runs
# and clones. Data and logs go to .data/kafka/. Broker ports start at
# KAFKA_PORT (default 19092), controllers at KAFKA_PORT+100. With 3 nodes
# topics default to replication factor 3 and min.insync.replicas=2.
# The last line printed is KAFKA_BROKERS=host:port,… once every broker
# accepts produce requests (acks=all); scripts/kafka/stop.sh stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
nodes=1
restart_node=""
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --nodes=*) nodes="${1#--nodes=}"; shift ;;
    --restart-node) restart_node="$2"; shift 2 ;;
    *) echo "usage: $0 [--nodes N]" >&2; exit 64 ;;
  esac
done
case "$nodes" in 1|2|3|4|5) ;; *) echo "--nodes must be 1..5" >&2; exit 64 ;; esac
command -v java >/dev/null || { echo "Kafka needs Java 17+ (apt-get install -y openjdk-17-jre-headless)" >&2; exit 69; }

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
cache="${KAFKA_CACHE:-$HOME/.cache/trace-kafka/$version}"
# The cache is keyed by the pom's content (a fresh clone has a new mtime, the same pom), and
# filled beside the old one then swapped in, so brokers running from it are never cut off.
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
if [ "$(cat "$cache/.complete" 2>/dev/null)" != "$want" ]; then
  command -v mvn >/dev/null || { echo "fetching Kafka needs Maven (apt-get install -y maven)" >&2; exit 69; }
  echo "fetching Apache Kafka $version from Maven Central into $cache" >&2
  # mktemp makes the last component only: on a machine that never fetched Kafka the parent is missing.
  mkdir -p "$(dirname "${cache%/}")"
  fresh="$(mktemp -d "${cache%/}.XXXXXX")"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -Dkafka.lib="$fresh" >&2
  echo "$want" > "$fresh/.complete"
  rm -rf "$cache.old" && { [ ! -d "$cache" ] || mv "$cache" "$cache.old"; } && mv "$fresh" "$cache"
fi

base="${KAFKA_PORT:-19092}"
data="${KAFKA_DATA:-$root/.data/kafka}"
cp="$cache/*"

launch() { # node directory: the broker runs in the background, its pid in <dir>/pid
  # The heap is small on purpose: up to three brokers share a 2-core, CI-sized machine with the tests.
  nohup java -Xms256m -Xmx${KAFKA_HEAP_MB:-512}m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$data/log4j2.properties" -Dkafka.logs.dir="$1/logs" \
    -cp "$cp" kafka.Kafka "$1/server.properties" </dev/null >>"$1/logs/stdout.log" 2>&1 &
  echo $! > "$1/pid"
}

if [ -n "$restart_node" ]; then
  dir="$data/node-$restart_node"
  [ -f "$dir/server.properties" ] || { echo "no node $restart_node under $data" >&2; exit 66; }
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then echo "node $restart_node is running" >&2; exit 0; fi
  launch "$dir"
  echo "restarted node $restart_node (pid $(cat "$dir/pid"))"
  exit 0
fi

bash "$here/stop.sh" >/dev/null 2>&1 || true
rm -rf "$data"/node-* && mkdir -p "$data"
voters=""
brokers=""
for i in $(seq 1 "$nodes"); do
  voters+="${voters:+,}$i@127.0.0.1:$((base + 100 + i - 1))"
  brokers+="${brokers:+,}127.0.0.1:$((base + i - 1))"
done
rf=$(( nodes >= 3 ? 3 : nodes ))
isr=$(( nodes >= 3 ? 2 : 1 ))
cat > "$data/log4j2.properties" <<LOG
rootLogger.level = WARN
rootLogger.appenderRef.f.ref = f
appender.f.type = File
appender.f.name = f
appender.f.fileName = \${sys:kafka.logs.dir}/server.log
appender.f.layout.type = PatternLayout
appender.f.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
LOG
cluster_id="$(java -cp "$cp" kafka.tools.StorageTool random-uuid | tail -1)"
[ -n "$cluster_id" ] || { echo "kafka.tools.StorageTool random-uuid failed (jars in $cache)" >&2; exit 1; }
for i in $(seq 1 "$nodes"); do
  dir="$data/node-$i"
  mkdir -p "$dir/logs"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$((base + i - 1)),CONTROLLER://127.0.0.1:$((base + 100 + i - 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$((base + i - 1))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
unclean.leader.election.enable=false
log.flush.interval.messages=9223372036854775807
PROPS
  java -cp "$cp" -Dlog4j2.configurationFile="$data/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/logs/format.out" 2>&1 \
    || { cat "$dir/logs/format.out" >&2; exit 1; }
  launch "$dir"
done
echo "$brokers" > "$data/brokers"

# Ready means produce requests succeed with acks=all on a topic replicated to every node.
if ! node "$here/ready.js" "$brokers" "$rf" >&2; then
  echo "Kafka did not become ready; logs in $data/node-*/logs" >&2
  tail -n 30 "$data"/node-*/logs/server.log >&2 || true
  exit 1
fi
echo "KAFKA_BROKERS=$brokers" > "$data/kafka.env"
echo "KAFKA_BROKERS=$brokers"
