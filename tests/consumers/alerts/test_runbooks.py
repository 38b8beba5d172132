"""Every rule an alert can carry has an entry in docs/runbooks.md, alerts link to it, and its queries run."""

from __future__ import annotations

import re
from pathlib import Path

from consumers.alerts.raising import runbook_for
from consumers.detectors.explain import RULES as DETECTOR_RULES
from kansa.config import KansaConfig
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from tests.consumers.alerts.alert_support import RUNBOOKS, runbook_anchors, violation

REPO = Path(__file__).resolve().parents[3]


def rule_ids_in_code() -> set[str]:
    """Policy and detector rule ids as the consumer's code spells them (a new rule appears here by itself)."""
    found: set[str] = set()
    for source in (REPO / "consumers").rglob("*.py"):
        found.update(re.findall(r'"(K[PD](?:\d{3}|-[A-Z][A-Z-]*[A-Z]))"', source.read_text(encoding="utf-8")))
    return found


def test_every_policy_and_detector_rule_has_a_runbook_entry() -> None:
    """KP001–KP011 and every KD-* rule found in the code have an anchor in docs/runbooks.md."""
    rules = rule_ids_in_code()
    assert {f"KP{n:03d}" for n in range(1, 12)} <= rules
    assert set(DETECTOR_RULES) <= rules
    missing = sorted(rule for rule in rules if rule.lower() not in runbook_anchors())
    assert missing == []


def test_alerts_link_to_the_lower_cased_rule_anchor() -> None:
    """A new alert's runbook_url is the default runbook page with #rule-id, which exists."""
    alert = violation(rule="KD-SNOOPING")
    assert alert.runbook_url == runbook_for("KD-SNOOPING")
    assert alert.runbook_url.endswith("/docs/runbooks.md#kd-snooping")
    assert "kd-snooping" in runbook_anchors()


def test_every_runbook_query_runs_against_the_migrated_store(pipeline_config: KansaConfig) -> None:
    """Each SQL block of docs/runbooks.md, placeholders filled, runs on a database with every migration."""
    client = connect(pipeline_config.storage)
    migrate(client)
    blocks = re.findall(r"```sql\n(.*?)```", RUNBOOKS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 20
    for block in blocks:
        client.query(re.sub(r"<(\w+)>", r"\1", block))
