"""`kansa simulate`: argument parsing and validation; the work is in driver.run_simulation."""

from __future__ import annotations

import argparse
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kansa.cli import UsageError, print_json, stop_on_signals
from kansa.config import KansaConfig
from producers.simulator.stream import Schedule, parse_scenarios


def add_simulate_command(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate", help="generate access events for the seed organisations (with labelled misuse scenarios)",
        description="Normal traffic follows each organisation's roles and business hours (Asia/Tokyo); "
                    "scenarios inject labelled misuse. Stops after --duration, --count, or Ctrl-C.")
    p.add_argument("--rate", default="50", help="events per second at the weekday peak (default 50)")
    p.add_argument("--duration", default=None, help="seconds to run (default: until Ctrl-C)")
    p.add_argument("--count", default=None, help="stop after this many events")
    p.add_argument("--seed", default="1", help="same seed, same events (default 1)")
    p.add_argument("--scenarios", default="all", help="comma list of scenario names, or all, or none")
    p.add_argument("--labels", default=None, metavar="PATH", help="append scenario labels to this JSONL file")
    p.add_argument("--start", default=None, help="simulated start time, ISO-8601 with offset (default now)")
    p.add_argument("--speed", default="1", help="simulated seconds per real second, or 'max' for unpaced "
                                                "(default 1: real time)")
    p.add_argument("--scenario-every", default="600", help="simulated seconds between scenarios (default 600)")
    p.add_argument("--warmup", default="600", help="simulated seconds of normal traffic before the first "
                                                   "scenario (default 600)")
    p.add_argument("--dry-run", action="store_true", help="write JSON lines to --out instead of Kafka")
    p.add_argument("--out", default=None, metavar="FILE.jsonl", help="events file for --dry-run")
    p.set_defaults(handler=cmd_simulate)


def parse_simulate_args(args: argparse.Namespace) -> dict[str, Any]:
    """Check every argument and return run_simulation's keyword arguments; UsageError names the bad one."""
    rate = _positive("--rate", args.rate)
    duration = _positive("--duration", args.duration) if args.duration is not None else None
    count = _whole("--count", args.count) if args.count is not None else None
    seed = _whole("--seed", args.seed, minimum=0)
    try:
        scenarios = parse_scenarios(args.scenarios)
    except ValueError as exc:
        raise UsageError(f"--scenarios: {exc}") from None
    start = _start(args.start) if args.start is not None else None
    speed = None if args.speed == "max" else _positive("--speed", args.speed)
    if speed is None and duration is None and count is None:
        raise UsageError("--speed max needs --duration or --count (it would otherwise fill the topic forever)")
    schedule = Schedule(timedelta(seconds=_positive("--scenario-every", args.scenario_every)),
                        timedelta(seconds=_positive("--warmup", args.warmup, allow_zero=True)))
    if args.dry_run and not args.out:
        raise UsageError("--dry-run needs --out FILE.jsonl")
    if args.out and not args.dry_run:
        raise UsageError("--out is only used with --dry-run")
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out: directory {str(out.parent)!r} does not exist")
    labels = Path(args.labels) if args.labels else None
    if labels is not None and not labels.parent.is_dir():
        raise UsageError(f"--labels: directory {str(labels.parent)!r} does not exist")
    return {"rate": rate, "duration": duration, "count": count, "seed": seed, "scenarios": scenarios,
            "labels_path": labels, "start": start, "speed": speed, "schedule": schedule, "dry_run_out": out}


def cmd_simulate(args: argparse.Namespace, config: KansaConfig) -> int:
    from producers.simulator.driver import run_simulation

    options = parse_simulate_args(args)
    summary = run_simulation(config, stop_on_signals(), **options)
    print_json(summary.to_json())
    return 0


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{name}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{name}: expected a finite number, got {text!r}")
    return value


def _positive(name: str, text: str, allow_zero: bool = False) -> float:
    value = _number(name, text)
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{name}: must be {'zero or more' if allow_zero else 'greater than zero'}, got {text!r}")
    return value


def _whole(name: str, text: str, minimum: int = 1) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name}: expected a whole number, got {text!r}") from None
    if value < minimum:
        raise UsageError(f"{name}: must be at least {minimum}, got {text!r}")
    return value


def _start(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--start: not an ISO-8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise UsageError(f"--start: needs a UTC offset, e.g. 2026-11-18T10:00:00+09:00 (got {text!r})")
    return value
