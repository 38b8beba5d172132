"""SIGKILL in the middle of the stream, then a restart: every event is stored exactly once."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
from pathlib import Path

from kansa.config import KansaConfig, PipelineSettings, StorageSettings
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.localstack.broker import free_port
from producers.sdk import AccessAuditor
from tests.consumers.running import committed_total, config_env, kansa_process, metric, scrape, wait_for
from tests.eventdata import stream

TOTAL = 20_000


def test_sigkill_mid_stream_then_restart_stores_every_event_once(pipeline_config: KansaConfig,
                                                                   tmp_path: Path) -> None:
    """A consumer killed with SIGKILL mid-stream and started again leaves each event in the table exactly once."""
    config = dataclasses.replace(
        pipeline_config,
        storage=StorageSettings(dsn=f"chdb://{tmp_path / 'store'}", database="kansa"),
        pipeline=dataclasses.replace(pipeline_config.pipeline, batch_max_rows=500, batch_max_seconds=0.2),
    )
    assert isinstance(config.pipeline, PipelineSettings)
    ensure_topics(config.kafka)
    with AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, "weia", "case-desk") as auditor:
        for event in stream(TOTAL):
            auditor.send(event)

    first_port = free_port()
    first = kansa_process(["consume"], {**config_env(config), "KANSA_METRICS_PORT": str(first_port)},
                          tmp_path / "first.log")
    try:
        wait_for(lambda: metric(scrape(first_port), "kansa_offset_commits_total") >= 3, 90, "the first commits")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert 0 < committed_total(config) < TOTAL, "the kill must land mid-stream"

    second_port = free_port()
    second = kansa_process(["consume"], {**config_env(config), "KANSA_METRICS_PORT": str(second_port)},
                           tmp_path / "second.log")
    try:
        wait_for(lambda: committed_total(config) == TOTAL, 120, "all offsets committed after restart")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, (tmp_path / "second.log").read_text()[-3000:]

    result = subprocess.run(
        [sys.executable, "-m", "kansa", "sql", "SELECT count() AS n, uniqExact(event_id) AS u FROM access_events"],
        env=config_env(config), capture_output=True, text=True, timeout=120, check=True,
    )
    assert json.loads(result.stdout) == [{"n": TOTAL, "u": TOTAL}]
