"""Versioned plain-SQL migrations, applied in order, each recorded once in `schema_migrations`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from clickhouse_connect.driver.client import Client

from kansa.storage.client import StorageError

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def available_migrations() -> list[Migration]:
    folder = resources.files("kansa.storage") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        text = entry.read_text(encoding="utf-8")
        statements = tuple(s.strip() for s in _strip_comments(text).split(";") if s.strip())
        found.append(Migration(int(match.group(1)), entry.name, statements))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"two migrations share a version number: {versions}")
    return found


def applied_version(client: Client) -> int:
    _ensure_ledger(client)
    rows = client.query("SELECT max(version) FROM schema_migrations").result_rows
    return int(rows[0][0] or 0)


def migrate(client: Client) -> list[str]:
    """Apply every migration newer than the recorded version; returns the names applied.

    Statements use IF NOT EXISTS, so a migration interrupted half-way is safe to run again.
    """
    current = applied_version(client)
    done: list[str] = []
    for migration in available_migrations():
        if migration.version <= current:
            continue
        for statement in migration.statements:
            try:
                client.command(statement)
            except Exception as exc:
                raise StorageError(f"migration {migration.name} failed: {exc}") from exc
        client.insert("schema_migrations", [[migration.version, migration.name]], column_names=["version", "name"])
        done.append(migration.name)
    return done


def _ensure_ledger(client: Client) -> None:
    client.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version"
    )


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
