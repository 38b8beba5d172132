"""record_stored: per-org counts, decisions, rule hits, newest event time and the latency sample of one batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consumers.messages import EvaluatedEvent, StoredEvent
from consumers.policy.decision import ALLOW, Decision, RuleHit
from consumers.stored_metrics import record_stored
from kansa import metrics
from tests.consumers.detectors.support import event

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HIT = RuleHit("TEST-METRICS-1", "high", "§1", "目的外利用", "purpose not allowed", None)
VIOLATION = Decision("violation", "high", (HIT, HIT))


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _item(org: str, minutes: int, decision: Decision = ALLOW) -> StoredEvent:
    evaluated = EvaluatedEvent({**event(AT + timedelta(minutes=minutes)), "org": org}, 3, minutes, decision)  # type: ignore[typeddict-item]
    return StoredEvent.of(evaluated)


def test_a_batch_is_counted_per_org_with_unknown_orgs_pooled() -> None:
    """Events and verdicts per org, two unpolicied orgs under `unknown`, each hit counted, the newest time per org."""
    before = {
        "known": _value("kansa_events_consumed_total", org="metrics-known"),
        "unknown": _value("kansa_events_consumed_total", org="unknown"),
        "violations": _value("kansa_decisions_total", org="metrics-known", decision="violation"),
        "hits": _value("kansa_violations_total", org="metrics-known", rule="TEST-METRICS-1", severity="high"),
        "latency": _value("kansa_event_to_stored_seconds_count"),
    }
    items = [_item("metrics-known", 5), _item("metrics-known", 30, VIOLATION), _item("metrics-known", 10),
             _item("stranger-a", 50), _item("stranger-b", 40)]
    record_stored(items, {"metrics-known"}, AT + timedelta(hours=1))
    assert _value("kansa_events_consumed_total", org="metrics-known") - before["known"] == 3
    assert _value("kansa_events_consumed_total", org="unknown") - before["unknown"] == 2
    assert _value("kansa_decisions_total", org="metrics-known", decision="violation") - before["violations"] == 1
    assert _value("kansa_violations_total", org="metrics-known", rule="TEST-METRICS-1",
                  severity="high") - before["hits"] == 2
    assert _value("kansa_last_event_timestamp_seconds", org="metrics-known") == (AT + timedelta(minutes=30)).timestamp()
    assert _value("kansa_last_event_timestamp_seconds", org="unknown") == (AT + timedelta(minutes=50)).timestamp()
    assert _value("kansa_event_to_stored_seconds_count") - before["latency"] == 5
