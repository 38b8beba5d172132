"""Detector baselines survive a consumer restart: checkpointed to ClickHouse, restored on assignment."""

from __future__ import annotations

from datetime import timedelta

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.storage.client import connect
from kansa.storage.migrate import applied_version, available_migrations
from producers.sdk import AccessAuditor
from schemas.records import AccessEvent
from tests.consumers.detectors.support import MORNING, baseline, event
from tests.consumers.running import running_consumer, wait_for


def send(config: KansaConfig, events: list[AccessEvent]) -> None:
    with AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, "weia", "t") as auditor:
        for item in events:
            auditor.send(item)


def count(config: KansaConfig, sql: str) -> int:
    client = connect(config.storage)
    try:
        if applied_version(client) < len(available_migrations()):
            return 0  # the consumer has not applied the migrations yet
        return int(client.query(sql).result_rows[0][0])
    finally:
        client.close()


def test_baselines_survive_a_restart(pipeline_config: KansaConfig) -> None:
    """After a restart the actor is still mature: familiar work raises nothing, a new habit is still caught."""
    ensure_topics(pipeline_config.kafka)
    learnt = baseline(MORNING, 200, timedelta(seconds=30))
    with running_consumer(pipeline_config):
        send(pipeline_config, learnt)
        wait_for(lambda: count(pipeline_config, "SELECT count() FROM access_events") >= 200, 90, "200 stored events")
    assert count(pipeline_config, "SELECT count() FROM detector_state WHERE actors > 0") >= 1

    later = MORNING + timedelta(hours=2)
    familiar = baseline(later, 40, timedelta(seconds=30))
    new_habit = [event(later + timedelta(minutes=30 + i), purpose="applicant_screening") for i in range(3)]
    with running_consumer(pipeline_config):
        send(pipeline_config, familiar + new_habit)
        wait_for(lambda: count(pipeline_config, "SELECT count() FROM access_events") >= 243, 90, "243 stored events")
        wait_for(lambda: count(pipeline_config, "SELECT count() FROM alerts WHERE kind = 'detector'") >= 1, 30,
                 "the first-seen alert")
    rules = count(pipeline_config, "SELECT uniqExact(rule) FROM alerts WHERE kind = 'detector'")
    first_seen = count(pipeline_config, "SELECT uniqExact(alert_id) FROM alerts WHERE rule = 'KD-FIRST-SEEN'")
    assert (rules, first_seen) == (1, 1)
