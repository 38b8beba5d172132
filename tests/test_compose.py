"""docker-compose.yml, checked by construction (no Docker engine runs here): services, health, files, settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from kansa.config import KansaConfig
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
EXAMPLE = dict(line.split("=", 1) for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#"))
ONE_SHOT = {name for name, s in SERVICES.items() if s.get("restart") == "no"}


def interpolate(value: str) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, from .env.example."""
    def one(match: re.Match[str]) -> str:
        name, op, rest = match[1], match[2], match[3]
        if name in EXAMPLE:
            return EXAMPLE[name]
        assert op == ":-", f"${{{name}}} is not in .env.example and has no default"
        return rest
    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(address if "://" in address else f"//{address}")
    assert parts.hostname, address
    assert parts.port, address
    return parts.hostname, parts.port


def exposed(service: str) -> set[int]:
    spec = SERVICES[service]
    ports = {int(p) for p in spec.get("expose", [])}
    return ports | {int(str(p).rsplit(":", 1)[-1]) for p in spec.get("ports", [])}


def test_the_stack_has_every_required_service() -> None:
    """Kafka, ClickHouse, migrate, two consumers, simulator, Prometheus, Alertmanager and Grafana are defined."""
    assert {"kafka", "clickhouse", "migrate", "topics", "consumer-1", "consumer-2", "simulator", "prometheus",
            "alertmanager", "grafana"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert SERVICES["migrate"]["command"] == ["migrate"]
    assert SERVICES["consumer-1"]["command"] == SERVICES["consumer-2"]["command"] == ["consume"]
    assert SERVICES["simulator"]["command"][:2] == ["simulate", "--rate"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_is_buildable_healthy_and_ordered(name: str) -> None:
    """Image or build; a health check unless one-shot; depends_on targets exist and suit their condition."""
    spec = SERVICES[name]
    assert "image" in spec or "build" in spec
    if "build" in spec:
        assert (REPO / spec["build"] / "Dockerfile").is_file()
    if name not in ONE_SHOT:
        assert spec.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for target, rule in spec.get("depends_on", {}).items():
        assert target in SERVICES, f"{name} depends on unknown {target}"
        if rule["condition"] == "service_healthy":
            assert "healthcheck" in SERVICES[target], f"{name} waits for {target}'s health, which is never checked"
        else:
            assert rule["condition"] == "service_completed_successfully"
            assert target in ONE_SHOT, f"{name} waits for {target} to finish, but it restarts"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_files_and_secrets_exist(name: str) -> None:
    """Every bind-mounted path is in the repository; every secret is declared and filled from .env.example."""
    spec = SERVICES[name]
    for volume in spec.get("volumes", []):
        source = volume.split(":", 1)[0]
        if source.startswith("."):
            assert (REPO / source).exists(), f"{name} mounts missing {source}"
        else:
            assert source in COMPOSE["volumes"], f"{name} uses undeclared volume {source}"
    for secret in spec.get("secrets", []):
        source = secret if isinstance(secret, str) else secret["source"]
        assert source in COMPOSE["secrets"], f"{name} uses undeclared secret {source}"
    for declared in COMPOSE["secrets"].values():
        assert declared["environment"] in EXAMPLE


def _kansa_config(name: str, tmp_path: Path) -> KansaConfig:
    env = {key: interpolate(str(value)) for key, value in SERVICES[name]["environment"].items()}
    mine = {s if isinstance(s, str) else s["source"] for s in SERVICES[name].get("secrets", [])}
    for key, value in list(env.items()):
        if key.endswith("_FILE"):
            secret = value.removeprefix("/run/secrets/")
            assert secret in mine, f"{name}: {key} points at {value}, not one of its secrets"
            path = tmp_path / secret
            path.write_text(EXAMPLE[COMPOSE["secrets"][secret]["environment"]], encoding="utf-8")
            env[key] = str(path)
    return KansaConfig.from_env(env)


@pytest.mark.parametrize("name", sorted(n for n, s in SERVICES.items() if s.get("image") == "kansa:local"))
def test_kansa_settings_are_valid_and_consistent(name: str, tmp_path: Path) -> None:
    """KansaConfig accepts every KANSA_* variable, and its addresses are the services' own hosts and ports."""
    config = _kansa_config(name, tmp_path)
    assert config.profile == "production"
    assert config.subject_key is not None
    bootstrap = host_port(config.kafka.bootstrap_servers)
    advertised = SERVICES["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split("://", 1)[1]
    assert bootstrap == host_port(advertised)
    host, port = host_port(config.storage.dsn)
    assert port in exposed(host)
    assert config.storage.username == SERVICES["clickhouse"]["environment"]["CLICKHOUSE_USER"]
    assert config.storage.database == SERVICES["clickhouse"]["environment"]["CLICKHOUSE_DB"]
    assert config.storage.password == EXAMPLE["CLICKHOUSE_PASSWORD"]
    assert config.alertmanager_url is not None
    host, port = host_port(config.alertmanager_url)
    assert port in exposed(host)
    assert config.metrics_host == "0.0.0.0"


def test_prometheus_scrapes_both_consumers_and_alerts_alertmanager() -> None:
    """deploy/prometheus/prometheus.yml targets consumer-1/2 on the metrics port and Alertmanager on its port."""
    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in prometheus["scrape_configs"] if job["job_name"] == "kansa"
               for group in job["static_configs"] for t in group["targets"]}
    port = int(SERVICES["consumer-1"]["environment"]["KANSA_METRICS_PORT"])
    assert targets == {f"consumer-1:{port}", f"consumer-2:{port}"}
    assert all(port in exposed(host_port(t)[0]) for t in targets)
    alerting = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert all(host_port(t)[1] in exposed(host_port(t)[0]) for t in alerting)
    assert list((REPO / "deploy/prometheus/rules").glob("*.rules.yml"))


def test_alertmanager_secret_files_are_where_its_config_reads_them() -> None:
    """Every *_file path in alertmanager.yml is a secret target of the alertmanager service."""
    config = (REPO / "deploy/alertmanager/alertmanager.yml").read_text(encoding="utf-8")
    wanted = set(re.findall(r"_file:\s*(\S+)", config))
    targets = {s["target"] for s in SERVICES["alertmanager"]["secrets"]}
    assert wanted
    assert wanted <= targets


def test_grafana_has_the_plugin_and_reaches_the_datasources() -> None:
    """Grafana installs the ClickHouse plugin and its provisioned datasources point at exposed service ports."""
    grafana = SERVICES["grafana"]
    assert grafana["environment"]["GF_INSTALL_PLUGINS"].startswith("grafana-clickhouse-datasource")
    sources = yaml.safe_load((REPO / "dashboards/grafana/provisioning/datasources/kansa.yaml").read_text(
        encoding="utf-8"))["datasources"]
    clickhouse = next(s for s in sources if s["type"] == "grafana-clickhouse-datasource")
    assert clickhouse["jsonData"]["port"] in exposed(clickhouse["jsonData"]["host"])
    assert clickhouse["jsonData"]["defaultDatabase"] == SERVICES["clickhouse"]["environment"]["CLICKHOUSE_DB"]
    secret = clickhouse["secureJsonData"]["password"]
    assert secret.removeprefix("$__file{/run/secrets/").rstrip("}") in grafana["secrets"]
    prometheus = next(s for s in sources if s["type"] == "prometheus")
    host, port = host_port(prometheus["url"])
    assert port in exposed(host)


def test_every_interpolated_variable_is_in_the_env_example() -> None:
    """No ${VAR} in the compose file is missing from .env.example unless it has a default."""
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert "${" in text
    interpolate(text)
