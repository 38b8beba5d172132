"""Memory held by the streaming detectors' state for N active actors, and the per-event cost; prints JSON.

Each actor gets a realistic working day: a few dozen events over a caseload, a couple of purposes
and categories, so every counter, the Bloom filter and the token mask hold real values.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

from consumers.detectors import ActorDetectors, DetectorThresholds, Thresholds
from consumers.messages import EvaluatedEvent
from consumers.policy import load_policies
from schemas.records import AccessEvent

START = datetime(2025, 6, 4, 1, 0, tzinfo=UTC)


def events_for(actors: int, per_actor: int) -> list[EvaluatedEvent]:
    items = []
    for i in range(per_actor):
        at = START + timedelta(seconds=60 * i)
        for a in range(actors):
            event: AccessEvent = {  # type: ignore[typeddict-item]
                "event_id": uuid.UUID(int=(i * actors + a) | 1 << 100), "occurred_at": at, "org": "weia", "app": "b",
                "actor": {"id": f"weia/staff-{a:06d}", "type": "staff", "roles": ["recruiter"], "department": None},
                "action": "read" if i % 9 else "update", "resource": {"system": "b", "record_type": "person"},
                "subject_id": f"client-{(a * 31 + i % 40) % 500_000:06d}", "subject_key_id": None, "subject_count": 1,
                "data_categories": ["name", "email"] if i % 3 else ["name"], "purpose": "recruitment",
                "legal_basis": None, "recipient": None, "source_ip": None, "session_id": None, "request_id": None,
                "outcome": "success", "record_count": 1, "collected_at": None,
            }
            items.append(EvaluatedEvent(event, 1, 0, None))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--events-per-actor", type=int, default=30)
    args = parser.parse_args()
    policies = load_policies("policies")
    items = events_for(args.actors, args.events_per_actor)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    thresholds = DetectorThresholds(Thresholds(), {})
    detectors = ActorDetectors(lambda: policies, lambda: thresholds)
    began = time.perf_counter()
    for index, item in enumerate(items):
        detectors.observe_in(index % 8, item)
    elapsed = time.perf_counter() - began
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # Timed again without tracemalloc, which slows every allocation.
    fresh = ActorDetectors(lambda: policies, lambda: thresholds)
    began = time.perf_counter()
    for index, item in enumerate(items):
        fresh.observe_in(index % 8, item)
    untraced = time.perf_counter() - began
    print(json.dumps({
        "actors": detectors.actor_count(), "events": len(items), "state_bytes": held,
        "state_mb": round(held / 1_000_000, 2), "bytes_per_actor": round(held / max(1, detectors.actor_count())),
        "target_mb": 50, "microseconds_per_event": round(untraced / len(items) * 1e6, 2),
        "microseconds_per_event_traced": round(elapsed / len(items) * 1e6, 2),
    }))


if __name__ == "__main__":
    main()
