"""Ground truth beside the stream: one JSON line per injected scenario, never a field inside an event.

A label is written once every event of its scenario has been emitted, or when the run stops
(then with `"complete": false` and only the ids actually emitted), so it never names an event
the pipeline could not have seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TextIO

# What should catch it: a policy rule (violation), the anomaly detectors (policy allows it), or
# denied outcomes (the app refused; detectors should notice the probing pattern).
Expectation = Literal["violation", "anomaly", "denied"]


@dataclass(slots=True)
class ScenarioRun:
    """One injected scenario: its planned events and subject requests, and how many went out."""

    scenario: str
    scenario_id: str
    org: str
    actors: list[str]
    subject: str | None
    expected: Expectation
    rules: list[str]
    detail: dict[str, Any]
    planned_events: int = 0
    event_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    emitted_actors: set[str] = field(default_factory=set)
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return len(self.event_ids) >= self.planned_events

    def emitted(self, event_id: str, actor: str, at: datetime) -> None:
        self.event_ids.append(event_id)
        self.emitted_actors.add(actor)
        if self.first_event_at is None:
            self.first_event_at = at
        self.last_event_at = at

    def to_json(self) -> dict[str, Any]:
        # A run cut short names only the actors whose events actually went out.
        actors = self.actors if self.complete else [a for a in self.actors if a in self.emitted_actors]
        return {
            "scenario": self.scenario, "scenario_id": self.scenario_id, "org": self.org,
            "actor": actors[0] if len(actors) == 1 else None, "actors": actors,
            "subject": self.subject, "expected": self.expected, "rules": self.rules,
            "first_event_at": self.first_event_at.isoformat() if self.first_event_at else None,
            "last_event_at": self.last_event_at.isoformat() if self.last_event_at else None,
            "event_count": len(self.event_ids), "event_ids": self.event_ids, "request_ids": self.request_ids,
            "complete": self.complete, "detail": self.detail,
        }


class LabelWriter:
    """Appends labels as JSON lines to a file (or nowhere when path is None); keeps them in memory too."""

    def __init__(self, path: Path | None, pseudonym: Callable[[str, str], str] | None = None) -> None:
        """`pseudonym(org, subject_id)`: when the SDK pseudonymises, labels also carry what the consumer sees."""
        self.path = path
        self._pseudonym = pseudonym
        self.written: list[dict[str, Any]] = []
        self._open: dict[str, ScenarioRun] = {}
        self._handle: TextIO | None = path.open("a", encoding="utf-8") if path is not None else None

    def observe(self, run: ScenarioRun, payload: Mapping[str, Any]) -> None:
        """Note that one of the run's items was emitted; its label goes out with its last event."""
        self._open[run.scenario_id] = run
        if "event_id" in payload:
            run.emitted(str(payload["event_id"]), payload["actor"]["id"], payload["occurred_at"])
        if run.complete:
            del self._open[run.scenario_id]
            self.write(run)

    def finish(self) -> None:
        """Label the scenarios the run stopped in the middle of, then close the file."""
        for run in self._open.values():
            self.write(run)
        self._open.clear()
        self.close()

    def write(self, run: ScenarioRun) -> None:
        record = run.to_json()
        if self._pseudonym is not None and run.subject is not None:
            record["subject_pseudonym"] = self._pseudonym(run.org, run.subject)
        self.written.append(record)
        if self._handle is not None:
            self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_labels(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
