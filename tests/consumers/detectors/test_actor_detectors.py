"""Per-actor streaming detectors as pure functions of events and state, with an injected clock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from consumers.alerts import AppiCase, Severity
from consumers.detectors import ActorDetectors, DetectorThresholds, Thresholds
from consumers.messages import EvaluatedEvent
from consumers.policy import PolicySet
from schemas.records import AccessEvent
from tests.consumers.detectors.support import MORNING, NOW, POLICIES, baseline, detectors, event, feed, rules


def test_a_new_task_repeated_within_the_hour_is_first_seen() -> None:
    """After a settled baseline, three events of a never-used purpose within an hour raise KD-FIRST-SEEN."""
    detector = detectors()
    assert feed(detector, baseline(MORNING, 200, timedelta(seconds=30))) == []
    later = MORNING + timedelta(hours=2)
    raised = feed(detector, [event(later + timedelta(minutes=i), purpose="applicant_screening") for i in range(3)])
    assert rules(raised) == ["KD-FIRST-SEEN"]
    assert raised[0].severity is Severity.WARNING
    assert len(raised[0].evidence_event_ids) == 3
    assert raised[0].raised_at == NOW
    assert "purpose:applicant_screening" in raised[0].description.en


def test_a_single_rare_task_is_not_first_seen() -> None:
    """One new thing, never repeated within the window, is learnt quietly."""
    detector = detectors()
    feed(detector, baseline(MORNING, 200, timedelta(seconds=30)))
    later = MORNING + timedelta(hours=2)
    assert feed(detector, [event(later, purpose="applicant_screening")]) == []
    assert feed(detector, [event(later + timedelta(hours=2, minutes=i), purpose="applicant_screening")
                           for i in range(3)]) == []


def test_nothing_is_first_seen_while_learning() -> None:
    """An actor's first events teach the baseline and raise nothing."""
    detector = detectors()
    events = [event(MORNING + timedelta(minutes=i), purpose=f"p{i % 7}", categories=(f"c{i % 5}",)) for i in range(50)]
    assert feed(detector, events) == []


def test_many_unfamiliar_subjects_in_an_hour_is_snooping() -> None:
    """A mature actor opening 20 subjects never handled before within half an hour raises KD-SNOOPING."""
    detector = detectors()
    feed(detector, baseline(MORNING, 100))
    start = MORNING + timedelta(hours=4)
    browsing = [event(start + timedelta(seconds=40 * i), subject=f"client-9{i:05d}") for i in range(30)]
    raised = feed(detector, browsing)
    assert rules(raised) == ["KD-SNOOPING"]
    assert raised[0].suspected_unjust_purpose
    assert AppiCase.UNJUST_PURPOSE in raised[0].appi.cases  # type: ignore[union-attr]


def test_caseload_work_is_not_snooping() -> None:
    """The same caseload all day raises nothing."""
    assert feed(detectors(), baseline(MORNING, 300, timedelta(seconds=60))) == []


def test_exporting_a_thousand_records_in_an_hour_pages() -> None:
    """Batched exports reaching 1,000 records in half an hour raise KD-BULK-EXPORT at page severity with APPI cases."""
    detector = detectors()
    exports = [event(MORNING + timedelta(minutes=i), action="export", subject=None, records=300) for i in range(4)]
    raised = [a for a in feed(detector, exports) if a.rule == "KD-BULK-EXPORT"]
    assert len(raised) == 1
    alert = raised[0]
    assert alert.severity is Severity.PAGE
    assert alert.subjects_affected == 1200
    assert alert.appi is not None
    assert {AppiCase.UNJUST_PURPOSE, AppiCase.OVER_1000_PERSONS} <= set(alert.appi.cases)


def test_off_hours_browsing_by_staff_but_not_services() -> None:
    """Six accesses at 02:00 in Tokyo raise KD-OFF-HOURS for staff; integrations run at night unremarked."""
    night = MORNING.replace(hour=17)  # 02:00 JST
    staff = feed(detectors(), [event(night + timedelta(minutes=5 * i)) for i in range(6)])
    assert rules(staff) == ["KD-OFF-HOURS"]
    service = feed(detectors(), [event(night + timedelta(minutes=5 * i), actor="weia/usage-tracker-01",
                                       actor_type="service", role="svc_usage_tracker") for i in range(6)])
    assert "KD-OFF-HOURS" not in rules(service)


def test_business_hours_follow_a_policy_reload() -> None:
    """Access in a slot already judged open counts as off hours once a reload declares that day closed."""
    in_force = [POLICIES]
    thresholds = DetectorThresholds(Thresholds(), {})
    detector = ActorDetectors(lambda: in_force[0], lambda: thresholds, clock=lambda: NOW)
    slot = [MORNING + timedelta(seconds=20 * i) for i in range(8)]  # one five-minute slot, 10:00 JST
    assert feed(detector, [event(at) for at in slot[:2]]) == []
    weia = POLICIES.by_org["weia"]
    closed = replace(weia.policy.business_hours, closed=frozenset({MORNING.date()}))
    in_force[0] = PolicySet({**POLICIES.by_org, "weia": replace(weia, policy=replace(weia.policy,
                                                                                   business_hours=closed))})
    assert rules(feed(detector, [event(at) for at in slot[2:]])) == ["KD-OFF-HOURS"]


def test_an_account_back_after_a_month_is_dormant() -> None:
    """An actor idle for 35 days who makes five accesses raises KD-DORMANT once."""
    detector = detectors()
    feed(detector, baseline(MORNING, 10))
    back = MORNING + timedelta(days=35)  # a Wednesday morning again
    raised = feed(detector, [event(back + timedelta(minutes=i)) for i in range(8)])
    assert rules(raised) == ["KD-DORMANT"]


def test_an_unknown_account_after_the_org_has_history_is_dormant() -> None:
    """Once the partition has a day of an organisation's history, a never-seen account acting is reported."""
    detector = detectors()
    feed(detector, baseline(MORNING, 10))
    late = MORNING + timedelta(hours=25)
    raised = feed(detector, [event(late + timedelta(minutes=i), actor="weia/staff-0999") for i in range(5)])
    assert rules(raised) == ["KD-DORMANT"]


def test_a_burst_of_denials_is_reported() -> None:
    """Eight denied accesses within ten minutes raise KD-DENIED-BURST; seven do not."""
    denied = [event(MORNING + timedelta(seconds=30 * i), outcome="denied") for i in range(8)]
    assert rules(feed(detectors(), denied[:7])) == []
    assert rules(feed(detectors(), denied)) == ["KD-DENIED-BURST"]


def test_a_volume_spike_against_the_actors_own_baseline() -> None:
    """Ten times an actor's usual volume raises KD-VOLUME-SPIKE; their usual volume does not."""
    detector = detectors()
    usual = baseline(MORNING, 60, timedelta(minutes=6))  # ten an hour for six hours
    assert feed(detector, usual) == []
    start = MORNING + timedelta(hours=7)
    raised = feed(detector, [event(start + timedelta(seconds=36 * i), subject=f"client-{i % 10:06d}")
                             for i in range(100)])
    assert "KD-VOLUME-SPIKE" in rules(raised)


def test_the_roles_hourly_cap_is_enforced_with_its_factor() -> None:
    """A harassment counsellor (cap 30 an hour) touching 46 records in 15 minutes raises KD-RATE-CAP; 45 do not."""
    counsellor: dict[str, Any] = {"role": "harassment_counsellor", "purpose": "consultation"}
    reads = [event(MORNING + timedelta(seconds=20 * i), subject=f"client-{i % 5:06d}", **counsellor)
             for i in range(46)]
    assert rules(feed(detectors(), reads[:45])) == []
    assert rules(feed(detectors(), reads)) == ["KD-RATE-CAP"]


def test_a_long_episode_alerts_once_per_cooldown() -> None:
    """Denials continuing for half an hour raise one alert, not one per event."""
    denied = [event(MORNING + timedelta(seconds=20 * i), outcome="denied") for i in range(90)]
    assert rules(feed(detectors(), denied)) == ["KD-DENIED-BURST"]


def _hours_of(start: datetime, hours: int, per_half_hour: int) -> list[AccessEvent]:
    """`per_half_hour` evenly spaced reads in each half-hour for `hours` hours."""
    step = timedelta(minutes=30) / per_half_hour
    return [event(start + i * step, subject=f"client-{i % 10:06d}") for i in range(hours * 2 * per_half_hour)]


def test_the_volume_baseline_ignores_a_spike_in_progress() -> None:
    """A spike spanning a half-hour boundary still alerts: the closed half-hour feeds the baseline winsorised."""
    detector = detectors()
    assert feed(detector, _hours_of(MORNING, 6, 8)) == []
    # 140 events in the hour starting 20 minutes before a half-hour boundary: the spike's first
    # 47 events close a bucket; a baseline absorbing them raw (mean 8 -> 12) would need 72 to alert.
    start = MORNING + timedelta(hours=6, minutes=10)
    spike = [event(start + timedelta(seconds=3600 * i / 140), subject=f"client-{i % 10:06d}") for i in range(140)]
    raised = feed(detector, spike)
    assert rules(raised) == ["KD-VOLUME-SPIKE"]
    state = next(iter(detector._parts[0].actors["weia"].values()))
    assert state.mean < 12.0, state.mean


def test_a_volume_spike_raises_one_alert_per_episode() -> None:
    """A spike outlasting the cool-down raises one alert, not a second one when the first cool-down ends."""
    detector = detectors()
    feed(detector, _hours_of(MORNING, 6, 8))
    start = MORNING + timedelta(hours=6)
    spike = [event(start + timedelta(seconds=15 * i), subject=f"client-{i % 10:06d}") for i in range(320)]
    after = _hours_of(start + timedelta(minutes=80), 1, 8)
    assert rules(feed(detector, spike + after)) == ["KD-VOLUME-SPIKE"]


def test_normal_diurnal_swings_are_not_a_volume_spike() -> None:
    """Lunch-hour lulls and a busy afternoon at three times the quiet rate raise nothing."""
    detector = detectors()
    day = _hours_of(MORNING, 2, 12) + _hours_of(MORNING + timedelta(hours=2), 2, 4) + \
        _hours_of(MORNING + timedelta(hours=4), 3, 12) + _hours_of(MORNING + timedelta(hours=7), 1, 36)
    assert rules(feed(detector, day)) == []


def test_a_spike_below_the_factor_is_not_a_volume_spike() -> None:
    """Five times the usual half-hour volume (factor 6) raises nothing; the detector is relative, not absolute."""
    detector = detectors()
    feed(detector, _hours_of(MORNING, 6, 10))
    assert rules(feed(detector, _hours_of(MORNING + timedelta(hours=6), 1, 50))) == []


def test_the_same_new_thing_must_repeat_to_be_first_seen() -> None:
    """Three different rare tasks within the hour are not first seen; the same one three times is."""
    detector = detectors()
    feed(detector, baseline(MORNING, 200, timedelta(seconds=30)))
    later = MORNING + timedelta(hours=2)
    rare = [event(later + timedelta(minutes=i), purpose=p) for i, p in enumerate(("p_one", "p_two", "p_three"))]
    assert feed(detector, rare) == []
    again = [event(later + timedelta(hours=2, minutes=i), purpose="p_four") for i in range(3)]
    assert rules(feed(detector, again)) == ["KD-FIRST-SEEN"]


def test_a_half_seen_habit_survives_a_checkpoint() -> None:
    """A new purpose seen twice before a snapshot alerts on its third use after the restore, not later."""
    detector = detectors()
    feed(detector, baseline(MORNING, 200, timedelta(seconds=30)))
    later = MORNING + timedelta(hours=2)
    assert feed(detector, [event(later + timedelta(minutes=i), purpose="p_new") for i in range(2)]) == []
    snapshot = json.loads(json.dumps(detector.snapshot(0)))
    restored = detectors()
    restored.load(0, snapshot)
    assert rules(feed(restored, [event(later + timedelta(minutes=3), purpose="p_new")])) == ["KD-FIRST-SEEN"]
    fresh = detectors()
    fresh.load(0, json.loads(json.dumps(detector.snapshot(0))))
    fresh.forget({0})
    fresh.load(0, None)
    assert feed(fresh, [event(later + timedelta(minutes=3), purpose="p_new")]) == []


# Thirty routine reads at offsets 0-29; a consumer that saw 0-19 dies with 10 committed.
_REPLAY = [EvaluatedEvent(item, 1, offset, None) for offset, item in enumerate(baseline(MORNING, 30))]


def _fed(items: list[EvaluatedEvent]) -> ActorDetectors:
    held = detectors()
    for item in items:
        held.observe_in(0, item)
    return held


def _restored(snapshot: Any) -> ActorDetectors:
    held = detectors()
    held.load(0, json.loads(json.dumps(snapshot)))
    return held


def test_a_restored_actor_skips_the_replayed_events_its_state_holds() -> None:
    """Replayed from the committed offset after a restore, events the snapshot counted are skipped, later ones count."""
    restored = _restored(_fed(_REPLAY[:20]).snapshot(0))
    for item in _REPLAY[10:]:
        restored.observe_in(0, item)
    assert restored.snapshot(0) == _fed(_REPLAY).snapshot(0)


def test_a_checkpoint_taken_before_the_replay_keeps_what_the_restore_held() -> None:
    """Saved again right after a restore (a quick rebalance), the state still skips what it already counted."""
    restored = _restored(_restored(_fed(_REPLAY[:20]).snapshot(0)).snapshot(0))
    for item in _REPLAY[10:]:
        restored.observe_in(0, item)
    assert restored.snapshot(0) == _fed(_REPLAY).snapshot(0)
