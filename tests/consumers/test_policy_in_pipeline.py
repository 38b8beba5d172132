"""The policy engine inside the running consumer: decisions stored with events, provision records,
subject requests from their topic (and, after a restart, from ClickHouse)."""

from __future__ import annotations

import dataclasses
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.storage.client import connect
from producers.sdk import AccessAuditor
from producers.subject_requests import file_request
from schemas.records import AccessEvent, SubjectRequest
from tests.conftest import POLICY_DIR
from tests.consumers.running import read_topic, rows_in, running_consumer, wait_for
from tests.eventdata import fresh_sample

NOW = datetime.now(UTC)


def sample(name_part: str) -> AccessEvent:
    return fresh_sample(name_part, NOW)


def send(config: KansaConfig, events: list[AccessEvent]) -> None:
    with AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, "weia", "t") as auditor:
        for event in events:
            auditor.send(event)


def rows(client: Client, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in client.query(sql).result_rows]


def test_decisions_provisions_and_requests_in_the_running_consumer(pipeline_config: KansaConfig) -> None:
    """Violations are stored with rule ids, allowed disclosures leave provision records, suspension requests bind."""
    ensure_topics(pipeline_config.kafka)
    suspended = sample("weia-counsellor-updates-case")
    request: SubjectRequest = {
        "request_id": uuid.uuid4(), "org": "weia", "subject_id": suspended["subject_id"] or "",
        "kind": "suspend_use", "effective_at": NOW - timedelta(hours=1), "received_at": NOW - timedelta(hours=1),
        "reference": "case-1",
    }
    producer = make_producer(pipeline_config.kafka)
    file_request(producer, pipeline_config.kafka.requests_topic, request)
    producer.close()

    allowed = sample("weia-recruiter-reads-applicant")
    disclosure = sample("chiba-cia-stripe-payment")
    out_of_purpose = sample("chiba-cia-stripe-payment")
    out_of_purpose["purpose"] = "marketing_that_was_never_declared"
    client = connect(pipeline_config.storage)
    with running_consumer(pipeline_config):
        wait_for(lambda: rows_in(client, "subject_requests") >= 1, 60, "the request to be applied")
        send(pipeline_config, [allowed, disclosure, out_of_purpose, suspended])
        wait_for(lambda: rows_in(client, "access_events") >= 4, 60, "4 stored events")

    decided = dict((str(r[0]), (r[1], r[2])) for r in rows(
        client, "SELECT toString(event_id), decision, rule_ids FROM access_events"))
    assert decided[str(allowed["event_id"])] == ("allow", [])
    assert decided[str(disclosure["event_id"])] == ("allow", [])
    assert decided[str(out_of_purpose["event_id"])][0] == "violation"
    assert "KP003" in decided[str(out_of_purpose["event_id"])][1]
    assert decided[str(suspended["event_id"])][0] == "violation"
    assert "KP009" in decided[str(suspended["event_id"])][1]
    provisions = rows(client, "SELECT toString(event_id), recipient, basis FROM provision_records")
    assert provisions == [(str(disclosure["event_id"]), "stripe-japan", "consent")]
    alerted = {(r[0], r[1]) for r in rows(client, "SELECT rule, evidence_event_ids[1] FROM alerts FINAL")}
    assert ("KP003", str(out_of_purpose["event_id"])) in alerted
    assert ("KP009", str(suspended["event_id"])) in alerted
    on_topic = read_topic(pipeline_config, pipeline_config.kafka.alerts_topic)
    assert len(on_topic) >= 2

    # A restart on a fresh request topic still knows the request: the book is rebuilt from ClickHouse.
    restarted = dataclasses.replace(pipeline_config, kafka=dataclasses.replace(
        pipeline_config.kafka, requests_topic=pipeline_config.kafka.requests_topic + "-new"))
    ensure_topics(restarted.kafka)
    again = sample("weia-counsellor-updates-case")
    with running_consumer(restarted):
        send(restarted, [again])
        wait_for(lambda: rows_in(client, "access_events") >= 5, 60, "the fifth event")
    (row,) = rows(client, f"SELECT decision, rule_ids FROM access_events WHERE event_id = '{again['event_id']}'")
    assert row[0] == "violation"
    assert "KP009" in row[1]  # type: ignore[operator]


def test_policy_edit_mid_stream_applies_to_later_events_and_loses_none(pipeline_config: KansaConfig,
                                                                         tmp_path: Path) -> None:
    """Editing a policy file while the consumer runs changes later decisions; every event is still stored once."""
    policy_dir = Path(shutil.copytree(POLICY_DIR, tmp_path / "policies"))
    config = dataclasses.replace(pipeline_config, pipeline=dataclasses.replace(
        pipeline_config.pipeline, policy_dir=policy_dir, policy_watch_seconds=0.2))
    ensure_topics(config.kafka)
    client = connect(config.storage)
    before = [sample("weia-counsellor-updates-case") for _ in range(200)]
    after = [sample("weia-counsellor-updates-case") for _ in range(200)]
    with running_consumer(config):
        send(config, before)
        wait_for(lambda: rows_in(client, "access_events") >= 200, 60, "the first 200 events")
        weia = policy_dir / "weia.yaml"
        weia.write_text(weia.read_text(encoding="utf-8").replace("p01_consultation_service", "p01_renamed"),
                        encoding="utf-8")
        time.sleep(1.5)
        send(config, after)
        wait_for(lambda: rows_in(client, "access_events") >= 400, 60, "all 400 events")
    verdicts = dict(rows(client, "SELECT toString(event_id), decision FROM access_events"))
    assert len(verdicts) == 400
    assert {verdicts[str(e["event_id"])] for e in before} == {"allow"}
    assert {verdicts[str(e["event_id"])] for e in after} == {"violation"}
