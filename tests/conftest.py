"""Shared fixtures. Alert fixtures (issue 5) first: the local broker and real Alertmanager processes."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from kansa.config import KafkaSettings, KansaConfig, PipelineSettings, StorageSettings
from kansa.localstack.broker import LocalBroker, free_port, terminate
from kansa.storage.client import connect
from kansa.storage.migrate import migrate

REPO = Path(__file__).resolve().parent.parent
POLICY_DIR = REPO / "policies"

INSTALL_HINT = "run `sudo bash scripts/install-system-deps.sh` (CI runs it before the tests)"


def system_binary(name: str) -> str:
    """The path of a Debian-packaged binary; fails (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def broker() -> Iterator[LocalBroker]:
    """One tansu broker for the session; tests isolate themselves with their own topics and groups."""
    with LocalBroker() as running:
        yield running


class AlertmanagerProcess:
    """A real prometheus-alertmanager on a loopback port; stop() and start() keep port and storage."""

    def __init__(self, config_file: Path, storage: Path) -> None:
        self.config_file = config_file
        self.storage = storage
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = storage.parent / f"alertmanager-{self.port}.log"

    def start(self, timeout: float = 20.0) -> AlertmanagerProcess:
        log = self._log.open("ab")
        self._process = subprocess.Popen(
            [system_binary("prometheus-alertmanager"), f"--config.file={self.config_file}",
             f"--storage.path={self.storage}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=debug"],
            stdout=log, stderr=log,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"alertmanager exited with {self._process.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"alertmanager not ready on {self.url} within {timeout:.0f} s:\n{self.log_text()}")

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process)
        self._process = None

    def log_text(self) -> str:
        return self._log.read_text(errors="replace")[-4000:] if self._log.exists() else ""


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Callable[[str], AlertmanagerProcess]]:
    """Factory: start Alertmanager with the given YAML text; every process is stopped after the test."""
    started: list[AlertmanagerProcess] = []

    def start(config_text: str) -> AlertmanagerProcess:
        index = len(started)
        config_file = tmp_path / f"alertmanager-{index}.yml"
        config_file.write_text(config_text, encoding="utf-8")
        storage = tmp_path / f"alertmanager-data-{index}"
        storage.mkdir()
        process = AlertmanagerProcess(config_file, storage)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


# --- Pipeline fixtures (issue 2): per-test topics and databases on the session broker and engine.

@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded engine allows one data directory per process, so the session shares one."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def pipeline_config(broker: LocalBroker, chdb_dir: Path, tmp_path: Path) -> KansaConfig:
    """A config with topics, group and database of this test's own, on the session broker and engine."""
    suffix = uuid.uuid4().hex[:10]
    return KansaConfig(
        kafka=KafkaSettings(
            bootstrap_servers=broker.bootstrap, events_topic=f"events-{suffix}", dlq_topic=f"dlq-{suffix}",
            alerts_topic=f"alerts-{suffix}", requests_topic=f"requests-{suffix}", consumer_group=f"group-{suffix}",
            partitions=4,
        ),
        storage=StorageSettings(dsn=f"chdb://{chdb_dir}", database=f"t_{suffix}"),
        pipeline=PipelineSettings(batch_max_rows=2_000, batch_max_seconds=0.5, policy_dir=POLICY_DIR),
        metrics_port=0,
        state_dir=tmp_path / "state",
    )


@pytest.fixture
def store_client(pipeline_config: KansaConfig) -> Iterator[Client]:
    """A migrated database of this test's own on the session engine, dropped afterwards."""
    client = connect(pipeline_config.storage)
    migrate(client)
    yield client
    client.command(f"DROP DATABASE IF EXISTS {pipeline_config.storage.database}")
