"""Subject requests: rebuilt from ClickHouse at start, then followed on the compacted topic."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

from clickhouse_connect.driver.client import Client
from kafka import KafkaConsumer, TopicPartition

from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent
from schemas.records import SubjectRequest

log = logging.getLogger(__name__)

REQUEST_COLUMNS = ("request_id", "org", "subject_id", "kind", "effective_at", "received_at", "reference")


def load_requests(client: Client) -> list[SubjectRequest]:
    result = client.query(f"SELECT {', '.join(REQUEST_COLUMNS)} FROM subject_requests FINAL ORDER BY effective_at")
    requests: list[SubjectRequest] = []
    for row in result.result_rows:
        request: Any = dict(zip(REQUEST_COLUMNS, row, strict=True))
        request["reference"] = request["reference"] or None
        for name in ("effective_at", "received_at"):
            # The engine may hand DateTime64('UTC') back without tzinfo; the book compares aware times.
            if request[name].tzinfo is None:
                request[name] = request[name].replace(tzinfo=UTC)
        requests.append(request)
    return requests


def store_requests(client: Client, requests: list[SubjectRequest]) -> None:
    rows = [[r["request_id"], r["org"], r["subject_id"], r["kind"], r["effective_at"], r["received_at"],
             r["reference"] or ""] for r in requests]
    client.insert("subject_requests", rows, column_names=REQUEST_COLUMNS)


class SubjectRequestTailer:
    """Reads every partition of the request topic from the start, without a group, in its own thread."""

    def __init__(self, consumer: KafkaConsumer, topic: str, codec: AvroCodec,
                 deliver: Callable[[SubjectRequest], None]) -> None:
        self._consumer = consumer
        self._topic = topic
        self._codec = codec
        self._deliver = deliver

    def run(self, stop: threading.Event) -> None:
        try:
            partitions = self._consumer.partitions_for_topic(self._topic) or {0}
            self._consumer.assign([TopicPartition(self._topic, p) for p in sorted(partitions)])
            self._consumer.seek_to_beginning()
            while not stop.is_set():
                for records in self._consumer.poll(timeout_ms=500).values():
                    for record in records:
                        self._handle(record)
        finally:
            self._consumer.close()

    def _handle(self, record: Any) -> None:
        try:
            request: Any = self._codec.decode(record.value)
        except InvalidEvent as exc:
            # A request we cannot read must not be silently lost: it stays in the topic and is logged.
            log.error("unreadable subject request at %s/%d@%d: %s", record.topic, record.partition,
                      record.offset, exc)
            return
        self._deliver(request)
