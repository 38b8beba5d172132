"""The consumer's /metrics: what operators alert on, valid for promtool, with bounded labels only."""

from __future__ import annotations

import copy
import signal
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaProducer

from kansa import metrics
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.localstack.broker import free_port
from producers.sdk import AccessAuditor
from tests.conftest import system_binary
from tests.consumers.running import config_env, kansa_process, metric, scrape, wait_for
from tests.eventdata import sample_events, stream


def test_metrics_count_the_stream_and_pass_promtool(pipeline_config: KansaConfig, tmp_path: Path) -> None:
    """Events, decisions, rule hits, dead letters and latency are exported; promtool accepts the page."""
    ensure_topics(pipeline_config.kafka)
    events = list(stream(300))
    (violating,) = [copy.deepcopy(e) for e in sample_events() if "recruiter" in (e["request_id"] or "")]
    violating.update({"event_id": uuid.uuid4(), "occurred_at": datetime.now(UTC), "purpose": "never_declared"})
    with AccessAuditor(make_producer(pipeline_config.kafka), pipeline_config.kafka.events_topic, "weia", "t") as sdk:
        for event in [*events, violating]:
            sdk.send(event)
    raw = KafkaProducer(bootstrap_servers=pipeline_config.kafka.bootstrap_servers)
    raw.send(pipeline_config.kafka.events_topic, b"not avro").get(timeout=10)
    raw.close()

    port = free_port()
    env = {**config_env(pipeline_config), "KANSA_METRICS_PORT": str(port),
           "KANSA_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'store'}"}
    process = kansa_process(["consume"], env, tmp_path / "consumer.log")
    try:
        wait_for(lambda: sum(metric(scrape(port), f'kansa_events_consumed_total{{org="{org}"}}')
                             for org in ("chiba-cia", "izumisano-ssw", "weia")) >= 301, 90, "301 events counted")
        wait_for(lambda: metric(scrape(port), 'kansa_dead_lettered_total{reason="bad_magic"}') >= 1, 30,
                 "the dead letter counted")
        # Counted when stored, on the writer's thread; the commit follows on the consumer's next loop.
        wait_for(lambda: metric(scrape(port), "kansa_offset_commits_total") >= 1, 30, "an offset commit counted")
        page = scrape(port)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert metric(page, 'kansa_decisions_total{decision="violation",org="weia"}') >= 1
    assert metric(page, 'kansa_violations_total{org="weia",rule="KP003",severity="critical"}') >= 1
    assert metric(page, "kansa_event_to_stored_seconds_count") > 0
    assert metric(page, "kansa_offset_commits_total") >= 1
    for event in [*events, violating]:
        assert event["actor"]["id"] not in page
        assert (event["subject_id"] or "\0") not in page
    check = subprocess.run([system_binary("promtool"), "check", "metrics"], input=page, capture_output=True,
                           text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


# promtool's lint (client_golang promlint) reads the first unit word it meets, in a map's random order,
# so a name holding a non-base unit beside `seconds` fails the page only now and then.
_BASE_UNITS = ("amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds", "volts")
_NON_BASE_UNITS = ("minutes", "hours", "days", "weeks", "kelvins", "fahrenheit", "rankine", "inches", "yards",
                   "miles", "bits", "calories", "pounds", "ounces")
_UNIT_PREFIXES = ("pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
                  "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi")


def test_metric_names_hold_base_units_only() -> None:
    """No metric name has a word promtool reads as a non-base or prefixed unit (days, milliseconds, ...)."""
    wrong = {*_NON_BASE_UNITS, *(p + u for p in _UNIT_PREFIXES for u in (*_BASE_UNITS, *_NON_BASE_UNITS))}
    names = [family.name for family in metrics.REGISTRY.collect()]
    assert len(names) > 10
    assert [(name, word) for name in names for word in name.split("_") if word in wrong] == []
