#!/bin/bash
# Runs once, on the ClickHouse server's first start (docker-entrypoint-initdb.d): a read-only user for Grafana,
# so a dashboard can never change or delete the audit log.
set -euo pipefail
reader_password="$(cat /run/secrets/clickhouse_grafana_password)"
clickhouse client --user "${CLICKHOUSE_USER}" --password "$(cat "${CLICKHOUSE_PASSWORD_FILE}")" --multiquery <<SQL
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${reader_password//\'/\\\'}'
    SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB}.* TO grafana;
SQL
