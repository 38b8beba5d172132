"""KD-POPULAR-SUBJECT: one subject opened by many actors who never opened it before, as SQL over ClickHouse.

Runs on a schedule in its own thread with its own client, over a sliding window of event time
ending at the newest stored event of each organisation. When event time has moved on by more than
a quarter window since the last run (a consumer catching up on a backlog, a slow run), the windows
in between are looked at too, so a burst is not slid past unseen. Windows looked at while one
partition's events were still behind the others' are looked at again, up to a window back, once it
has caught up. How far it has looked is stored beside the events (`sql_detector_progress`), so a
consumer restarted after an outage goes on from there. The alert id derives from (rule, org,
subject, window bucket), so reruns and several consumers raising the same finding agree on it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from clickhouse_connect.driver.client import Client

from consumers.alerts import Alert, Kind, LocalizedText, new_alert
from consumers.alerts.fingerprint import episode_id
from consumers.alerts.model import utc_now
from consumers.detectors.explain import RULES, sensitivities_of
from consumers.detectors.thresholds import DetectorThresholds, Thresholds
from consumers.policy import PolicySet

RULE = "KD-POPULAR-SUBJECT"
_REMEMBERED = 10_000
# Windows looked at overlap by three quarters: any burst within three quarters of a window is whole in one.
_STEPS_PER_WINDOW = 4
# 24 windows' worth per run (a day at the default hour): a longer backlog is caught up over the next runs.
_MAX_WINDOWS_PER_RUN = 96

_PROGRESS = "SELECT org, max(looked_until) FROM sql_detector_progress WHERE rule = {rule:String} GROUP BY org"

# Per partition first: the slowest partition's newest event is how far the store is complete.
_BOUNDS = """
SELECT max(newest), min(oldest), sum(stored), min(newest) FROM (
    SELECT max(occurred_at) AS newest, min(occurred_at) AS oldest, count() AS stored
    FROM access_events WHERE org = {org:String} GROUP BY kafka_partition
)
"""
# ClickHouse has no correlated subqueries: the baseline readers come from a join on subject.
_SQL = """
SELECT w.subject_id, w.actors, w.events, w.first_at, w.last_at, w.ids, w.categories, p.prior
FROM (
    SELECT subject_id, uniqExact(actor_id) AS actors, count() AS events, min(occurred_at) AS first_at,
           max(occurred_at) AS last_at, arraySlice(groupArray(toString(event_id)), 1, 20) AS ids,
           groupUniqArrayArray(data_categories) AS categories
    FROM access_events
    WHERE org = {org:String} AND subject_id != '' AND actor_type != 'service'
      AND occurred_at >= {start:DateTime64(6)} AND occurred_at <= {end:DateTime64(6)}
    GROUP BY subject_id
    HAVING actors >= {min_actors:UInt32}
) AS w
LEFT JOIN (
    SELECT subject_id, uniqExact(actor_id) AS prior FROM access_events
    WHERE org = {org:String} AND occurred_at >= {since:DateTime64(6)} AND occurred_at < {start:DateTime64(6)}
    GROUP BY subject_id
) AS p ON w.subject_id = p.subject_id
SETTINGS join_use_nulls = 0
"""


class PopularSubjectDetector:
    """One pass over every organisation with a policy; returns alerts never returned before by this process."""

    def __init__(self, client: Client, policies: Callable[[], PolicySet], thresholds: Callable[[], DetectorThresholds],
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._client = client
        self._policies = policies
        self._thresholds = thresholds
        self._clock = clock
        self._raised: dict[str, None] = {}
        self._looked_until: dict[str, datetime] | None = None
        self._complete_until: dict[str, datetime] = {}  # each org's slowest partition's newest event, last run

    def run(self) -> list[Alert]:
        if self._looked_until is None:
            rows = self._client.query(_PROGRESS, parameters={"rule": RULE}).result_rows
            self._looked_until = {org: _aware(until) for org, until in rows}
        found: list[Alert] = []
        progress: list[list[object]] = []
        policies = self._policies()
        for org in policies:
            th = self._thresholds().for_org(org)
            newest, oldest, stored, slowest = self._client.query(_BOUNDS, parameters={"org": org}).result_rows[0]
            if not stored:
                continue
            newest, oldest = _aware(newest), _aware(oldest)
            window = timedelta(seconds=th.popular_window)
            ends = _window_ends(self._resume_from(org, self._looked_until.get(org), window), newest, window)
            for end in ends:
                start = end - window
                if (start - oldest).total_seconds() < th.popular_min_history:
                    continue  # no baseline yet: every subject would look new
                found.extend(self._look(org, start, end, th, policies))
            self._complete_until[org] = _aware(slowest)  # only once its windows were looked at
            if ends[-1] != self._looked_until.get(org):  # an org with no new events has nothing to record
                self._looked_until[org] = ends[-1]
                progress.append([RULE, org, ends[-1]])
        if progress:
            self._client.insert("sql_detector_progress", progress, column_names=["rule", "org", "looked_until"])
        return found

    def _resume_from(self, org: str, looked: datetime | None, window: timedelta) -> datetime | None:
        """Where this run's windows start: after the last one looked at, or before it if that one was incomplete.

        A partition behind the others (a consumer catching up after a restart or rebalance) stores
        its events after windows over their time were looked at. Those windows are looked at again,
        up to one window back, until the last run's slowest partition had reached them.
        """
        complete = self._complete_until.get(org)
        if looked is None or complete is None or complete >= looked:
            return looked
        return max(complete, looked - window)

    def _look(self, org: str, start: datetime, end: datetime, th: Thresholds, policies: PolicySet) -> list[Alert]:
        rows = self._client.query(_SQL, parameters={
            "org": org, "start": start, "end": end, "since": start - timedelta(seconds=th.popular_baseline),
            "min_actors": th.popular_actors,
        }).result_rows
        found: list[Alert] = []
        for subject, actors, events, first, last, ids, categories, prior in rows:
            first_at, last_at = _aware(first), _aware(last)
            if (prior or 0) > th.popular_prior_share * actors:
                continue  # a subject many people handle anyway, e.g. a long-running case
            bucket = int(first_at.timestamp() // th.popular_window)
            alert_id = episode_id(RULE, f"{org}\x1f{subject}\x1f{bucket}")
            if alert_id in self._raised:
                continue
            self._remember(alert_id)
            found.append(self._alert(alert_id, org, subject, int(actors), int(events), int(prior), first_at,
                                     last_at, list(ids), list(categories), policies))
        return found

    def _alert(self, alert_id: str, org: str, subject: str, actors: int, events: int, prior: int,
               first_at: datetime, last_at: datetime, ids: list[str], categories: list[str],
               policies: PolicySet) -> Alert:
        severity, _ = RULES[RULE]
        alert = new_alert(
            kind=Kind.DETECTOR, rule=RULE, severity=severity, org=org, actor=None, subject=subject,
            event_ids=ids, first_seen=first_at, last_seen=last_at, now=self._clock(),
            summary=LocalizedText(ja="多数の職員による同一本人の閲覧", en="One subject opened by many staff"),
            description=LocalizedText(
                ja=f"本人 {subject} の記録を1時間に {actors} 人が {events} 回開きました(それ以前の閲覧者 {prior} 人)",
                en=f"{actors} staff opened subject {subject} {events} times within an hour "
                   f"(earlier readers: {prior})"),
            sensitivities=sensitivities_of(policies.get(org), categories), subjects_affected=1,
            data_categories=categories, count=events,
        )
        return replace(alert, alert_id=alert_id)

    def _remember(self, alert_id: str) -> None:
        self._raised[alert_id] = None
        if len(self._raised) > _REMEMBERED:
            del self._raised[next(iter(self._raised))]


class SqlDetectorThread:
    """Runs the detector every `interval` seconds; alerts wait in a queue the consumer loop drains."""

    def __init__(self, detector: PopularSubjectDetector, interval: float) -> None:
        self._detector = detector
        self._interval = interval
        self._found: queue.SimpleQueue[Alert] = queue.SimpleQueue()

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self._interval):
            try:
                for alert in self._detector.run():
                    self._found.put(alert)
            except Exception:  # the store may be briefly away; the next run covers the same window
                logging.getLogger(__name__).exception("SQL detector run failed")

    def drain(self, raise_alert: Callable[[Alert], None]) -> None:
        while True:
            try:
                raise_alert(self._found.get_nowait())
            except queue.Empty:
                return


def _window_ends(looked_until: datetime | None, newest: datetime, window: timedelta) -> list[datetime]:
    """A window end every quarter window after `looked_until` up to the newest event, at most a run's worth."""
    step = window / _STEPS_PER_WINDOW
    end = looked_until
    ends: list[datetime] = []
    if end is not None:
        while end + step < newest:
            if len(ends) == _MAX_WINDOWS_PER_RUN:
                return ends
            end += step
            ends.append(end)
    return [*ends, newest]


def _aware(value: datetime) -> datetime:
    """Query results may come back naive; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
