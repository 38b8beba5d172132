"""Serves /metrics for Prometheus on the configured port (0 turns it off)."""

from __future__ import annotations

from prometheus_client import start_http_server

from kansa.config import KansaConfig
from kansa.metrics import REGISTRY


def serve_metrics(config: KansaConfig) -> int | None:
    if config.metrics_port == 0:
        return None
    server, _thread = start_http_server(config.metrics_port, addr=config.metrics_host, registry=REGISTRY)
    return int(server.server_port)
