"""Grafana dashboards: structure, datasource references, links, and every query run against simulated data."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from clickhouse_connect.driver.client import Client

from kansa import metrics
from tests.conftest import POLICY_DIR, system_binary
from tests.dashboards.grafana import (
    CLICKHOUSE_PLUGIN,
    clickhouse_queries,
    datasource_refs,
    expand,
    load_dashboards,
    panels,
    provisioning_dir,
    variables,
)
from tests.dashboards.storefill import CASE_COUNSELLOR, CASE_ORG, CASE_SUBJECT, open_filled

START = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
EVENTS = 60_000
DASHBOARDS = load_dashboards()
# Metrics the pipeline dashboard may use besides kansa's own: Prometheus' and Alertmanager's.
EXTERNAL_METRICS = {"up", "ALERTS", "alertmanager_notifications_total", "alertmanager_notifications_failed_total"}


@pytest.fixture(scope="module")
def store(chdb_dir: Path) -> Iterator[Client]:
    """60k simulated events with every scenario (violations, alerts, a suspension, disclosures)."""
    client = open_filled(chdb_dir, f"dash_{uuid.uuid4().hex[:8]}", POLICY_DIR, EVENTS, START)
    yield client
    client.close()


def test_the_three_dashboards_exist_with_unique_uids() -> None:
    """Security overview, investigation and pipeline health are there, and no two dashboards share a uid."""
    uids = [board["uid"] for board in DASHBOARDS.values()]
    assert sorted(uids) == ["kansa-investigation", "kansa-pipeline-health", "kansa-security-overview"]
    for board in DASHBOARDS.values():
        ids = [panel["id"] for panel in panels(board)]
        assert len(ids) == len(set(ids)), f"{board['uid']}: duplicate panel ids"
        assert all(panel.get("title") and panel.get("targets") for panel in panels(board))


def test_datasources_are_referenced_through_variables_only() -> None:
    """Every datasource reference is a ${variable} of type datasource for the right plugin; no ids, no names."""
    for name, board in DASHBOARDS.items():
        declared = {v["name"]: v["query"] for v in variables(board) if v["type"] == "datasource"}
        refs = list(datasource_refs(board))
        assert refs, name
        for where, ref in refs:
            assert isinstance(ref, dict), f"{name}{where}: datasource given as {ref!r}, not {{type, uid}}"
            assert set(ref) == {"type", "uid"}, f"{name}{where}: {ref}"
            match = re.fullmatch(r"\$\{(\w+)\}", ref["uid"])
            assert match, f"{name}{where}: hard-coded datasource uid {ref['uid']!r}"
            assert declared.get(match[1]) == ref["type"], f"{name}{where}: {match[1]} is not a {ref['type']} variable"


def test_links_point_at_existing_dashboards_and_variables() -> None:
    """Dashboard and data links target a known uid and set only variables that dashboard declares."""
    by_uid = {board["uid"]: board for board in DASHBOARDS.values()}
    found = 0
    for board in DASHBOARDS.values():
        urls = [link["url"] for link in board.get("links", [])]
        for panel in panels(board):
            for override in panel.get("fieldConfig", {}).get("overrides", []):
                for prop in override["properties"]:
                    if prop["id"] == "links":
                        urls += [link["url"] for link in prop["value"]]
        for url in urls:
            match = re.match(r"/d/([\w-]+)/", url)
            assert match, f"{board['uid']}: link {url} does not name a dashboard"
            assert match[1] in by_uid, f"{board['uid']}: link to unknown dashboard {url}"
            target_vars = {v["name"] for v in variables(by_uid[match[1]])}
            assert set(re.findall(r"var-(\w+)=", url)) <= target_vars, url
            found += 1
    assert found >= 8


def test_investigation_has_org_actor_and_subject_variables() -> None:
    """Investigation is driven by org, actor and subject pseudonym variables, and its tables link both ways."""
    board = DASHBOARDS["investigation.json"]
    assert {"org", "actor", "subject"} <= {v["name"] for v in variables(board)}
    text = str(board)
    assert "var-actor=${__value.raw}" in text
    assert "var-subject=${__value.raw}" in text


def test_provisioning_matches_the_dashboards() -> None:
    """Provisioned datasources use the official ClickHouse plugin and Prometheus; the provider loads our folder."""
    sources = yaml.safe_load((provisioning_dir() / "datasources" / "kansa.yaml").read_text(encoding="utf-8"))
    types = {source["type"] for source in sources["datasources"]}
    assert types == {CLICKHOUSE_PLUGIN, "prometheus"}
    assert len({source["uid"] for source in sources["datasources"]}) == 2
    providers = yaml.safe_load((provisioning_dir() / "dashboards" / "kansa.yaml").read_text(encoding="utf-8"))
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/kansa"


def _values(store: Client) -> dict[str, list[str]]:
    """What an analyst would pick: the member of the subject case (a disclosure, a suspension, a breach)."""
    orgs = [row[0] for row in store.query("SELECT DISTINCT org FROM access_events ORDER BY org").result_rows]
    return {"org": [CASE_ORG], "actor": [CASE_COUNSELLOR], "subject": [CASE_SUBJECT], "all_orgs": orgs}


@pytest.mark.parametrize("name", sorted(n for n, b in DASHBOARDS.items() if any(True for _ in clickhouse_queries(b))))
def test_every_clickhouse_query_runs_and_returns_rows(store: Client, name: str) -> None:
    """Each panel's and variable's SQL, macros expanded as the plugin does, runs on the engine and returns rows."""
    values = _values(store)
    end = START + timedelta(hours=4)
    empty = []
    for where, sql in clickhouse_queries(DASHBOARDS[name]):
        # The overview's org variable is multi-valued with All; the investigation's is one org.
        chosen = dict(values, org=values["all_orgs"]) if name == "security-overview.json" else values
        rows = store.query(expand(sql, START, end, 60, chosen)).result_rows
        if not rows:
            empty.append(where)
    assert not empty, f"{name}: queries returned no rows: {empty}"


def test_subject_panels_follow_a_subject_with_a_request(store: Client) -> None:
    """The subject panels show the member's suspension request, the Stripe provision and the breach after it."""
    board = DASHBOARDS["investigation.json"]
    values = _values(store)

    def run(title: str) -> list[tuple[object, ...]]:
        sql = next(sql for where, sql in clickhouse_queries(board) if where == f"panel {title!r}")
        return [tuple(r) for r in store.query(expand(sql, START, START + timedelta(hours=4), 60, values)).result_rows]

    assert [row[1] for row in run("Subject: requests")] == ["suspend_use"]
    assert [row[1] for row in run("Subject: provision records")] == ["stripe-japan"]
    assert [row[-2] for row in run("Subject: accesses")] == ["violation", "allow", "allow"]


def test_prometheus_queries_use_known_metrics_and_parse() -> None:
    """Pipeline-health PromQL names only exported metrics and is valid PromQL (checked by promtool)."""
    board = DASHBOARDS["pipeline-health.json"]
    known = {m.name for collector in metrics.REGISTRY._collector_to_names for m in collector.describe()}
    known |= {f"{n}_total" for n in known} | {f"{n}_bucket" for n in known} | EXTERNAL_METRICS
    exprs = [t["expr"] for panel in panels(board) for t in panel["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        names = set(re.findall(r"\b(kansa_\w+|alertmanager_\w+|up|ALERTS)\b", expr))
        assert names, expr
        assert names <= known, f"unknown metric(s) {names - known} in {expr}"
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, expr in enumerate(exprs)]}]}
    promtool = system_binary("promtool")
    tmp = Path(shutil.os.environ.get("TMPDIR", "/tmp")) / f"dashboard-rules-{uuid.uuid4().hex}.yml"
    tmp.write_text(yaml.safe_dump(rules), encoding="utf-8")
    try:
        result = subprocess.run([promtool, "check", "rules", str(tmp)], capture_output=True, text=True, check=False)
    finally:
        tmp.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
