#!/usr/bin/env bash
# Brings up, on a bare Debian machine, everything the whole test suite talks to:
# PostgreSQL (Debian's package; a cluster on 127.0.0.1:5432 with a database
# `test`, loopback connections trusted), Redis on 127.0.0.1:6379, Chromium
# and a Chinese font for the scan page's browser test, librdkafka and gcc for
# the Kafka mock's fault injection, schemathesis for the OpenAPI fuzz (in a
# virtualenv, scripts/fuzz/install.sh), and a real Apache Kafka broker (KRaft,
# scripts/kafka/start.sh). Installs what is missing with apt-get (as root).
#
#   eval "$(bash scripts/dev/up.sh)"          # then: npm test
#   bash scripts/dev/up.sh --no-kafka         # PostgreSQL and Redis only
#
# Progress goes to stderr; stdout is only `export …` lines to eval.
# Idempotent: what already runs is left running.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kafka=1
kafka_nodes=1
for a in "$@"; do
  case "$a" in
    --no-kafka) kafka=0 ;;
    --kafka-nodes=*) kafka_nodes="${a#--kafka-nodes=}" ;;
    *) echo "usage: $0 [--no-kafka] [--kafka-nodes=N]" >&2; exit 64 ;;
  esac
done
say() { printf '[up] %s\n' "$*" >&2; }
export DEBIAN_FRONTEND=noninteractive

need=()
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need+=(fonts-wqy-microhei)
dpkg -s librdkafka-dev >/dev/null 2>&1 || need+=(librdkafka-dev)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
# schemathesis (the OpenAPI fuzz) runs in a virtualenv of Debian's python3.
dpkg -s python3-venv >/dev/null 2>&1 || need+=(python3-venv)
if [ "$kafka" = 1 ]; then
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || need+=(maven)
fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "missing ${need[*]}: run as root, or install them" >&2; exit 77; }
  say "apt-get install ${need[*]}"
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# PostgreSQL: Debian's cluster manager; create the cluster if the package came without one.
ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
  say "creating PostgreSQL $ver cluster main"
  pg_createcluster "$ver" main --port 5432 >&2
fi
hba="/etc/postgresql/$ver/main/pg_hba.conf"
if ! grep -q 'trace-dev: trust loopback' "$hba"; then
  # Tests and developers connect as postgres over loopback without a password.
  # This cluster is for development and CI only: never do this on a shared host.
  { echo '# trace-dev: trust loopback'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
  chown postgres:postgres "$hba" 2>/dev/null || true
  restart_pg=1
fi
conf="/etc/postgresql/$ver/main/conf.d/trace-dev.conf"
if [ ! -f "$conf" ]; then
  # Many service processes with their own pools share it during the e2e tier.
  printf "listen_addresses = '127.0.0.1,::1'\nport = 5432\nmax_connections = 300\n" > "$conf"
  restart_pg=1
fi
if pg_isready -q -h 127.0.0.1 -p 5432 && [ "${restart_pg:-0}" = 1 ]; then
  pg_ctlcluster --skip-systemctl-redirect "$ver" main restart >&2
elif ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start; see /var/log/postgresql/" >&2; exit 1; }
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -q -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >&2
say "PostgreSQL $ver on 127.0.0.1:5432, database test"

# Redis: no persistence; it is a cache and rate-limit store here.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/trace-dev.log >&2
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis did not start" >&2; exit 1; }
say "Redis on 127.0.0.1:6379"

echo "export SCHEMATHESIS=$(bash "$root/scripts/fuzz/install.sh")"
echo "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
echo "export REDIS_URL=redis://127.0.0.1:6379/15"

if [ "$kafka" = 1 ]; then
  # ready.js (the produce probe) and create-topics need the project's node_modules.
  [ -d "$root/node_modules/kafkajs" ] || (cd "$root" && npm install --no-audit --no-fund >&2)
  brokers="$(bash "$root/scripts/kafka/start.sh" --nodes "$kafka_nodes" | tail -1 | sed 's/^KAFKA_BROKERS=//')"
  rf=$(( kafka_nodes >= 3 ? 3 : 1 ))
  (cd "$root" && KAFKA_BROKERS="$brokers" TOPIC_REPLICATION_FACTOR=$rf node scripts/run.js scripts/create-topics.ts >&2)
  say "Apache Kafka ($kafka_nodes node(s)) at $brokers, topics created"
  echo "export KAFKA_BROKERS=$brokers"
fi
