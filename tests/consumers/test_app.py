"""The consumer's wiring: a batch's offsets are staged only with the alerts its events raised stored."""

from __future__ import annotations

from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from consumers.app import build_detection, build_pipeline
from consumers.dead_letters import KafkaDeadLetterSink
from consumers.messages import Message
from consumers.policy_runtime import PolicyRuntime
from kansa.bench.corpus import encode
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from tests.eventdata import fresh_sample


def test_staged_offsets_come_with_their_alerts_stored(pipeline_config: KansaConfig, store_client: Client) -> None:
    """With no commit hook run, the writer stages a batch's offsets and its violation's alert is in the table."""
    ensure_topics(pipeline_config.kafka)
    event = fresh_sample("chiba-cia-stripe-payment", datetime.now(UTC))
    event["purpose"] = "marketing_that_was_never_declared"
    (record,) = encode([event])
    runtime = PolicyRuntime(pipeline_config.pipeline.policy_dir, pipeline_config.pipeline.policy_watch_seconds)
    producer = make_producer(pipeline_config.kafka)
    detection = build_detection(pipeline_config, runtime, producer)
    pipeline = build_pipeline(pipeline_config, store_client, KafkaDeadLetterSink(producer, "unused"),
                              runtime.evaluate, detection.detectors, detection.alerts)
    try:
        pipeline.chain.submit(Message(record.partition, record.offset, record.record))
        pipeline.chain.join()
        assert pipeline.ledger.take() == {record.partition: record.offset + 1}
        alerted = store_client.query("SELECT rule, evidence_event_ids[1] FROM alerts").result_rows
        assert ("KP003", str(event["event_id"])) in [tuple(row) for row in alerted]
    finally:
        pipeline.close()
        detection.close()
        producer.close()
