"""Queries: dashboard panels and the subject report over N million stored events, from the dashboards' benchmark."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from kansa.bench.common import run_script
from kansa.bench.corpus import REPO

SCRIPT = REPO / "benchmarks" / "query_latency.py"


def measure(million_rows: float, repeat: int) -> dict[str, Any]:
    """Runs benchmarks/query_latency.py; the headline figures, with every panel's timings as detail."""
    # The script keeps its engine directory unless told where to put it; this one is removed afterwards.
    with tempfile.TemporaryDirectory(prefix="kansa-bench-queries-") as directory:
        result = run_script(SCRIPT, ["--rows", str(round(million_rows * 1_000_000)), "--repeat", str(repeat),
                                     "--dir", str(Path(directory) / "clickhouse")], timeout=3 * 3600)
    return {
        "rows": result["rows"], "load_seconds": result["load_seconds"], "panels": len(result["panels"]),
        "panel_p95_ms": result["worst_panel_p95_ms"],
        "subject_report_p50_ms": result["subject_report"]["p50_ms"],
        "subject_report_p95_ms": result["subject_report"]["p95_ms"],
        "detail": {"panels": result["panels"], "subject_report": result["subject_report"]},
    }
