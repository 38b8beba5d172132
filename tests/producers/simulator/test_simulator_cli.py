"""`kansa simulate` arguments: each bad value is refused with a message naming the argument."""

from __future__ import annotations

import argparse

import pytest

from kansa.cli import UsageError
from producers.simulator.cli import add_simulate_command, parse_simulate_args


def _parse(*argv: str) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="kansa")
    add_simulate_command(parser.add_subparsers())
    return parse_simulate_args(parser.parse_args(["simulate", *argv]))


def test_defaults_are_real_time_all_scenarios_until_stopped() -> None:
    """With no options: 50 events/s, real time, every scenario, no duration or count, start now."""
    options = _parse()
    assert options["rate"] == 50.0
    assert options["speed"] == 1.0
    assert options["duration"] is None
    assert options["count"] is None
    assert options["start"] is None
    assert len(options["scenarios"]) == 11


def test_good_arguments_are_converted() -> None:
    """Numbers, the scenario list, the aware start time and dry-run output come back typed."""
    options = _parse("--rate", "200", "--duration", "5", "--count", "10", "--seed", "0", "--scenarios",
                     "probing,dormant", "--start", "2026-11-18T10:00:00+09:00", "--speed", "max",
                     "--dry-run", "--out", "/tmp/x.jsonl")
    assert options["rate"] == 200.0
    assert options["count"] == 10
    assert options["seed"] == 0
    assert options["scenarios"] == ("probing", "dormant")
    assert options["speed"] is None
    assert str(options["start"]) == "2026-11-18 10:00:00+09:00"


@pytest.mark.parametrize(("argv", "message"), [
    (("--rate", "0"), "--rate: must be greater than zero"),
    (("--rate", "fast"), "--rate: expected a number"),
    (("--rate", "nan"), "--rate: expected a finite number"),
    (("--duration", "-1"), "--duration: must be greater than zero"),
    (("--count", "0"), "--count: must be at least 1"),
    (("--count", "1.5"), "--count: expected a whole number"),
    (("--seed", "-3"), "--seed: must be at least 0"),
    (("--scenarios", "probing,bogus"), "--scenarios: unknown scenario(s): bogus"),
    (("--start", "2026-11-18T10:00:00"), "--start: needs a UTC offset"),
    (("--start", "tomorrow"), "--start: not an ISO-8601 time"),
    (("--speed", "max"), "--speed max needs --duration or --count"),
    (("--dry-run",), "--dry-run needs --out"),
    (("--out", "/tmp/x.jsonl"), "--out is only used with --dry-run"),
    (("--dry-run", "--out", "/no/such/dir/x.jsonl"), "--out: directory '/no/such/dir' does not exist"),
    (("--labels", "/no/such/dir/l.jsonl"), "--labels: directory '/no/such/dir' does not exist"),
])
def test_bad_arguments_are_refused_clearly(argv: tuple[str, ...], message: str) -> None:
    """The UsageError message names the argument and the problem."""
    with pytest.raises(UsageError) as caught:
        _parse(*argv)
    assert message in str(caught.value)
