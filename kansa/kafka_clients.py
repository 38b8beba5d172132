"""kafka-python clients built from the one config object, and topic creation."""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.cluster import ClusterMetadata
from kafka.errors import KafkaTimeoutError, TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner, Partitioner
from kafka.partitioner.default import murmur2

from kansa.config import KafkaSettings

log = logging.getLogger(__name__)


def make_consumer(settings: KafkaSettings, group_id: str | None = None, **overrides: Any) -> KafkaConsumer:
    """Manual commits only: offsets move when the pipeline says a batch is stored."""
    options: dict[str, Any] = {
        **settings.client_options(),
        "group_id": group_id or settings.consumer_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "max_poll_interval_ms": settings.max_poll_interval_ms,
        "max_poll_records": settings.max_poll_records,
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "fetch_max_bytes": settings.fetch_max_bytes,
        "max_partition_fetch_bytes": settings.max_partition_fetch_bytes,
    }
    options.update(overrides)
    return KafkaConsumer(**options)


class KeyHashPartitioner(Partitioner):  # type: ignore[misc]
    """kafka-python's default partitioner (the Java client's murmur2 of the key), each key's hash kept.

    Producers send the same actor keys again and again, and kafka-python's murmur2 is pure Python
    (13 µs a key on the development VM, about 5 % of what the SDK spends on an event); a key met
    before costs a dictionary lookup. Records land on exactly the partitions the default would pick.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._max_keys = max_keys
        self._default = DefaultPartitioner()

    def partition(self, topic: str, key: Any, serialized_key: bytes | None, value: Any,
                  serialized_value: bytes | None, cluster: ClusterMetadata) -> int:
        partitions = cluster.partitions_for_topic(topic)
        if serialized_key is None or not partitions:
            return int(self._default.partition(topic, key, serialized_key, value, serialized_value, cluster))
        hashed = self._hashes.get(serialized_key)
        if hashed is None:
            if len(self._hashes) >= self._max_keys:
                self._hashes.clear()
            hashed = self._hashes[serialized_key] = murmur2(serialized_key) & 0x7FFFFFFF
        return int(sorted(partitions)[hashed % len(partitions)])


def make_producer(settings: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """Idempotent, acks=all; moderate batches (very large ones upset some readers of tansu topics)."""
    options: dict[str, Any] = {
        **settings.client_options(),
        "partitioner": KeyHashPartitioner(),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "retries": 2**31 - 1,
        "delivery_timeout_ms": 120_000,
    }
    options.update(overrides)
    return KafkaProducer(**options)


def close_producer(producer: KafkaProducer, timeout: float) -> None:
    """Close within about `timeout` s; records still unacknowledged then are dropped, failing their futures.

    kafka-python's own close() flushes first and, when records are still pending, raises
    KafkaTimeoutError before it stops the sender thread, which then retries them in the background
    until the process ends. A caller that must know what was lost asks first (the SDK's flush names it).
    """
    # No public call stops the sender once close() has raised, nor waits for it after close(0).
    sender = producer._sender
    try:
        producer.close(timeout=timeout)
    except KafkaTimeoutError:
        log.warning("producer closed with records unacknowledged after %s s; they are dropped", timeout)
        sender.force_close()
    sender.join(timeout=5)


def ensure_topics(settings: KafkaSettings) -> list[str]:
    """Create the pipeline's topics if missing; the subject-request topic is compacted."""
    wanted = [
        NewTopic(settings.events_topic, settings.partitions, 1),
        NewTopic(settings.dlq_topic, 1, 1),
        NewTopic(settings.alerts_topic, 1, 1),
        NewTopic(settings.requests_topic, 1, 1, topic_configs={"cleanup.policy": "compact"}),
    ]
    admin = KafkaAdminClient(**settings.client_options())
    created: list[str] = []
    try:
        existing = set(admin.list_topics())
        for topic in wanted:
            if topic.name in existing:
                continue
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                log.debug("topic %s appeared meanwhile", topic.name)
    finally:
        admin.close()
    return created
