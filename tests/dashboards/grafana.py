"""Loading the dashboard JSON and expanding grafana-clickhouse-datasource macros and template variables.

The expansions follow the plugin's own (v4): $__timeFilter(c) -> `c >= toDateTime(F) AND c <= toDateTime(T)`,
$__timeInterval(c) -> `toStartOfInterval(toDateTime(c), INTERVAL N second)`, $__fromTime/$__toTime ->
`toDateTime(F)`; `${name:singlequote}` quotes each value and joins them with commas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import REPO

DASHBOARD_DIR = REPO / "dashboards" / "json"
CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"


def load_dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DASHBOARD_DIR.glob("*.json"))}


def panels(board: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def variables(board: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(board.get("templating", {}).get("list", []))


def clickhouse_queries(board: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, raw SQL) for every ClickHouse panel target and query variable."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            if target.get("datasource", {}).get("type") == CLICKHOUSE_PLUGIN:
                yield f"panel {panel['title']!r}", target["rawSql"]
    for variable in variables(board):
        if variable["type"] == "query" and variable["datasource"]["type"] == CLICKHOUSE_PLUGIN:
            yield f"variable {variable['name']!r}", variable["query"]


def expand(sql: str, start: datetime, end: datetime, interval_s: int, values: Mapping[str, Sequence[str]]) -> str:
    """The SQL Grafana would send for this time range, interval and variable values."""
    frm, to = int(start.timestamp()), int(end.timestamp())
    sql = re.sub(r"\$__timeFilter\(\s*([^)]+?)\s*\)",
                 lambda m: f"{m[1]} >= toDateTime({frm}) AND {m[1]} <= toDateTime({to})", sql)
    sql = re.sub(r"\$__timeInterval\(\s*([^)]+?)\s*\)",
                 lambda m: f"toStartOfInterval(toDateTime({m[1]}), INTERVAL {interval_s} second)", sql)
    sql = sql.replace("$__fromTime", f"toDateTime({frm})").replace("$__toTime", f"toDateTime({to})")
    sql = sql.replace("$__interval_s", str(interval_s))

    def variable(match: re.Match[str]) -> str:
        name, option = match[1] or match[3], match[2]
        chosen = values[name]
        if option == "singlequote":
            return ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in chosen)
        if option is None:
            return ",".join(chosen)
        raise AssertionError(f"variable format {option!r} is not expanded by these tests")

    sql = re.sub(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)", variable, sql)
    if "$" in sql:
        raise AssertionError(f"unexpanded macro or variable left in: {sql}")
    return sql


def datasource_refs(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every `datasource` value anywhere in a dashboard, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield f"{path}.{key}", value
            yield from datasource_refs(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from datasource_refs(value, f"{path}[{index}]")


def provisioning_dir() -> Path:
    return REPO / "dashboards" / "grafana" / "provisioning"
