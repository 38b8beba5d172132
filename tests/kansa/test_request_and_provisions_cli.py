"""`kansa request` files subject requests on their topic; `kansa report provisions` prints the Art. 29 records."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, date, datetime

import pytest
from kafka import KafkaConsumer

from kansa.cli import main
from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics
from kansa.storage.client import connect
from kansa.storage.migrate import migrate
from producers.pseudonym import SubjectPseudonymiser
from schemas.codec import AvroCodec
from schemas.registry import SUBJECT_REQUEST, SchemaRegistry
from tests.consumers.running import config_env


@pytest.fixture
def env(pipeline_config: KansaConfig, monkeypatch: pytest.MonkeyPatch) -> KansaConfig:
    for name, value in config_env(pipeline_config).items():
        if name.startswith("KANSA_"):
            monkeypatch.setenv(name, value)
    return pipeline_config


def test_request_is_filed_pseudonymised_with_the_configured_key(env: KansaConfig, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The request on the topic carries the same pseudonym the SDK would send, never the raw id."""
    ensure_topics(env.kafka)
    monkeypatch.setenv("KANSA_SUBJECT_KEY", "a-test-key-of-enough-length")
    monkeypatch.setenv("KANSA_SUBJECT_KEY_ID", "k1")
    code = main(["request", "--org", "weia", "--subject", "client-emp-8841", "--kind", "suspend_use",
                 "--effective-at", "2026-11-20T09:00:00+09:00", "--reference", "case-12"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    expected = SubjectPseudonymiser("k1", b"a-test-key-of-enough-length").pseudonym("weia", "client-emp-8841")
    assert printed["subject_id"] == expected
    consumer = KafkaConsumer(env.kafka.requests_topic, bootstrap_servers=env.kafka.bootstrap_servers,
                             auto_offset_reset="earliest", consumer_timeout_ms=4000)
    (record,) = list(consumer)
    consumer.close()
    assert b"client-emp-8841" not in record.value
    request = AvroCodec(SchemaRegistry.load(), SUBJECT_REQUEST).decode(record.value)
    assert (request["subject_id"], request["kind"], request["reference"]) == (expected, "suspend_use", "case-12")
    assert request["effective_at"] == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def test_request_without_offset_is_refused(env: KansaConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """An effective time without a UTC offset is a usage error naming the argument."""
    with pytest.raises(SystemExit) as exited:
        main(["request", "--org", "weia", "--subject", "x", "--kind", "erasure", "--effective-at", "2026-11-20T09:00"])
    assert exited.value.code == 2
    assert "--effective-at" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_provisions_report_prints_the_period(env: KansaConfig, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Only the org's records inside --from/--to are printed, in the chosen format."""
    client = connect(env.storage)
    migrate(client)
    rows = [
        [uuid.uuid4(), date(2026, 11, day), datetime(2026, 11, day, 3, tzinfo=UTC), org, "stripe-japan",
         "Stripe Japan K.K.", f"member-{day}", ["payment_token"], "consent", "payment_settlement"]
        for day, org in ((1, "chiba-cia"), (15, "chiba-cia"), (30, "chiba-cia"), (15, "weia"))
    ]
    client.insert("provision_records", rows, column_names=[
        "event_id", "provided_on", "occurred_at", "org", "recipient", "recipient_name", "subject_id", "categories",
        "basis", "purpose"])
    code = main(["report", "provisions", "--org", "chiba-cia", "--from", "2026-11-10", "--to", "2026-11-30",
                 "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0
    if fmt == "json":
        assert [r["subject_id"] for r in json.loads(out)] == ["member-15", "member-30"]
    elif fmt == "csv":
        assert [r["subject_id"] for r in csv.DictReader(io.StringIO(out))] == ["member-15", "member-30"]
    else:
        assert "member-15" in out
        assert "member-30" in out
        assert "member-1 " not in out


def test_provisions_report_refuses_an_inverted_period(env: KansaConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """--to before --from is a usage error, not an empty report."""
    code = main(["report", "provisions", "--org", "weia", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert code == 2
    assert "before --from" in capsys.readouterr().err
