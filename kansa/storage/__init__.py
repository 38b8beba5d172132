"""ClickHouse access through clickhouse-connect only: embedded (chdb://) or a server (http[s]://)."""
