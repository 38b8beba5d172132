"""What every section shares: a throwaway embedded store, null Kafka producers, RSS, percentiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

from kansa.bench.corpus import REPO
from kansa.config import KansaConfig, StorageSettings
from kansa.storage.client import connect
from kansa.storage.migrate import migrate


@contextmanager
def bench_store(base: KansaConfig, database: str) -> Iterator[tuple[KansaConfig, Client]]:
    """`base` (the pipeline settings in force) on a migrated database in a fresh embedded data directory.

    The engine takes one data directory per process, so each section runs as a child process
    and opens this once; `database_like` gives further databases in the same directory.
    """
    with tempfile.TemporaryDirectory(prefix="kansa-bench-") as directory:
        config = replace(base, storage=StorageSettings(dsn=f"chdb://{directory}/clickhouse", database=database),
                         metrics_port=0, state_dir=Path(directory) / "state")
        client = open_database(config)
        try:
            yield config, client
        finally:
            client.close()


def open_database(config: KansaConfig) -> Client:
    client = connect(config.storage)
    migrate(client)
    return client


def database_like(config: KansaConfig, database: str) -> KansaConfig:
    """The same data directory, another database (a warm-up that must not count in the measured store)."""
    return replace(config, storage=replace(config.storage, database=database))


@dataclass(frozen=True, slots=True)
class _Acknowledged:
    def get(self, timeout: float | None = None) -> None:
        """Already acknowledged."""


class NullProducer:
    """Stands in for the Kafka producer of the dead-letter and alert sinks: accepts, acknowledges, keeps nothing.

    The alert codec still encodes every alert, so that cost stays in the in-process figure.
    """

    sent = 0

    def send(self, topic: str, **_record: Any) -> _Acknowledged:
        self.sent += 1
        return _Acknowledged()

    def flush(self, timeout: float | None = None) -> None:
        """Nothing is buffered."""


def rss_mb() -> float:
    """This process's resident set (VmRSS), in MiB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); the caller makes sure `values` is not empty."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class SectionUnavailable(Exception):
    """A section's measuring code is not in the tree (yet); the report says so instead of a figure."""


def run_script(script: Path, args: list[str], timeout: float) -> dict[str, Any]:
    """Run a `benchmarks/*.py` script of another part of kansa and return the JSON object it prints.

    Those scripts print one JSON document by convention; calling them as programs keeps this
    package independent of their internals.
    """
    if not script.exists():
        raise SectionUnavailable(f"{script.relative_to(REPO)} is not in the tree")
    done = subprocess.run([sys.executable, str(script), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    start = done.stdout.find("{")
    try:
        result, _end = json.JSONDecoder().raw_decode(done.stdout, max(start, 0))
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"{script.name} printed no JSON object: {done.stdout[-500:]!r}") from exc
    if not isinstance(result, dict):
        raise RuntimeError(f"{script.name} printed {type(result).__name__}, not a JSON object")
    return result
