"""End to end through the local broker: a producer process at a fixed rate, the real consumer, the store.

The producer is a separate process (as the apps would be), sending simulated events through
the SDK with `occurred_at` set to the moment of sending, so stored and alert latencies are
wall-clock truths. The consumer is `run_consumer` itself, in a thread of this process, so this
process's RSS at steady state is the consumer's. Backlog is sampled once a second as events
sent minus rows stored; tansu's end offsets are not trusted (docs/performance.md).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from clickhouse_connect.driver.client import Client
from kafka import KafkaConsumer, TopicPartition

from consumers.app import run_consumer
from kansa import metrics
from kansa.bench.common import bench_store, percentile, rss_mb
from kansa.bench.corpus import simulated_events
from kansa.config import KafkaSettings, KansaConfig
from kansa.kafka_clients import ensure_topics
from kansa.localstack.broker import LocalBroker
from producers.simulator import KafkaSink
from schemas.codec import AvroCodec
from schemas.records import AccessEvent
from schemas.registry import ALERT, SchemaRegistry

_TICK_SECONDS = 0.01
_DRAIN_SECONDS = 60.0


def produce(config: KansaConfig, rate: float, seconds: float, seed: int, sent: Synchronized[int],
            ready: ProcessEvent, go: ProcessEvent) -> None:
    """Child process: build the events first, then send `rate` per second for `seconds`, counting in `sent`."""
    events = simulated_events(int(rate * seconds) + 1, seed)
    sink = KafkaSink(config, pseudonymiser=None)
    ready.set()
    go.wait()
    started = time.monotonic()
    count = 0
    try:
        while count < len(events):
            due = min(len(events), int((time.monotonic() - started) * rate) + 1)
            while count < due:
                sink.event(_now(events[count]))
                count += 1
            sent.value = count
            time.sleep(_TICK_SECONDS)
    finally:
        sink.close()
        sent.value = count


def _now(event: AccessEvent) -> AccessEvent:
    """The event as if it happened now; a collection time keeps its distance before the access."""
    now = datetime.now(UTC)
    shift = now - event["occurred_at"]
    collected = event.get("collected_at")
    return {**event, "occurred_at": now, "collected_at": collected + shift if collected else None}


def _stored() -> int:
    return int(metrics.REGISTRY.get_sample_value("kansa_batch_rows_sum") or 0)


def _slope(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, value): how fast the backlog grows, in events per second."""
    if len(samples) < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / len(samples)
    mean_v = sum(v for _, v in samples) / len(samples)
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread if spread else 0.0


def _steady_rate(stored: list[tuple[float, int]]) -> int:
    """Rows stored per second between the first and last sample after the warm-up (group join excluded)."""
    if len(stored) < 2 or stored[-1][0] <= stored[0][0]:
        return 0
    return round((stored[-1][1] - stored[0][1]) / (stored[-1][0] - stored[0][0]))


def _stored_latency(client: Client, since: datetime) -> dict[str, Any]:
    rows = client.query(
        "SELECT count(), quantileExact(0.5)(ms), quantileExact(0.99)(ms) FROM ("
        "SELECT dateDiff('millisecond', occurred_at, stored_at) AS ms FROM access_events "
        "WHERE occurred_at >= {since:DateTime64(6)})",
        parameters={"since": since},
    ).result_rows
    count, p50, p99 = rows[0]
    return {"stored_measured": int(count), "stored_p50_ms": float(p50), "stored_p99_ms": float(p99)}


def _alert_latencies(settings: KafkaSettings, since: datetime) -> list[float]:
    """Milliseconds from the triggering event (window_end of revision 1) to the alert's record timestamp."""
    consumer = KafkaConsumer(**settings.client_options(), group_id=None, enable_auto_commit=False,
                             consumer_timeout_ms=3_000)
    codec = AvroCodec(SchemaRegistry.load(), ALERT)
    latencies: list[float] = []
    try:
        partition = TopicPartition(settings.alerts_topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        for record in consumer:
            alert = codec.decode(record.value)
            if alert["revision"] == 1 and alert["window_end"] >= since:
                latencies.append(record.timestamp - alert["window_end"].timestamp() * 1000)
    finally:
        consumer.close()
    return latencies


def measure(base: KansaConfig, rate: float, seconds: float, warmup: float, seed: int) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    context = multiprocessing.get_context("spawn")
    with LocalBroker() as broker, bench_store(base, "bench_endtoend") as (store_config, client):
        kafka = replace(store_config.kafka, bootstrap_servers=broker.bootstrap, events_topic=f"bench-events-{suffix}",
                        dlq_topic=f"bench-dlq-{suffix}", alerts_topic=f"bench-alerts-{suffix}",
                        requests_topic=f"bench-requests-{suffix}", consumer_group=f"bench-{suffix}")
        config = replace(store_config, kafka=kafka)
        ensure_topics(kafka)
        stop = threading.Event()
        failures: list[BaseException] = []

        def consume() -> None:
            try:
                run_consumer(config, stop)
            except BaseException as exc:  # surfaced in the result: a silent consumer death would read as lag
                failures.append(exc)

        consumer = threading.Thread(target=consume, name="bench-consumer", daemon=True)
        consumer.start()
        sent: Synchronized[int] = context.Value("q", 0)
        ready, go = context.Event(), context.Event()
        producer = context.Process(target=produce, args=(config, rate, seconds, seed, sent, ready, go), daemon=True)
        producer.start()
        if not ready.wait(timeout=120):
            raise RuntimeError("the producer process did not get ready within 120 s")
        go.set()
        began = time.monotonic()
        measured_from = datetime.now(UTC).timestamp() + warmup
        backlog: list[tuple[float, float]] = []
        progress: list[tuple[float, int]] = []
        rss: list[float] = []
        while producer.is_alive() and not failures:
            time.sleep(1.0)
            elapsed, rows = time.monotonic() - began, _stored()
            if elapsed >= warmup:
                backlog.append((elapsed, max(0, sent.value - rows)))
                progress.append((elapsed, rows))
                rss.append(rss_mb())
        producer.join()
        send_seconds = time.monotonic() - began
        drain_deadline = time.monotonic() + _DRAIN_SECONDS
        while _stored() < sent.value and time.monotonic() < drain_deadline and not failures:
            time.sleep(0.2)
        drain_seconds = time.monotonic() - began - send_seconds
        stop.set()
        consumer.join(timeout=60)
        if failures:
            raise RuntimeError(f"the consumer failed: {failures[0]!r}") from failures[0]
        since = datetime.fromtimestamp(measured_from, UTC)
        figures: dict[str, Any] = {
            "target_rate": rate, "partitions": kafka.partitions, "events_sent": sent.value, "events_stored": _stored(),
            "send_seconds": round(send_seconds, 2), "drain_seconds": round(drain_seconds, 2),
            "sustained_events_per_second": _steady_rate(progress),
            **_stored_latency(client, since),
        }
        alert_ms = _alert_latencies(kafka, since)
    figures.update({
        "alerts_measured": len(alert_ms),
        "alert_p50_ms": round(percentile(alert_ms, 50), 1) if alert_ms else None,
        "alert_p99_ms": round(percentile(alert_ms, 99), 1) if alert_ms else None,
        "backlog_max_events": max((v for _, v in backlog), default=0),
        "backlog_slope_events_per_second": round(_slope(backlog), 2),
        "consumer_rss_mb": round(percentile(rss, 50), 1) if rss else round(rss_mb(), 1),
        "consumer_rss_growth_mb": round(rss[-1] - rss[0], 1) if len(rss) > 1 else 0.0,
    })
    return figures
