"""Ceilings: Avro decode alone and ClickHouse insert alone, on the same events the pipeline sees.

Two inserts: column-oriented (clickhouse-connect's Native format, the ceiling issue 7 names) and
the Avro container the pipeline's writer sends (`consumers.stored_events`), each pre-built so only
the insert is timed.
"""

from __future__ import annotations

import time
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.messages import Batch, EvaluatedEvent, Partition, StoredEvent
from consumers.policy_runtime import PolicyRuntime
from consumers.rows import ACCESS_EVENT_COLUMNS, access_event_columns
from consumers.stored_events import StoredEventEncoder, passthrough_body
from kansa.bench.common import bench_store
from kansa.bench.corpus import encode, simulated_events
from kansa.config import KansaConfig
from schemas.codec import AvroCodec
from schemas.registry import ACCESS_EVENT, SchemaRegistry

INSERT_BATCHES = (10_000, 50_000)


def decode_rate(values: list[bytes], passes: int = 3) -> float:
    """Records/s of `AvroCodec.decode` alone, best of `passes` (the best is the least disturbed by neighbours)."""
    decode = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT).decode
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for value in values:
            decode(value)
        best = min(best, time.perf_counter() - started)
    return len(values) / best


def insert_rate(client: Client, columns: list[list[Any]], inserts: int) -> float:
    """Rows/s of column-oriented inserts of pre-built columns, each with its own deduplication token."""
    rows = len(columns[0])
    started = time.perf_counter()
    for index in range(inserts):
        client.insert("access_events", columns, column_names=ACCESS_EVENT_COLUMNS, column_oriented=True,
                      settings={"insert_deduplication_token": f"bench-ceiling-{rows}-{index}"})
    return rows * inserts / (time.perf_counter() - started)


def avro_insert_rate(client: Client, encoder: StoredEventEncoder, container: bytes, rows: int, inserts: int) -> float:
    """Rows/s of the pipeline's own insert: a pre-built Avro container the engine parses."""
    started = time.perf_counter()
    for index in range(inserts):
        client.raw_insert("access_events", encoder.columns, container, fmt="Avro",
                          settings={"insert_deduplication_token": f"bench-avro-ceiling-{rows}-{index}"})
    return rows * inserts / (time.perf_counter() - started)


def measure(base: KansaConfig, events: int, seed: int, inserts: int) -> dict[str, Any]:
    decoded = simulated_events(max(events, max(INSERT_BATCHES)), seed)
    encoded = encode(decoded)
    values = [record.record.value or b"" for record in encoded[:events]]
    runtime = PolicyRuntime(base.pipeline.policy_dir, watch_seconds=3600)
    codec = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)
    items = [EvaluatedEvent(event, codec.writer_id, offset, *runtime.evaluate(event),
                            body=passthrough_body(record.record.value or b""))
             for offset, (event, record) in enumerate(zip(decoded, encoded, strict=True))]
    encoder = StoredEventEncoder(lambda: runtime.policies)
    figures: dict[str, Any] = {"decode_records": len(values),
                               "decode_records_per_second": round(decode_rate(values))}
    with bench_store(base, "bench_ceilings") as (_config, client):
        for size in INSERT_BATCHES:
            batch = Batch(Partition("bench", 0), 0, size - 1, items[:size], None)
            columns = access_event_columns(batch, runtime.policies)
            figures[f"insert_{size}_rows_per_second"] = round(insert_rate(client, columns, inserts))
            container = encoder.encode(Batch(batch.partition, 0, size - 1, [StoredEvent.of(i) for i in batch.items],
                                             None))
            figures[f"avro_insert_{size}_rows_per_second"] = round(
                avro_insert_rate(client, encoder, container, size, inserts))
    figures["insert_rows_per_second"] = max(figures[f"insert_{size}_rows_per_second"] for size in INSERT_BATCHES)
    return figures
