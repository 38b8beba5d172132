"""The bench result: one JSON document (machine, command, every section's figures, targets) and a table."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    section: str
    figure: str
    limit: float
    at_least: bool  # True: the figure must reach the limit; False: it must stay under it

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit

    def text(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.limit:g}"


# Issue 7's targets on the 2-core machine; the query figures are named as benchmarks/query_latency.py names them.
TARGETS = (
    Target("inprocess", "events_per_second", 20_000, at_least=True),
    Target("inprocess", "ratio_to_decode_ceiling", 0.4, at_least=True),
    Target("endtoend", "alert_p99_ms", 500, at_least=False),
    Target("endtoend", "backlog_growth_share", 0.01, at_least=False),
    Target("queries", "panel_p95_ms", 300, at_least=False),
    Target("queries", "subject_report_p95_ms", 200, at_least=False),
    Target("memory", "detector_state_mb_per_100k_actors", 50, at_least=False),
)


def machine() -> dict[str, Any]:
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:")), 0)
    return {"cores": os.cpu_count(), "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0], "platform": platform.platform()}


def derive(sections: dict[str, dict[str, Any]]) -> None:
    """Figures that need two sections of the same run: the ratio to the decode ceiling, the consumer's RSS."""
    inprocess = sections.get("inprocess", {}).get("figures")
    ceilings = sections.get("ceilings", {}).get("figures")
    if inprocess and ceilings:
        inprocess["ratio_to_decode_ceiling"] = round(
            inprocess["events_per_second"] / ceilings["decode_records_per_second"], 3)
    endtoend = sections.get("endtoend", {}).get("figures")
    if endtoend:
        endtoend["backlog_growth_share"] = round(
            max(0.0, endtoend["backlog_slope_events_per_second"]) / endtoend["target_rate"], 4)
        memory = sections.get("memory", {}).get("figures")
        if memory is not None:
            memory["consumer_rss_mb"] = endtoend["consumer_rss_mb"]
            memory["consumer_rss_growth_mb"] = endtoend["consumer_rss_growth_mb"]


def document(argv: list[str], quick: bool, started: datetime, before: dict[str, Any],
             sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    derive(sections)
    checks = []
    for target in TARGETS:
        value = sections.get(target.section, {}).get("figures", {}).get(target.figure)
        if isinstance(value, (int, float)):
            checks.append({"section": target.section, "figure": target.figure, "value": value,
                           "target": target.text(), "met": target.met(float(value))})
    return {
        "command": " ".join(["kansa", *argv]), "quick": quick, "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(), "machine": {**before, "load_average_end": machine()[
            "load_average"]}, "sections": sections, "targets": checks,
    }


def table(result: dict[str, Any]) -> str:
    targets = {(t["section"], t["figure"]): t for t in result["targets"]}
    rows = [("section", "figure", "value", "target", "")]
    missing = []
    for name, section in result["sections"].items():
        if "figures" not in section:
            missing.append(f"{name}: no figures: {section.get('unavailable') or section.get('error', '?')}")
            continue
        for figure, value in section["figures"].items():
            check = targets.get((name, figure))
            rows.append((name, figure, _number(value), check["target"] if check else "",
                         ("ok" if check["met"] else "MISSED") if check else ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
             + (f"  {row[4]}" if row[4] else "") for row in rows]
    lines.extend(missing)
    m = result["machine"]
    lines.append(f"machine: {m['cores']} cores, {m['memory_gib']} GiB, load average {m['load_average']} at start, "
                 f"{m['load_average_end']} at end; {result['command']}")
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
