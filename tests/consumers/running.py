"""Helpers to run the consumer in a thread or a subprocess during a test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from clickhouse_connect.driver.client import Client
from kafka import KafkaConsumer, TopicPartition

from consumers.app import run_consumer
from kansa.config import KansaConfig


@contextmanager
def running_consumer(config: KansaConfig) -> Iterator[threading.Thread]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_consumer(config, stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="consumer-under-test")
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "consumer did not stop within 60 s"
        assert not errors, f"consumer failed: {errors[0]!r}"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def rows_in(client: Client, table: str = "access_events") -> int:
    """Rows in `table`, or 0 while the consumer has not yet created it."""
    if not client.query(f"EXISTS TABLE {table}").result_rows[0][0]:
        return 0
    return int(client.query(f"SELECT count() FROM {table}").result_rows[0][0])


def scrape(port: int) -> str:
    """The /metrics page of a consumer on this port, or "" while it is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def metric(page: str, series: str) -> float:
    """The value of one series (name with its labels) on a /metrics page; 0 when absent."""
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", page, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def config_env(config: KansaConfig) -> dict[str, str]:
    """The KANSA_* variables that reproduce `config` in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANSA_")}
    env.update({
        "KANSA_KAFKA_BOOTSTRAP_SERVERS": config.kafka.bootstrap_servers,
        "KANSA_KAFKA_EVENTS_TOPIC": config.kafka.events_topic,
        "KANSA_KAFKA_DLQ_TOPIC": config.kafka.dlq_topic,
        "KANSA_KAFKA_ALERTS_TOPIC": config.kafka.alerts_topic,
        "KANSA_KAFKA_REQUESTS_TOPIC": config.kafka.requests_topic,
        "KANSA_KAFKA_CONSUMER_GROUP": config.kafka.consumer_group,
        "KANSA_CLICKHOUSE_DSN": config.storage.dsn,
        "KANSA_CLICKHOUSE_DATABASE": config.storage.database,
        "KANSA_PIPELINE_BATCH_MAX_ROWS": str(config.pipeline.batch_max_rows),
        "KANSA_PIPELINE_BATCH_MAX_SECONDS": str(config.pipeline.batch_max_seconds),
        "KANSA_PIPELINE_POLICY_DIR": str(config.pipeline.policy_dir),
        "KANSA_METRICS_PORT": str(config.metrics_port),
        "KANSA_STATE_DIR": str(config.state_dir),
    })
    return env


def kansa_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "kansa", *args], env=env, stdout=out, stderr=out)


def committed_total(config: KansaConfig) -> int:
    """Committed offsets summed over partitions (each committed offset = messages consumed there)."""
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers, group_id=config.kafka.consumer_group,
                             enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(config.kafka.events_topic) or set()
        return sum(consumer.committed(TopicPartition(config.kafka.events_topic, p)) or 0 for p in partitions)
    finally:
        consumer.close()


def read_topic(config: KansaConfig, topic: str) -> list[object]:
    """Every record of `topic`, read from the start (tansu's end offsets are not reliable, so read until idle)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=config.kafka.bootstrap_servers, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=4000)
    try:
        return list(consumer)
    finally:
        consumer.close()
