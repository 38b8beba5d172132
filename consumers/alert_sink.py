"""Where raised alerts go: folded by fingerprint, published to the alerts topic, stored in ClickHouse.

`publish` runs on the consumer's thread right after each poll's records, between polls, and
before a batch is handed to the writer (`PublishAlertsStep`): an alert is on the topic (and on
its way to Alertmanager) without waiting for the events' batch. The writer's thread stores the
published alerts ahead of each batch (`AlertsFirstWriter`), so every alert raised by a batch's
events is in the `alerts` table before that batch's offsets can be committed, and the insert
stays off the thread that publishes alerts: stored at each commit on the consumer's thread, it
held that thread 20-110 ms about 70 times in 90 s at the end-to-end bench.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any, Generic, TypeVar

from clickhouse_connect.driver.client import Client

from consumers.alerts import Alert, AlertFolder, AlertPublisher, to_row
from consumers.alerts.raising import runbook_for
from consumers.messages import Batch, Message, Step
from consumers.steps.write import BatchWriter
from kansa.config import DEFAULT_RUNBOOK_URL
from kansa.storage.client import TableInserter

T = TypeVar("T")


class AlertSink:
    """`runbooks` is where the deployment publishes docs/runbooks.md: each alert links to its rule's entry.

    `add` and `publish` belong to the consumer's thread; `store` may run on any thread (the writer's,
    the checkpoint's), several at once: each call takes the rows published so far.
    """

    def __init__(self, folder: AlertFolder, publisher: AlertPublisher, runbooks: str = DEFAULT_RUNBOOK_URL) -> None:
        self._folder = folder
        self._publisher = publisher
        self._runbooks = runbooks
        self._lock = threading.Lock()
        self._unstored: list[dict[str, Any]] = []

    def add(self, alert: Alert) -> None:
        # Detectors stay free of deployment settings; the link is set here, once per raised alert.
        if self._runbooks != DEFAULT_RUNBOOK_URL:
            alert = replace(alert, runbook_url=runbook_for(alert.rule, self._runbooks))
        self._folder.add(alert)

    def publish(self) -> None:
        alerts = self._folder.drain()
        if alerts:
            self._publisher.publish(alerts)
            rows = [to_row(alert) for alert in alerts]
            with self._lock:
                self._unstored.extend(rows)

    def store(self, table: AlertTable) -> None:
        """Insert every alert published so far; after a failure they wait for the next call."""
        with self._lock:
            rows, self._unstored = self._unstored, []
        if not rows:
            return
        try:
            table.insert(rows)
        except Exception:
            with self._lock:
                self._unstored[:0] = rows
            raise


class AlertTable:
    """The `alerts` table through one store handle (a handle runs one statement at a time)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._inserter: TableInserter | None = None

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if self._inserter is None:
            self._inserter = TableInserter(self._client, "alerts", list(rows[0]))
        columns = self._inserter.columns
        self._inserter.insert([[row[c] for c in columns] for row in rows])

    def close(self) -> None:
        self._client.close()


class PublishAlertsStep(Generic[T]):
    """On the consumer's thread, in front of the writer: publish what the batch's events raised, then hand it on."""

    def __init__(self, alerts: AlertSink, next_step: Step[Batch[T]]) -> None:
        self._alerts = alerts
        self._next = next_step

    def submit(self, message: Message[Batch[T]]) -> None:
        self._alerts.publish()
        self._next.submit(message)

    def poll(self) -> None:
        self._next.poll()

    def join(self) -> None:
        self._next.join()


class AlertsFirstWriter(Generic[T]):
    """On the writer's thread: the published alerts go into `alerts` before the batch is written."""

    def __init__(self, alerts: AlertSink, table: AlertTable, events: BatchWriter[T]) -> None:
        self._alerts = alerts
        self._table = table
        self._events = events

    def write(self, batch: Batch[T]) -> None:
        self._alerts.store(self._table)
        self._events.write(batch)
