"""kafka-python clients on the local broker: the consumer's fetch and poll limits, the producer's partitions."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka import KafkaProducer
from kafka.partitioner import DefaultPartitioner

from kansa.config import KafkaSettings, KansaConfig
from kansa.kafka_clients import KeyHashPartitioner, close_producer, ensure_topics, make_consumer, make_producer
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


def three_partitions(config: KansaConfig) -> KafkaSettings:
    """The test's topics with a partition count that is no power of two, so every bit of the hash counts."""
    kafka = replace(config.kafka, partitions=3)
    ensure_topics(kafka)
    return kafka


def test_keyed_records_land_where_the_default_partitioner_puts_them(pipeline_config: KansaConfig) -> None:
    """The producer's cached key hashes pick the default (Java murmur2) partition, on first sight and after."""
    kafka = three_partitions(pipeline_config)
    ours, plain = make_producer(kafka), KafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    try:
        keys = [f"org-{n % 3}:actor-{n}".encode() for n in range(40)] * 2

        def placements(producer: KafkaProducer) -> list[int]:
            sent = [producer.send(kafka.events_topic, key=key, value=b"x") for key in keys]
            producer.flush(10)
            return [future.get(10).partition for future in sent]

        placed = placements(plain)
        assert placements(ours) == placed
        assert len(set(placed)) == kafka.partitions
    finally:
        close_producer(ours, 5)
        close_producer(plain, 5)


def test_the_key_cache_is_bounded_and_never_changes_a_partition(pipeline_config: KansaConfig) -> None:
    """With room for two keys, any run of keys (empty and non-ASCII ones too) gets the default's partitions."""
    kafka = three_partitions(pipeline_config)
    producer = make_producer(kafka)
    try:
        producer.send(kafka.events_topic, key=b"warm", value=b"x").get(10)
        cluster, topic = producer._metadata, kafka.events_topic
        default, cached = DefaultPartitioner(), KeyHashPartitioner(max_keys=2)

        @settings(max_examples=200, deadline=None)
        @given(st.lists(st.binary(max_size=40), min_size=1, max_size=8))
        def check(keys: list[bytes]) -> None:
            for key in keys + keys[::-1]:
                assert (cached.partition(topic, key, key, None, b"x", cluster)
                        == default.partition(topic, key, key, None, b"x", cluster))
            assert len(cached._hashes) <= 2

        check()
    finally:
        close_producer(producer, 5)
