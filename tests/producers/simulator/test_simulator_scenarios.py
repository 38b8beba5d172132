"""Injected scenarios: labels match their events, rule-based ones break the policy, labels stay outside events."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from typing import Any

import pytest

from consumers.policy import PolicyEngine, SubjectRequestBook
from producers.simulator import SCENARIOS, parse_scenarios
from schemas.records import AccessEvent
from schemas.validation import access_event_to_json
from tests.producers.simulator.helpers import DAY, NIGHT, policies, run

BEHAVIOURAL = ("bulk_export", "off_hours", "snooping_actor", "snooping_subject", "volume_spike", "first_use",
               "dormant")
RULE_BASED = {"unnamed_recipient": "KP005", "after_suspension": "KP009"}


@cache
def _simulated() -> tuple[list[tuple[Any, Any]], list[dict[str, Any]]]:
    """A day-time and a night-time run with every scenario, so each kind gets its chance."""
    day, day_labels = run(DAY, tuple(SCENARIOS), 120_000)
    night, night_labels = run(NIGHT, tuple(SCENARIOS), 30_000)
    return day + night, day_labels + night_labels


def _by_scenario() -> dict[str, list[tuple[AccessEvent, dict[str, Any]]]]:
    items, labels = _simulated()
    label_of = {label["scenario_id"]: label for label in labels}
    grouped: dict[str, list[tuple[AccessEvent, dict[str, Any]]]] = defaultdict(list)
    for payload, scenario in items:
        if scenario is not None and "event_id" in payload:
            grouped[scenario.scenario].append((payload, label_of[scenario.scenario_id]))
    return grouped


def test_every_scenario_kind_is_injected() -> None:
    """With `all`, each of the eleven kinds appears at least once with a complete label."""
    _, labels = _simulated()
    complete = {label["scenario"] for label in labels if label["complete"]}
    assert complete == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_label_lists_exactly_its_events(name: str) -> None:
    """A label's event ids, actors, subject and first time are exactly those of the events it tagged."""
    items, labels = _simulated()
    tagged: dict[str, list[AccessEvent]] = defaultdict(list)
    for payload, scenario in items:
        if scenario is not None and "event_id" in payload:
            tagged[scenario.scenario_id].append(payload)
    chosen = [label for label in labels if label["scenario"] == name and label["event_count"]]
    assert chosen
    for label in chosen:
        events = tagged[label["scenario_id"]]
        assert label["event_ids"] == [str(e["event_id"]) for e in events]
        assert label["event_count"] == len(events)
        assert set(label["actors"]) == {e["actor"]["id"] for e in events}
        assert label["first_event_at"] == min(e["occurred_at"] for e in events).isoformat()
        assert all(e["org"] == label["org"] for e in events)
        if label["subject"] is not None:
            assert {e["subject_id"] for e in events} == {label["subject"]}


def test_labels_never_appear_inside_events() -> None:
    """Events carry only contract fields, and no scenario name or id leaks into any of them."""
    items, labels = _simulated()
    names = set(SCENARIOS) | {label["scenario_id"] for label in labels}
    for payload, _ in items:
        if "event_id" in payload:
            assert set(payload) == set(AccessEvent.__annotations__)
            text = json.dumps(access_event_to_json(payload))
            assert not any(name in text for name in names)


def test_behavioural_scenarios_stay_inside_the_policy() -> None:
    """Bulk export, off-hours, snooping, spike, first use and dormant events are all `allow`."""
    engine, book = PolicyEngine(policies()), SubjectRequestBook()
    grouped = _by_scenario()
    for name in BEHAVIOURAL:
        assert grouped[name], name
        for event, label in grouped[name]:
            assert engine.evaluate(event, book).verdict == "allow", (name, event)
            assert label["expected"] == "anomaly"
            assert label["rules"] == []


def test_probing_is_denied_attempts() -> None:
    """Probing is a burst of denied outcomes on data the actor's role does not grant."""
    engine, book = PolicyEngine(policies()), SubjectRequestBook()
    probes = _by_scenario()["probing"]
    assert len(probes) >= 15
    for event, label in probes:
        assert event["outcome"] == "denied"
        assert label["expected"] == "denied"
        assert "KP002" in {hit.rule_id for hit in engine.evaluate(event, book).hits}


@pytest.mark.parametrize(("name", "rule"), sorted(RULE_BASED.items()))
def test_rule_based_scenarios_are_violations_the_engine_names(name: str, rule: str) -> None:
    """Every event of an unnamed-recipient or after-suspension scenario is a violation citing its rule."""
    items, _ = _simulated()
    engine, book = PolicyEngine(policies()), SubjectRequestBook()
    seen = 0
    for payload, scenario in items:
        if "event_id" not in payload:
            book.apply(payload)
        elif scenario is not None and scenario.scenario == name:
            decision = engine.evaluate(payload, book)
            assert decision.verdict == "violation"
            assert rule in {h.rule_id for h in decision.hits}
            seen += 1
    assert seen


def test_purpose_misuse_is_a_purpose_violation() -> None:
    """Purpose misuse uses an ungranted (KP002) or undeclared (KP003) purpose, and the engine says so."""
    engine, book = PolicyEngine(policies()), SubjectRequestBook()
    for event, label in _by_scenario()["purpose_misuse"]:
        decision = engine.evaluate(event, book)
        assert decision.verdict == "violation"
        assert {"KP002", "KP003"} & {h.rule_id for h in decision.hits}
        assert label["expected"] == "violation"
        assert set(label["rules"]) & {"KP002", "KP003"}


def test_suspension_request_comes_before_the_accesses() -> None:
    """The suspend_use request is emitted (on its own output) before any event it makes a violation."""
    items, labels = _simulated()
    order = {id(p): i for i, (p, _) in enumerate(items)}
    requests = {str(p["request_id"]): (i, p) for i, (p, _) in enumerate(items) if "request_id" in p
                and "event_id" not in p}
    for label in (lb for lb in labels if lb["scenario"] == "after_suspension" and lb["event_count"]):
        (request_id,) = label["request_ids"]
        position, request = requests[request_id]
        assert request["kind"] == "suspend_use"
        assert request["subject_id"] == label["subject"]
        for payload, scenario in items:
            if scenario is not None and scenario.scenario_id == label["scenario_id"] and "event_id" in payload:
                assert order[id(payload)] > position
                assert payload["occurred_at"] > request["effective_at"]


def test_normal_traffic_never_touches_scenario_subjects() -> None:
    """Subjects reserved for scenarios (suspended, snooped on) get no normal traffic, so labels are exact."""
    items, labels = _simulated()
    reserved = {label["subject"] for label in labels if label["subject"]}
    assert reserved
    assert not any(scenario is None and "event_id" in p and p["subject_id"] in reserved for p, scenario in items)


def test_scenario_names_parse_with_clear_errors() -> None:
    """`all`, `none` and comma lists parse; an unknown name is rejected naming it."""
    assert parse_scenarios("all") == tuple(SCENARIOS)
    assert parse_scenarios("none") == ()
    assert parse_scenarios("probing, dormant,probing") == ("probing", "dormant")
    with pytest.raises(ValueError, match="snooping"):
        parse_scenarios("probing,snooping")
