"""Malformed messages mixed into the stream: valid ones stored, bad ones dead-lettered with reason and origin."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client
from kafka import KafkaProducer

from kansa.config import KansaConfig
from kansa.kafka_clients import ensure_topics
from kansa.storage.client import connect
from schemas.codec import AvroCodec
from schemas.registry import ACCESS_EVENT, SchemaRegistry
from tests.consumers.running import read_topic, running_consumer, wait_for
from tests.eventdata import stream

BAD = [b"not avro at all", b"\x00\x00\x00\x00\x63rubbish", b"\x00\x00\x00\x00\x03\x01\x02", b""]


def test_bad_messages_are_dead_lettered_and_the_stream_goes_on(pipeline_config: KansaConfig) -> None:
    """Every valid event is stored; every bad message is in the DLQ with its reason and original offset."""
    ensure_topics(pipeline_config.kafka)
    codec = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT)
    producer = KafkaProducer(bootstrap_servers=pipeline_config.kafka.bootstrap_servers)
    topic = pipeline_config.kafka.events_topic
    events = list(stream(400))
    sent_bad = []
    for index, event in enumerate(events):
        producer.send(topic, key=b"k", value=codec.encode(event), partition=index % 4)
        if index % 50 == 0:
            bad = BAD[(index // 50) % len(BAD)]
            meta = producer.send(topic, key=b"bad", value=bad, partition=index % 4).get(timeout=10)
            sent_bad.append((meta.partition, meta.offset, bad))
    producer.flush()
    producer.close()
    client: Client = connect(pipeline_config.storage)
    with running_consumer(pipeline_config):
        wait_for(lambda: client.query("EXISTS TABLE access_events").result_rows[0][0]
                 and client.query("SELECT count() FROM access_events").result_rows[0][0] >= 400, 90, "400 rows")
        wait_for(lambda: len(read_topic(pipeline_config, pipeline_config.kafka.dlq_topic)) >= len(sent_bad), 60,
                 "dead letters")
    count, distinct = client.query("SELECT count(), uniqExact(event_id) FROM access_events").result_rows[0]
    assert (count, distinct) == (400, 400)
    letters = read_topic(pipeline_config, pipeline_config.kafka.dlq_topic)
    seen = set()
    for record in letters:
        headers = {k: v.decode() for k, v in record.headers}  # type: ignore[attr-defined]
        assert headers["kansa_dlq_topic"] == topic
        assert headers["kansa_dlq_reason"] in {"bad_magic", "unknown_schema_id", "avro_decode", "empty"}
        assert headers["kansa_dlq_error"]
        seen.add((int(headers["kansa_dlq_partition"]), int(headers["kansa_dlq_offset"]), record.value))  # type: ignore[attr-defined]
    assert seen == set(sent_bad)
