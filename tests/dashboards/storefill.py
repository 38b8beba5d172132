"""Fills a database with simulated traffic through the consumer's own policy, row and alert code, without Kafka.

Used by the report and dashboard tests and by benchmarks/query_latency.py: the rows are what the
pipeline would store, but a broker would only slow the loading down.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.alert_sink import AlertTable
from consumers.alerts import Alert, AlertFolder, to_row
from consumers.clickhouse_sink import ClickHouseBatchWriter
from consumers.messages import Batch, EvaluatedEvent, Partition, StoredEvent
from consumers.policy import PolicyEngine, PolicySet, SubjectRequestBook, load_policies, provision_record
from consumers.subject_requests import store_requests
from consumers.violation_alerts import PolicyViolationAlerts
from kansa.config import KansaConfig, PipelineSettings, StorageSettings
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from producers.pseudonym import SubjectPseudonymiser
from producers.simulator import SCENARIOS, Schedule, SimulationSummary, run_simulation
from schemas.records import AccessEvent, SubjectRequest
from schemas.validation import access_event_from_json, load_json_file

SIM_TOPIC = "simulated"


@dataclass
class StoreSink:
    """A simulator sink that evaluates, batches and writes like the consumer does."""

    client: Client
    policies: PolicySet
    pseudonymiser: SubjectPseudonymiser | None = None
    batch_rows: int = 20_000
    # Each sink writes its own pseudo-partition, so two sinks never share a deduplication token.
    topic: str = SIM_TOPIC

    def __post_init__(self) -> None:
        self._engine = PolicyEngine(self.policies)
        self._book = SubjectRequestBook()
        self._writer = ClickHouseBatchWriter(self.client, lambda: self.policies)
        self._now = datetime.min.replace(tzinfo=UTC)
        # Alerts are stamped with simulated time, so they fall inside the simulated period.
        self._folder = AlertFolder(timedelta(minutes=15), clock=lambda: self._now)
        self._detector = PolicyViolationAlerts(lambda: self.policies, clock=lambda: self._now)
        self._items: list[StoredEvent] = []
        self._offset = 0

    def event(self, event: AccessEvent) -> None:
        if self.pseudonymiser is not None and event["subject_id"] is not None:
            event = {**event, "subject_id": self.pseudonymiser.pseudonym(event["org"], event["subject_id"]),
                     "subject_key_id": self.pseudonymiser.key_id}
        self._now = event["occurred_at"]
        decision = self._engine.evaluate(event, self._book)
        provision = provision_record(event, decision, self.policies) if event["action"] == "disclose" else None
        item = EvaluatedEvent(event, 1, self._offset, decision, provision)
        self._offset += 1
        for alert in self._detector.observe(item):
            self._folder.add(alert)
        self._items.append(StoredEvent.of(item))
        if len(self._items) >= self.batch_rows:
            self._flush()

    def request(self, request: SubjectRequest) -> None:
        if self.pseudonymiser is not None:
            request = {**request, "subject_id": self.pseudonymiser.pseudonym(request["org"], request["subject_id"])}
        self._flush()
        self._book.apply(request)
        store_requests(self.client, [request])

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self._items:
            items, self._items = self._items, []
            self._writer.write(Batch(Partition(self.topic, 0), items[0].offset, items[-1].offset, items, None))
        store_alerts(self.client, self._folder.drain())


def store_alerts(client: Client, alerts: list[Alert]) -> None:
    """Insert alert revisions into `alerts` through the consumer's own `AlertTable`."""
    if alerts:
        AlertTable(client).insert([to_row(alert) for alert in alerts])


CASE_ORG = "chiba-cia"
CASE_SUBJECT = "member-770001"  # the person's id as the organisation knows it (stored pseudonymised if keyed)
CASE_COUNSELLOR = "staff-0231"
CASE_REFERENCE = "SR-2026-0042"
_SAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "samples" / "valid"


def add_subject_case(client: Client, policy_dir: Path, start: datetime,
                     pseudonymiser: SubjectPseudonymiser | None = None) -> None:
    """One member read at start+1h, paid through Stripe at +1.5h, suspended use at +2h, and read again at +3h."""

    def event(sample: str, at: datetime, **changes: Any) -> Any:
        raw = load_json_file(str(_SAMPLES / sample))
        raw.update(event_id=str(uuid.uuid4()), occurred_at=at.isoformat(), subject_id=CASE_SUBJECT, **changes)
        return access_event_from_json(raw)

    sink = StoreSink(client, load_policies(str(policy_dir)), pseudonymiser, topic="subject-case")
    sink.event(event("chiba-cia-counsellor-reads-consultation.json", start + timedelta(hours=1)))
    sink.event(event("chiba-cia-stripe-payment.json", start + timedelta(hours=1, minutes=30),
                     collected_at=(start + timedelta(hours=1, minutes=29)).isoformat()))
    sink.request({"request_id": uuid.uuid4(), "org": CASE_ORG, "subject_id": CASE_SUBJECT, "kind": "suspend_use",
                  "effective_at": start + timedelta(hours=2), "received_at": start + timedelta(hours=2),
                  "reference": CASE_REFERENCE})
    sink.event(event("chiba-cia-counsellor-reads-consultation.json", start + timedelta(hours=3)))
    sink.close()


def open_filled(chdb_dir: Path, database: str, policy_dir: Path, events: int, start: datetime,
                pseudonymiser: SubjectPseudonymiser | None = None, rate: float = 40.0) -> Client:
    """A migrated database holding `events` simulated events (scenarios every 30 s) and the subject case."""
    client = connect(StorageSettings(dsn=f"chdb://{chdb_dir}", database=database))
    migrate(client)
    fill_store(client, policy_dir, events, start, rate=rate, scenario_every=timedelta(seconds=30),
               pseudonymiser=pseudonymiser)
    add_subject_case(client, policy_dir, start, pseudonymiser)
    # Merged into one part, as a production table mostly is, so index and projection choices are realistic.
    client.command("OPTIMIZE TABLE access_events FINAL")
    return client


def fill_store(client: Client, policy_dir: Path, events: int, start: datetime, *, rate: float = 40.0,
               seed: int = 1, scenario_every: timedelta = timedelta(minutes=10),
               pseudonymiser: SubjectPseudonymiser | None = None, batch_rows: int = 20_000) -> SimulationSummary:
    """Simulate `events` events from `start` (unpaced, every scenario enabled) into the migrated database."""
    config = KansaConfig(pipeline=PipelineSettings(policy_dir=policy_dir))
    sink = StoreSink(client, load_policies(str(policy_dir)), pseudonymiser, batch_rows)
    return run_simulation(config, threading.Event(), rate, None, seed, tuple(SCENARIOS), None,
                          count=events, start=start, speed=None,
                          schedule=Schedule(every=scenario_every, warmup=scenario_every), sink=sink)

