"""Simulated access events, encoded once as the SDK would, so timed loops measure the consumer only."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from consumers.messages import Partition, RawRecord
from consumers.policy.compiled import load_policies
from producers.simulator import SCENARIOS, Schedule, Simulation, build_population
from schemas.cloudevents import ACCESS_EVENT_TYPE, access_event_source, binary_headers
from schemas.codec import AvroCodec
from schemas.records import AccessEvent
from schemas.registry import ACCESS_EVENT, SchemaRegistry

REPO = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO / "policies"
PARTITIONS = 4
TOPIC = "bench.access-events"
# A Wednesday 10:00 JST: the simulator's weekday peak, so the mix is business-hours traffic.
PEAK_START = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
# Unpaced, 100k events are under a minute of simulated time: scenarios every few seconds instead of
# every ten minutes, so even a short run exercises the alert path.
SCENARIO_SCHEDULE = Schedule(every=timedelta(seconds=5), warmup=timedelta(seconds=5))
# Normal traffic is all allowed and scenarios are rare in a short run, so one event in this many is
# turned into a resale-purpose access (a violation in every seed policy): the alert path then carries
# a steady load and event-to-alert latency has enough samples for a p99.
VIOLATION_EVERY = 500


@dataclass(frozen=True, slots=True)
class EncodedRecord:
    partition: Partition
    offset: int
    record: RawRecord


def simulated_events(count: int, seed: int = 7, rate: float = 500.0, start: datetime = PEAK_START,
                     policy_dir: Path = POLICY_DIR) -> list[AccessEvent]:
    """`count` events of normal traffic with every misuse scenario mixed in (subject requests are skipped)."""
    population = build_population(load_policies(str(policy_dir)), seed, rate)
    events: list[AccessEvent] = []
    for payload, _run in Simulation(population, start, seed, tuple(SCENARIOS), SCENARIO_SCHEDULE):
        if "event_id" in payload:
            event: AccessEvent = payload  # type: ignore[assignment]
            if len(events) % VIOLATION_EVERY == VIOLATION_EVERY - 1:
                event = {**event, "purpose": "resale"}
            events.append(event)
            if len(events) >= count:
                break
    return events


def partition_of(key: bytes) -> int:
    return zlib.crc32(key) % PARTITIONS


def encode(events: list[AccessEvent]) -> list[EncodedRecord]:
    """Confluent-framed Avro with CloudEvents headers, keyed org:actor and spread over the partitions by key."""
    codec = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)
    offsets = [0] * PARTITIONS
    encoded: list[EncodedRecord] = []
    for event in events:
        key = f"{event['org']}:{event['actor']['id']}".encode()
        index = partition_of(key)
        headers = binary_headers(str(event["event_id"]), access_event_source(event["org"], event["app"]),
                                 ACCESS_EVENT_TYPE, event["occurred_at"], codec.writer_id)
        timestamp_ms = int(event["occurred_at"].timestamp() * 1000)
        encoded.append(EncodedRecord(Partition(TOPIC, index), offsets[index],
                                     RawRecord(key, codec.encode(event), headers, timestamp_ms)))
        offsets[index] += 1
    return encoded
