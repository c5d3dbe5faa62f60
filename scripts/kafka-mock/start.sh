#!/usr/bin/env bash
# Builds (once) and starts librdkafka's mock Kafka cluster in the background.
# Writes KAFKA_BROKERS=<bootstrap> to .data/kafka-mock.env and prints it, so CI
# and developers can `source` it. Needs librdkafka-dev (apt) and gcc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin/mock_cluster"
mkdir -p "$here/bin" "$root/.data"
if [ ! -x "$bin" ] || [ "$here/mock_cluster.c" -nt "$bin" ]; then
  gcc -O2 -Wall -o "$bin" "$here/mock_cluster.c" -lrdkafka
fi
out="$root/.data/kafka-mock.out"
pidfile="$root/.data/kafka-mock.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")" || true
  sleep 0.2
fi
: > "$out"
nohup "$bin" "${1:-1}" < /dev/null > "$out" 2>&1 &
echo $! > "$pidfile"
for _ in $(seq 1 50); do
  if grep -q '^BOOTSTRAP ' "$out"; then break; fi
  sleep 0.1
done
bootstrap="$(grep '^BOOTSTRAP ' "$out" | head -1 | cut -d' ' -f2)"
[ -n "$bootstrap" ] || { echo "mock Kafka cluster did not start:" >&2; cat "$out" >&2; exit 1; }
echo "KAFKA_BROKERS=$bootstrap" > "$root/.data/kafka-mock.env"
echo "KAFKA_BROKERS=$bootstrap"
