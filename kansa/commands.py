"""Sub-commands of `kansa`, each a small handler taking (args, config)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kansa.cli import OperationFailed, UsageError, print_json, stop_on_signals
from kansa.config import ConfigError, KansaConfig
from kansa.reports.output import FORMATS


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

    p = sub.add_parser("request", help="file a data-subject request (suspension of use, erasure, ...)")
    p.add_argument("--org", required=True)
    p.add_argument("--subject", required=True, help="the subject id as the apps send it (pseudonymised here "
                   "with KANSA_SUBJECT_KEY when the apps pseudonymise)")
    p.add_argument("--kind", required=True, choices=("suspend_use", "erasure", "stop_provision", "withdraw"))
    p.add_argument("--effective-at", type=_aware_time, default=None, help="ISO-8601 with offset (default: now)")
    p.add_argument("--reference", default=None, help="the organisation's case number")
    p.set_defaults(handler=cmd_request)

    report = sub.add_parser("report", help="reports from the store")
    reports = report.add_subparsers(required=True, metavar="REPORT")
    p = reports.add_parser("provisions", help="records of provision to third parties (APPI Art. 29)")
    p.add_argument("--org", required=True)
    p.add_argument("--from", dest="start", type=_date, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(handler=cmd_report_provisions)
    p = reports.add_parser("subject", help="subject access report: every access to one person's data "
                           "(APPI Art. 33, GDPR Art. 15)")
    p.add_argument("--org", required=True)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--subject", help="the id the organisation knows the person by (pseudonymised here with "
                     "KANSA_SUBJECT_KEY, as the SDK does, when the key is set)")
    who.add_argument("--pseudonym", help="the subject id exactly as stored (e.g. from a dashboard)")
    p.add_argument("--show-staff", action="store_true", help="name the staff members, not only their roles")
    _period_arguments(p, required=False)
    p.set_defaults(handler=cmd_report_subject)
    p = reports.add_parser("actor", help="what one staff member or service did, with violations and alerts")
    p.add_argument("--org", required=True)
    p.add_argument("--actor", required=True, help="the actor id as the apps send it")
    _period_arguments(p, required=True)
    p.set_defaults(handler=cmd_report_actor)
    p = reports.add_parser("violations", help="rule breaches per organisation and rule in a period")
    p.add_argument("--org", default=None, help="one organisation (default: all)")
    _period_arguments(p, required=True)
    p.set_defaults(handler=cmd_report_violations)

    from consumers.policy.cli import add_policy_commands
    from kansa.bench.cli import register_bench
    from kansa.localstack.up import register_up
    from kansa.quality.eval import register_eval
    from producers.simulator.cli import add_simulate_command

    add_policy_commands(sub)
    add_simulate_command(sub)
    register_eval(sub)
    register_up(sub)
    register_bench(sub)


def cmd_migrate(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.storage.client import connect
    from kansa.storage.migrate import applied_version, migrate

    client = connect(config.storage)
    applied = migrate(client)
    print_json({"applied": applied, "version": applied_version(client)})
    return 0


def cmd_consume(args: argparse.Namespace, config: KansaConfig) -> int:
    from consumers.app import run_consumer
    from consumers.detectors import ThresholdsError
    from consumers.policy import PolicyError
    from kansa.metrics_server import serve_metrics

    stop = stop_on_signals()
    if args.max_seconds is not None:
        if args.max_seconds <= 0:
            raise UsageError("--max-seconds must be positive")
        import threading

        threading.Timer(args.max_seconds, stop.set).start()
    serve_metrics(config)
    try:
        run_consumer(config, stop)
    except (PolicyError, ThresholdsError) as exc:
        # Only at start: a bad edit while running is refused and the files in force stay.
        raise ConfigError(f"cannot start the consumer: {exc}") from None
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
    from kafka.errors import KafkaError

    from producers.sdk import DeliveryError

    try:
        auditor = AccessAuditor(make_producer(config.kafka), config.kafka.events_topic, event["org"], event["app"],
                                pseudonymiser=_pseudonymiser(config))
        with auditor:
            auditor.send(event)
    except (KafkaError, DeliveryError) as exc:
        raise OperationFailed(f"emit {event['event_id']} to {config.kafka.bootstrap_servers}: {exc}") from exc
    print_json({"event_id": str(event["event_id"]), "topic": config.kafka.events_topic})
    return 0


def cmd_topics(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.kafka_clients import ensure_topics

    print_json({"created": ensure_topics(config.kafka)})
    return 0


def cmd_sql(args: argparse.Namespace, config: KansaConfig) -> int:
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from kansa.storage.client import connect

    client = connect(config.storage)
    try:
        result = client.query(args.query, settings={"readonly": 1})
    except ClickHouseError as exc:
        raise OperationFailed(f"query refused: {str(exc).splitlines()[0]}") from exc
    print_json([dict(zip(result.column_names, row, strict=True)) for row in result.result_rows])
    return 0


def cmd_request(args: argparse.Namespace, config: KansaConfig) -> int:
    import uuid
    from datetime import UTC, datetime

    from kansa.kafka_clients import close_producer, make_producer
    from producers.subject_requests import file_request
    from schemas.records import SubjectRequest

    now = datetime.now(UTC)
    pseudonymiser = _pseudonymiser(config)
    subject = pseudonymiser.pseudonym(args.org, args.subject) if pseudonymiser else args.subject
    request: SubjectRequest = {
        "request_id": uuid.uuid4(), "org": args.org, "subject_id": subject, "kind": args.kind,
        "effective_at": args.effective_at or now, "received_at": now, "reference": args.reference,
    }
    producer = make_producer(config.kafka)
    try:
        file_request(producer, config.kafka.requests_topic, request)
    finally:
        close_producer(producer, 30)
    print_json({"request_id": str(request["request_id"]), "subject_id": subject, "kind": args.kind,
                "effective_at": request["effective_at"].isoformat()})
    return 0


def cmd_report_provisions(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.reports.output import render
    from kansa.reports.provisions import COLUMNS, provision_rows
    from kansa.storage.client import connect

    if args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    rows = provision_rows(connect(config.storage), args.org, args.start, args.end)
    sys.stdout.write(render(COLUMNS, rows, args.format))
    return 0


def _period_arguments(p: Any, required: bool) -> None:
    p.add_argument("--from", dest="start", type=_date, required=required, help="first day (UTC), YYYY-MM-DD")
    p.add_argument("--to", dest="end", type=_date, required=required, help="last day (UTC), YYYY-MM-DD")
    p.add_argument("--format", choices=FORMATS, default="table", help="html is one self-contained page")


def _report_period(args: argparse.Namespace) -> Any:
    from kansa.reports.document import Period

    if args.start and args.end and args.end < args.start:
        raise UsageError(f"--to {args.end} is before --from {args.start}")
    return Period.of_days(args.start, args.end)


def cmd_report_subject(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.reports.document import render_report
    from kansa.reports.subject import stored_subject_id, subject_report
    from kansa.storage.client import connect

    period = _report_period(args)
    subject = args.pseudonym or stored_subject_id(args.org, args.subject, _pseudonymiser(config))
    report = subject_report(connect(config.storage), args.org, subject, period, show_staff=args.show_staff)
    sys.stdout.write(render_report(report, args.format))
    return 0


def cmd_report_actor(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.reports.actor import actor_report
    from kansa.reports.document import render_report
    from kansa.storage.client import connect

    report = actor_report(connect(config.storage), args.org, args.actor, _report_period(args))
    sys.stdout.write(render_report(report, args.format))
    return 0


def cmd_report_violations(args: argparse.Namespace, config: KansaConfig) -> int:
    from kansa.reports.document import render_report
    from kansa.reports.violations import violations_report
    from kansa.storage.client import connect

    report = violations_report(connect(config.storage), _report_period(args), args.org)
    sys.stdout.write(render_report(report, args.format))
    return 0


def _aware_time(text: str) -> Any:
    from datetime import datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. 2026-11-20T09:00:00+09:00")
    return value


def _date(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _pseudonymiser(config: KansaConfig) -> Any:
    from producers.pseudonym import SubjectPseudonymiser

    if config.subject_key is None or config.subject_key_id is None:
        return None
    return SubjectPseudonymiser(config.subject_key_id, config.subject_key)
