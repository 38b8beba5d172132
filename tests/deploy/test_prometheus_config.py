"""deploy/prometheus: valid config, every pipeline alert rule unit-tested with promtool, built on real metrics."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from kansa import metrics
from tests.conftest import system_binary
from tests.consumers.alerts.alert_support import runbook_anchors

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "kansa-pipeline.rules.yml"
UNIT_TESTS = sorted((PROMETHEUS / "tests").glob("*.test.yml"))


def _rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_prometheus_config_passes_promtool_check_config() -> None:
    """promtool check config accepts prometheus.yml and the rule files it names."""
    result = subprocess.run([system_binary("promtool"), "check", "config", str(PROMETHEUS / "prometheus.yml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrapes_both_consumers() -> None:
    """The kansa job scrapes consumer-1 and consumer-2 on the metrics port."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "kansa"]
    assert job["static_configs"][0]["targets"] == ["consumer-1:9464", "consumer-2:9464"]


@pytest.mark.parametrize("unit_test", UNIT_TESTS, ids=[p.name for p in UNIT_TESTS])
def test_rule_unit_tests_pass(unit_test: Path) -> None:
    """promtool test rules passes for each rule's unit test file (firing and quiet cases)."""
    result = subprocess.run([system_binary("promtool"), "test", "rules", unit_test.name], cwd=unit_test.parent,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_unit_test() -> None:
    """Each alerting rule is named in at least one unit test file."""
    tested = "\n".join(p.read_text(encoding="utf-8") for p in UNIT_TESTS)
    untested = [r["alert"] for r in _rules() if f"alertname: {r['alert']}" not in tested]
    assert untested == []


def test_rules_use_only_metrics_kansa_exports() -> None:
    """Every kansa_* metric a rule queries exists in kansa/metrics.py (a renamed metric breaks this test)."""
    families = list(metrics.REGISTRY.collect())
    # A labelled metric has no samples until first used, so names come from the families.
    exported = {f.name + "_total" if f.type == "counter" else f.name for f in families}
    used = {name for rule in _rules() for name in re.findall(r"\bkansa_[a-z_]+", str(rule["expr"]))}
    assert used
    assert used - exported == set()


def test_rules_route_by_severity() -> None:
    """Every rule carries a severity Alertmanager routes on and a link to its rule's entry in docs/runbooks.md."""
    assert [r["alert"] for r in _rules() if r["labels"]["severity"] == "heartbeat"] == ["KansaWatchdog"]
    anchors = runbook_anchors()
    for rule in _rules():
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict)
        assert isinstance(annotations, dict)
        assert labels["severity"] in {"page", "warning", "heartbeat"}, rule["alert"]
        page, _, anchor = str(annotations["runbook_url"]).partition("#")
        assert page.startswith("https://"), rule["alert"]
        assert page.endswith("/runbooks.md"), rule["alert"]
        assert anchor == str(labels["rule"]).lower(), rule["alert"]
        assert anchor in anchors, rule["alert"]
