"""Migrations and the storage client on the real embedded engine (the session's data directory)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.client import Client

from kansa.config import KansaConfig, StorageSettings
from kansa.localstack.broker import free_port
from kansa.storage.client import StorageError, connect, quote_identifier, redact, scalar
from kansa.storage.migrate import applied_version, available_migrations, migrate


def test_available_migrations_are_numbered_in_order() -> None:
    """Migration files are found, ordered by version from 1 without gaps, each with statements."""
    migrations = available_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "0001_access_events.sql"
    assert all(m.statements for m in migrations)
    assert not any(s.lstrip().startswith("--") for m in migrations for s in m.statements)


def test_migrate_applies_all_then_nothing(client: Client) -> None:
    """A fresh database gets every migration, recorded once each; a second run applies none and changes nothing."""
    migrations = available_migrations()
    assert applied_version(client) == 0
    assert migrate(client) == [m.name for m in migrations]
    assert applied_version(client) == migrations[-1].version
    assert migrate(client) == []
    rows = client.query("SELECT version, name FROM schema_migrations ORDER BY version").result_rows
    assert rows == [(m.version, m.name) for m in migrations]
    assert scalar(client, "EXISTS TABLE access_events") == 1
    assert scalar(client, "EXISTS TABLE ingest_batches") == 1


def test_migrate_resumes_after_a_partial_run(client: Client) -> None:
    """With only the first migration recorded, migrate applies exactly the rest (statements are re-runnable)."""
    migrations = available_migrations()
    migrate(client)
    client.command("TRUNCATE TABLE schema_migrations")
    client.insert("schema_migrations", [[1, migrations[0].name]], column_names=["version", "name"])
    assert migrate(client) == [m.name for m in migrations[1:]]
    assert applied_version(client) == migrations[-1].version


def test_connect_creates_and_binds_the_database(pipeline_config: KansaConfig) -> None:
    """connect() creates the configured database if missing and runs queries in it."""
    client = connect(pipeline_config.storage)
    assert scalar(client, "SELECT currentDatabase()") == pipeline_config.storage.database


@pytest.mark.parametrize("dsn", ["mysql://db:3306/kansa", "clickhouse.example:8123", "file:///tmp/x"])
def test_bad_dsn_scheme_is_a_clear_storage_error(dsn: str) -> None:
    """A DSN that is not chdb://, http:// or https:// fails naming the variable and the accepted schemes."""
    with pytest.raises(StorageError, match=r"KANSA_CLICKHOUSE_DSN=.*scheme must be chdb://, http:// or https://"):
        connect(StorageSettings(dsn=dsn))


def test_unreachable_server_is_storage_error_without_password() -> None:
    """A server that does not answer gives StorageError, with the DSN's password redacted."""
    dsn = f"http://auditor:hunter22@127.0.0.1:{free_port()}"
    with pytest.raises(StorageError, match="cannot open ClickHouse") as caught:
        connect(StorageSettings(dsn=dsn))
    assert "hunter22" not in str(caught.value)
    assert redact(dsn).startswith("http://auditor:***@")


def test_unsafe_database_name_is_refused(pipeline_config: KansaConfig) -> None:
    """A database name that is not letters, digits and underscores is refused before any SQL runs."""
    storage = pipeline_config.storage
    with pytest.raises(StorageError, match="letters, digits and underscores"):
        connect(StorageSettings(dsn=storage.dsn, database="kansa`; DROP DATABASE default; --"))
    assert quote_identifier("t_abc123") == "`t_abc123`"


def insert_event(client: Client, event_id: uuid.UUID, token: str) -> None:
    client.insert("access_events", [[event_id, datetime(2026, 11, 20, 1, 0, tzinfo=UTC), "weia", "staff-hr-2"]],
                  column_names=["event_id", "occurred_at", "org", "actor_id"],
                  settings={"insert_deduplication_token": token})


def test_deduplication_token_drops_a_repeated_insert(client: Client) -> None:
    """Re-inserting a batch with the same insert_deduplication_token stores nothing; a new token stores it."""
    migrate(client)
    first, second = uuid.uuid4(), uuid.uuid4()
    insert_event(client, first, "events:0:100-199")
    insert_event(client, first, "events:0:100-199")
    assert scalar(client, "SELECT count() FROM access_events") == 1
    insert_event(client, second, "events:0:200-299")
    rows = client.query("SELECT event_id FROM access_events ORDER BY event_id").result_rows
    assert sorted(r[0] for r in rows) == sorted([first, second])
