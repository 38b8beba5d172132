"""Runs a simulation against Kafka (through the SDK) or into JSON-lines files, paced in simulated time.

Simulated time runs `speed` times faster than the wall clock from `start` (1 = real time, so
`occurred_at` tracks now); `speed=None` sends as fast as it can. `rate` is the weekday-peak
rate in events per wall-clock second (per simulated second when unpaced): quiet hours send
proportionally less, as the organisations' real traffic would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from consumers.policy.compiled import load_policies
from kansa.config import KansaConfig
from producers.pseudonym import SubjectPseudonymiser
from producers.simulator.labels import LabelWriter
from producers.simulator.population import build_population
from producers.simulator.stream import Schedule, Simulation
from schemas.records import AccessEvent, SubjectRequest
from schemas.validation import access_event_to_json

# Sleep only when this far ahead of schedule: finer sleeps cost more than they smooth.
_AHEAD_SECONDS = 0.005
_MAX_SLEEP_SECONDS = 0.2


class Sink(Protocol):
    def event(self, event: AccessEvent) -> None: ...
    def request(self, request: SubjectRequest) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    events: int
    requests: int
    labels: int
    seed: int
    simulated_start: datetime
    simulated_end: datetime | None
    wall_seconds: float
    stopped_by: str  # "count", "duration" or "stop"

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events, "requests": self.requests, "labels": self.labels, "seed": self.seed,
            "simulated_start": self.simulated_start.isoformat(),
            "simulated_end": self.simulated_end.isoformat() if self.simulated_end else None,
            "wall_seconds": round(self.wall_seconds, 3), "stopped_by": self.stopped_by,
            "events_per_second": round(self.events / self.wall_seconds, 1) if self.wall_seconds > 0 else None,
        }


class KafkaSink:
    """Events through one AccessAuditor per (org, app), as real apps would; requests on their own topic."""

    def __init__(self, config: KansaConfig, pseudonymiser: SubjectPseudonymiser | None) -> None:
        from kansa.kafka_clients import make_producer
        from producers.sdk import AccessAuditor

        self._auditor_type = AccessAuditor
        self._producer = make_producer(config.kafka)
        self._config = config
        self._pseudonymiser = pseudonymiser
        self._auditors: dict[tuple[str, str], Any] = {}

    def event(self, event: AccessEvent) -> None:
        key = (event["org"], event["app"])
        auditor = self._auditors.get(key)
        if auditor is None:
            auditor = self._auditors[key] = self._auditor_type(
                self._producer, self._config.kafka.events_topic, key[0], key[1], pseudonymiser=self._pseudonymiser)
        auditor.send(event)

    def request(self, request: SubjectRequest) -> None:
        from producers.subject_requests import file_request

        if self._pseudonymiser is not None:
            # The consumer matches requests to events by subject id, so both must carry the pseudonym.
            request = {**request, "subject_id": self._pseudonymiser.pseudonym(request["org"], request["subject_id"])}
        file_request(self._producer, self._config.kafka.requests_topic, request)

    def close(self) -> None:
        from kansa.kafka_clients import close_producer

        try:
            for auditor in self._auditors.values():
                auditor.flush()
        finally:
            # Each flush() waited and named what was not delivered; nothing is left to wait for.
            close_producer(self._producer, 0)


class JsonlSink:
    """`--dry-run`: events to `out`, subject requests to `<out stem>.requests.jsonl` beside it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.requests_path = out.with_name(out.stem + ".requests.jsonl")
        self._events: TextIO = out.open("w", encoding="utf-8")
        self._requests: TextIO | None = None

    def event(self, event: AccessEvent) -> None:
        self._events.write(json.dumps(access_event_to_json(event), ensure_ascii=False) + "\n")

    def request(self, request: SubjectRequest) -> None:
        if self._requests is None:
            self._requests = self.requests_path.open("w", encoding="utf-8")
        record = {**request, "request_id": str(request["request_id"]),
                  "effective_at": request["effective_at"].isoformat(),
                  "received_at": request["received_at"].isoformat()}
        self._requests.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._events.close()
        if self._requests is not None:
            self._requests.close()


def run_simulation(config: KansaConfig, stop_event: threading.Event, rate: float, duration: float | None,
                   seed: int, scenarios: tuple[str, ...], labels_path: Path | None, *,
                   count: int | None = None, start: datetime | None = None, speed: float | None = 1.0,
                   schedule: Schedule | None = None, dry_run_out: Path | None = None,
                   sink: Sink | None = None) -> SimulationSummary:
    """Send until `duration` wall seconds, `count` events, or `stop_event`, whichever comes first."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    if speed is not None and speed <= 0:
        raise ValueError("speed must be positive (or None for unpaced)")
    begin = start or datetime.now(UTC)
    if begin.tzinfo is None or begin.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    policies = load_policies(str(config.pipeline.policy_dir))
    population = build_population(policies, seed, rate / speed if speed is not None else rate)
    simulation = Simulation(population, begin, seed, scenarios, schedule or Schedule())
    pseudonymiser = (SubjectPseudonymiser(config.subject_key_id, config.subject_key)
                     if config.subject_key is not None and config.subject_key_id is not None else None)
    if sink is None:
        sink = JsonlSink(dry_run_out) if dry_run_out is not None else KafkaSink(config, pseudonymiser)
    labels = LabelWriter(labels_path, pseudonymiser.pseudonym if pseudonymiser is not None else None)
    events = requests = 0
    last: datetime | None = None
    stopped_by = "stop"
    origin, wall0 = begin.timestamp(), time.monotonic()
    deadline = wall0 + duration if duration is not None else None
    try:
        for payload, run in simulation:
            if count is not None and events >= count:
                stopped_by = "count"
                break
            is_event = "event_id" in payload
            at = payload["occurred_at"] if is_event else payload["received_at"]  # type: ignore[typeddict-item]
            if speed is not None:
                due = wall0 + (at.timestamp() - origin) / speed
                if not _wait_until(due, deadline, stop_event):
                    stopped_by = "stop" if stop_event.is_set() else "duration"
                    break
            elif stop_event.is_set() or (deadline is not None and time.monotonic() >= deadline):
                stopped_by = "stop" if stop_event.is_set() else "duration"
                break
            if is_event:
                sink.event(payload)  # type: ignore[arg-type]
                events += 1
                last = at
            else:
                sink.request(payload)  # type: ignore[arg-type]
                requests += 1
            if run is not None:
                labels.observe(run, payload)
    finally:
        try:
            sink.close()
        finally:
            labels.finish()
    return SimulationSummary(events, requests, len(labels.written), seed, begin, last,
                             time.monotonic() - wall0, stopped_by)


def _wait_until(due: float, deadline: float | None, stop_event: threading.Event) -> bool:
    """Sleep until `due` (wall monotonic); False when the deadline or a stop comes first."""
    while True:
        now = time.monotonic()
        if stop_event.is_set() or (deadline is not None and now >= deadline):
            return False
        if due - now <= _AHEAD_SECONDS:
            return deadline is None or due < deadline
        limit = due - now if deadline is None else min(due, deadline) - now
        stop_event.wait(min(limit, _MAX_SLEEP_SECONDS))
