"""KansaConfig.from_env: every setting from a KANSA_* variable, typos and bad values named, secrets from files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from kansa.config import ConfigError, KansaConfig


def test_empty_environment_gives_local_defaults() -> None:
    """With no KANSA_* variables the config is the local profile's defaults."""
    config = KansaConfig.from_env({"HOME": "/root", "PATH": "/usr/bin"})
    assert config == KansaConfig()
    assert config.profile == "local"
    assert config.kafka.session_timeout_ms == 6000
    assert config.subject_key is None


def test_variables_are_parsed_into_typed_settings() -> None:
    """Text, whole numbers, numbers and paths land in their sections with the right types."""
    config = KansaConfig.from_env({
        "KANSA_KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "KANSA_KAFKA_PARTITIONS": "12",
        "KANSA_KAFKA_EVENTS_TOPIC": "events", "KANSA_CLICKHOUSE_DSN": "https://ch.example:8443",
        "KANSA_CLICKHOUSE_DATABASE": "audit", "KANSA_PIPELINE_BATCH_MAX_SECONDS": "2.5",
        "KANSA_PIPELINE_POLICY_DIR": "/etc/kansa/policies", "KANSA_METRICS_PORT": "9500",
        "KANSA_ALERTMANAGER_URL": "http://am:9093", "KANSA_STATE_DIR": "/var/lib/kansa",
    })
    assert config.kafka.client_options()["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert (config.kafka.partitions, config.kafka.events_topic) == (12, "events")
    assert (config.storage.dsn, config.storage.database) == ("https://ch.example:8443", "audit")
    assert config.pipeline.batch_max_seconds == 2.5
    assert config.pipeline.policy_dir == Path("/etc/kansa/policies")
    assert (config.metrics_port, config.alertmanager_url) == (9500, "http://am:9093")
    assert config.state_dir == Path("/var/lib/kansa")


def test_empty_value_means_default() -> None:
    """An empty variable (e.g. `KANSA_KAFKA_PARTITIONS=`) keeps the default rather than failing."""
    assert KansaConfig.from_env({"KANSA_KAFKA_PARTITIONS": "", "KANSA_ALERTMANAGER_URL": ""}) == KansaConfig()


def test_production_profile_uses_kafka_defaults_and_variables_still_win() -> None:
    """`production` restores Kafka's longer client timeouts and four partitions; an explicit variable wins."""
    production = KansaConfig.from_env({"KANSA_PROFILE": "production"})
    assert production.profile == "production"
    assert (production.kafka.session_timeout_ms, production.kafka.heartbeat_interval_ms,
            production.kafka.max_poll_interval_ms, production.kafka.partitions) == (45000, 3000, 300000, 4)
    assert KansaConfig.from_env({}).kafka.partitions == 1
    tuned = KansaConfig.from_env({"KANSA_PROFILE": "production", "KANSA_KAFKA_SESSION_TIMEOUT_MS": "10000"})
    assert tuned.kafka.session_timeout_ms == 10000
    assert tuned.kafka.heartbeat_interval_ms == 3000


def test_runbook_address_is_a_page_to_link_into() -> None:
    """KANSA_RUNBOOK_URL is taken as given when it is an http(s) page address."""
    url = "https://wiki.example.org/security/kansa/runbooks.md"
    assert KansaConfig.from_env({"KANSA_RUNBOOK_URL": url}).runbook_url == url


@pytest.mark.parametrize("value", ["wiki/runbooks.md", "ftp://example.org/runbooks.md", "https:///runbooks.md",
                                   "https://example.org/runbooks.md#kp001", "https://example.org/runbooks.md#"])
def test_runbook_address_that_cannot_take_an_anchor_is_refused(value: str) -> None:
    """A relative, non-http(s), hostless or #fragment address names KANSA_RUNBOOK_URL and the value."""
    with pytest.raises(ConfigError, match=re.escape(f"KANSA_RUNBOOK_URL={value!r}")):
        KansaConfig.from_env({"KANSA_RUNBOOK_URL": value})


def test_unknown_profile_is_refused() -> None:
    """A profile other than local/production names KANSA_PROFILE."""
    with pytest.raises(ConfigError, match="KANSA_PROFILE='staging'"):
        KansaConfig.from_env({"KANSA_PROFILE": "staging"})


def test_unknown_kansa_variable_is_rejected_by_name() -> None:
    """A misspelt KANSA_* variable is an error naming it; other variables are ignored."""
    with pytest.raises(ConfigError, match=r"KANSA_KAFKA_BOOTSTRAP_SERVER\b"):
        KansaConfig.from_env({"KANSA_KAFKA_BOOTSTRAP_SERVER": "k:9092", "KAFKA_HOME": "/opt"})


@pytest.mark.parametrize("name", ["KANSA_KAFKA_PARTITIONS", "KANSA_METRICS_PORT", "KANSA_KAFKA_MAX_POLL_RECORDS"])
def test_bad_integer_names_the_variable(name: str) -> None:
    """A whole-number setting given `four` fails naming the variable and value."""
    with pytest.raises(ConfigError, match=f"{name}='four': expected a whole number"):
        KansaConfig.from_env({name: "four"})


def test_bad_number_and_negative_value_name_the_variable() -> None:
    """A non-number float and a negative count are refused, naming the variable."""
    with pytest.raises(ConfigError, match="KANSA_PIPELINE_DLQ_MAX_RATIO='half'"):
        KansaConfig.from_env({"KANSA_PIPELINE_DLQ_MAX_RATIO": "half"})
    with pytest.raises(ConfigError, match="KANSA_KAFKA_PARTITIONS=-1: must not be negative"):
        KansaConfig.from_env({"KANSA_KAFKA_PARTITIONS": "-1"})


def test_secrets_come_from_files(tmp_path: Path) -> None:
    """*_FILE variables supply passwords and the subject key (trailing newline stripped)."""
    files = {}
    for name, text in [("ch", "ch-secret\n"), ("sasl", "sasl-secret\n"), ("key", "subject-key-0123456789\n")]:
        files[name] = tmp_path / name
        files[name].write_text(text, encoding="utf-8")
    config = KansaConfig.from_env({
        "KANSA_CLICKHOUSE_PASSWORD_FILE": str(files["ch"]), "KANSA_KAFKA_SASL_MECHANISM": "PLAIN",
        "KANSA_KAFKA_SASL_USERNAME": "kansa", "KANSA_KAFKA_SASL_PASSWORD_FILE": str(files["sasl"]),
        "KANSA_SUBJECT_KEY_FILE": str(files["key"]), "KANSA_SUBJECT_KEY_ID": "k2026-01",
    })
    assert config.storage.password == "ch-secret"
    assert config.kafka.sasl_password == "sasl-secret"
    assert config.kafka.client_options()["sasl_plain_password"] == "sasl-secret"
    assert (config.subject_key, config.subject_key_id) == (b"subject-key-0123456789", "k2026-01")
    assert "secret" not in repr(config)
    assert "subject-key" not in repr(config)


def test_plain_secret_variable_and_missing_file(tmp_path: Path) -> None:
    """NAME alone supplies the secret; an unreadable NAME_FILE is an error naming the variable."""
    assert KansaConfig.from_env({"KANSA_CLICKHOUSE_PASSWORD": "from-env"}).storage.password == "from-env"
    with pytest.raises(ConfigError, match=r"KANSA_CLICKHOUSE_PASSWORD_FILE=.*cannot read"):
        KansaConfig.from_env({"KANSA_CLICKHOUSE_PASSWORD_FILE": str(tmp_path / "absent")})


def test_secret_in_both_file_and_variable_is_refused(tmp_path: Path) -> None:
    """With both NAME_FILE and NAME set, the config refuses the ambiguity and names both variables."""
    secret = tmp_path / "pw"
    secret.write_text("from-file", encoding="utf-8")
    env = {"KANSA_CLICKHOUSE_PASSWORD": "from-env", "KANSA_CLICKHOUSE_PASSWORD_FILE": str(secret)}
    with pytest.raises(ConfigError, match="KANSA_CLICKHOUSE_PASSWORD_FILE or KANSA_CLICKHOUSE_PASSWORD"):
        KansaConfig.from_env(env)


def test_subject_key_without_key_id_is_refused() -> None:
    """A pseudonym key with no key id is refused (the id is stored with every pseudonym)."""
    with pytest.raises(ConfigError, match="KANSA_SUBJECT_KEY_ID"):
        KansaConfig.from_env({"KANSA_SUBJECT_KEY": "subject-key-0123456789"})
    config = KansaConfig.from_env({"KANSA_SUBJECT_KEY": "subject-key-0123456789", "KANSA_SUBJECT_KEY_ID": "k1"})
    assert config.subject_key == b"subject-key-0123456789"


def test_config_is_frozen() -> None:
    """The config cannot be changed in place, nor can its sections."""
    config = KansaConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.metrics_port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.kafka.partitions = 1  # type: ignore[misc]
