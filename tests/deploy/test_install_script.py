"""scripts/install-system-deps.sh: idempotent, and the binaries the suite needs are there after it ran."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import system_binary

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-system-deps.sh"


def test_second_run_installs_nothing_and_binaries_exist() -> None:
    """With the binaries present the script exits 0 without calling apt, and every needed binary is on PATH."""
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "binaries present" in result.stdout
    for name in ("prometheus", "promtool", "prometheus-alertmanager", "amtool"):
        system_binary(name)
