#!/usr/bin/env bash
# Stops the Kafka cluster scripts/kafka/start.sh started (SIGTERM, then SIGKILL after 20 s).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pids=()
for f in "${KAFKA_DATA:-$root/.data/kafka}"/node-*/pid; do
  [ -f "$f" ] || continue
  p="$(cat "$f")"
  kill -0 "$p" 2>/dev/null && { kill "$p" 2>/dev/null; pids+=("$p"); }
  rm -f "$f"
done
for _ in $(seq 1 200); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.1
done
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
echo "stopped ${#pids[@]} Kafka node(s)"
