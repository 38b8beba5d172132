"""Shared builders for the simulator tests: the real seed policies and fixed simulated start times."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consumers.policy import PolicySet, load_policies
from producers.simulator import LabelWriter, Schedule, Simulation, build_population

REPO = Path(__file__).resolve().parents[3]
POLICY_DIR = REPO / "policies"
# Wednesday 10:00 in Tokyo: every seed organisation is open. 22:00 the same day: all are closed.
DAY = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
FAST = Schedule(every=timedelta(minutes=3), warmup=timedelta(minutes=5))


def policies() -> PolicySet:
    return load_policies(str(POLICY_DIR))


def run(start: datetime, scenarios: tuple[str, ...], items: int, seed: int = 7,
        rate: float = 20.0) -> tuple[list[tuple[Any, Any]], list[dict[str, Any]]]:
    """The first `items` stream items and the labels written for them (incomplete ones included)."""
    sim = Simulation(build_population(policies(), seed, rate), start, seed, scenarios, FAST)
    labels = LabelWriter(None)
    out = list(itertools.islice(iter(sim), items))
    for payload, scenario in out:
        if scenario is not None:
            labels.observe(scenario, payload)
    labels.finish()
    return out, labels.written
