#!/bin/sh
# Run once by the postgres image when it creates the database (docker-compose.yml mounts it into
# /docker-entrypoint-initdb.d): the report gateway's own role, which can read every table the migrations
# create and write none. Its password comes from GATEWAY_DB_PASSWORD; GATEWAY_DB_ROLE names it
# (default gateway_reader). The tables are created later by the migrations, as POSTGRES_USER.
set -eu
: "${GATEWAY_DB_PASSWORD:?set GATEWAY_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$GATEWAY_DB_PASSWORD" -v role="${GATEWAY_DB_ROLE:-gateway_reader}" \
  -v owner="$POSTGRES_USER" -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"database" TO :"role";
GRANT USAGE ON SCHEMA public TO :"role";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"role";
SQL
