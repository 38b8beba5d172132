"""The vertical slice through the real local broker and the embedded ClickHouse engine."""

from __future__ import annotations

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.storage.client import connect
from producers.sdk import AccessAuditor
from tests.consumers.running import committed_total, read_topic, rows_in, running_consumer, wait_for
from tests.eventdata import stream


def test_twenty_thousand_events_stored_exactly_once(pipeline_config: KansaConfig) -> None:
    """20,000 events sent through the SDK become exactly 20,000 distinct rows, and committed offsets cover them."""
    ensure_topics(pipeline_config.kafka)
    auditor = AccessAuditor(make_producer(pipeline_config.kafka), pipeline_config.kafka.events_topic,
                            "chiba-cia", "member-portal")
    with auditor:
        for event in stream(20_000):
            auditor.send(event)
    client = connect(pipeline_config.storage)
    with running_consumer(pipeline_config):
        wait_for(lambda: rows_in(client) >= 20_000, 120, "20,000 stored rows")
    count, distinct = client.query("SELECT count(), uniqExact(event_id) FROM access_events").result_rows[0]
    assert (count, distinct) == (20_000, 20_000)
    assert committed_total(pipeline_config) == len(read_topic(pipeline_config, pipeline_config.kafka.events_topic))
    assert committed_total(pipeline_config) == 20_000
