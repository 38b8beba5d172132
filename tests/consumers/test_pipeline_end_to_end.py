"""The vertical slice through the real local broker and the embedded ClickHouse engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.app import run_consumer
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.storage.client import connect
from producers.sdk import AccessAuditor
from tests.eventdata import stream


@contextmanager
def running_consumer(config: KansaConfig) -> Iterator[threading.Thread]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_consumer(config, stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="consumer-under-test")
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "consumer did not stop within 60 s"
        assert not errors, f"consumer failed: {errors[0]!r}"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_twenty_thousand_events_stored_exactly_once(pipeline_config: KansaConfig) -> None:
    """20,000 events sent through the SDK become exactly 20,000 distinct rows, and committed offsets cover them."""
    ensure_topics(pipeline_config.kafka)
    auditor = AccessAuditor(make_producer(pipeline_config.kafka), pipeline_config.kafka.events_topic,
                            "chiba-cia", "member-portal")
    with auditor:
        for event in stream(20_000):
            auditor.send(event)
    client = connect(pipeline_config.storage)

    def stored() -> int:
        return int(client.query("SELECT count() FROM access_events").result_rows[0][0])

    with running_consumer(pipeline_config):
        wait_for(lambda: _table_exists(client) and stored() >= 20_000, 120, "20,000 stored rows")
    count, distinct = client.query("SELECT count(), uniqExact(event_id) FROM access_events").result_rows[0]
    assert (count, distinct) == (20_000, 20_000)
    assert _committed_total(pipeline_config) == _consumed_total(pipeline_config) == 20_000


def _table_exists(client: object) -> bool:
    return bool(client.query("EXISTS TABLE access_events").result_rows[0][0])  # type: ignore[attr-defined]


def _committed_total(config: KansaConfig) -> int:
    """Committed offsets summed over partitions (each committed offset = messages consumed there)."""
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers, group_id=config.kafka.consumer_group,
                             enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(config.kafka.events_topic) or set()
        return sum(consumer.committed(TopicPartition(config.kafka.events_topic, p)) or 0 for p in partitions)
    finally:
        consumer.close()


def _consumed_total(config: KansaConfig) -> int:
    """How many messages the topic holds, counted by reading it (tansu's end offsets are not reliable)."""
    consumer = KafkaConsumer(config.kafka.events_topic, bootstrap_servers=config.kafka.bootstrap_servers,
                             auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=3000)
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()


__all__ = ["KafkaProducer", "running_consumer", "wait_for"]
