"""make_consumer on the local broker: the consumer gets the settings' fetch and poll limits."""

from __future__ import annotations

from dataclasses import replace

from kansa.config import KafkaSettings
from kansa.kafka_clients import make_consumer
from kansa.localstack.broker import LocalBroker


def test_the_fetch_wait_and_poll_size_come_from_the_settings(broker: LocalBroker) -> None:
    """A fetch that finds nothing is held at most fetch_max_wait_ms (100 by default), not kafka-python's 500."""
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap)
    defaults = make_consumer(settings)
    tuned = make_consumer(replace(settings, fetch_max_wait_ms=40, max_poll_records=7))
    try:
        assert defaults.config["fetch_max_wait_ms"] == 100
        assert (tuned.config["fetch_max_wait_ms"], tuned.config["max_poll_records"]) == (40, 7)
    finally:
        defaults.close()
        tuned.close()
