"""`AccessAuditor`: one call per access to personal data, validated before it is sent."""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from kafka.errors import KafkaError, KafkaTimeoutError

from kansa.kafka_clients import close_producer
from producers.pseudonym import SubjectPseudonymiser
from schemas.access_event_writer import AccessEventEncoder, access_event_encoder
from schemas.cloudevents import ACCESS_EVENT_TYPE, access_event_source, binary_headers
from schemas.records import AccessEvent, Action, Actor, Outcome
from schemas.registry import SchemaRegistry
from schemas.validation import validate_access_event

P = ParamSpec("P")
R = TypeVar("R")


class DeliveryError(Exception):
    """Some events were not acknowledged by Kafka; `event_ids` says which."""

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        self.event_ids = [event_id for event_id, _ in failures]
        first = failures[0][1]
        super().__init__(f"{len(failures)} access event(s) not delivered (first: {self.event_ids[0]}: {first})")


class AccessAuditor:
    """Sends access events for one app. Thread-safe; call `flush()` before exit, or use it as a context manager."""

    def __init__(self, producer: Any, topic: str, org: str, app: str,
                 pseudonymiser: SubjectPseudonymiser | None = None, codec: AccessEventEncoder | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._producer = producer
        self._topic = topic
        self._org = org
        self._app = app
        self._pseudonymiser = pseudonymiser
        self._codec = codec or access_event_encoder(SchemaRegistry.load())
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Any]] = []
        self._failures: list[tuple[str, BaseException]] = []

    def record(self, *, actor: Actor, action: Action, resource_system: str, record_type: str, purpose: str,
               data_categories: Sequence[str], subject_id: str | None = None, subject_count: int = 1,
               record_count: int = 1, legal_basis: str | None = None, recipient: str | None = None,
               source_ip: str | None = None, session_id: str | None = None, request_id: str | None = None,
               outcome: Outcome = "success", occurred_at: datetime | None = None,
               collected_at: datetime | None = None, event_id: uuid.UUID | None = None) -> uuid.UUID:
        """Validate and send one event; raises InvalidEvent naming the field when it breaks the contract."""
        event: AccessEvent = {
            "event_id": event_id or uuid.uuid4(),
            "occurred_at": occurred_at or self._clock(),
            "org": self._org, "app": self._app,
            "actor": {"department": None, **actor},
            "action": action,
            "resource": {"system": resource_system, "record_type": record_type},
            "subject_id": subject_id, "subject_key_id": None,
            "subject_count": subject_count, "data_categories": list(data_categories), "purpose": purpose,
            "legal_basis": legal_basis, "recipient": recipient, "source_ip": source_ip,
            "session_id": session_id, "request_id": request_id, "outcome": outcome,
            "record_count": record_count, "collected_at": collected_at,
        }
        self.send(event)
        return event["event_id"]

    def send(self, event: AccessEvent) -> None:
        """Send a complete event (pseudonymising its subject when a key is configured)."""
        if self._pseudonymiser is not None and event["subject_id"] is not None and event.get("subject_key_id") is None:
            event = {**event, "subject_id": self._pseudonymiser.pseudonym(event["org"], event["subject_id"]),
                     "subject_key_id": self._pseudonymiser.key_id}
        validate_access_event(event)
        value = self._codec.encode(event)
        event_id = str(event["event_id"])
        headers = binary_headers(event_id, access_event_source(event["org"], event["app"]), ACCESS_EVENT_TYPE,
                                 event["occurred_at"], self._codec.writer_id)
        key = f"{event['org']}:{event['actor']['id']}".encode()
        try:
            future = self._producer.send(self._topic, key=key, value=value, headers=headers)
        except KafkaError as exc:
            raise DeliveryError([(event_id, exc)]) from exc
        future.add_errback(lambda exc: self._failed(event_id, exc))
        with self._lock:
            self._pending.append((event_id, future))
            if len(self._pending) >= 10_000:
                self._pending = [(i, f) for i, f in self._pending if not f.is_done]

    @contextmanager
    def access(self, **fields: Any) -> Iterator[dict[str, Any]]:
        """Record the access when the block ends, however it ends, then re-raise any exception.

        A PermissionError inside records the access as denied. Any other exception still records
        it as a success: the block may have read the data before failing, and an audit log must
        over-report rather than miss an access. The block may update the yielded dict (e.g. set
        `subject_count` once the list is known).
        """
        details = dict(fields)
        try:
            yield details
        except PermissionError:
            self.record(**{**details, "outcome": "denied"})
            raise
        except BaseException:
            self.record(**details)
            raise
        self.record(**details)

    def audited(self, **fields: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator form of `access` for handlers that touch the same kind of data every call."""
        def decorate(func: Callable[P, R]) -> Callable[P, R]:
            @functools.wraps(func)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                with self.access(**fields):
                    return func(*args, **kwargs)
            return wrapper
        return decorate

    def flush(self, timeout: float = 30.0) -> None:
        """Wait for every event sent so far; raise DeliveryError if any was not acknowledged."""
        # On a timeout the events still pending are named below, which says more than the client's error.
        with contextlib.suppress(KafkaTimeoutError):
            self._producer.flush(timeout=timeout)
        with self._lock:
            pending, self._pending = self._pending, []
        for event_id, future in pending:
            if not future.is_done:
                self._failed(event_id, TimeoutError(f"not acknowledged within {timeout} s"))
            elif future.failed() and not any(i == event_id for i, _ in self._failures):
                self._failed(event_id, future.exception)
        with self._lock:
            failures, self._failures = self._failures, []
        if failures:
            raise DeliveryError(failures)

    def close(self, timeout: float = 30.0) -> None:
        try:
            self.flush(timeout)
        finally:
            # flush() has waited `timeout` and named what was not delivered; nothing is left to wait for.
            close_producer(self._producer, 0)

    def __enter__(self) -> AccessAuditor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _failed(self, event_id: str, exc: BaseException) -> None:
        with self._lock:
            self._failures.append((event_id, exc))
