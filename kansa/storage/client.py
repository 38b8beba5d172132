"""Opens a clickhouse-connect client from a DSN; the embedded engine and a server share one code path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from kansa.config import StorageSettings


class StorageError(Exception):
    """The store cannot be reached or refused an operation."""


def connect(settings: StorageSettings) -> Client:
    """A client bound to `settings.database`, created if missing.

    `chdb://DIR` runs ClickHouse's own engine in this process (one process per DIR: the
    engine locks it); `http://` and `https://` reach a server.
    """
    parts = urlsplit(settings.dsn)
    try:
        if parts.scheme == "chdb":
            directory = Path(unquote(parts.netloc + parts.path)).expanduser()
            directory.mkdir(parents=True, exist_ok=True)
            bootstrap = clickhouse_connect.get_client(interface="chdb", path=str(directory.resolve()))
        elif parts.scheme in ("http", "https"):
            bootstrap = clickhouse_connect.get_client(
                host=parts.hostname or "localhost", port=parts.port or (8443 if parts.scheme == "https" else 8123),
                username=unquote(parts.username) if parts.username else settings.username,
                password=unquote(parts.password) if parts.password else settings.password,
                secure=parts.scheme == "https",
            )
        else:
            raise StorageError(
                f"KANSA_CLICKHOUSE_DSN={settings.dsn!r}: scheme must be chdb://, http:// or https://"
            )
        bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(settings.database)}")
    except StorageError:
        raise
    except Exception as exc:  # driver errors have no common base worth naming here
        raise StorageError(f"cannot open ClickHouse at {redact(settings.dsn)}: {exc}") from exc
    bootstrap.database = settings.database
    return bootstrap


def quote_identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise StorageError(f"database or table name {name!r} must be letters, digits and underscores")
    return f"`{name}`"


def redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password:
        return dsn.replace(f":{parts.password}@", ":***@")
    return dsn


def scalar(client: Client, sql: str, parameters: dict[str, Any] | None = None) -> Any:
    rows = client.query(sql, parameters=parameters).result_rows
    return rows[0][0] if rows else None


class TableInserter:
    """Row inserts into one table's columns, with the column types read from the store once.

    Without types, clickhouse-connect asks the store for them (DESCRIBE) before every insert:
    a second statement on the consumer's path for each alert flush or write-ahead record.
    """

    def __init__(self, client: Client, table: str, columns: Sequence[str]) -> None:
        self._client = client
        self._table = table
        self.columns = tuple(columns)
        self._types: Sequence[Any] | None = None

    def insert(self, rows: Sequence[Sequence[Any]], settings: dict[str, Any] | None = None) -> None:
        if self._types is None:
            self._types = self._client.create_insert_context(self._table, self.columns).column_types
        self._client.insert(self._table, rows, column_names=self.columns, column_types=self._types,
                            settings=settings)
