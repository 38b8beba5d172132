"""The read-side schema: retain_until from policy retention, TTL deletion, and aggregates that survive replays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from consumers.clickhouse_sink import ClickHouseBatchWriter
from consumers.messages import Batch, EvaluatedEvent, Partition, StoredEvent
from consumers.policy import ALLOW, load_policies
from consumers.rows import retain_until
from kansa.config import StorageSettings
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from schemas.validation import access_event_from_json, load_json_file
from tests.conftest import POLICY_DIR, REPO

PAYMENT = REPO / "schemas" / "samples" / "valid" / "chiba-cia-stripe-payment.json"
POLICIES = load_policies(str(POLICY_DIR))


def _payment(occurred: datetime, collected: datetime | None, **changes: Any) -> Any:
    raw = load_json_file(str(PAYMENT))
    raw.update(event_id=str(uuid.uuid4()), occurred_at=occurred.isoformat(),
               collected_at=collected.isoformat() if collected else None, **changes)
    return access_event_from_json(raw)


@pytest.fixture
def client(chdb_dir: Path) -> Iterator[Client]:
    """An empty migrated database of its own on the session engine."""
    handle = connect(StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"schema_{uuid.uuid4().hex[:8]}"))
    migrate(handle)
    yield handle
    handle.close()


def test_retain_until_is_the_longest_category_retention_from_collection() -> None:
    """payment_record keeps 2555 days from collection, which outlasts the 3-year evidence floor."""
    collected = datetime(2026, 1, 10, tzinfo=UTC)
    event = _payment(datetime(2026, 11, 20, 5, tzinfo=UTC), collected)
    assert retain_until(event, POLICIES) == (collected + timedelta(days=2555)).date()


def test_retain_until_never_falls_below_the_evidence_floor() -> None:
    """Data past its retention, an unknown org, or no policies at all still keep the access row 3 years."""
    occurred = datetime(2026, 11, 20, 5, tzinfo=UTC)
    old = _payment(occurred, datetime(2010, 1, 1, tzinfo=UTC))
    assert retain_until(old, POLICIES) == date(2029, 11, 20)
    assert retain_until(_payment(occurred, None, org="no-such-org"), POLICIES) == date(2029, 11, 20)
    assert retain_until(_payment(datetime(2028, 2, 29, tzinfo=UTC), None), None) == date(2031, 2, 28)


def _write(client: Client, events: list[Any], first_offset: int = 0) -> None:
    items = [StoredEvent.of(EvaluatedEvent(e, 1, first_offset + i, ALLOW)) for i, e in enumerate(events)]
    batch = Batch(Partition("schema-test", 0), first_offset, first_offset + len(items) - 1, items, None)
    ClickHouseBatchWriter(client, lambda: POLICIES).write(batch)


def test_ttl_deletes_rows_past_retain_until(client: Client) -> None:
    """A row whose retain_until has passed never stays stored; a row still within retention does."""
    now = datetime.now(UTC)
    expired = _payment(now - timedelta(days=8 * 365), now - timedelta(days=8 * 365))
    kept = _payment(now - timedelta(days=1), now - timedelta(days=1))
    _write(client, [expired, kept])
    client.command("OPTIMIZE TABLE access_events FINAL")
    rows = client.query("SELECT event_id, retain_until FROM access_events").result_rows
    assert [row[0] for row in rows] == [kept["event_id"]]
    assert rows[0][1] == (kept["collected_at"] + timedelta(days=2555)).date()


def test_aggregates_are_not_doubled_by_a_replayed_batch(client: Client) -> None:
    """Re-inserting a batch with the same deduplication token adds nothing to the materialised views."""
    start = datetime(2026, 11, 20, 5, tzinfo=UTC)
    events = [_payment(start + timedelta(seconds=i), start) for i in range(50)]
    _write(client, events)
    _write(client, events)
    counts = [client.query(sql).result_rows[0][0] for sql in (
        "SELECT count() FROM access_events",
        "SELECT sum(events) FROM activity_minutely",
        "SELECT sum(events) FROM actor_activity_hourly",
        "SELECT sum(events) FROM disclosures_hourly",
    )]
    assert counts == [50, 50, 50, 50]


def test_provision_records_are_kept_at_least_three_years(client: Client) -> None:
    """The provision_records TTL is three years and a month after the day of provision."""
    ddl = client.query("SHOW CREATE TABLE provision_records").result_rows[0][0]
    ttl = next(line for line in ddl.splitlines() if line.startswith("TTL "))
    assert ttl.replace("(", "").replace(")", "") == "TTL provided_on + toIntervalYear3 + toIntervalDay30"
