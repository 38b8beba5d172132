"""Helpers for alert tests (a module with a unique name: `conftest` is ambiguous across test folders)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from kafka import KafkaConsumer

from consumers.alerts import Alert, AlertDelivery, Kind, LocalizedText, Sensitivity, Severity, new_alert
from kansa.localstack.broker import LocalBroker

PRODUCTION_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "alertmanager" / "alertmanager.yml"
RUNBOOKS = Path(__file__).resolve().parents[3] / "docs" / "runbooks.md"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class WebhookReceiver:
    """Records every notification Alertmanager posts, by path (/pager, /chat)."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._changed:
                    receiver.notifications.append((self.path, json.loads(body)))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def firing(self, path: str) -> list[dict[str, Any]]:
        """Every firing alert in every notification to `path`, in arrival order."""
        with self._changed:
            return [alert for p, payload in self.notifications if p == path
                    for alert in payload["alerts"] if alert["status"] == "firing"]

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def local_config(webhook_url: str) -> str:
    """The production alertmanager.yml with its receivers pointed at the loopback webhook and short timings."""
    config = yaml.safe_load(PRODUCTION_CONFIG.read_text(encoding="utf-8"))
    receivers = {r["name"]: r for r in config["receivers"]}
    receivers["pager"].clear()
    receivers["pager"].update(name="pager", webhook_configs=[{"url": webhook_url + "/pager", "send_resolved": False}])
    receivers["chat"].clear()
    receivers["chat"].update(name="chat", webhook_configs=[{"url": webhook_url + "/chat", "send_resolved": True}])
    receivers["heartbeat"]["webhook_configs"] = [{"url": webhook_url + "/heartbeat", "send_resolved": False}]
    for route in [config["route"], *config["route"]["routes"]]:
        route.update(group_wait="100ms", group_interval="1s", repeat_interval="1h")
    return yaml.safe_dump(config, allow_unicode=True)


def delivery_consumer(broker: LocalBroker, topic: str, group: str) -> KafkaConsumer:
    """Configured as the consumer process configures it: own group, manual commits, local-profile timeouts."""
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=1000,
        max_poll_interval_ms=60000, fetch_max_wait_ms=100,
    )
    consumer.subscribe([topic])
    return consumer


def violation(org: str = "chiba-cia", rule: str = "KP012", actor: str = "staff-7", subject: str | None = "s-42",
              severity: Severity = Severity.WARNING, kind: Kind = Kind.POLICY, event_id: str | None = None,
              at: datetime = T0, subjects_affected: int = 1,
              sensitivities: tuple[Sensitivity, ...] = ()) -> Alert:
    """One candidate alert as a decision would raise it."""
    return new_alert(
        kind=kind, rule=rule, severity=severity, org=org, actor=actor, subject=subject,
        event_ids=[event_id or str(uuid.uuid4())], first_seen=at, last_seen=at, now=at,
        summary=LocalizedText(ja=f"{rule} 違反 ({org})", en=f"{rule} violated at {org}"),
        description=LocalizedText(ja="利用目的外のアクセス", en="Access outside the declared purpose"),
        sensitivities=sensitivities, subjects_affected=subjects_affected, policy_clause="第3条",
    )


@contextmanager
def running(delivery: AlertDelivery, consumer: KafkaConsumer, join_timeout: float = 60.0) -> Iterator[None]:
    """Runs the delivery loop in a thread, as the consumer process does, once its group join is done."""
    deadline = time.monotonic() + join_timeout
    # Join before the test starts its clock: tansu's group join takes seconds and is not what is measured.
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise AssertionError(f"alert delivery consumer got no partitions within {join_timeout:.0f} s")
        delivery.run_once()
    stop = threading.Event()
    thread = threading.Thread(target=delivery.run, args=(stop,), name="alert-delivery", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        consumer.close()


def runbook_anchors() -> set[str]:
    """The entries of docs/runbooks.md: its explicit `<a id="…"></a>` anchors."""
    return set(re.findall(r'<a id="([a-z0-9-]+)"></a>', RUNBOOKS.read_text(encoding="utf-8")))
