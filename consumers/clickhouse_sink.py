"""The store side of the batch and write steps: ClickHouse inserts with deduplication tokens."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import compress
from operator import attrgetter
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.messages import Batch, Partition, StoredEvent
from consumers.policy import PolicySet
from consumers.stored_events import StoredEventEncoder
from consumers.stored_metrics import record_stored
from kansa import metrics
from kansa.storage.client import TableInserter

_PROVISION = attrgetter("provision")
PROVISION_COLUMNS = ("event_id", "provided_on", "occurred_at", "org", "recipient", "recipient_name", "subject_id",
                     "categories", "basis", "purpose")


def _deduplicated(token: str) -> dict[str, Any]:
    # The materialised views' aggregate tables must skip a replayed block too, or a replay double-counts.
    return {"insert_deduplication_token": token, "deduplicate_blocks_in_dependent_materialized_views": 1}


class ClickHouseBatchPlanner:
    """Keeps the write-ahead record of offset ranges in `ingest_batches`."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._table = TableInserter(client, "ingest_batches", ["topic", "partition", "first_offset", "last_offset"])

    def planned(self, partition: Partition, from_offset: int) -> list[tuple[int, int]]:
        rows = self._client.query(
            "SELECT DISTINCT first_offset, last_offset FROM ingest_batches "
            "WHERE topic = {topic:String} AND partition = {partition:UInt32} AND last_offset >= {start:UInt64} "
            "ORDER BY first_offset",
            parameters={"topic": partition.topic, "partition": partition.number, "start": from_offset},
        ).result_rows
        return [(int(first), int(last)) for first, last in rows]

    def plan(self, ranges: Sequence[tuple[Partition, int, int]]) -> None:
        self._table.insert([[partition.topic, partition.number, first, last] for partition, first, last in ranges])


class ClickHouseBatchWriter:
    """`policies` gives the policies in force now (they reload), for each row's retain_until."""

    def __init__(self, client: Client, policies: Callable[[], PolicySet] | None = None) -> None:
        self._client = client
        self._policies = policies
        self._encoder = StoredEventEncoder(policies)
        self._provisions = TableInserter(client, "provision_records", PROVISION_COLUMNS)

    def write(self, batch: Batch[StoredEvent]) -> None:
        started = time.perf_counter()
        try:
            self._client.raw_insert("access_events", self._encoder.columns, self._encoder.encode(batch), fmt="Avro",
                                    settings=_deduplicated(batch.deduplication_token))
        except Exception:
            metrics.WRITE_ERRORS.labels("access_events").inc()
            raise
        metrics.WRITE_SECONDS.labels("access_events").observe(time.perf_counter() - started)
        provisions = list(compress(batch.items, map(_PROVISION, batch.items)))
        if provisions:
            self._write_provisions(batch, provisions)
        metrics.BATCH_ROWS.observe(len(batch.items))
        known = self._policies().by_org if self._policies else ()
        record_stored(batch.items, known, datetime.now(UTC))

    def _write_provisions(self, batch: Batch[StoredEvent], items: list[StoredEvent]) -> None:
        rows = [
            [r.event_id, r.provided_on, item.occurred_at, r.org, r.recipient, r.recipient_name or "",
             r.subject_id or "", list(r.categories), r.basis, r.purpose]
            for item in items if (r := item.provision) is not None
        ]
        try:
            token = batch.deduplication_token + ":provisions"
            self._provisions.insert(rows, settings={"insert_deduplication_token": token})
        except Exception:
            metrics.WRITE_ERRORS.labels("provision_records").inc()
            raise
