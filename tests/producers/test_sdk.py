"""AccessAuditor against the real local broker: validation, keys, headers, pseudonyms, delivery failures."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from kansa.config import KafkaSettings, KansaConfig
from kansa.kafka_clients import close_producer, ensure_topics, make_producer
from kansa.localstack.broker import LocalBroker, free_port
from producers.pseudonym import SubjectPseudonymiser
from producers.sdk import AccessAuditor, DeliveryError
from schemas.cloudevents import header_value
from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent
from schemas.records import Actor
from schemas.registry import ACCESS_EVENT, SchemaRegistry

CODEC = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)
RECRUITER: Actor = {"id": "staff-hr-2", "type": "staff", "roles": ["recruiter"], "department": None}
FIELDS: dict[str, Any] = {
    "actor": RECRUITER, "action": "read", "resource_system": "hr-portal", "record_type": "applicant",
    "purpose": "p13_recruitment_selection", "data_categories": ["name", "email"],
}
KEY = SubjectPseudonymiser("k2026-01", b"test-key-0123456789abcdef")
# Short client timeouts so a broker that is gone shows up in seconds, not minutes.
FAST_FAIL = {"max_block_ms": 2000, "request_timeout_ms": 1000, "delivery_timeout_ms": 3000, "linger_ms": 0,
             "reconnect_backoff_max_ms": 200}


def read_back(settings: KafkaSettings, count: int, timeout: float = 20.0) -> list[Any]:
    """Every message on the events topic, once `count` have arrived (and a moment more for any extra)."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(settings.events_topic, p)
                      for p in sorted(consumer.partitions_for_topic(settings.events_topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        extra_until: float | None = None
        while time.monotonic() < deadline and (extra_until is None or time.monotonic() < extra_until):
            for batch in consumer.poll(timeout_ms=250).values():
                records.extend(batch)
            if len(records) >= count and extra_until is None:
                extra_until = time.monotonic() + 0.5
        return records
    finally:
        consumer.close()


@pytest.fixture
def settings(pipeline_config: KansaConfig) -> KafkaSettings:
    ensure_topics(pipeline_config.kafka)
    return pipeline_config.kafka


@pytest.fixture
def auditor(settings: KafkaSettings) -> Iterator[AccessAuditor]:
    with AccessAuditor(make_producer(settings), settings.events_topic, "weia", "hr-portal") as running:
        yield running


def test_events_arrive_keyed_by_org_and_actor_with_cloudevents_headers(
        auditor: AccessAuditor, settings: KafkaSettings) -> None:
    """Recorded events reach the topic keyed `org:actor_id`, with ce_* headers and a decodable body."""
    service: Actor = {"id": "svc-batch", "type": "service", "roles": ["batch"], "department": None}
    first = auditor.record(**FIELDS, subject_id="applicant-301")
    second = auditor.record(**{**FIELDS, "actor": service, "action": "export"}, subject_count=40)
    auditor.flush()
    records = {r.key: r for r in read_back(settings, 2)}
    assert set(records) == {b"weia:staff-hr-2", b"weia:svc-batch"}
    message = records[b"weia:staff-hr-2"]
    event = CODEC.decode(message.value)
    assert (event["event_id"], event["subject_id"], event["outcome"]) == (first, "applicant-301", "success")
    assert event["subject_key_id"] is None
    assert header_value(message.headers, "ce_id") == str(first)
    assert header_value(message.headers, "ce_source") == "/orgs/weia/apps/hr-portal"
    assert header_value(message.headers, "ce_type") == "jp.kansa.access-event.v1"
    assert header_value(message.headers, "ce_time") == event["occurred_at"].isoformat()
    assert header_value(message.headers, "content-type") == "application/avro"
    exported = CODEC.decode(records[b"weia:svc-batch"].value)
    assert (exported["event_id"], exported["subject_count"], exported["action"]) == (second, 40, "export")


def test_invalid_event_raises_naming_the_field_and_is_not_sent(
        auditor: AccessAuditor, settings: KafkaSettings) -> None:
    """A bad event raises InvalidEvent naming its field before anything is sent."""
    bad: list[tuple[dict[str, Any], str]] = [
        ({"action": "peek"}, "action"), ({"data_categories": []}, "data_categories"),
        ({"action": "disclose"}, "recipient"), ({"actor": {**RECRUITER, "roles": [""]}}, "actor.roles"),
        ({"purpose": ""}, "purpose"),
    ]
    for change, field in bad:
        with pytest.raises(InvalidEvent, match=f"field '{field}'") as caught:
            auditor.record(**{**FIELDS, **change})
        assert caught.value.field == field
    with pytest.raises(InvalidEvent, match="subject_count"):
        auditor.record(**FIELDS, subject_count=-1)
    good = auditor.record(**FIELDS)
    auditor.flush()
    assert [CODEC.decode(r.value)["event_id"] for r in read_back(settings, 1)] == [good]


def test_subject_id_is_pseudonymised_and_raw_id_never_sent(settings: KafkaSettings) -> None:
    """With a key, the stored subject_id is the org-scoped HMAC pseudonym and the raw id is in no byte sent."""
    with AccessAuditor(make_producer(settings), settings.events_topic, "weia", "hr-portal",
                       pseudonymiser=KEY) as auditor:
        auditor.record(**FIELDS, subject_id="applicant-301")
    [message] = read_back(settings, 1)
    event = CODEC.decode(message.value)
    assert event["subject_id"] == KEY.pseudonym("weia", "applicant-301") != "applicant-301"
    assert event["subject_key_id"] == "k2026-01"
    sent = message.value + (message.key or b"") + b"".join(k.encode() + v for k, v in message.headers)
    assert b"applicant-301" not in sent


def test_pseudonyms_are_scoped_by_org_and_need_a_real_key() -> None:
    """The same person has unlinkable pseudonyms at two orgs; short keys and missing key ids are refused."""
    assert KEY.pseudonym("weia", "p-1") == KEY.pseudonym("weia", "p-1")
    assert KEY.pseudonym("weia", "p-1") != KEY.pseudonym("chiba-cia", "p-1")
    other_key = SubjectPseudonymiser("k2", b"another-key-0123456789")
    assert other_key.pseudonym("weia", "p-1") != KEY.pseudonym("weia", "p-1")
    with pytest.raises(ValueError, match="16 bytes"):
        SubjectPseudonymiser("k1", b"short")
    with pytest.raises(ValueError, match="id"):
        SubjectPseudonymiser("", b"long-enough-key-0123456789")


def test_access_block_records_success_and_denied(auditor: AccessAuditor, settings: KafkaSettings) -> None:
    """`access` records success with fields set inside the block; PermissionError is recorded denied, re-raised."""
    with auditor.access(**{**FIELDS, "action": "search"}) as details:
        details["subject_count"] = 12
    with pytest.raises(PermissionError, match="not your case"), auditor.access(**FIELDS, subject_id="applicant-9"):
        raise PermissionError("not your case")
    auditor.flush()
    events = sorted((CODEC.decode(r.value) for r in read_back(settings, 2)), key=lambda e: e["outcome"])
    assert [(e["outcome"], e["action"], e["subject_count"]) for e in events] == [
        ("denied", "read", 1), ("success", "search", 12)]
    assert events[0]["subject_id"] == "applicant-9"


def test_audited_decorator_records_each_call(auditor: AccessAuditor, settings: KafkaSettings) -> None:
    """A handler wrapped by `audited` returns its result and records one event per call."""
    @auditor.audited(**{**FIELDS, "record_type": "interview_notes"})
    def open_notes(applicant: str) -> str:
        """Open the notes."""
        return f"notes of {applicant}"

    assert open_notes("a-1") == "notes of a-1"
    assert open_notes("a-2") == "notes of a-2"
    assert open_notes.__name__ == "open_notes"
    auditor.flush()
    events = [CODEC.decode(r.value) for r in read_back(settings, 2)]
    assert [e["resource"]["record_type"] for e in events] == ["interview_notes", "interview_notes"]


def test_producer_is_idempotent_with_acks_all(settings: KafkaSettings) -> None:
    """The SDK's producer asks for idempotence and acks=all, and the broker grants it a producer id."""
    producer = make_producer(settings)
    try:
        assert producer.config["enable_idempotence"] is True
        assert producer.config["acks"] in (-1, "all")
        AccessAuditor(producer, settings.events_topic, "weia", "hr-portal").record(**FIELDS)
        producer.flush(timeout=20)
        assert producer._transaction_manager.has_producer_id()
    finally:
        producer.close(timeout=5)


def crash(broker: LocalBroker) -> None:
    """Kill the broker outright (SIGKILL): a graceful stop waits seconds for connected clients."""
    process = broker._process
    assert process is not None
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def lost_broker() -> Iterator[tuple[LocalBroker, KafkaSettings]]:
    """A broker of this test's own, which the test stops to make deliveries fail."""
    broker = LocalBroker().start()
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap, events_topic="lost")
    try:
        ensure_topics(settings)
        yield broker, settings
    finally:
        broker.stop()


def test_flush_raises_delivery_error_naming_undelivered_events(
        lost_broker: tuple[LocalBroker, KafkaSettings]) -> None:
    """When the broker goes away, flush() raises DeliveryError naming exactly the unacknowledged events."""
    broker, settings = lost_broker
    auditor = AccessAuditor(make_producer(settings, **FAST_FAIL), settings.events_topic, "weia", "hr-portal")
    try:
        auditor.record(**FIELDS)
        auditor.flush(10)
        crash(broker)
        lost = [auditor.record(**FIELDS), auditor.record(**FIELDS)]
        with pytest.raises(DeliveryError, match="2 access event") as caught:
            auditor.flush(20)
        assert sorted(caught.value.event_ids) == sorted(str(i) for i in lost)
        auditor.flush(1)  # reported once: the failures were handed to the caller
    finally:
        auditor._producer.close(timeout=1)


def test_close_and_context_exit_raise_delivery_error(lost_broker: tuple[LocalBroker, KafkaSettings]) -> None:
    """Leaving the `with` block (close) with an undelivered event raises DeliveryError rather than dropping it."""
    broker, settings = lost_broker
    auditor = AccessAuditor(make_producer(settings, **FAST_FAIL), settings.events_topic, "weia", "hr-portal")
    auditor.record(**FIELDS)
    auditor.flush(10)
    crash(broker)
    with pytest.raises(DeliveryError) as caught, auditor:
        lost = auditor.record(**FIELDS)
    assert caught.value.event_ids == [str(lost)]


def test_unreachable_broker_surfaces_delivery_error_with_event_id() -> None:
    """With no broker at all, the caller gets DeliveryError naming the event, not a bare client error."""
    settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", events_topic="nowhere")
    producer = make_producer(settings, api_version=(2, 8), **FAST_FAIL)
    auditor = AccessAuditor(producer, settings.events_topic, "weia", "hr-portal")
    event_id = uuid.uuid4()
    try:
        with pytest.raises(DeliveryError) as caught:  # noqa: PT012 - either call may raise it
            auditor.record(**FIELDS, event_id=event_id)
            auditor.flush(5)
        assert caught.value.event_ids == [str(event_id)]
    finally:
        producer.close(timeout=1)


def test_flush_timeout_surfaces_delivery_error(lost_broker: tuple[LocalBroker, KafkaSettings]) -> None:
    """flush(timeout) shorter than the delivery timeout still raises DeliveryError naming the pending events."""
    broker, settings = lost_broker
    producer = make_producer(settings, **{**FAST_FAIL, "delivery_timeout_ms": 120_000})
    auditor = AccessAuditor(producer, settings.events_topic, "weia", "hr-portal")
    try:
        auditor.record(**FIELDS)
        auditor.flush(10)
        crash(broker)
        pending = auditor.record(**FIELDS)
        with pytest.raises(DeliveryError) as caught:
            auditor.flush(1)
        assert caught.value.event_ids == [str(pending)]
    finally:
        close_producer(producer, 0)


def test_close_names_the_lost_event_and_stops_the_client(lost_broker: tuple[LocalBroker, KafkaSettings]) -> None:
    """close(timeout) on a lost broker promptly raises DeliveryError naming the pending event; the client stops."""
    broker, settings = lost_broker
    producer = make_producer(settings, **{**FAST_FAIL, "delivery_timeout_ms": 120_000})
    auditor = AccessAuditor(producer, settings.events_topic, "weia", "hr-portal")
    auditor.record(**FIELDS)
    auditor.flush(10)
    crash(broker)
    pending = auditor.record(**FIELDS)
    began = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        auditor.close(1)
    assert caught.value.event_ids == [str(pending)]
    assert time.monotonic() - began < 10
    assert not producer._sender.is_alive()
