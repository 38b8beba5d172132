"""DetectStep alone: every detector sees each event, alerts go to the sink, the store gets a StoredEvent."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from consumers.alerts import Alert
from consumers.messages import EvaluatedEvent, Message, Partition, StoredEvent
from consumers.policy.decision import ALLOW
from consumers.steps.detect import DetectStep
from tests.consumers.alerts.alert_support import violation
from tests.consumers.detectors.support import MORNING, event
from tests.consumers.steps.fakes import RecordingStep

P = Partition("events", 1)


class OneAlertEach:
    """Raises one alert per event it sees, remembering the partition it was told."""

    def __init__(self) -> None:
        self.partitions: list[Hashable] = []

    def observe(self, item: EvaluatedEvent) -> Sequence[Alert]:
        return [violation(event_id=str(item.event["event_id"]))]

    def observe_in(self, partition: Hashable, item: EvaluatedEvent) -> Sequence[Alert]:
        self.partitions.append(partition)
        return [violation(event_id=str(item.event["event_id"]), rule="KD-TEST")]


def test_alerts_of_both_kinds_of_detector_reach_the_sink() -> None:
    """Plain and partitioned detectors both see the event; every alert they raise is handed to the sink."""
    raised: list[Alert] = []
    partitioned = OneAlertEach()
    step = DetectStep([OneAlertEach()], raised.append, RecordingStep(), [partitioned])
    step.submit(Message(P, 7, EvaluatedEvent(event(MORNING), 3, 7, ALLOW, body=b"avro")))
    assert [alert.rule for alert in raised] == ["KP012", "KD-TEST"]
    assert partitioned.partitions == [P]


def test_the_store_gets_the_body_and_the_fields_it_reads_not_the_decoded_event() -> None:
    """A pass-through body lets the decoded event go; without one the event stays for re-encoding."""
    behind = RecordingStep()
    step = DetectStep([], lambda alert: None, behind)
    sent = event(MORNING, categories=("name", "email"))
    step.submit(Message(P, 1, EvaluatedEvent(sent, 3, 1, ALLOW, body=b"avro")))
    step.submit(Message(P, 2, EvaluatedEvent(sent, 2, 2, ALLOW)))
    step.submit(Message(P, 3, None))
    passed, reencode, dead_lettered = behind.payloads
    assert passed == StoredEvent(1, 3, b"avro", None, "weia", MORNING, None, ["name", "email"], ALLOW, None)
    assert reencode.event is sent
    assert dead_lettered is None
    assert [m.offset for m in behind.messages] == [1, 2, 3]
