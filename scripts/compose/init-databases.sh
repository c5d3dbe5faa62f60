#!/bin/sh
# PostgreSQL init script (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d/): one database per service, owned by the
# compose user, created once when the data volume is new. Each service then
# creates its schema and runs its migrations inside its own database.
set -eu
for db in agri food drug material goods lineage recall epcis gateway; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
SELECT 'CREATE DATABASE "$db" OWNER "$POSTGRES_USER"'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
done
