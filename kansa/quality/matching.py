"""Scores alerts against the simulator's labels: precision, recall, time to alert, false alerts.

An alert *matches* a scenario when it names one of the scenario's events as evidence, or names
one of its actors (or its subject) at a time inside the scenario (plus `slack`). A scenario is
*detected* when an alert of one of its expected rules matches it. For a scenario type, precision
counts the expected rules' alerts: those matching a scenario of that type are right, those
matching no scenario at all are false; alerts that caught a different injected scenario are
neither (they are real misuse seen through another detector). False alerts per 100,000 normal
events count every alert matching no scenario.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# What should catch each behavioural scenario; rule-based ones name their rules in the label.
EXPECTED_DETECTORS: dict[str, frozenset[str]] = {
    "bulk_export": frozenset({"KD-BULK-EXPORT"}), "off_hours": frozenset({"KD-OFF-HOURS"}),
    "snooping_actor": frozenset({"KD-SNOOPING"}), "snooping_subject": frozenset({"KD-POPULAR-SUBJECT"}),
    "volume_spike": frozenset({"KD-VOLUME-SPIKE"}), "first_use": frozenset({"KD-FIRST-SEEN"}),
    "dormant": frozenset({"KD-DORMANT"}), "probing": frozenset({"KD-DENIED-BURST"}),
}
RULE_BASED = "violation"


@dataclass(frozen=True, slots=True)
class AlertRecord:
    alert_id: str
    rule: str
    org: str
    actor: str | None
    subject: str | None
    window_start: datetime
    window_end: datetime
    evidence: frozenset[str]
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class Label:
    scenario: str
    scenario_id: str
    org: str
    expected: str
    actors: frozenset[str]
    subjects: frozenset[str]
    rules: frozenset[str]
    event_ids: frozenset[str]
    first_event_at: datetime
    last_event_at: datetime

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Label:
        subjects = {s for s in (record.get("subject"), record.get("subject_pseudonym")) if s}
        return cls(record["scenario"], record["scenario_id"], record["org"], record["expected"],
                   frozenset(record["actors"]), frozenset(subjects), frozenset(record["rules"]),
                   frozenset(record["event_ids"]), datetime.fromisoformat(record["first_event_at"]),
                   datetime.fromisoformat(record["last_event_at"]))

    def expected_rules(self) -> frozenset[str]:
        return self.rules if self.expected == RULE_BASED else EXPECTED_DETECTORS.get(self.scenario, frozenset())


@dataclass(slots=True)
class TypeScore:
    scenario: str
    kind: str
    scenarios: int = 0
    detected: int = 0
    true_alerts: int = 0
    false_alerts: int = 0
    event_latencies: list[float] = field(default_factory=list)
    wall_latencies: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.detected / self.scenarios if self.scenarios else None

    @property
    def precision(self) -> float | None:
        judged = self.true_alerts + self.false_alerts
        return self.true_alerts / judged if judged else None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "kind": self.kind, "scenarios": self.scenarios, "detected": self.detected,
            "recall": _round(self.recall), "precision": _round(self.precision), "true_alerts": self.true_alerts,
            "false_alerts": self.false_alerts,
            "median_event_time_to_alert_s": _round(_median(self.event_latencies)),
            "median_time_to_alert_s": _round(_median(self.wall_latencies)),
        }


@dataclass(slots=True)
class Score:
    types: dict[str, TypeScore]
    alerts: int
    false_alerts: int
    normal_events: int
    false_alerts_by_rule: dict[str, int]

    @property
    def false_per_100k(self) -> float:
        return 100_000.0 * self.false_alerts / self.normal_events if self.normal_events else 0.0

    def median_time_to_alert(self) -> float | None:
        return _median([x for t in self.types.values() for x in t.wall_latencies])

    def to_json(self) -> dict[str, Any]:
        return {
            "alerts": self.alerts, "normal_events": self.normal_events, "false_alerts": self.false_alerts,
            "false_alerts_per_100k_normal_events": round(self.false_per_100k, 2),
            "false_alerts_by_rule": dict(sorted(self.false_alerts_by_rule.items())),
            "median_time_to_alert_s": _round(self.median_time_to_alert()),
            "types": [t.to_json() for _, t in sorted(self.types.items())],
        }


def matches(alert: AlertRecord, label: Label, slack: timedelta) -> bool:
    if alert.org != label.org:
        return False
    if alert.evidence & label.event_ids:
        return True
    inside = label.first_event_at - slack <= alert.window_end <= label.last_event_at + slack
    named = (alert.actor is not None and alert.actor in label.actors) or \
        (alert.subject is not None and alert.subject in label.subjects)
    return inside and named


def score(alerts: Sequence[AlertRecord], labels: Sequence[Label], total_events: int,
          emitted_at: Callable[[datetime], datetime] | None = None,
          slack: timedelta = timedelta(minutes=10), ignore_rules: Iterable[str] = ()) -> Score:
    """`emitted_at` maps an event time to the wall time it was sent, for wall-clock time to alert."""
    ignored = frozenset(ignore_rules)
    alerts = [a for a in alerts if a.rule not in ignored]
    labels = [lb for lb in labels if lb.event_ids]
    by_alert: dict[str, list[Label]] = {a.alert_id: [lb for lb in labels if matches(a, lb, slack)] for a in alerts}
    types: dict[str, TypeScore] = {}
    for label in labels:
        kind = "rule-based" if label.expected == RULE_BASED else "behavioural"
        entry = types.setdefault(label.scenario, TypeScore(label.scenario, kind))
        entry.scenarios += 1
        caught = [a for a in alerts if a.rule in label.expected_rules() and label in by_alert[a.alert_id]]
        if caught:
            entry.detected += 1
            entry.event_latencies.append(max(0.0, min(
                (a.window_end - label.first_event_at).total_seconds() for a in caught)))
            if emitted_at is not None:
                sent = emitted_at(label.first_event_at)
                entry.wall_latencies.append(max(0.0, min((a.raised_at - sent).total_seconds() for a in caught)))
    rules_of: dict[str, set[str]] = {}
    for label in labels:
        rules_of.setdefault(label.scenario, set()).update(label.expected_rules())
    false_by_rule: dict[str, int] = {}
    for alert in alerts:
        matched = by_alert[alert.alert_id]
        if not matched:
            false_by_rule[alert.rule] = false_by_rule.get(alert.rule, 0) + 1
        for scenario, rules in rules_of.items():
            if alert.rule not in rules:
                continue
            if any(lb.scenario == scenario for lb in matched):
                types[scenario].true_alerts += 1
            elif not matched:
                types[scenario].false_alerts += 1
    scenario_events = len(set().union(*(lb.event_ids for lb in labels))) if labels else 0
    return Score(types, len(alerts), sum(false_by_rule.values()), max(0, total_events - scenario_events),
                 false_by_rule)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
