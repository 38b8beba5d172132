"""Folding repeats of one fingerprint within a window into one alert (pure, injected clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from consumers.alerts import AlertFolder, AppiCase, Sensitivity, Severity, Status
from tests.consumers.alerts.alert_support import T0, violation


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_hundred_repeats_fold_into_one_alert_with_count_100() -> None:
    """The same violation 100 times in a window drains as one firing alert, count 100, revision 1."""
    folder = AlertFolder(timedelta(minutes=15), clock=Clock(T0))
    for i in range(100):
        folder.add(violation(event_id=f"00000000-0000-0000-0000-{i:012d}", at=T0 + timedelta(seconds=i)))
    [alert] = folder.drain()
    assert (alert.count, alert.revision, alert.status) == (100, 1, Status.FIRING)
    assert alert.window_start == T0
    assert alert.window_end == T0 + timedelta(seconds=99)
    assert len(alert.evidence_event_ids) == 20
    assert alert.evidence_event_ids[0] == "00000000-0000-0000-0000-000000000000"


def test_distinct_problems_stay_distinct() -> None:
    """Different actor, subject, rule or org give separate alerts."""
    folder = AlertFolder(timedelta(minutes=15), clock=Clock(T0))
    for candidate in (violation(), violation(actor="staff-8"), violation(subject="s-43"), violation(rule="KP013"),
                      violation(org="weia")):
        folder.add(candidate)
    assert len({a.fingerprint for a in folder.drain()}) == 5


def test_later_repeat_in_window_is_a_new_revision_of_the_same_alert() -> None:
    """A repeat after a drain but inside the window republishes the same alert id with a higher count."""
    clock = Clock(T0)
    folder = AlertFolder(timedelta(minutes=15), clock=clock)
    folder.add(violation())
    [first] = folder.drain()
    assert folder.drain() == []
    clock.advance(minutes=5)
    folder.add(violation(at=T0 + timedelta(minutes=5)))
    [second] = folder.drain()
    assert second.alert_id == first.alert_id
    assert (second.count, second.revision) == (2, 2)


def test_window_close_resolves_and_a_later_repeat_opens_a_new_episode() -> None:
    """When the window closes the alert resolves; a repeat after that is a new alert id."""
    clock = Clock(T0)
    folder = AlertFolder(timedelta(minutes=15), clock=clock)
    folder.add(violation(event_id="00000000-0000-0000-0000-000000000001"))
    [first] = folder.drain()
    clock.advance(minutes=15)
    [resolved] = folder.drain()
    assert resolved.alert_id == first.alert_id
    assert resolved.status is Status.RESOLVED
    assert resolved.resolved_at == T0 + timedelta(minutes=15)
    assert folder.open_episodes == 0
    folder.add(violation(event_id="00000000-0000-0000-0000-000000000002"))
    [again] = folder.drain()
    assert again.fingerprint == first.fingerprint
    assert again.alert_id != first.alert_id
    assert (again.status, again.revision) == (Status.FIRING, 1)


def test_episode_closing_before_any_drain_still_fires_first() -> None:
    """An alert whose window closed before it was drained is published firing, then resolved, in that order."""
    clock = Clock(T0)
    folder = AlertFolder(timedelta(minutes=1), clock=clock)
    folder.add(violation())
    clock.advance(minutes=2)
    folder.add(violation())
    out = folder.drain()
    assert [(a.status, a.revision) for a in out] == [(Status.FIRING, 1), (Status.RESOLVED, 2), (Status.FIRING, 1)]
    assert out[0].alert_id == out[1].alert_id != out[2].alert_id


def test_drain_closes_only_expired_episodes_and_republishes_only_changed_ones() -> None:
    """Of episodes opened a minute apart, a drain resolves the expired ones and re-sends only those repeated since."""
    clock = Clock(T0)
    folder = AlertFolder(timedelta(minutes=15), clock=clock)
    for minute in range(3):
        folder.add(violation(actor=f"staff-{minute}"))
        clock.advance(minutes=1)
    first = {a.fingerprint: a for a in folder.drain()}
    clock.advance(minutes=12, seconds=30)  # staff-0's window has closed, staff-1's and staff-2's have not
    folder.add(violation(actor="staff-2"))
    out = folder.drain()
    assert [(a.fingerprint, a.status, a.revision) for a in out] == [
        (next(f for f, a in first.items() if a.actor == "staff-0"), Status.RESOLVED, 2),
        (next(f for f, a in first.items() if a.actor == "staff-2"), Status.FIRING, 2),
    ]
    assert folder.open_episodes == 2
    clock.advance(minutes=2)
    assert [(a.actor, a.status) for a in folder.drain()] == [("staff-1", Status.RESOLVED), ("staff-2", Status.RESOLVED)]
    assert folder.drain() == []


def test_fold_keeps_the_highest_severity() -> None:
    """A page-level repeat raises a folded warning to page."""
    folder = AlertFolder(timedelta(minutes=15), clock=Clock(T0))
    folder.add(violation(severity=Severity.WARNING))
    folder.add(violation(severity=Severity.PAGE))
    folder.add(violation(severity=Severity.INFO))
    [alert] = folder.drain()
    assert alert.severity is Severity.PAGE


def test_folded_subjects_crossing_1000_become_reportable_with_original_deadlines() -> None:
    """Repeats summing past 1,000 persons add the APPI case; deadlines still run from first discovery."""
    clock = Clock(T0)
    folder = AlertFolder(timedelta(minutes=15), clock=clock)
    folder.add(violation(subjects_affected=600, sensitivities=(Sensitivity.FINANCIAL,)))
    clock.advance(minutes=3)
    folder.add(violation(subjects_affected=600))
    [alert] = folder.drain()
    assert alert.subjects_affected == 1_200
    assert alert.appi is not None
    assert alert.appi.cases == (AppiCase.FINANCIAL_DAMAGE, AppiCase.OVER_1000_PERSONS)
    assert alert.appi.discovered_at == T0
    assert alert.appi.preliminary_report_due == T0 + timedelta(days=3)
