"""Where raised alerts go: folded by fingerprint, published to the alerts topic, stored in ClickHouse.

`flush` runs between polls and before every offset commit, so no committed event has an
alert that is not yet on the topic.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

from consumers.alerts import Alert, AlertFolder, AlertPublisher, to_row
from kansa import metrics


class AlertSink:
    def __init__(self, folder: AlertFolder, publisher: AlertPublisher, client: Client) -> None:
        self._folder = folder
        self._publisher = publisher
        self._client = client

    def add(self, alert: Alert) -> None:
        self._folder.add(alert)

    def flush(self) -> None:
        alerts = self._folder.drain()
        if not alerts:
            return
        self._publisher.publish(alerts)
        rows = [to_row(alert) for alert in alerts]
        columns = list(rows[0])
        self._client.insert("alerts", [[row[c] for c in columns] for row in rows], column_names=columns)
        now = datetime.now(UTC)
        for alert in alerts:
            if alert.revision == 1:
                metrics.ALERTS_RAISED.labels(alert.org, alert.rule, alert.severity.value).inc()
                metrics.EVENT_TO_ALERT_SECONDS.observe(max(0.0, (now - alert.window_start).total_seconds()))
