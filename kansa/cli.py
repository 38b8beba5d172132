"""`kansa` command line. The config object is built here, once, and passed down."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from kafka.errors import KafkaError

from kansa.config import ConfigError, KansaConfig
from kansa.storage.client import StorageError

Handler = Callable[[argparse.Namespace, KansaConfig], int]


class UsageError(Exception):
    """Bad command-line input; the message says which argument and why."""


class OperationFailed(Exception):
    """The command was well formed but the broker or the store refused it; the message says what failed."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    broker = "the broker"
    try:
        config = KansaConfig.from_env(os.environ)
        broker = f"the broker at {config.kafka.bootstrap_servers} (KANSA_KAFKA_BOOTSTRAP_SERVERS)"
        logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # kafka-python logs every connection at INFO; its warnings and errors are what operators need.
        logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(config.log_level)))
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            # `policy` commands work on files alone and take only their arguments.
            return int(args.func(args))
        return handler(args, config)
    except (ConfigError, UsageError) as exc:
        print(f"kansa: {exc}", file=sys.stderr)
        return 2
    except (OperationFailed, StorageError) as exc:
        print(f"kansa: {exc}", file=sys.stderr)
        return 1
    except KafkaError as exc:
        # Commands that need Kafka let the client's error come here: it means the broker is away or refused.
        print(f"kansa: {broker} failed: {exc}; is it running? `kansa up` starts a local one", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    from kansa import commands

    parser = argparse.ArgumentParser(prog="kansa", description="Personal-data access-audit pipeline.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    commands.register(sub)
    return parser


def stop_on_signals() -> threading.Event:
    """SIGINT and SIGTERM set the event; the pipeline finishes its batch, writes, commits and exits."""
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        logging.getLogger("kansa").info("signal %d: finishing the batch in hand, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))
