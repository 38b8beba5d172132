"""deploy/alertmanager/alertmanager.yml: valid, routes pages to the pager and warnings to chat, inhibits by actor."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumers.alerts import AlertmanagerClient
from tests.conftest import system_binary
from tests.consumers.alerts.alert_support import WebhookReceiver, local_config

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
ORGS = ("izumisano-ssw", "chiba-cia", "weia")


def routes_test(*labels: str) -> set[str]:
    """Receivers `amtool config routes test` resolves for one label set."""
    result = subprocess.run(
        [system_binary("amtool"), "config", "routes", "test", f"--config.file={CONFIG}", *labels],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return set(result.stdout.strip().split(","))


def test_config_passes_amtool_check_config() -> None:
    """amtool check-config accepts the production configuration."""
    result = subprocess.run([system_binary("amtool"), "check-config", str(CONFIG)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_secrets_come_from_files() -> None:
    """The pager, chat and heartbeat receivers read their keys from files; no secret is written in the config."""
    receivers = {r["name"]: r for r in yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["receivers"]}
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key_file"].startswith("/etc/alertmanager/secrets/")
    assert receivers["chat"]["slack_configs"][0]["api_url_file"].startswith("/etc/alertmanager/secrets/")
    heartbeat = receivers["heartbeat"]["webhook_configs"][0]["http_config"]["authorization"]
    assert heartbeat["credentials_file"].startswith("/etc/alertmanager/secrets/")
    text = CONFIG.read_text(encoding="utf-8")
    assert "routing_key:" not in text
    assert "api_url:" not in text
    assert "credentials:" not in text


@pytest.mark.parametrize("org", ORGS)
def test_bulk_export_pages(org: str) -> None:
    """A KD-BULK-EXPORT page-severity alert at any org goes to the pager (and the team chat)."""
    receivers = routes_test("alertname=KansaAccessAnomaly", "severity=page", f"org={org}", "rule=KD-BULK-EXPORT",
                            "actor=staff-1")
    assert receivers == {"pager", "chat"}


@pytest.mark.parametrize("org", ORGS)
def test_first_seen_warning_does_not_page(org: str) -> None:
    """A KD-FIRST-SEEN warning goes to chat only, never to the pager."""
    receivers = routes_test("alertname=KansaAccessAnomaly", "severity=warning", f"org={org}", "rule=KD-FIRST-SEEN",
                            "actor=staff-1")
    assert receivers == {"chat"}


def test_policy_info_notifies_nobody_and_pipeline_page_pages() -> None:
    """An info-level KP rule hit reaches no receiver; a pipeline page from Prometheus reaches the pager."""
    assert routes_test("alertname=KansaPolicyViolation", "severity=info", "org=weia", "rule=KP003") == {"null"}
    assert "pager" in routes_test("alertname=KansaConsumerDown", "severity=page", "rule=KM-CONSUMER-DOWN")


def test_watchdog_heartbeat_reaches_only_the_dead_mans_switch() -> None:
    """The always-firing watchdog goes to the heartbeat receiver alone: no chat message, no page, every minute."""
    assert routes_test("alertname=KansaWatchdog", "severity=heartbeat", "rule=KM-WATCHDOG") == {"heartbeat"}
    route = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["route"]
    [heartbeat] = [r for r in route["routes"] if r["receiver"] == "heartbeat"]
    assert heartbeat["repeat_interval"] == "1m"
    assert not heartbeat.get("continue", False)


def test_watchdog_reaches_the_heartbeat_webhook_of_a_running_alertmanager(
        alertmanager: Callable[[str], Any]) -> None:
    """A real Alertmanager on the production routes sends the watchdog to /heartbeat and to no person."""
    receiver = WebhookReceiver()
    try:
        am = alertmanager(local_config(receiver.url))
        AlertmanagerClient(am.url).post_alerts([_firing(
            {"alertname": "KansaWatchdog", "severity": "heartbeat", "rule": "KM-WATCHDOG"},
            "the alerting path is working")])
        assert receiver.wait_until(lambda: bool(receiver.firing("/heartbeat")), 10)
        time.sleep(1.5)  # a group interval: a chat or pager notification would have come by now
        assert [path for path, _ in receiver.notifications] == ["/heartbeat"]
    finally:
        receiver.close()


def _firing(labels: dict[str, str], summary: str) -> dict[str, Any]:
    """An alert as Alertmanager's API takes it, firing for the next five minutes."""
    now = datetime.now(UTC)
    return {"labels": labels, "annotations": {"summary": summary},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(minutes=5)).isoformat()}


def _postable(severity: str, rule: str, actor: str, org: str = "chiba-cia") -> dict[str, Any]:
    return _firing({"alertname": "KansaAccessAnomaly", "severity": severity, "org": org, "rule": rule,
                    "actor": actor, "kansa_fingerprint": f"{rule}-{actor}-{org}"}, f"{rule} by {actor}")


def test_page_inhibits_lower_severities_for_the_same_actor_only(
        alertmanager: Callable[[str], Any]) -> None:
    """With a page open for an actor, that actor's warning is inhibited; another actor's warning is not."""
    am = alertmanager(local_config("http://127.0.0.1:9"))
    client = AlertmanagerClient(am.url)
    client.post_alerts([
        _postable("page", "KD-BULK-EXPORT", "staff-1"),
        _postable("warning", "KD-FIRST-SEEN", "staff-1"),
        _postable("warning", "KD-FIRST-SEEN", "staff-2"),
    ])
    deadline = time.monotonic() + 10
    states: dict[tuple[str, str], str] = {}
    while time.monotonic() < deadline:
        states = {(a["labels"]["rule"], a["labels"]["actor"]): a["status"]["state"] for a in client.get_alerts()}
        if len(states) == 3 and "unprocessed" not in states.values():
            break
        time.sleep(0.1)
    assert states == {
        ("KD-BULK-EXPORT", "staff-1"): "active",
        ("KD-FIRST-SEEN", "staff-1"): "suppressed",
        ("KD-FIRST-SEEN", "staff-2"): "active",
    }
