"""Memory: detector state per 100,000 active actors, from the detectors' own benchmark.

The consumer's RSS at steady state comes from the end-to-end section, where the real
consumer runs; the report puts both figures under this section.
"""

from __future__ import annotations

from typing import Any

from kansa.bench.common import run_script
from kansa.bench.corpus import REPO

SCRIPT = REPO / "benchmarks" / "detector_memory.py"
PER_ACTORS = 100_000


def measure(actors: int, events_per_actor: int) -> dict[str, Any]:
    """Runs benchmarks/detector_memory.py; scales its state to 100,000 actors when fewer were measured."""
    result = run_script(SCRIPT, ["--actors", str(actors), "--events-per-actor", str(events_per_actor)],
                        timeout=900)
    measured = int(result["actors"])
    return {
        "detector_actors_measured": measured,
        "detector_state_mb_per_100k_actors": round(float(result["state_mb"]) * PER_ACTORS / measured, 2),
        "detector_bytes_per_actor": result["bytes_per_actor"],
        "detector_microseconds_per_event": result["microseconds_per_event"],
    }
