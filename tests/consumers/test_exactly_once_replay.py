"""Replays after a crash write nothing twice: write-ahead ranges plus deduplication tokens, on the real engine."""

from __future__ import annotations

from collections.abc import Sequence

from clickhouse_connect.driver.client import Client

from consumers.clickhouse_sink import ClickHouseBatchPlanner, ClickHouseBatchWriter
from consumers.messages import EvaluatedEvent, Message, Partition, StoredEvent
from consumers.policy import ALLOW
from consumers.steps.batch import BatchPlanner, BatchStep
from consumers.steps.commit import CommitStep, OffsetLedger
from consumers.steps.write import WriteStep
from tests.eventdata import stream

P = Partition("events", 0)


class NoPlans:
    """A planner that forgets: what a consumer without write-ahead ranges would do."""

    def planned(self, partition: Partition, from_offset: int) -> list[tuple[int, int]]:
        return []

    def plan(self, ranges: Sequence[tuple[Partition, int, int]]) -> None:
        """Forgets on purpose."""


def feed(client: Client, planner: BatchPlanner, events: list[StoredEvent], upto: int, max_rows: int,
         ) -> OffsetLedger:
    ledger = OffsetLedger()
    step: BatchStep[StoredEvent] = BatchStep(
        planner, WriteStep(ClickHouseBatchWriter(client), CommitStep(ledger), 5), max_rows, 3600,
        event_time=lambda item: item.occurred_at,
    )
    for item in events[:upto]:
        step.submit(Message(P, item.offset, item))
    return ledger


def evaluated(count: int) -> list[StoredEvent]:
    """What the detect step hands on, without Avro bodies: the writer encodes each event."""
    return [StoredEvent.of(EvaluatedEvent(event, 3, offset, ALLOW)) for offset, event in enumerate(stream(count))]


def counts(client: Client) -> tuple[int, int]:
    count, distinct = client.query("SELECT count(), uniqExact(event_id) FROM access_events").result_rows[0]
    return int(count), int(distinct)


def test_replay_with_other_batch_sizes_stores_each_event_once(store_client: Client) -> None:
    """A successor with a different batch size replays the planned ranges, so no row is stored twice."""
    events = evaluated(150)
    feed(store_client, ClickHouseBatchPlanner(store_client), events, upto=100, max_rows=40)
    assert counts(store_client) == (80, 80)
    ledger = feed(store_client, ClickHouseBatchPlanner(store_client), events, upto=150, max_rows=25)
    # Replayed: 0-39 and 40-79 as planned; then new ranges of 25 (80-104, 105-129); 130-149 still buffered.
    assert counts(store_client) == (130, 130)
    assert ledger.take() == {P: 130}


def test_without_write_ahead_ranges_the_same_replay_duplicates(store_client: Client) -> None:
    """Control: with no planned ranges, a replay cut differently stores rows twice (what the plans prevent)."""
    events = evaluated(100)
    feed(store_client, NoPlans(), events, upto=100, max_rows=40)
    feed(store_client, NoPlans(), events, upto=100, max_rows=25)
    count, distinct = counts(store_client)
    assert distinct == 100
    assert count > distinct


def test_identical_replay_is_dropped_by_the_token(store_client: Client) -> None:
    """The same offset range written twice (a retry) lands once."""
    events = evaluated(30)
    feed(store_client, ClickHouseBatchPlanner(store_client), events, upto=30, max_rows=30)
    feed(store_client, NoPlans(), events, upto=30, max_rows=30)
    assert counts(store_client) == (30, 30)
