"""Latency of every dashboard panel query and of the subject access report, on simulated data, printed as JSON.

Usage: .venv/bin/python benchmarks/query_latency.py [--rows 10000000] [--repeat 20] [--dir DIR]
Loads --rows simulated events (every scenario, through the consumer's policy, row and alert code) into a
fresh embedded engine, merges, then times each query --repeat times. Aim: p95 <= 300 ms per panel,
<= 200 ms per subject report. Not a test: it takes minutes at 10 million rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kansa.reports.document import Period  # noqa: E402
from kansa.reports.subject import subject_report  # noqa: E402
from tests.dashboards.grafana import clickhouse_queries, expand, load_dashboards  # noqa: E402
from tests.dashboards.storefill import CASE_COUNSELLOR, CASE_ORG, CASE_SUBJECT, open_filled  # noqa: E402

START = datetime(2026, 11, 16, tzinfo=UTC)
PANEL_AIM_MS, SUBJECT_AIM_MS = 300.0, 200.0


def timed(repeat: int, run: Any) -> dict[str, Any]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 1),
            "max_ms": round(samples[-1], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rate", type=float, default=100.0, help="simulated weekday-peak events per second")
    parser.add_argument("--dir", type=Path, default=None, help="engine data directory (default: a temporary one)")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="kansa-bench-"))
    began = time.perf_counter()
    client = open_filled(directory, "bench", REPO / "policies", args.rows, START, rate=args.rate)
    load_seconds = time.perf_counter() - began
    first, last = client.query("SELECT min(occurred_at), max(occurred_at) FROM access_events").result_rows[0]
    end = last.replace(tzinfo=UTC)
    # Dashboards open on the last 24 hours; the investigation looks at the case's org, actor and subject.
    window = (max(START, end - timedelta(hours=24)), end)
    orgs = [r[0] for r in client.query("SELECT DISTINCT org FROM access_events ORDER BY org").result_rows]
    values = {"org": [CASE_ORG], "actor": [CASE_COUNSELLOR], "subject": [CASE_SUBJECT]}
    panels: dict[str, Any] = {}
    for name, board in load_dashboards().items():
        for where, sql in clickhouse_queries(board):
            chosen = dict(values, org=orgs) if name == "security-overview.json" else values
            query = expand(sql, *window, 60 if "$__timeInterval" not in sql else 300, chosen)
            panels[f"{name} {where}"] = timed(args.repeat, lambda q=query: client.query(q).result_rows)
    subjects = [r[0] for r in client.query(
        "SELECT subject_id FROM access_events WHERE org = {o:String} AND subject_id != '' GROUP BY subject_id "
        "ORDER BY cityHash64(subject_id) LIMIT {n:UInt32}", parameters={"o": CASE_ORG, "n": args.repeat}).result_rows]
    cycle = iter(subjects * 2)
    subject = timed(len(subjects), lambda: subject_report(client, CASE_ORG, next(cycle), Period()))
    worst = max(p["p95_ms"] for p in panels.values())
    print(json.dumps({
        "rows": client.query("SELECT count() FROM access_events").result_rows[0][0],
        "simulated_span": [first.replace(tzinfo=UTC).isoformat(), end.isoformat()],
        "load_seconds": round(load_seconds, 1), "repeat": args.repeat,
        "panels": panels, "subject_report": subject,
        "worst_panel_p95_ms": worst,
        "aims_met": {"panels": worst <= PANEL_AIM_MS, "subject_report": subject["p95_ms"] <= SUBJECT_AIM_MS},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
