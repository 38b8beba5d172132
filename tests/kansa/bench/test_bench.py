"""`kansa bench`: the quick run produces every section's figures; the report derives ratios and checks targets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kansa.bench.report import derive, document, table

REPO = Path(__file__).resolve().parents[3]

# The figures each section must produce, whatever their values on the machine at hand.
EXPECTED = {
    "ceilings": ("decode_records_per_second", "insert_10000_rows_per_second", "insert_50000_rows_per_second",
                 "avro_insert_10000_rows_per_second", "avro_insert_50000_rows_per_second"),
    "inprocess": ("events_per_second", "ratio_to_decode_ceiling", "alerts_published"),
    "endtoend": ("sustained_events_per_second", "stored_p50_ms", "stored_p99_ms", "alert_p50_ms", "alert_p99_ms",
                 "backlog_slope_events_per_second", "consumer_rss_mb"),
    "queries": ("panel_p95_ms", "subject_report_p95_ms", "rows"),
    "memory": ("detector_state_mb_per_100k_actors", "consumer_rss_mb"),
}


@pytest.mark.timeout(600)
def test_quick_bench_produces_every_sections_figures(tmp_path: Path) -> None:
    """`kansa bench --quick` exits 0, prints the table and writes JSON with numeric figures for all five sections."""
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "kansa", "bench", "--quick", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=580, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ratio_to_decode_ceiling" in done.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["quick"] is True
    assert result["machine"]["cores"] >= 1
    for section, figures in EXPECTED.items():
        produced = result["sections"][section]["figures"]
        for figure in figures:
            value = produced.get(figure)
            assert type(value) in (int, float), (section, figure, value)
    assert result["sections"]["inprocess"]["figures"]["alerts_published"] > 0
    assert result["sections"]["endtoend"]["figures"]["alerts_measured"] > 0
    assert {check["figure"] for check in result["targets"]} >= {"events_per_second", "alert_p99_ms"}


def test_ratio_rss_and_targets_come_from_sections_of_the_same_run() -> None:
    """The decode ratio and the consumer RSS are derived across sections, and each target gets a verdict."""
    sections = {
        "ceilings": {"figures": {"decode_records_per_second": 40_000}},
        "inprocess": {"figures": {"events_per_second": 10_000}},
        "endtoend": {"figures": {"backlog_slope_events_per_second": -3.0, "target_rate": 2_000,
                                 "consumer_rss_mb": 400.0, "consumer_rss_growth_mb": 2.0, "alert_p99_ms": 120.0}},
        "memory": {"figures": {"detector_state_mb_per_100k_actors": 60.0}},
        "queries": {"unavailable": "benchmarks/query_latency.py is not in the tree"},
    }
    derive(sections)
    assert sections["inprocess"]["figures"]["ratio_to_decode_ceiling"] == 0.25
    assert sections["memory"]["figures"]["consumer_rss_mb"] == 400.0
    assert sections["endtoend"]["figures"]["backlog_growth_share"] == 0.0
    result = document(["bench"], False, datetime.now(UTC),
                      {"cores": 2, "memory_gib": 24.0, "load_average": [0.1, 0.1, 0.1]}, sections)
    verdicts = {check["figure"]: check["met"] for check in result["targets"]}
    assert verdicts == {"events_per_second": False, "ratio_to_decode_ceiling": False, "alert_p99_ms": True,
                        "backlog_growth_share": True, "detector_state_mb_per_100k_actors": False}
    assert "queries: no figures: benchmarks/query_latency.py is not in the tree" in table(result)
