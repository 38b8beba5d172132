"""Folds repeats of one fingerprint within a window into one alert with a count.

The folder runs inside the consumer, between the decisions and the publisher: `add` every
candidate alert of a batch, then `drain` once and publish what it returns before committing
offsets. So 100 repeats in a batch become one message with count 100, and later repeats in
the same window become new revisions of the same alert rather than new pages. The window is
measured on the injected clock (processing time) so idle periods still close episodes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from consumers.alerts.appi import classify, most_sensitive
from consumers.alerts.model import Alert, AppiCase, Sensitivity, Severity, merge_evidence, utc_now

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2, Severity.PAGE: 3}


@dataclass
class _Episode:
    alert: Alert
    closes_at: datetime
    changed: bool


class AlertFolder:
    """Not thread-safe: owned by the consumer loop that processes batches."""

    def __init__(self, window: timedelta, clock: Callable[[], datetime] = utc_now) -> None:
        if window <= timedelta(0):
            raise ValueError(f"window must be positive, got {window}")
        self._window = window
        self._clock = clock
        self._open: dict[str, _Episode] = {}
        # Every episode's window is as long, so opening order is closing order: a drain looks at
        # the oldest episodes and the changed ones, never at every open one (thousands at a time).
        self._opened: deque[_Episode] = deque()
        self._changed: list[_Episode] = []
        self._closed: list[_Episode] = []

    @property
    def open_episodes(self) -> int:
        return len(self._open)

    def add(self, candidate: Alert) -> None:
        now = self._clock()
        episode = self._open.get(candidate.fingerprint)
        if episode is not None and now >= episode.closes_at:
            self._closed.append(self._open.pop(candidate.fingerprint))
            episode = None
        if episode is None:
            episode = self._open[candidate.fingerprint] = _Episode(candidate, now + self._window, changed=True)
            self._opened.append(episode)
            self._changed.append(episode)
            return
        episode.alert = fold(episode.alert, candidate, now)
        if not episode.changed:
            episode.changed = True
            self._changed.append(episode)

    def drain(self) -> list[Alert]:
        """New revisions to publish: changed open alerts, and a resolution for every episode whose window closed.

        A clock that steps back delays an episode's close until the ones opened before it close, at most by the step.
        """
        now = self._clock()
        while self._opened and now >= self._opened[0].closes_at:
            episode = self._opened.popleft()
            if self._open.get(episode.alert.fingerprint) is episode:
                self._closed.append(self._open.pop(episode.alert.fingerprint))
        out: list[Alert] = []
        for episode in self._closed:
            if episode.changed:
                # Never published as firing: publish that first, so it still pages before it resolves.
                episode.alert = replace(episode.alert, revision=episode.alert.revision + 1)
                out.append(episode.alert)
            out.append(episode.alert.resolve(max(episode.closes_at, episode.alert.updated_at)))
        self._closed = []
        changed, self._changed = self._changed, []
        for episode in changed:
            if self._open.get(episode.alert.fingerprint) is episode:
                episode.alert = replace(episode.alert, revision=episode.alert.revision + 1)
                episode.changed = False
                out.append(episode.alert)
        return out


def fold(current: Alert, repeat: Alert, now: datetime) -> Alert:
    """`repeat` happened again within `current`'s window: one alert, counts and evidence combined."""
    sensitivities = _sensitivities(current) | _sensitivities(repeat)
    subjects = current.subjects_affected + repeat.subjects_affected
    unjust = current.suspected_unjust_purpose or repeat.suspected_unjust_purpose
    # Deadlines run from when the organisation first learnt of the incident, not from the latest repeat.
    discovered = current.appi.discovered_at if current.appi else now
    severity = max(current.severity, repeat.severity, key=_SEVERITY_RANK.__getitem__)
    return replace(
        current,
        severity=severity,
        window_start=min(current.window_start, repeat.window_start),
        window_end=max(current.window_end, repeat.window_end),
        count=current.count + repeat.count,
        subjects_affected=subjects,
        evidence_event_ids=merge_evidence(current.evidence_event_ids, repeat.evidence_event_ids),
        data_categories=tuple(sorted(set(current.data_categories) | set(repeat.data_categories))),
        sensitivity=most_sensitive(sensitivities),
        suspected_unjust_purpose=unjust,
        appi=classify(sensitivities, subjects, unjust, discovered_at=discovered),
        updated_at=now,
    )


def _sensitivities(alert: Alert) -> set[Sensitivity]:
    """The single `sensitivity` field keeps only the top class; the APPI cases remember the others."""
    found = {alert.sensitivity}
    cases = alert.appi.cases if alert.appi else ()
    if AppiCase.SENSITIVE_DATA in cases:
        found.add(Sensitivity.SENSITIVE)
    if AppiCase.FINANCIAL_DAMAGE in cases:
        found.add(Sensitivity.FINANCIAL)
    return found
