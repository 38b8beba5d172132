"""One frozen configuration object per process, read once from the environment at the entry point.

Every setting has a `KANSA_*` variable. `KANSA_PROFILE=local` (the default) tunes Kafka
client timeouts for the loopback broker; `production` keeps Kafka's own defaults.
Secrets are read from files named by `*_FILE` variables, never from code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Profile = Literal["local", "production"]
# Where a deployment publishes docs/runbooks.md; every alert links to its rule's entry there.
DEFAULT_RUNBOOK_URL = "https://kansa.example/docs/runbooks.md"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str = "127.0.0.1:9092"
    events_topic: str = "kansa.access-events"
    dlq_topic: str = "kansa.access-events.dlq"
    alerts_topic: str = "kansa.alerts"
    requests_topic: str = "kansa.subject-requests"
    consumer_group: str = "kansa-audit"
    # One on the local broker: tansu's in-memory storage spends more on every fetch as a topic grows,
    # several times more with several partitions (docs/performance.md, "Ninth round"). Production: 4.
    partitions: int = 1
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_interval_ms: int = 60000
    # Small polls keep alerts prompt: a poll's alerts go out once all its records are evaluated.
    max_poll_records: int = 500
    # How long the broker may hold a fetch that finds nothing new. tansu answers such a fetch only
    # when the wait runs out, not when records arrive: at kafka-python's 500 ms default that wait was
    # most of the end-to-end bench's event-to-alert p99.
    fetch_max_wait_ms: int = 100
    fetch_max_bytes: int = 52_428_800
    max_partition_fetch_bytes: int = 8_388_608
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None

    def client_options(self) -> dict[str, Any]:
        """Connection options shared by every kafka-python client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password)
        if self.ssl_cafile:
            options["ssl_cafile"] = self.ssl_cafile
        return options


@dataclass(frozen=True)
class StorageSettings:
    dsn: str = "chdb://.kansa/clickhouse"
    database: str = "kansa"
    username: str = "default"
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class PipelineSettings:
    # Few, large inserts: each insert pays a fixed cost in the engine (four views, the projection)
    # and leaves a part to merge; 1 s batches cost 50 CPU-µs more per event (docs/performance.md).
    batch_max_rows: int = 50_000
    batch_max_seconds: float = 5.0
    dlq_max_consecutive: int = 1_000
    dlq_window: int = 1_000
    dlq_max_ratio: float = 0.5
    write_retry_seconds: float = 30.0
    policy_dir: Path = Path("policies")
    policy_watch_seconds: float = 2.0
    alert_fold_seconds: float = 900.0
    # Anomaly detectors (issue 4): per-org thresholds, checkpoints of per-actor state, SQL detectors.
    detector_thresholds: Path = Path("config/detectors.yaml")
    detector_checkpoint_seconds: float = 30.0
    detector_max_actors: int = 200_000
    detector_idle_seconds: float = 35 * 86400.0
    sql_detector_seconds: float = 60.0


@dataclass(frozen=True)
class KansaConfig:
    profile: Profile = "local"
    kafka: KafkaSettings = KafkaSettings()
    storage: StorageSettings = StorageSettings()
    pipeline: PipelineSettings = PipelineSettings()
    metrics_port: int = 9464
    metrics_host: str = "127.0.0.1"
    alertmanager_url: str | None = None
    runbook_url: str = DEFAULT_RUNBOOK_URL
    subject_key_id: str | None = None
    subject_key: bytes | None = field(default=None, repr=False)
    state_dir: Path = Path(".kansa/state")
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KansaConfig:
        """Build the config from `KANSA_*` variables; unknown `KANSA_*` names are errors, to catch typos."""
        reader = _EnvReader(env)
        profile = reader.choice("KANSA_PROFILE", ("local", "production"), "local")
        kafka_defaults = KafkaSettings() if profile == "local" else KafkaSettings(
            partitions=4, session_timeout_ms=45000, heartbeat_interval_ms=3000, max_poll_interval_ms=300000,
        )
        kafka = _section(reader, "KANSA_KAFKA_", kafka_defaults, secret_files={"sasl_password"})
        storage = _section(reader, "KANSA_CLICKHOUSE_", StorageSettings(), secret_files={"password"})
        pipeline = _section(reader, "KANSA_PIPELINE_", PipelineSettings(), secret_files=set())
        key = reader.secret("KANSA_SUBJECT_KEY")
        config = cls(
            profile=profile,  # type: ignore[arg-type]
            kafka=kafka, storage=storage, pipeline=pipeline,
            metrics_port=reader.integer("KANSA_METRICS_PORT", 9464),
            metrics_host=reader.text("KANSA_METRICS_HOST", "127.0.0.1"),
            alertmanager_url=reader.optional("KANSA_ALERTMANAGER_URL"),
            runbook_url=reader.page_url("KANSA_RUNBOOK_URL", DEFAULT_RUNBOOK_URL),
            subject_key_id=reader.optional("KANSA_SUBJECT_KEY_ID"),
            subject_key=key.encode() if key else None,
            state_dir=Path(reader.text("KANSA_STATE_DIR", ".kansa/state")),
            log_level=reader.choice("KANSA_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
        )
        reader.reject_unknown()
        if config.subject_key and not config.subject_key_id:
            raise ConfigError("KANSA_SUBJECT_KEY_ID must name the key when KANSA_SUBJECT_KEY(_FILE) is set")
        return config


class _EnvReader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._used: set[str] = set()

    def optional(self, name: str) -> str | None:
        self._used.add(name)
        value = self._env.get(name)
        return value if value not in (None, "") else None

    def text(self, name: str, default: str) -> str:
        value = self.optional(name)
        return default if value is None else value

    def integer(self, name: str, default: int) -> int:
        value = self.optional(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a whole number") from None

    def number(self, name: str, default: float) -> float:
        value = self.optional(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: expected a number") from None

    def page_url(self, name: str, default: str) -> str:
        """An absolute http(s) address of a page, without a #fragment (one is appended per link)."""
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment or value.endswith("#"):
            raise ConfigError(f"{name}={value!r}: expected an http(s) address of a page, without a #fragment")
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise ConfigError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        return value

    def secret(self, name: str) -> str | None:
        """A secret comes from NAME_FILE or NAME; both at once is refused as ambiguous."""
        path = self.optional(name + "_FILE")
        if path and self.optional(name) is not None:
            raise ConfigError(f"set {name}_FILE or {name}, not both")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE={path!r}: cannot read: {exc.strerror}") from None
        return self.optional(name)

    def reject_unknown(self) -> None:
        unknown = sorted(k for k in self._env if k.startswith("KANSA_") and k not in self._used)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")


def _section(reader: _EnvReader, prefix: str, defaults: Any, secret_files: set[str]) -> Any:
    changes: dict[str, Any] = {}
    for item in fields(defaults):
        name = prefix + item.name.upper()
        current = getattr(defaults, item.name)
        if item.name in secret_files:
            value: Any = reader.secret(name)
            if value is not None:
                changes[item.name] = value
            continue
        if isinstance(current, bool):
            raw = reader.optional(name)
            if raw is not None:
                changes[item.name] = raw.lower() in ("1", "true", "yes")
        elif isinstance(current, int):
            changes[item.name] = reader.integer(name, current)
        elif isinstance(current, float):
            changes[item.name] = reader.number(name, current)
        elif isinstance(current, Path):
            changes[item.name] = Path(reader.text(name, str(current)))
        else:
            raw = reader.optional(name)
            if raw is not None:
                changes[item.name] = raw
    for name, value in changes.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{prefix}{name.upper()}={value}: must not be negative")
    return replace(defaults, **changes)
