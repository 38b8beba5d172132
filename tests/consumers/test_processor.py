"""The poll loop's own reports: consumer lag per partition, read from the broker's real high watermark."""

from __future__ import annotations

import threading
from typing import Any

from consumers.messages import Message
from consumers.processor import StreamProcessor
from consumers.steps.commit import OffsetLedger
from kansa import metrics
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_consumer, make_producer


class _StopAtFirst:
    """A chain that takes one poll's records and asks the loop to stop."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self.taken = 0

    def submit(self, message: Message[Any]) -> None:
        self.taken += 1
        self._stop.set()

    def poll(self) -> None:
        """Nothing is held."""

    def join(self) -> None:
        """Nothing is held."""


def test_lag_is_what_the_partition_holds_past_the_position(pipeline_config: KansaConfig) -> None:
    """After one poll of 100 from 1,000 records, the lag gauge reads 900 for that partition."""
    settings = pipeline_config.kafka
    ensure_topics(settings)
    producer = make_producer(settings)
    for index in range(1_000):
        producer.send(settings.events_topic, value=b"record %d" % index, partition=2)
    producer.flush()
    producer.close()
    stop = threading.Event()
    chain = _StopAtFirst(stop)
    consumer = make_consumer(settings, max_poll_records=100)
    StreamProcessor(consumer, settings.events_topic, chain, OffsetLedger(), poll_timeout_ms=1_000).run(stop)
    lag = metrics.REGISTRY.get_sample_value("kansa_consumer_lag_messages",
                                            {"topic": settings.events_topic, "partition": "2"})
    assert chain.taken == 100
    assert lag == 900
