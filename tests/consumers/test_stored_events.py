"""The Avro insert of access events stores exactly what the column-oriented insert stores, on the real engine."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import fastavro
import pytest
from clickhouse_connect.driver.client import Client
from hypothesis import given
from hypothesis import strategies as st

from consumers.clickhouse_sink import ClickHouseBatchWriter
from consumers.messages import Batch, EvaluatedEvent, Partition, StoredEvent
from consumers.policy_runtime import PolicyRuntime
from consumers.rows import ACCESS_EVENT_COLUMNS, access_event_columns, retain_until
from consumers.stored_events import (
    OffsetEncoder,
    StoredEventEncoder,
    passthrough_body,
    stored_event_schema,
)
from kansa.bench.corpus import simulated_events
from kansa.config import StorageSettings
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from schemas.codec import AvroCodec, avro_long
from schemas.records import AccessEvent
from schemas.registry import ACCESS_EVENT, SCHEMA_DIR, SchemaRegistry
from schemas.validation import access_event_from_json, load_json_file
from tests.conftest import POLICY_DIR, REPO

REGISTRY = SchemaRegistry.load()
CODEC = AvroCodec(REGISTRY, ACCESS_EVENT)
P = Partition("stored-events", 3)


@pytest.fixture
def client(chdb_dir: Path) -> Iterator[Client]:
    """An empty migrated database of its own on the session engine."""
    handle = connect(StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"stored_{uuid.uuid4().hex[:8]}"))
    migrate(handle)
    yield handle
    handle.command(f"DROP DATABASE IF EXISTS {handle.database}")


def _samples() -> list[AccessEvent]:
    return [access_event_from_json(load_json_file(str(path)))
            for path in sorted((REPO / "schemas" / "samples" / "valid").glob("*.json"))]


def _framed_v1(event: AccessEvent) -> bytes:
    v1 = next(entry for entry in REGISTRY.all() if entry.subject == ACCESS_EVENT and entry.version == 1)
    fields = {field["name"] for field in v1.parsed["fields"]}
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, v1.parsed, {k: v for k, v in event.items() if k in fields})
    return b"\x00" + v1.id.to_bytes(4, "big") + buffer.getvalue()


def _framed_with_event_id_text(event: AccessEvent, event_id: str) -> bytes:
    """The newest schema's bytes, but with an event id text Python's UUID accepts and ClickHouse may not."""
    raw = json.loads((SCHEMA_DIR / REGISTRY.newest(ACCESS_EVENT).file).read_text(encoding="utf-8"))
    raw["fields"][0] = {"name": "event_id", "type": "string"}
    buffer = BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(raw), {**event, "event_id": event_id})
    return CODEC.encode(event)[:5] + buffer.getvalue()


def _evaluated(framed: list[bytes], runtime: PolicyRuntime) -> list[EvaluatedEvent]:
    """What the decode and evaluate steps hand on for these records."""
    items = []
    for offset, value in enumerate(framed):
        event: Any = CODEC.decode(value)
        schema_id = int.from_bytes(value[1:5], "big")
        decision, provision = runtime.evaluate(event)
        body = passthrough_body(value) if schema_id == CODEC.writer_id else b""
        items.append(EvaluatedEvent(event, schema_id, 1000 + offset, decision, provision, body=body))
    return items


def _rows(client: Client, table: str) -> list[tuple[Any, ...]]:
    return client.query(f"SELECT * EXCEPT stored_at FROM {table} ORDER BY kafka_offset").result_rows


def test_avro_insert_stores_what_the_column_insert_stores(client: Client) -> None:
    """Every column of every row matches the column-oriented reference: nulls, arrays, decisions, v1 events."""
    runtime = PolicyRuntime(POLICY_DIR, 0)
    events = _samples() + simulated_events(300, seed=3)
    events.append({**events[0], "purpose": "resale", "event_id": uuid.uuid4()})
    framed = [CODEC.encode(event) for event in events]
    framed += [_framed_v1(events[1]), _framed_with_event_id_text(events[2], "{" + str(uuid.uuid4()) + "}")]
    items = _evaluated(framed, runtime)
    assert items[-2].schema_id != CODEC.writer_id
    assert items[-1].body == b""
    assert any(item.decision.verdict == "violation" for item in items)
    batch = Batch(P, items[0].offset, items[-1].offset, items, None)

    ClickHouseBatchWriter(client, lambda: runtime.policies).write(
        Batch(P, batch.first_offset, batch.last_offset, [StoredEvent.of(item) for item in items], None))
    client.command("CREATE TABLE reference AS access_events")
    client.insert("reference", access_event_columns(batch, runtime.policies), column_names=ACCESS_EVENT_COLUMNS,
                  column_oriented=True)

    stored, reference = _rows(client, "access_events"), _rows(client, "reference")
    assert len(stored) == len(items)
    assert stored == reference


def test_the_stored_schema_names_every_access_event_column() -> None:
    """The flat schema's fields are the table's columns: nested records flattened, consumer fields appended."""
    newest = json.loads((SCHEMA_DIR / REGISTRY.newest(ACCESS_EVENT).file).read_text(encoding="utf-8"))
    names = [field["name"] for field in stored_event_schema(newest)["fields"]]
    assert sorted(names) == sorted(ACCESS_EVENT_COLUMNS)
    assert StoredEventEncoder().columns == tuple(names)


def test_records_nested_two_deep_are_refused() -> None:
    """A schema the flattening cannot map says which field is the problem."""
    deep = {"type": "record", "name": "Deep", "fields": [
        {"name": "outer", "type": {"type": "record", "name": "Outer", "fields": [
            {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}},
        ]}},
    ]}
    with pytest.raises(ValueError, match=r"outer\.inner"):
        stored_event_schema(deep)


@pytest.mark.parametrize("text", ["{%s}", "urn:uuid:%s", "----%s"])
def test_only_canonical_event_ids_pass_through(text: str) -> None:
    """Event id texts Python reads as UUIDs but that are not in canonical form are re-encoded by the writer."""
    event = _samples()[0]
    plain = uuid.uuid4()
    odd = text % (plain.hex if text.startswith("-") else plain)
    assert passthrough_body(_framed_with_event_id_text(event, odd)) == b""
    assert passthrough_body(CODEC.encode(event)) == CODEC.encode(event)[5:]


@given(st.lists(st.integers(min_value=0, max_value=2**62), max_size=50), st.integers(min_value=0, max_value=2**62))
def test_offset_encoder_writes_avro_longs(offsets: list[int], start: int) -> None:
    """Cached offset encodings equal avro_long for any offsets, consecutive runs across 7-bit boundaries included."""
    encoder = OffsetEncoder()
    every = offsets + [start + step for step in range(200)] + offsets
    assert [encoder.encode(offset) for offset in every] == [avro_long(offset) for offset in every]


def test_retention_follows_a_policy_reload() -> None:
    """retain_until is computed with the policies in force at each batch, not those of the first one."""
    runtime = PolicyRuntime(POLICY_DIR, 0)
    payment = next(event for event in _samples() if event["org"] == "chiba-cia" and event["collected_at"])
    framed = CODEC.encode(payment)
    item = EvaluatedEvent(CODEC.decode(framed), CODEC.writer_id, 0, runtime.evaluate(payment)[0],
                          body=passthrough_body(framed))
    in_force: list[Any] = [None]
    encoder = StoredEventEncoder(lambda: in_force[0])
    batch = Batch(P, 0, 0, [StoredEvent.of(item)], None)
    floor_only = next(fastavro.reader(BytesIO(encoder.encode(batch))))["retain_until"]
    in_force[0] = runtime.policies
    with_policy = next(fastavro.reader(BytesIO(encoder.encode(batch))))["retain_until"]
    assert floor_only == retain_until(item.event, None)
    assert with_policy == retain_until(item.event, runtime.policies)
    assert with_policy != floor_only
