"""The driver: dry-run files, pacing at a rate for a duration against the real local broker, and stopping."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from kafka import KafkaConsumer

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics
from kansa.localstack.broker import LocalBroker
from producers.simulator import Schedule, read_labels, run_simulation
from schemas.validation import access_event_from_json
from tests.producers.simulator.helpers import DAY, POLICY_DIR

FAST = Schedule(every=timedelta(minutes=2), warmup=timedelta(minutes=1))


def _config(bootstrap: str = "127.0.0.1:9") -> KansaConfig:
    base = KansaConfig()
    suffix = uuid.uuid4().hex[:8]
    kafka = replace(base.kafka, bootstrap_servers=bootstrap, events_topic=f"sim-events-{suffix}",
                    requests_topic=f"sim-requests-{suffix}", dlq_topic=f"sim-dlq-{suffix}",
                    alerts_topic=f"sim-alerts-{suffix}", partitions=2)
    return replace(base, kafka=kafka, pipeline=replace(base.pipeline, policy_dir=POLICY_DIR))


def test_dry_run_writes_events_requests_and_labels(tmp_path: Path) -> None:
    """--dry-run writes exactly `count` valid events as JSON lines, requests beside them, and matching labels."""
    out, labels = tmp_path / "events.jsonl", tmp_path / "labels.jsonl"
    summary = run_simulation(_config(), threading.Event(), 20.0, None, 5, ("after_suspension", "probing"), labels,
                             count=30_000, start=DAY, speed=None, schedule=FAST, dry_run_out=out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert summary.events == len(lines) == 30_000
    assert summary.stopped_by == "count"
    ids = {str(access_event_from_json(json.loads(line))["event_id"]) for line in lines}
    written = read_labels(labels)
    assert written
    assert {label["scenario"] for label in written} == {"after_suspension", "probing"}
    assert all(set(label["event_ids"]) <= ids for label in written)
    requests = (tmp_path / "events.requests.jsonl").read_text(encoding="utf-8").splitlines()
    assert summary.requests == len(requests) > 0
    assert {json.loads(r)["request_id"] for r in requests} >= {
        r for label in written for r in label["request_ids"] if label["event_count"]}


def test_sends_at_the_rate_for_the_duration_through_kafka(broker: LocalBroker) -> None:
    """At --rate 100 for 3 s of real time at the weekday peak, ~300 events reach the topic, all of them."""
    config = _config(broker.bootstrap)
    ensure_topics(config.kafka)
    began = time.monotonic()
    summary = run_simulation(config, threading.Event(), 100.0, 3.0, 9, (), None,
                             start=DAY + timedelta(hours=1), speed=1.0)
    elapsed = time.monotonic() - began
    assert summary.stopped_by == "duration"
    assert 2.9 <= summary.wall_seconds < 4.5
    assert elapsed < 20
    assert 180 <= summary.events <= 420, summary
    assert summary.simulated_end is not None
    assert summary.simulated_end - summary.simulated_start <= timedelta(seconds=3.1)
    consumer = KafkaConsumer(config.kafka.events_topic, bootstrap_servers=broker.bootstrap,
                             group_id=f"sim-test-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest",
                             session_timeout_ms=6000, heartbeat_interval_ms=1000, consumer_timeout_ms=8000)
    try:
        received = sum(1 for _ in consumer)
    finally:
        consumer.close()
    assert received == summary.events


def test_stop_event_ends_an_unbounded_run(tmp_path: Path) -> None:
    """Without duration or count, setting the stop event ends the run promptly and labels are flushed."""
    stop = threading.Event()
    out = tmp_path / "e.jsonl"
    stopped_at: list[float] = []

    def stop_once_running() -> None:
        # Stop a second after the first event is out, however long a loaded machine took to start.
        while not (out.exists() and out.stat().st_size > 0):
            time.sleep(0.05)
        time.sleep(1.0)
        stopped_at.append(time.monotonic())
        stop.set()

    threading.Thread(target=stop_once_running, daemon=True).start()
    summary = run_simulation(_config(), stop, 50.0, None, 1, ("probing",), tmp_path / "l.jsonl",
                             start=DAY, speed=1.0, dry_run_out=out)
    assert summary.stopped_by == "stop"
    assert time.monotonic() - stopped_at[0] < 2
    assert 0 < summary.events < 150


def test_simulated_clock_can_run_faster_than_real_time(tmp_path: Path) -> None:
    """At speed 600, two wall seconds cover about twenty simulated minutes."""
    summary = run_simulation(_config(), threading.Event(), 20.0, 2.0, 2, (), None, start=DAY, speed=600.0,
                             dry_run_out=tmp_path / "e.jsonl")
    assert summary.simulated_end is not None
    covered = summary.simulated_end - summary.simulated_start
    assert timedelta(minutes=15) < covered <= timedelta(minutes=21)
