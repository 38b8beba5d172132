"""Storage tests run on the session's embedded engine, each in a database of its own."""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.client import Client

from kansa.config import KansaConfig
from kansa.storage.client import connect


@pytest.fixture
def client(pipeline_config: KansaConfig) -> Client:
    """A client on this test's own fresh database."""
    return connect(pipeline_config.storage)
