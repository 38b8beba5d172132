"""`kansa up`: the whole local stack from one command, stopped cleanly with Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kansa.config import KansaConfig
from kansa.localstack.broker import free_port
from kansa.localstack.up import local_config
from tests.conftest import POLICY_DIR


def test_up_runs_the_stack_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    """Simulated events flow into the embedded store; Ctrl-C (SIGINT to the whole process group, as a
    terminal sends it) exits 0 after the last batch is written and committed."""
    shutil.copytree(POLICY_DIR, tmp_path / "policies")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANSA_")}
    env["KANSA_METRICS_PORT"] = str(free_port())
    log = (tmp_path / "up.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kansa", "up", "--broker-port", "0", "--rate", "300", "--data-dir", "state"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while "kansa is running" not in (tmp_path / "up.log").read_text(errors="replace"):
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            assert time.monotonic() < deadline, "no banner within 60 s"
            time.sleep(0.2)
        time.sleep(12)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=90)
        log.close()
    output = (tmp_path / "up.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert "metrics       http://127.0.0.1:" in output
    query = subprocess.run(
        [sys.executable, "-m", "kansa", "sql", "SELECT count() AS n, uniqExact(event_id) AS u FROM access_events"],
        cwd=tmp_path, env={**env, "KANSA_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'state' / 'clickhouse'}"},
        capture_output=True, text=True, timeout=120, check=True,
    )
    (row,) = json.loads(query.stdout)
    assert row["n"] > 100
    assert row["n"] == row["u"]


def test_local_config_makes_every_path_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's paths do not depend on the working directory (chdb's first import changes it briefly)."""
    monkeypatch.chdir(tmp_path)
    config = local_config(KansaConfig(), "127.0.0.1:1", Path("state").resolve())
    for path in (config.pipeline.policy_dir, config.pipeline.detector_thresholds, config.state_dir):
        assert path.is_absolute(), path
    assert config.storage.dsn == f"chdb://{tmp_path / 'state' / 'clickhouse'}"
