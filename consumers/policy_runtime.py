"""The consumer's live policy state: compiled policies and detector thresholds (reloaded together
on SIGHUP or file change) and the subject-request book. Changes are applied between polls, under
the processing lock, so a reload never lands half-way through an event."""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

from consumers.detectors.thresholds import DetectorThresholds, ThresholdsError, load_thresholds
from consumers.policy import (
    Decision,
    PolicyEngine,
    PolicyError,
    PolicySet,
    ProvisionRecord,
    SubjectRequestBook,
    is_business_hours,
    load_policies,
    provision_record,
)
from kansa import metrics
from schemas.records import AccessEvent, SubjectRequest

log = logging.getLogger(__name__)

Evaluation = tuple[Decision, ProvisionRecord | None]


class PolicyRuntime:
    def __init__(self, policy_dir: Path, watch_seconds: float, clock: Callable[[], float] = time.monotonic,
                 thresholds_file: Path | None = None) -> None:
        self._dir = policy_dir
        self._thresholds_file = thresholds_file
        self._watch_seconds = watch_seconds
        self._clock = clock
        self.policies: PolicySet = load_policies(str(policy_dir))
        self.thresholds: DetectorThresholds = load_thresholds(thresholds_file)
        self._engine = PolicyEngine(self.policies)
        self.book = SubjectRequestBook()
        self._incoming: queue.SimpleQueue[SubjectRequest] = queue.SimpleQueue()
        self._stamp = self._files_stamp()
        self._checked = clock()
        self._reload_requested = threading.Event()
        record_open_orgs(self.policies, datetime.now(UTC))
        record_closed_days_end(self.policies)

    def evaluate(self, event: AccessEvent) -> Evaluation:
        decision = self._engine.evaluate(event, self.book)
        if event["action"] == "disclose":
            return decision, provision_record(event, decision, self.policies)
        return decision, None

    def known_orgs(self) -> frozenset[str]:
        return frozenset(self.policies.by_org)

    def offer_request(self, request: SubjectRequest) -> None:
        """Thread-safe: the request tailer hands requests over; `refresh` applies them."""
        self._incoming.put(request)

    def install_sighup(self) -> None:
        signal.signal(signal.SIGHUP, lambda _signum, _frame: self._reload_requested.set())

    def refresh(self) -> list[SubjectRequest]:
        """Apply queued subject requests (returning the new ones), and reload policies when asked or changed."""
        applied: list[SubjectRequest] = []
        while True:
            try:
                request = self._incoming.get_nowait()
            except queue.Empty:
                break
            if self.book.apply(request):
                applied.append(request)
        now = self._clock()
        if not self._reload_requested.is_set() and now - self._checked < self._watch_seconds:
            return applied
        self._checked = now
        stamp = self._files_stamp()
        if self._reload_requested.is_set() or stamp != self._stamp:
            self._reload_requested.clear()
            self._stamp = stamp
            self.reload()
        record_open_orgs(self.policies, datetime.now(UTC))
        return applied

    def reload(self) -> bool:
        """Swap in freshly loaded policies and thresholds; a bad file keeps both in force and says why."""
        try:
            policies = load_policies(str(self._dir))
            thresholds = load_thresholds(self._thresholds_file)
        except (PolicyError, ThresholdsError, OSError) as exc:
            metrics.POLICY_RELOADS.labels("error").inc()
            log.error("policy reload refused, keeping the policies and thresholds in force: %s", exc)
            return False
        for dropped in set(self.policies.by_org) - set(policies.by_org):
            # The gauge is process-wide: another runtime (the bench's warm-up) may have removed it.
            for gauge in (metrics.ORG_OPEN, metrics.CLOSED_DAYS_END):
                with contextlib.suppress(KeyError):
                    gauge.remove(dropped)
        self.policies = policies
        self.thresholds = thresholds
        self._engine = PolicyEngine(policies)
        record_closed_days_end(policies)
        metrics.POLICY_RELOADS.labels("ok").inc()
        log.info("policies reloaded: %s", ", ".join(sorted(policies.by_org)))
        return True

    def _files_stamp(self) -> tuple[tuple[str, int, int], ...]:
        files = [*self._dir.glob("*.yaml"), *([self._thresholds_file] if self._thresholds_file else [])]
        stamps = []
        for path in files:
            try:
                stat = path.stat()
            except OSError:  # a file being replaced, or a thresholds file not (yet) there
                continue
            stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(stamps))


def record_open_orgs(policies: PolicySet, now: datetime) -> None:
    """Which organisations are inside their declared business hours: KM-ORG-SILENT expects events only then."""
    for org, compiled in policies.by_org.items():
        metrics.ORG_OPEN.labels(org).set(1 if is_business_hours(compiled, now) else 0)


def record_closed_days_end(policies: PolicySet) -> None:
    """When each organisation's list of closed days runs out (KM-POLICY-CALENDAR warns ahead of it)."""
    for org, compiled in policies.by_org.items():
        hours = compiled.policy.business_hours
        if hours.closed:
            day_after = max(hours.closed) + timedelta(days=1)
            metrics.CLOSED_DAYS_END.labels(org).set(datetime.combine(day_after, time_of_day(0), hours.zone).timestamp())
        else:
            with contextlib.suppress(KeyError):
                metrics.CLOSED_DAYS_END.remove(org)
