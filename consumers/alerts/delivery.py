"""Delivers alerts from the `kansa.alerts` topic to Alertmanager, in a background thread.

The topic is the source of truth, and this reader's committed offset never passes an alert
that is still active: per partition it commits the offset of the oldest message of an alert
still firing (or not yet delivered). A restarted or rebalanced reader therefore re-reads every
active alert and carries on re-sending it, and nothing written to the topic is lost while
Alertmanager is down. Re-sending is harmless: Alertmanager identifies alerts by their labels.
The consumer pipeline never waits for this loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kafka.structs import OffsetAndMetadata, TopicPartition

from consumers.alerts.alertmanager import AlertmanagerClient, AlertmanagerUnavailableError, to_alertmanager
from consumers.alerts.model import Alert, Status, utc_now
from kansa import metrics
from schemas.codec import AvroCodec
from schemas.errors import InvalidEvent

log = logging.getLogger(__name__)


@dataclass
class _Tracked:
    alert: Alert
    partition: TopicPartition
    offset: int
    unsent: bool


@dataclass(frozen=True)
class DeliverySettings:
    # Alertmanager's own clients (Prometheus) re-send every minute and set endsAt 4 intervals ahead.
    resend_interval: timedelta = timedelta(minutes=1)
    hold_intervals: int = 4
    # A firing alert nobody updated for this long lost its resolution (its raiser died); let it lapse.
    stale_after: timedelta = timedelta(hours=6)
    backoff_initial: timedelta = timedelta(seconds=0.5)
    backoff_max: timedelta = timedelta(seconds=30)
    poll_timeout_ms: int = 200
    max_alerts_per_post: int = 500


class AlertDelivery:
    """Owns its KafkaConsumer (subscribed to the alerts topic, auto-commit off); one thread only."""

    def __init__(self, consumer: Any, client: AlertmanagerClient, codec: AvroCodec,
                 clock: Callable[[], datetime] = utc_now, settings: DeliverySettings = DeliverySettings()) -> None:
        self._consumer = consumer
        self._client = client
        self._codec = codec
        self._clock = clock
        self._settings = settings
        self._active: dict[str, _Tracked] = {}
        self._consumed: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._last_resend: datetime | None = None
        self._next_attempt: datetime | None = None
        self._backoff = settings.backoff_initial

    @property
    def pending(self) -> int:
        """Alert revisions read from the topic and not yet accepted by Alertmanager."""
        return sum(1 for tracked in self._active.values() if tracked.unsent)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep delivering after a broker hiccup; the topic still holds everything
                log.exception("alert delivery step failed; retrying")
                stop.wait(self._settings.backoff_max.total_seconds() / 10)

    def run_once(self) -> None:
        """Read new alert revisions, push what is due to Alertmanager, commit what no longer needs re-reading."""
        batches = self._consumer.poll(timeout_ms=self._settings.poll_timeout_ms)
        for partition, records in batches.items():
            for record in records:
                self._take(partition, record)
        self._forget_unassigned()
        now = self._clock()
        self._drop_stale(now)
        if self._next_attempt is None or now >= self._next_attempt:
            self._push(now)
        metrics.ALERT_DELIVERY_PENDING.set(self.pending)
        self._commit()

    def _take(self, partition: TopicPartition, record: Any) -> None:
        self._consumed[partition] = record.offset + 1
        try:
            alert = Alert.from_record(self._codec.decode(record.value))
        except InvalidEvent as exc:
            # Only the publisher writes this topic, so this is a bug upstream; the bytes stay in the topic.
            log.error("undecodable alert at %s offset %d: %s", partition, record.offset, exc)
            return
        known = self._active.get(alert.alert_id)
        if known is not None and known.alert.revision >= alert.revision:
            return  # a re-read older revision
        self._active[alert.alert_id] = _Tracked(alert, partition, record.offset, unsent=True)

    def _forget_unassigned(self) -> None:
        """After a rebalance the new owner re-reads these partitions from the committed offset."""
        assigned = self._consumer.assignment()
        for alert_id in [a for a, t in self._active.items() if t.partition not in assigned]:
            del self._active[alert_id]
        for partition in [p for p in self._consumed if p not in assigned]:
            del self._consumed[partition]
            self._committed.pop(partition, None)

    def _drop_stale(self, now: datetime) -> None:
        for alert_id, tracked in list(self._active.items()):
            if tracked.alert.status is Status.FIRING and now - tracked.alert.updated_at > self._settings.stale_after:
                log.warning("alert %s not updated since %s; letting it lapse in Alertmanager", alert_id,
                            tracked.alert.updated_at.isoformat())
                del self._active[alert_id]

    def _push(self, now: datetime) -> None:
        resend = self._last_resend is None or now - self._last_resend >= self._settings.resend_interval
        chosen = [t for t in self._active.values() if t.unsent or (resend and t.alert.status is Status.FIRING)]
        if not chosen:
            return
        hold = self._settings.resend_interval * self._settings.hold_intervals
        payload = [to_alertmanager(t.alert, now, hold) for t in chosen]
        step = self._settings.max_alerts_per_post
        try:
            for start in range(0, len(payload), step):
                self._client.post_alerts(payload[start:start + step])
        except AlertmanagerUnavailableError as exc:
            metrics.ALERT_DELIVERIES.labels(result="error").inc()
            self._next_attempt = now + self._backoff
            log.warning("Alertmanager unavailable, %d alert(s) waiting, next try in %.1f s: %s",
                        len(chosen), self._backoff.total_seconds(), exc)
            self._backoff = min(self._backoff * 2, self._settings.backoff_max)
            return
        metrics.ALERT_DELIVERIES.labels(result="ok").inc()
        self._next_attempt = None
        self._backoff = self._settings.backoff_initial
        if resend:
            self._last_resend = now
        for tracked in chosen:
            tracked.unsent = False
            if tracked.alert.status is Status.RESOLVED:
                del self._active[tracked.alert.alert_id]

    def _commit(self) -> None:
        targets: dict[TopicPartition, int] = dict(self._consumed)
        for tracked in self._active.values():
            targets[tracked.partition] = min(targets[tracked.partition], tracked.offset)
        changed = {p: OffsetAndMetadata(o, "", -1) for p, o in targets.items() if self._committed.get(p) != o}
        if not changed:
            return
        try:
            self._consumer.commit(offsets=changed)
        except Exception as exc:  # a commit racing a rebalance fails; the next step commits again
            log.warning("alert delivery commit failed: %r", exc)
            return
        self._committed.update({p: meta.offset for p, meta in changed.items()})
