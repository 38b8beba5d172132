"""Consumers joining and leaving the group mid-stream: every event stored exactly once."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics, make_producer
from kansa.storage.client import connect
from producers.sdk import AccessAuditor
from tests.consumers.running import committed_total, rows_in, running_consumer, wait_for
from tests.eventdata import stream

TOTAL = 12_000


def assignments(caplog: pytest.LogCaptureFixture) -> list[list[int]]:
    """Non-empty partition assignments logged by the consumers, in order."""
    found = []
    for record in caplog.records:
        if record.name == "consumers.processor" and record.getMessage().startswith("assigned ["):
            partitions = [int(p.rsplit("/", 1)[1]) for p in re.findall(r"'([^']+)'", record.getMessage())]
            if partitions:
                found.append(partitions)
    return found


def test_rebalances_mid_stream_lose_and_duplicate_nothing(pipeline_config: KansaConfig,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """A second consumer joins while events flow, then leaves again: each event is stored exactly once."""
    caplog.set_level(logging.INFO, logger="consumers.processor")
    ensure_topics(pipeline_config.kafka)
    client = connect(pipeline_config.storage)
    done = threading.Event()

    def produce() -> None:
        with AccessAuditor(make_producer(pipeline_config.kafka), pipeline_config.kafka.events_topic, "weia",
                           "case-desk") as auditor:
            for index, event in enumerate(stream(TOTAL)):
                auditor.send(event)
                if index % 500 == 499:
                    auditor.flush()
                    time.sleep(0.6)
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    with running_consumer(pipeline_config):
        wait_for(lambda: rows_in(client) > 1_000, 60, "the first consumer to store events")
        with running_consumer(pipeline_config):
            wait_for(lambda: len(assignments(caplog)) >= 3, 60, "the group to split the partitions")
            wait_for(lambda: rows_in(client) > 6_000, 90, "progress with two consumers")
        # The second consumer left: its partitions were flushed and committed before they moved back.
        wait_for(done.is_set, 120, "the producer to finish")
        wait_for(lambda: committed_total(pipeline_config) == TOTAL, 120, "every offset committed")
    producer.join()
    split = assignments(caplog)[1:3]
    assert sorted(p for partitions in split for p in partitions) == [0, 1, 2, 3]
    assert any("before revocation" in r.getMessage() for r in caplog.records)
    count, distinct = client.query("SELECT count(), uniqExact(event_id) FROM access_events").result_rows[0]
    assert (count, distinct) == (TOTAL, TOTAL)
