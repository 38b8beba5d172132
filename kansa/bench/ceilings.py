"""Ceilings: Avro decode alone and ClickHouse column-oriented insert alone, on the same events the pipeline sees."""

from __future__ import annotations

import time
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.messages import Batch, EvaluatedEvent, Partition
from consumers.policy_runtime import PolicyRuntime
from consumers.rows import ACCESS_EVENT_COLUMNS, access_event_columns
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


def measure(base: KansaConfig, events: int, seed: int, inserts: int) -> dict[str, Any]:
    decoded = simulated_events(max(events, max(INSERT_BATCHES)), seed)
    values = [record.record.value or b"" for record in encode(decoded[:events])]
    runtime = PolicyRuntime(base.pipeline.policy_dir, watch_seconds=3600)
    items = [EvaluatedEvent(event, 1, offset, *runtime.evaluate(event)) for offset, event in enumerate(decoded)]
    figures: dict[str, Any] = {"decode_records": len(values),
                               "decode_records_per_second": round(decode_rate(values))}
    with bench_store(base, "bench_ceilings") as (_config, client):
        for size in INSERT_BATCHES:
            batch = Batch(Partition("bench", 0), 0, size - 1, items[:size], None)
            columns = access_event_columns(batch, runtime.policies)
            figures[f"insert_{size}_rows_per_second"] = round(insert_rate(client, columns, inserts))
    figures["insert_rows_per_second"] = max(figures[f"insert_{size}_rows_per_second"] for size in INSERT_BATCHES)
    return figures
