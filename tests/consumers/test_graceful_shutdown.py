"""SIGTERM finishes the batch in hand: written, committed, then exit 0."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from kansa.config import KansaConfig, StorageSettings
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.localstack.broker import free_port
from producers.sdk import AccessAuditor
from tests.consumers.running import committed_total, config_env, kansa_process, metric, scrape, wait_for
from tests.eventdata import stream


def test_sigterm_writes_and_commits_the_batch_in_hand(pipeline_config: KansaConfig, tmp_path: Path) -> None:
    """With batches that would wait a minute, SIGTERM still stores and commits every event read so far."""
    config = dataclasses.replace(
        pipeline_config, storage=StorageSettings(dsn=f"chdb://{tmp_path / 'store'}", database="kansa"),
        pipeline=dataclasses.replace(pipeline_config.pipeline, batch_max_rows=100_000, batch_max_seconds=60),
    )
    ensure_topics(config.kafka)
    with AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, "weia", "t") as auditor:
        for event in stream(500):
            auditor.send(event)
    port = free_port()
    process = kansa_process(["consume"], {**config_env(config), "KANSA_METRICS_PORT": str(port)},
                            tmp_path / "consumer.log")
    try:
        # Up and polling; the 500 events sit in the batch step, far from the size and age limits.
        wait_for(lambda: "kansa_offset_commits_total" in scrape(port), 60, "the metrics endpoint")
        time.sleep(8)
        assert metric(scrape(port), "kansa_offset_commits_total") == 0
        assert committed_total(config) == 0
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0, (tmp_path / "consumer.log").read_text()[-2000:]
    assert committed_total(config) == 500
    result = subprocess.run([sys.executable, "-m", "kansa", "sql", "SELECT count() AS n FROM access_events"],
                            env=config_env(config), capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == [{"n": 500}]
