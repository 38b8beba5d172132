"""Sub-commands of `kansa`, each a small handler taking (args, config)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kansa.cli import UsageError, print_json, stop_on_signals
from kansa.config import KansaConfig


def register(sub: Any) -> None:
    p = sub.add_parser("migrate", help="apply ClickHouse migrations and print the schema version")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("consume", help="run the consumer until SIGINT/SIGTERM")
    p.add_argument("--max-seconds", type=float, default=None, help="stop after this long (tests, benchmarks)")
    p.set_defaults(handler=cmd_consume)

    p = sub.add_parser("emit", help="send one access event from a JSON file ('-' for stdin)")
    p.add_argument("event", help="path to the event JSON, or -")
    p.add_argument("--fill", action="store_true", help="fill a missing event_id and occurred_at (now)")
    p.set_defaults(handler=cmd_emit)

    p = sub.add_parser("topics", help="create the pipeline's Kafka topics if missing")
    p.set_defaults(handler=cmd_topics)

    p = sub.add_parser("sql", help="run one read-only query against the store and print rows as JSON")
    p.add_argument("query")
    p.set_defaults(handler=cmd_sql)

    from kansa.localstack.up import register_up

    register_up(sub)


def cmd_migrate(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.storage.client import connect
    from kansa.storage.migrate import applied_version, migrate

    client = connect(config.storage)
    applied = migrate(client)
    print_json({"applied": applied, "version": applied_version(client)})
    return 0


def cmd_consume(args: argparse.Namespace, config: KansaConfig) -> int:
    from consumers.app import run_consumer
    from kansa.metrics_server import serve_metrics

    stop = stop_on_signals()
    if args.max_seconds is not None:
        if args.max_seconds <= 0:
            raise UsageError("--max-seconds must be positive")
        import threading

        threading.Timer(args.max_seconds, stop.set).start()
    serve_metrics(config)
    run_consumer(config, stop)
    return 0


def cmd_emit(args: argparse.Namespace, config: KansaConfig) -> int:
    import uuid
    from datetime import UTC, datetime

    from kansa.kafka_clients import make_producer
    from producers.sdk import AccessAuditor
    from schemas.errors import InvalidEvent
    from schemas.validation import access_event_from_json, load_json_file

    try:
        raw = json.load(sys.stdin) if args.event == "-" else load_json_file(args.event)
        if args.fill and isinstance(raw, dict):
            raw.setdefault("event_id", str(uuid.uuid4()))
            raw.setdefault("occurred_at", datetime.now(UTC).isoformat())
        event = access_event_from_json(raw)
    except (InvalidEvent, ValueError) as exc:
        print(f"kansa emit: {args.event}: {exc}", file=sys.stderr)
        return 1
    auditor = AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, event["org"], event["app"],
                            pseudonymiser=_pseudonymiser(config))
    with auditor:
        auditor.send(event)
    print_json({"event_id": str(event["event_id"]), "topic": config.kafka.events_topic})
    return 0


def cmd_topics(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.kafka_clients import ensure_topics

    print_json({"created": ensure_topics(config.kafka)})
    return 0


def cmd_sql(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.storage.client import connect

    client = connect(config.storage)
    result = client.query(args.query, settings={"readonly": 1})
    print_json([dict(zip(result.column_names, row, strict=True)) for row in result.result_rows])
    return 0


def _pseudonymiser(config: KansaConfig) -> Any:
    from producers.pseudonym import SubjectPseudonymiser

    if config.subject_key is None or config.subject_key_id is None:
        return None
    return SubjectPseudonymiser(config.subject_key_id, config.subject_key)
