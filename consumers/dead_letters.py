"""Dead-letter topic: the original bytes, plus headers saying why and where they came from."""

from __future__ import annotations

from typing import Any

from consumers.messages import Message, RawRecord
from schemas.errors import InvalidEvent


class KafkaDeadLetterSink:
    """Sends asynchronously; `flush()` (called before offsets are committed) surfaces any failure."""

    def __init__(self, producer: Any, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self._pending: list[Any] = []

    def send(self, message: Message[RawRecord], error: InvalidEvent) -> None:
        headers = [(k, v) for k, v in message.payload.headers if not k.startswith("kansa_dlq_")]
        headers += [
            ("kansa_dlq_reason", error.reason.encode()),
            ("kansa_dlq_error", str(error).encode("utf-8", errors="replace")[:2000]),
            ("kansa_dlq_field", (error.field or "").encode()),
            ("kansa_dlq_topic", message.partition.topic.encode()),
            ("kansa_dlq_partition", str(message.partition.number).encode()),
            ("kansa_dlq_offset", str(message.offset).encode()),
            ("kansa_dlq_timestamp_ms", str(message.payload.timestamp_ms).encode()),
        ]
        self._pending.append(self._producer.send(
            self._topic, key=message.payload.key, value=message.payload.value or b"", headers=headers,
        ))

    def flush(self) -> None:
        """Block until every dead letter is acknowledged; raises if one was not."""
        if not self._pending:
            return
        self._producer.flush()
        pending, self._pending = self._pending, []
        for future in pending:
            future.get(timeout=30)
