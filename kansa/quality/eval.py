"""`kansa eval`: simulated traffic with injected scenarios through the real consumer, scored per scenario type.

The simulator paces simulated time `speed` times faster than the wall clock, so the wall time
an event was sent is known from its event time; time to alert is the alert's raise time minus
the wall time the scenario's first event went out.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consumers.app import run_consumer
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics
from kansa.quality.matching import AlertRecord, Label, Score, score
from kansa.storage.client import connect
from producers.simulator import Schedule, parse_scenarios, read_labels, run_simulation

BEHAVIOURAL = ("bulk_export", "off_hours", "snooping_actor", "snooping_subject", "volume_spike", "first_use",
               "dormant", "probing")
RULE_BASED = ("unnamed_recipient", "after_suspension", "purpose_misuse")
# A Tuesday 08:00 in Japan: every seed organisation opens that day, so baselines start at once.
DEFAULT_START = datetime(2025, 6, 2, 23, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EvalSettings:
    seed: int = 7
    rate: float = 1.0
    speed: float = 1000.0
    start: datetime = DEFAULT_START
    warmup: timedelta = timedelta(hours=26)
    every: timedelta = timedelta(minutes=20)
    hours: float = 36.0
    scenarios: tuple[str, ...] = BEHAVIOURAL + RULE_BASED
    drain_timeout: float = 120.0


def run_eval(config: KansaConfig, settings: EvalSettings, workdir: Path) -> dict[str, Any]:
    """Fresh topics, group and database; simulate, wait for the store to catch up, score."""
    suffix = uuid.uuid4().hex[:8]
    config = replace(
        config,
        kafka=replace(config.kafka, events_topic=f"eval-events-{suffix}", dlq_topic=f"eval-dlq-{suffix}",
                      alerts_topic=f"eval-alerts-{suffix}", requests_topic=f"eval-requests-{suffix}",
                      consumer_group=f"eval-{suffix}"),
        storage=replace(config.storage, database=f"eval_{suffix}"),
        pipeline=replace(config.pipeline, sql_detector_seconds=1.0, batch_max_seconds=0.5),
    )
    ensure_topics(config.kafka)
    labels_path = workdir / f"labels-{suffix}.jsonl"
    stop, errors = threading.Event(), []

    def consume() -> None:
        try:
            run_consumer(config, stop)
        except BaseException as exc:  # surfaced after the run, with the score
            errors.append(exc)

    consumer = threading.Thread(target=consume, name="eval-consumer")
    consumer.start()
    client = connect(config.storage)
    try:
        _wait(lambda: _exists(client, "alerts"), 60.0)
        wall_start = time.time()
        summary = run_simulation(
            config, threading.Event(), settings.rate * settings.speed, settings.hours * 3600.0 / settings.speed,
            settings.seed, settings.scenarios, labels_path, start=settings.start, speed=settings.speed,
            schedule=Schedule(every=settings.every, warmup=settings.warmup))
        stored = "SELECT count() FROM access_events"
        _wait(lambda: _count(client, stored) >= summary.events, settings.drain_timeout)
        time.sleep(3.0)  # two more SQL-detector runs over the final window
    finally:
        stop.set()
        consumer.join(timeout=120)
    if errors:
        raise errors[0]
    alerts = _alerts(client)
    client.close()

    def emitted_at(at: datetime) -> datetime:
        return datetime.fromtimestamp(wall_start + (at - settings.start).total_seconds() / settings.speed, UTC)

    labels = [Label.from_json(record) for record in read_labels(labels_path)] if labels_path.exists() else []
    result: Score = score(alerts, labels, summary.events, emitted_at, ignore_rules=("KP011",))
    return {"settings": {"seed": settings.seed, "rate": settings.rate, "speed": settings.speed,
                         "simulated_hours": settings.hours, "scenarios": list(settings.scenarios)},
            "simulation": summary.to_json(), "score": result.to_json()}


def _alerts(client: Any) -> list[AlertRecord]:
    rows = client.query(
        "SELECT alert_id, argMax(rule, revision), argMax(org, revision), argMax(actor, revision), "
        "argMax(subject, revision), argMax(window_start, revision), argMax(window_end, revision), "
        "argMax(evidence_event_ids, revision), min(raised_at) FROM alerts GROUP BY alert_id").result_rows
    return [AlertRecord(r[0], r[1], r[2], r[3], r[4], _aware(r[5]), _aware(r[6]), frozenset(r[7]), _aware(r[8]))
            for r in rows]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _exists(client: Any, table: str) -> bool:
    return bool(client.query(f"EXISTS TABLE {table}").result_rows[0][0])


def _count(client: Any, sql: str) -> int:
    return int(client.query(sql).result_rows[0][0])


def _wait(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s")
        time.sleep(0.5)


def format_table(report: dict[str, Any]) -> str:
    score_ = report["score"]
    head = f"{'scenario':<18} {'kind':<11} {'n':>3} {'found':>5} {'recall':>6} {'prec.':>6} {'false':>5} " \
           f"{'t_alert s':>9} {'t_event s':>9}"
    lines = [head, "-" * len(head)]
    for t in score_["types"]:
        lines.append(f"{t['scenario']:<18} {t['kind']:<11} {t['scenarios']:>3} {t['detected']:>5} "
                     f"{_fmt(t['recall']):>6} {_fmt(t['precision']):>6} {t['false_alerts']:>5} "
                     f"{_fmt(t['median_time_to_alert_s']):>9} {_fmt(t['median_event_time_to_alert_s']):>9}")
    lines.append(f"normal events: {score_['normal_events']}, false alerts: {score_['false_alerts']} "
                 f"({score_['false_alerts_per_100k_normal_events']} per 100,000), "
                 f"median time to alert: {_fmt(score_['median_time_to_alert_s'])} s")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


_DEFAULTS = EvalSettings()


def register_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="detection quality: simulated scenarios through the real pipeline")
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    p.add_argument("--rate", type=float, default=_DEFAULTS.rate, help="weekday-peak events per simulated second")
    p.add_argument("--speed", type=float, default=_DEFAULTS.speed, help="simulated seconds per wall second")
    p.add_argument("--hours", type=float, default=_DEFAULTS.hours, help="simulated hours to run")
    p.add_argument("--scenarios", default=",".join(_DEFAULTS.scenarios), help="comma list of scenario names")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--workdir", type=Path, default=None, help="where labels go (default: the state dir)")
    p.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace, config: KansaConfig) -> int:
    workdir = args.workdir or config.state_dir
    workdir.mkdir(parents=True, exist_ok=True)
    report = run_eval(config, EvalSettings(seed=args.seed, rate=args.rate, speed=args.speed, hours=args.hours,
                                                  scenarios=parse_scenarios(args.scenarios)),
                      workdir)
    sys.stdout.write((json.dumps(report, indent=2) if args.format == "json" else format_table(report)) + "\n")
    return 0
