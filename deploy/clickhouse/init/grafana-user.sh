#!/bin/bash
# Runs once, when the ClickHouse server container initialises its data directory: creates
# tocsin's database and a read-only user for Grafana (dashboards only ever SELECT).
set -euo pipefail

clickhouse client --user "${CLICKHOUSE_USER}" --password "${CLICKHOUSE_PASSWORD}" --multiquery <<SQL
CREATE DATABASE IF NOT EXISTS tocsin;
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${CLICKHOUSE_GRAFANA_PASSWORD}'
    SETTINGS readonly = 2;
GRANT SELECT ON tocsin.* TO grafana;
SQL
