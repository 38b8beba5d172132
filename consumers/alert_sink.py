"""Where raised alerts go: folded by fingerprint, published to the alerts topic, stored in ClickHouse.

`publish` runs right after each poll's records and between polls: an alert is on the topic
(and on its way to Alertmanager) without waiting for the events' batch. `flush` runs before
every offset commit: it publishes what is left and stores every published alert, so no
committed event has an alert that is not yet on the topic and in the `alerts` table. Storing
once per commit rather than once per poll keeps the insert's fixed cost off the hot path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clickhouse_connect.driver.client import Client

from consumers.alerts import Alert, AlertFolder, AlertPublisher, to_row
from consumers.alerts.raising import runbook_for
from kansa.config import DEFAULT_RUNBOOK_URL
from kansa.storage.client import TableInserter


class AlertSink:
    """`runbooks` is where the deployment publishes docs/runbooks.md: each alert links to its rule's entry."""

    def __init__(self, folder: AlertFolder, publisher: AlertPublisher, client: Client,
                 runbooks: str = DEFAULT_RUNBOOK_URL) -> None:
        self._folder = folder
        self._publisher = publisher
        self._client = client
        self._runbooks = runbooks
        self._unstored: list[dict[str, Any]] = []
        self._table: TableInserter | None = None

    def add(self, alert: Alert) -> None:
        # Detectors stay free of deployment settings; the link is set here, once per raised alert.
        if self._runbooks != DEFAULT_RUNBOOK_URL:
            alert = replace(alert, runbook_url=runbook_for(alert.rule, self._runbooks))
        self._folder.add(alert)

    def publish(self) -> None:
        alerts = self._folder.drain()
        if alerts:
            self._publisher.publish(alerts)
            self._unstored.extend(to_row(alert) for alert in alerts)

    def flush(self) -> None:
        self.publish()
        if not self._unstored:
            return
        rows, self._unstored = self._unstored, []
        if self._table is None:
            self._table = TableInserter(self._client, "alerts", list(rows[0]))
        columns = self._table.columns
        try:
            self._table.insert([[row[c] for c in columns] for row in rows])
        except Exception:
            self._unstored = rows + self._unstored
            raise
