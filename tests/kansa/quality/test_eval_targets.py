"""`kansa eval` on a short fixed-seed workload through the real broker and engine, against the issue's targets."""

from __future__ import annotations

import json
from pathlib import Path

from kansa.config import KansaConfig
from kansa.quality.eval import EvalSettings, format_table, run_eval


def test_eval_meets_the_detection_targets(pipeline_config: KansaConfig, tmp_path: Path) -> None:
    """Rule-based recall and precision 1.0; behavioural recall >= 0.9, <= 5 false per 100k; median alert < 5 s."""
    report = run_eval(pipeline_config, EvalSettings(), tmp_path)
    print(format_table(report))
    print(json.dumps(report["score"]))
    score = report["score"]
    types = {t["scenario"]: t for t in score["types"]}
    assert types, "the workload injected no scenarios"
    for name, entry in types.items():
        if entry["kind"] == "rule-based":
            assert entry["recall"] == 1.0, (name, entry)
            assert entry["precision"] == 1.0, (name, entry)
        else:
            assert entry["recall"] >= 0.9, (name, entry)
    assert score["false_alerts_per_100k_normal_events"] <= 5.0, score
    assert score["median_time_to_alert_s"] is not None, score
    assert score["median_time_to_alert_s"] < 5.0, score
