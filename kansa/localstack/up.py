"""`kansa up`: broker, topics, embedded ClickHouse, consumer, metrics and simulated apps in one process tree."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import threading
from pathlib import Path
from typing import Any

from kansa.cli import UsageError, stop_on_signals
from kansa.config import KansaConfig
from kansa.localstack.broker import LocalBroker

log = logging.getLogger(__name__)


def register_up(sub: Any) -> None:
    p = sub.add_parser("up", help="run the whole pipeline locally on embedded defaults until Ctrl-C")
    p.add_argument("--data-dir", type=Path, default=Path(".kansa"), help="embedded ClickHouse, logs (default .kansa)")
    p.add_argument("--broker-port", type=int, default=9092, help="loopback port for the broker (0: any free port)")
    p.add_argument("--rate", type=float, default=50.0, help="simulated events per second (0: no simulator)")
    p.add_argument("--seed", type=int, default=1, help="simulator seed")
    p.add_argument("--scenarios", default="all", help="scenarios to inject: all, none, or a comma list")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.set_defaults(handler=cmd_up)


def cmd_up(args: argparse.Namespace, config: KansaConfig) -> int:
    if args.rate < 0:
        raise UsageError("--rate must not be negative")
    if not 0 <= args.broker_port < 65536:
        raise UsageError("--broker-port must be 0..65535")
    from producers.simulator import parse_scenarios

    try:
        args.scenarios = parse_scenarios(args.scenarios)
    except ValueError as exc:
        raise UsageError(f"--scenarios: {exc}") from None
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = stop_on_signals()
    if args.duration is not None:
        threading.Timer(args.duration, stop.set).start()
    with LocalBroker(port=args.broker_port, log_path=data_dir / "broker.log") as broker:
        config = local_config(config, broker.bootstrap, data_dir)
        return run_stack(config, stop, args, data_dir)


def local_config(config: KansaConfig, bootstrap: str, data_dir: Path) -> KansaConfig:
    """The local stack's settings, with every path absolute.

    The first import of the embedded engine changes the process's working directory for a moment
    (chdb's package import does), so a relative path opened by another thread then can fail.
    """
    pipeline = config.pipeline
    return dataclasses.replace(
        config,
        kafka=dataclasses.replace(config.kafka, bootstrap_servers=bootstrap),
        storage=dataclasses.replace(config.storage, dsn=f"chdb://{data_dir / 'clickhouse'}"),
        pipeline=dataclasses.replace(pipeline, policy_dir=pipeline.policy_dir.resolve(),
                                     detector_thresholds=pipeline.detector_thresholds.resolve()),
        state_dir=data_dir / "state",
    )


def run_stack(config: KansaConfig, stop: threading.Event, args: argparse.Namespace, data_dir: Path) -> int:
    import chdb  # noqa: F401  - imported here, before any thread starts: see local_config

    from consumers.app import run_consumer
    from kansa.kafka_clients import ensure_topics
    from kansa.metrics_server import serve_metrics
    from producers.simulator import run_simulation

    ensure_topics(config.kafka)
    metrics_port = serve_metrics(config)
    failures: list[BaseException] = []

    def guarded(name: str, target: Any, *target_args: Any) -> threading.Thread:
        def body() -> None:
            try:
                target(*target_args)
            except BaseException as exc:
                log.exception("%s stopped with an error", name)
                failures.append(exc)
                stop.set()
        thread = threading.Thread(target=body, name=name)
        thread.start()
        return thread

    threads = [guarded("consumer", run_consumer, config, stop)]
    labels = data_dir / "labels.jsonl"
    if args.rate > 0:
        threads.append(guarded("simulator", run_simulation, config, stop, args.rate, None, args.seed,
                               args.scenarios, labels))
    print_banner(config, metrics_port, data_dir, args.rate, labels)
    stop.wait()
    for thread in threads:
        thread.join()
    return 1 if failures else 0


def print_banner(config: KansaConfig, metrics_port: int | None, data_dir: Path, rate: float, labels: Path) -> None:
    lines = [
        "kansa is running (Ctrl-C stops it cleanly: the batch in hand is written and committed).",
        f"  broker        {config.kafka.bootstrap_servers}  topics {config.kafka.events_topic}, "
        f"{config.kafka.dlq_topic}, {config.kafka.alerts_topic}, {config.kafka.requests_topic}",
        f"  clickhouse    {config.storage.dsn} (database {config.storage.database})",
        f"  metrics       http://{config.metrics_host}:{metrics_port}/metrics"
        if metrics_port else "  metrics       off",
        f"  simulator     {rate:g} events/s for izumisano-ssw, chiba-cia, weia; labels in {labels}"
        if rate else "  simulator     off",
        f"  query         KANSA_CLICKHOUSE_DSN=chdb://{(data_dir / 'clickhouse').resolve()} kansa sql "
        "'SELECT org, decision, count() FROM access_events GROUP BY ALL'  (after stopping: one process per store)",
    ]
    print("\n".join(lines), flush=True)
