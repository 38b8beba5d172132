"""The full consumer chain (decode → policy → detectors → batch → write) fed from memory, not from Kafka.

The chain is the one `consumers.app.build_pipeline` builds, with a real policy runtime, the
detectors and alert sink from `consumers.app.build_detection`, and a real embedded ClickHouse.
Only the Kafka producers behind the dead-letter and alert sinks are null. The loop mirrors
`StreamProcessor.run`: a poll-sized slice of records, housekeeping, `poll`, the dead letters
flushed before a commit, and `run_consumer`'s last store of the alerts.
The SQL detectors run on their own thread every minute in the consumer, off the per-event path,
so they are left out here (the end-to-end section runs them).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.alert_sink import AlertTable
from consumers.app import build_detection, build_pipeline, settle_heap
from consumers.dead_letters import KafkaDeadLetterSink
from consumers.messages import Message
from consumers.policy_runtime import PolicyRuntime
from kansa.bench.common import NullProducer, bench_store, database_like, open_database, rss_mb
from kansa.bench.corpus import EncodedRecord, encode, simulated_events
from kansa.config import KansaConfig
from kansa.storage.client import scalar

WARMUP_EVENTS = 2_000


def run_chain(records: list[EncodedRecord], config: KansaConfig, client: Client) -> dict[str, Any]:
    """Push `records` through the chain; returns what was stored and how long it took."""
    runtime = PolicyRuntime(config.pipeline.policy_dir, config.pipeline.policy_watch_seconds,
                            thresholds_file=config.pipeline.detector_thresholds)
    producer = NullProducer()
    dead_letters = KafkaDeadLetterSink(producer, config.kafka.dlq_topic)
    wiring = build_detection(config, runtime, producer)
    pipeline = build_pipeline(config, client, dead_letters, runtime.evaluate, wiring.detectors, wiring.alerts,
                              [wiring.behaviour], policies=lambda: runtime.policies)

    def housekeeping() -> None:
        runtime.refresh()
        wiring.checkpoints.tick()
        wiring.alerts.publish()

    settle_heap()
    chain, ledger = pipeline.chain, pipeline.ledger
    poll_size = config.kafka.max_poll_records
    started = time.perf_counter()
    for first in range(0, len(records), poll_size):
        housekeeping()
        for encoded in records[first:first + poll_size]:
            chain.submit(Message(encoded.partition, encoded.offset, encoded.record))
        wiring.alerts.publish()
        chain.poll()
        if ledger.take():
            dead_letters.flush()
    chain.join()
    pipeline.close()
    ledger.take()
    dead_letters.flush()
    wiring.alerts.publish()
    wiring.alerts.store(AlertTable(client))
    wiring.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "stored": int(scalar(client, "SELECT count() FROM access_events")),
            "alerts_published": producer.sent}


def measure(base: KansaConfig, events: int, seed: int) -> dict[str, Any]:
    """Events/s of one process through the whole chain, after a warm-up run into another database."""
    records = encode(simulated_events(events + WARMUP_EVENTS, seed))
    # The corpus stands in for the broker's buffers (bytes, which the collector never scans).
    gc.collect()
    gc.freeze()
    with bench_store(base, "bench_inprocess") as (config, client):
        warmup = database_like(config, "bench_warmup")
        warmup_client = open_database(warmup)
        run_chain(records[:WARMUP_EVENTS], warmup, warmup_client)
        warmup_client.close()
        result = run_chain(records[WARMUP_EVENTS:], config, client)
    if result["stored"] != events:
        raise RuntimeError(f"in-process run stored {result['stored']} of {events} events")
    return {
        "events": events, "seconds": round(result["seconds"], 3),
        "events_per_second": round(events / result["seconds"]),
        "alerts_published": result["alerts_published"],
        "batch_max_rows": config.pipeline.batch_max_rows, "rss_mb": round(rss_mb(), 1),
    }
