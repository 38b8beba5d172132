"""Policy evaluation throughput on one core, printed as JSON.

Usage: .venv/bin/python benchmarks/policy_eval.py [--seconds 3] [--policies policies]
The mix is the allowed sample events of every seed org (the common path) plus one violation in ten.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from consumers.policy import PolicyEngine, SubjectRequestBook, load_policies  # noqa: E402
from schemas.records import AccessEvent  # noqa: E402
from schemas.validation import access_event_from_json, load_json_file  # noqa: E402


def workload(orgs: set[str]) -> list[AccessEvent]:
    allowed = [access_event_from_json(load_json_file(path))
               for path in sorted(glob.glob(str(REPO / "schemas/samples/valid/*.json")))]
    allowed = [event for event in allowed if event["org"] in orgs and event["action"] != "disclose"]
    violation = dict(allowed[0], purpose="resale")
    return allowed + [violation] * max(1, len(allowed) // 9)  # type: ignore[list-item]


def measure(engine: PolicyEngine, events: list[AccessEvent], seconds: float) -> tuple[int, float]:
    book = SubjectRequestBook()
    evaluate = engine.evaluate
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            for event in events:
                evaluate(event, book)
        done += 200 * len(events)
    return done, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--policies", default=str(REPO / "policies"))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target states
    policies = load_policies(args.policies)
    engine = PolicyEngine(policies)
    events = workload(set(policies))
    measure(engine, events, 0.3)  # warm-up
    done, elapsed = measure(engine, events, args.seconds)
    print(json.dumps({
        "benchmark": "policy_eval", "evaluations": done, "seconds": round(elapsed, 3),
        "evaluations_per_second": round(done / elapsed), "events_in_mix": len(events),
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
