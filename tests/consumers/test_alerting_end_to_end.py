"""A bulk export through the running consumer pages on-call through a real Alertmanager within seconds."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from producers.sdk import AccessAuditor
from schemas.records import AccessEvent
from tests.conftest import AlertmanagerProcess
from tests.consumers.alerts.alert_support import WebhookReceiver, local_config
from tests.consumers.running import running_consumer, wait_for
from tests.eventdata import sample_events


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def based_on(request_id_part: str, **changes: Any) -> AccessEvent:
    (template,) = [e for e in sample_events() if request_id_part in (e["request_id"] or "")]
    event = copy.deepcopy(template)
    event.update({"event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC), **changes})  # type: ignore[typeddict-item]
    return event


def alertmanager_alerts(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url + "/api/v2/alerts", timeout=2) as response:
        alerts: list[dict[str, Any]] = json.load(response)
    return alerts


def test_bulk_export_pages_within_two_seconds(pipeline_config: KansaConfig, webhook: WebhookReceiver,
                                              alertmanager: Callable[[str], AlertmanagerProcess]) -> None:
    """An injected bulk export shows in Alertmanager within 2 s of being consumed and reaches the pager."""
    manager = alertmanager(local_config(webhook.url))
    config = dataclasses.replace(pipeline_config, alertmanager_url=manager.url)
    ensure_topics(config.kafka)
    auditor = AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, "weia", "t")
    # Warm-up: an out-of-purpose access raises a warning; once it is in Alertmanager, the consumer and
    # the alert delivery loop have joined their groups (tansu's joins take seconds; not what is measured).
    warm_up = based_on("weia-recruiter-reads-applicant", purpose="never_declared")
    with running_consumer(config):
        auditor.send(warm_up)
        auditor.flush()
        wait_for(lambda: any(a["labels"].get("rule") == "KP003" for a in alertmanager_alerts(manager.url)), 90,
                 "the warm-up alert in Alertmanager")
        export = based_on("weia-usage-report-export", actor={
            "id": "weia/staff-bulk", "type": "staff", "roles": ["client_account_manager"], "department": "営業"},
            data_categories=["name", "organisation", "usage_history"], subject_count=4800, record_count=4800)
        sent = time.monotonic()
        auditor.send(export)
        auditor.flush()

        def paged() -> bool:
            return any(a["labels"].get("rule") == "KD-BULK-EXPORT" for a in alertmanager_alerts(manager.url))

        wait_for(paged, 10, "the bulk-export alert in Alertmanager")
        elapsed = time.monotonic() - sent
        print(f"bulk export: sent to visible in Alertmanager in {elapsed:.3f} s")
        assert webhook.wait_until(lambda: any(a["labels"].get("rule") == "KD-BULK-EXPORT"
                                              for a in webhook.firing("/pager")), 10)
    auditor.close()
    # Measured from the send, so it includes the broker hop and the consumer's poll: an upper bound on
    # "within 2 s of being consumed".
    assert elapsed < 2.0, f"bulk export reached Alertmanager {elapsed:.2f} s after it was sent"
    (page,) = [a for a in webhook.firing("/pager") if a["labels"].get("rule") == "KD-BULK-EXPORT"]
    assert page["labels"]["org"] == "weia"
    assert page["labels"]["severity"] == "page"
    assert "4800" in page["annotations"]["summary"] or "4800" in page["annotations"].get("description", "")
