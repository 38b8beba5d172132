"""Builds the consumer process from the config object: clients, store, steps, poll loop."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from operator import attrgetter
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.alert_sink import AlertsFirstWriter, AlertSink, AlertTable, PublishAlertsStep
from consumers.alerts import AlertDelivery, AlertFolder, AlertmanagerClient, AlertPublisher
from consumers.clickhouse_sink import ClickHouseBatchPlanner, ClickHouseBatchWriter
from consumers.dead_letters import KafkaDeadLetterSink
from consumers.detectors import ActorDetectors
from consumers.detectors.checkpoint_store import CheckpointSchedule, CheckpointStore
from consumers.detectors.popular_subject import PopularSubjectDetector, SqlDetectorThread
from consumers.messages import Batch, Partition, RawRecord, Step, StoredEvent
from consumers.policy import PolicySet
from consumers.policy_runtime import PolicyRuntime
from consumers.processor import StreamProcessor
from consumers.steps.background import BackgroundStep
from consumers.steps.batch import BatchStep
from consumers.steps.commit import CommitStep, OffsetLedger
from consumers.steps.decode import DecodeStep, InvalidMessageGuard
from consumers.steps.detect import Detector, DetectStep, PartitionedDetector
from consumers.steps.evaluate import EvaluateStep, Evaluator
from consumers.steps.write import WriteStep
from consumers.subject_requests import SubjectRequestTailer, load_requests, store_requests
from consumers.violation_alerts import PolicyViolationAlerts
from kansa.config import KansaConfig
from kansa.kafka_clients import close_producer, make_consumer, make_producer
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from schemas.codec import AvroCodec
from schemas.registry import ACCESS_EVENT, ALERT, SUBJECT_REQUEST, SchemaRegistry

log = logging.getLogger(__name__)


@dataclass
class Pipeline:
    chain: Step[RawRecord]
    ledger: OffsetLedger
    batches: BatchStep[StoredEvent]
    writer: BackgroundStep[Batch[StoredEvent]]
    writer_client: Client

    def close(self) -> None:
        """Stop the writer's thread and close its store handle (after `chain.join()`)."""
        self.writer.close()
        self.writer_client.close()


def build_pipeline(config: KansaConfig, client: Client, dead_letters: KafkaDeadLetterSink,
                   evaluator: Evaluator, detectors: list[Detector], alerts: AlertSink,
                   partitioned: list[PartitionedDetector] | None = None,
                   policies: Callable[[], PolicySet] | None = None) -> Pipeline:
    """The step chain; `policies` gives the writer each category's retention for `retain_until`.

    The write and commit steps run on a thread of their own with a store handle of their own
    (a handle runs one statement at a time). The writer may hold two full batches' worth of rows
    before the consumer's thread waits: a flush hands on one batch per partition at once, and
    with room for two batches only the thread waited 8-18 µs per event at the in-process bench.
    A batch's alerts are published before the batch is handed on and stored before it is
    written, so its offsets are committed only once its alerts are on the topic and in the table.
    """
    ledger = OffsetLedger()
    writer_client = connect(config.storage)
    events = ClickHouseBatchWriter(writer_client, policies)
    writer: BackgroundStep[Batch[StoredEvent]] = BackgroundStep(
        WriteStep(AlertsFirstWriter(alerts, AlertTable(writer_client), events), CommitStep(ledger),
                  config.pipeline.write_retry_seconds),
        capacity=2 * config.pipeline.batch_max_rows, size=lambda message: len(message.payload.items))
    batches: BatchStep[StoredEvent] = BatchStep(
        ClickHouseBatchPlanner(client), PublishAlertsStep(alerts, writer), config.pipeline.batch_max_rows,
        config.pipeline.batch_max_seconds, event_time=attrgetter("occurred_at"),
    )
    detect = DetectStep(detectors, alerts.add, batches, partitioned or [])
    evaluate = EvaluateStep(evaluator, detect)
    guard = InvalidMessageGuard(config.pipeline.dlq_max_consecutive, config.pipeline.dlq_window,
                                config.pipeline.dlq_max_ratio)
    decode = DecodeStep(AvroCodec(SchemaRegistry.load(), ACCESS_EVENT), dead_letters, guard, evaluate)
    return Pipeline(decode, ledger, batches, writer, writer_client)


def settle_heap() -> None:
    """Call once start-up is done: keep the start-up heap out of the collector's way.

    Much of a consumer's heap is made at start-up (modules, schemas, policies, clients) and
    lives as long as the process; a batch's events live about a second. With the default
    thresholds a full collection ran every few thousand events and scanned all of it: a quarter
    of the chain's time in the in-process benchmark (docs/performance.md). Frozen objects are
    skipped by collections, and a full one now waits for ~3.5 million more allocations.
    Reference counting frees the events themselves either way; the collector is only for cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 50, 100)


@dataclass
class Detection:
    """The detectors of one consumer process and the sink their alerts go to."""

    detectors: list[Detector]
    behaviour: ActorDetectors
    alerts: AlertSink
    checkpoints: CheckpointSchedule
    # Where the checkpoint's thread stores the published alerts before each row, on a handle of its own.
    checkpoint_alerts: AlertTable

    def close(self) -> None:
        """Wait for a save in flight, then close the checkpoint's store handles."""
        self.checkpoints.close()
        self.checkpoint_alerts.close()


def build_detection(config: KansaConfig, runtime: PolicyRuntime, producer: Any) -> Detection:
    """Policy-violation alerts and the per-actor detectors, with their checkpoints, and the alert sink."""
    alerts = AlertSink(
        AlertFolder(timedelta(seconds=config.pipeline.alert_fold_seconds)),
        AlertPublisher(producer, config.kafka.alerts_topic, AvroCodec(SchemaRegistry.load(), ALERT),
                       known_orgs=runtime.known_orgs()),
        config.runbook_url,
    )
    # A handle of its own: the schedule saves from a thread of its own.
    checkpoints = CheckpointStore(connect(config.storage), config.kafka.consumer_group)
    behaviour = ActorDetectors(lambda: runtime.policies, lambda: runtime.thresholds, restore=checkpoints.load)
    checkpoint_alerts = AlertTable(connect(config.storage))
    schedule = CheckpointSchedule(checkpoints, behaviour, config.pipeline.detector_checkpoint_seconds,
                                  config.pipeline.detector_idle_seconds, config.pipeline.detector_max_actors,
                                  store_alerts=partial(alerts.store, checkpoint_alerts))
    return Detection([PolicyViolationAlerts(lambda: runtime.policies)], behaviour, alerts, schedule, checkpoint_alerts)


def run_consumer(config: KansaConfig, stop: threading.Event) -> None:
    """Run until `stop` is set; on return everything consumed is written and committed."""
    runtime = PolicyRuntime(config.pipeline.policy_dir, config.pipeline.policy_watch_seconds,
                            thresholds_file=config.pipeline.detector_thresholds)
    if threading.current_thread() is threading.main_thread():
        runtime.install_sighup()
    client = connect(config.storage)
    applied = migrate(client)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    for request in load_requests(client):
        runtime.book.apply(request)
    producer = make_producer(config.kafka)
    dead_letters = KafkaDeadLetterSink(producer, config.kafka.dlq_topic)
    detection = build_detection(config, runtime, producer)
    alerts, behaviour, saver = detection.alerts, detection.behaviour, detection.checkpoints
    subject_detector = SqlDetectorThread(
        PopularSubjectDetector(connect(config.storage), lambda: runtime.policies, lambda: runtime.thresholds),
        config.pipeline.sql_detector_seconds)
    pipeline = build_pipeline(config, client, dead_letters, runtime.evaluate, detection.detectors, alerts,
                              [behaviour], policies=lambda: runtime.policies)

    def housekeeping() -> None:
        new_requests = runtime.refresh()
        if new_requests:
            store_requests(client, new_requests)
        subject_detector.drain(alerts.add)
        saver.tick()
        alerts.publish()

    def forget(partitions: set[Partition]) -> None:
        pipeline.batches.forget(partitions)
        behaviour.forget(partitions)

    tailer = SubjectRequestTailer(
        make_consumer(config.kafka, group_id=None), config.kafka.requests_topic,
        AvroCodec(SchemaRegistry.load(), SUBJECT_REQUEST), runtime.offer_request,
    )
    background_stop = threading.Event()
    background = [threading.Thread(target=tailer.run, args=(background_stop,), name="subject-requests", daemon=True),
                  threading.Thread(target=subject_detector.run, args=(background_stop,), name="sql-detectors",
                                   daemon=True)]
    if config.alertmanager_url:
        delivery_consumer = make_consumer(config.kafka, group_id=config.kafka.consumer_group + "-alert-delivery")
        delivery_consumer.subscribe([config.kafka.alerts_topic])
        delivery = AlertDelivery(delivery_consumer, AlertmanagerClient(config.alertmanager_url),
                                 AvroCodec(SchemaRegistry.load(), ALERT))
        background.append(threading.Thread(target=delivery.run, args=(background_stop,), name="alert-delivery",
                                           daemon=True))
    for thread in background:
        thread.start()
    settle_heap()
    processor = StreamProcessor(
        make_consumer(config.kafka), config.kafka.events_topic, pipeline.chain, pipeline.ledger,
        before_commit=[dead_letters.flush], on_lost=forget, housekeeping=[housekeeping],
        on_revoked=saver.revoked, after_records=[alerts.publish],
    )
    try:
        processor.run(stop)
        # Alerts not tied to a batch (the SQL detectors', resolutions) published since the last one;
        # the last save stores every published alert before its rows.
        alerts.publish()
        saver.save()
    finally:
        detection.close()
        pipeline.close()
        background_stop.set()
        for thread in background:
            thread.join(timeout=10)
        close_producer(producer, 30)
        client.close()
