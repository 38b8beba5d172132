"""The `kansa` command line: emit, topics, migrate and sql against the real broker and embedded engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from kansa.cli import main
from kansa.config import KansaConfig
from kansa.localstack.broker import free_port
from kansa.storage.migrate import available_migrations
from schemas.codec import AvroCodec
from schemas.registry import ACCESS_EVENT, SchemaRegistry
from schemas.validation import access_event_from_json
from tests.conftest import POLICY_DIR
from tests.eventdata import sample_paths

KANSA = Path(sys.executable).parent / "kansa"
INVALID = sample_paths("invalid")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KANSA_")}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, pipeline_config: KansaConfig) -> KansaConfig:
    """The process environment describing this test's topics and database, with no stray KANSA_* variables."""
    for name in [k for k in os.environ if k.startswith("KANSA_")]:
        monkeypatch.delenv(name)
    kafka, storage = pipeline_config.kafka, pipeline_config.storage
    for name, value in [("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap_servers),
                        ("KAFKA_EVENTS_TOPIC", kafka.events_topic), ("KAFKA_DLQ_TOPIC", kafka.dlq_topic),
                        ("KAFKA_ALERTS_TOPIC", kafka.alerts_topic),
                        ("KAFKA_REQUESTS_TOPIC", kafka.requests_topic), ("CLICKHOUSE_DSN", storage.dsn),
                        ("CLICKHOUSE_DATABASE", storage.database)]:
        monkeypatch.setenv("KANSA_" + name, value)
    return pipeline_config


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    """Run `kansa ARGS` in this process; returns exit code, stdout parsed as JSON (or None) and stderr."""
    code = main(args)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def read_topic(config: KansaConfig, count: int) -> list[Any]:
    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers, group_id=None)
    try:
        partitions = [TopicPartition(config.kafka.events_topic, p)
                      for p in consumer.partitions_for_topic(config.kafka.events_topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        for _ in range(40):
            for batch in consumer.poll(timeout_ms=250).values():
                records.extend(batch)
            if len(records) >= count:
                break
        return records
    finally:
        consumer.close()


def test_topics_creates_the_pipeline_topics_once(env: KansaConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """`kansa topics` creates the four topics, and a second run creates none."""
    code, created, _ = run(["topics"], capsys)
    kafka = env.kafka
    assert (code, sorted(created["created"])) == (
        0, sorted([kafka.events_topic, kafka.dlq_topic, kafka.alerts_topic, kafka.requests_topic]))
    assert run(["topics"], capsys)[:2] == (0, {"created": []})


def test_emit_sends_a_valid_sample_readable_from_the_topic(
        env: KansaConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """`kansa emit SAMPLE` exits 0, and the same event is on the events topic keyed org:actor."""
    assert run(["topics"], capsys)[0] == 0
    sample = sample_paths("valid")[0]
    expected = access_event_from_json(json.loads(sample.read_text(encoding="utf-8")))
    code, out, _ = run(["emit", str(sample)], capsys)
    assert (code, out) == (0, {"event_id": str(expected["event_id"]), "topic": env.kafka.events_topic})
    [message] = read_topic(env, 1)
    assert message.key == f"{expected['org']}:{expected['actor']['id']}".encode()
    assert AvroCodec(SchemaRegistry.load(), ACCESS_EVENT).decode(message.value) == expected


def test_emit_fill_supplies_id_and_time(env: KansaConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`emit --fill` accepts an event without event_id and occurred_at and sends it with fresh ones."""
    assert run(["topics"], capsys)[0] == 0
    raw = json.loads(sample_paths("valid")[0].read_text(encoding="utf-8"))
    del raw["event_id"], raw["occurred_at"]
    path = tmp_path / "partial.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert run(["emit", str(path)], capsys)[0] == 1
    code, out, _ = run(["emit", "--fill", str(path)], capsys)
    assert code == 0
    [message] = read_topic(env, 1)
    assert str(AvroCodec(SchemaRegistry.load(), ACCESS_EVENT).decode(message.value)["event_id"]) == out["event_id"]


@pytest.mark.parametrize("sample", INVALID, ids=[p.stem for p in INVALID])
def test_emit_of_invalid_sample_exits_1_naming_file_and_field(
        sample: Path, env: KansaConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An invalid event file exits 1 with a message naming the file and the offending field; nothing is sent."""
    spec = json.loads(sample.read_text(encoding="utf-8"))
    path = tmp_path / sample.name
    path.write_text(json.dumps(spec["event"], ensure_ascii=False), encoding="utf-8")
    code, out, err = run(["emit", str(path)], capsys)
    assert (code, out) == (1, None)
    assert err.startswith(f"kansa emit: {path}: {spec['expect']['reason']}")
    if spec["expect"]["field"]:
        assert f"field '{spec['expect']['field']}'" in err


def test_emit_of_missing_or_broken_file_exits_1(env: KansaConfig, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    """A file that is missing or not JSON exits 1 naming the file."""
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    for path in (broken, tmp_path / "absent.json"):
        code, _, err = run(["emit", str(path)], capsys)
        assert code == 1
        assert str(path) in err
        assert "bad_json" in err


@pytest.mark.parametrize("args", [[], ["emit"], ["frobnicate"], ["consume", "--max-seconds", "soon"]])
def test_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Missing or unknown commands and arguments are argparse errors: exit status 2 with usage."""
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    assert "usage: kansa" in capsys.readouterr().err


def test_bad_environment_exits_2_naming_the_variable(
        env: KansaConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt KANSA_* variable stops any command with exit 2 and names the variable."""
    monkeypatch.setenv("KANSA_KAFKA_PARTITION", "4")
    code, _, err = run(["topics"], capsys)
    assert code == 2
    assert "KANSA_KAFKA_PARTITION" in err


def test_unreachable_broker_exits_1_naming_it(
        env: KansaConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """With no broker at the configured address a Kafka command exits 1 with one line naming it, no traceback."""
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("KANSA_KAFKA_BOOTSTRAP_SERVERS", address)
    code, _, err = run(["topics"], capsys)
    assert code == 1
    assert f"the broker at {address} (KANSA_KAFKA_BOOTSTRAP_SERVERS) failed" in err
    assert "Traceback" not in err


def test_log_level_variable_is_accepted_and_checked(env: KansaConfig, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """KANSA_LOG_LEVEL sets the CLI's log level, and a level that does not exist is refused by name."""
    monkeypatch.setenv("KANSA_LOG_LEVEL", "WARNING")
    assert run(["topics"], capsys)[0] == 0
    monkeypatch.setenv("KANSA_LOG_LEVEL", "LOUD")
    code, _, err = run(["topics"], capsys)
    assert code == 2
    assert "KANSA_LOG_LEVEL" in err


def test_sql_prints_rows_as_json(env: KansaConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """`kansa sql QUERY` prints one JSON object per row, keyed by column name."""
    code, rows, _ = run(["sql", "SELECT number AS n, toString(number * 2) AS doubled FROM numbers(3)"], capsys)
    assert (code, rows) == (0, [{"n": 0, "doubled": "0"}, {"n": 1, "doubled": "2"}, {"n": 2, "doubled": "4"}])


def kansa(args: list[str], store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `kansa` script in its own process on its own embedded-engine directory."""
    env = {**clean_env(), "KANSA_CLICKHOUSE_DSN": f"chdb://{store}"}
    return subprocess.run([str(KANSA), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          check=False)


def test_migrate_fresh_store_then_idempotent_and_sql_read_only(tmp_path: Path) -> None:
    """`kansa migrate` applies every migration to a fresh store, a rerun applies none, and sql cannot write."""
    names = [m.name for m in available_migrations()]
    version = available_migrations()[-1].version
    store = tmp_path / "store"
    first = kansa(["migrate"], store, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"applied": names, "version": version}
    second = kansa(["migrate"], store, tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"applied": [], "version": version}
    ledger = kansa(["sql", "SELECT version, name FROM schema_migrations ORDER BY version"], store, tmp_path)
    assert json.loads(ledger.stdout) == [{"version": m.version, "name": m.name} for m in available_migrations()]
    write = kansa(["sql", "CREATE TABLE sneaky (x UInt8) ENGINE = Memory"], store, tmp_path)
    assert write.returncode != 0
    assert "READONLY" in write.stderr


@pytest.mark.parametrize(("variable", "broken", "expected"), [
    ("KANSA_PIPELINE_DETECTOR_THRESHOLDS", "detectors.yaml", "unknown threshold(s) popular_actor"),
    ("KANSA_PIPELINE_POLICY_DIR", "policies", "unknown key 'bogus'"),
])
def test_consume_with_a_bad_thresholds_or_policy_file_exits_2_naming_it(
        tmp_path: Path, variable: str, broken: str, expected: str) -> None:
    """A consumer refuses to start on a bad config/detectors.yaml or policy: one line naming file and key, exit 2."""
    policies = tmp_path / "policies"
    policies.mkdir()
    for source in POLICY_DIR.glob("*.yaml"):
        (policies / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "detectors.yaml").write_text("defaults:\n  popular_actor: 3\n", encoding="utf-8")
    with (policies / "weia.yaml").open("a", encoding="utf-8") as weia:
        weia.write("bogus: 1\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KANSA_")}
    environment.update({variable: str(tmp_path / broken), "KANSA_METRICS_PORT": "0"})
    result = subprocess.run([sys.executable, "-m", "kansa", "consume", "--max-seconds", "5"], env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"kansa: cannot start the consumer: {tmp_path / broken}")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
