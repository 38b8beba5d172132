"""The `access_events` insert as one Avro object container: each event's own Avro body, and the consumer's columns.

Building 31 Python column lists and serialising them in clickhouse-connect cost about 10 µs per
event on the consumer's thread (docs/performance.md); ClickHouse parses Avro in C++, without
the GIL. An Avro record's bytes are its fields' encodings back to back, nested records
included, so the body an application sent decodes unchanged under a flat schema whose field
names are the table's columns (`actor.id` becomes `actor_id`). The consumer's columns (decision,
Kafka coordinates, retention) follow as trailing fields of the same record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from typing import Any

from consumers.messages import Batch, StoredEvent
from consumers.policy import PolicySet
from consumers.policy.decision import ALLOW, Decision
from consumers.rows import retention_end
from schemas.codec import AvroCodec, avro_long, avro_string, varint
from schemas.registry import ACCESS_EVENT, SCHEMA_DIR, SchemaRegistry

_CONSUMER_FIELDS: list[dict[str, Any]] = [
    {"name": "decision", "type": "string"},
    {"name": "severity", "type": "string"},
    {"name": "rule_ids", "type": {"type": "array", "items": "string"}},
    {"name": "schema_id", "type": "long"},
    {"name": "kafka_partition", "type": "long"},
    {"name": "kafka_offset", "type": "long"},
    {"name": "retain_until", "type": {"type": "int", "logicalType": "date"}},
]
_EPOCH = date(1970, 1, 1)
# Keys include collection days, which are many over months of traffic: start afresh past this size.
_RETENTION_CACHE_SIZE = 65_536
_UUID_LENGTH = 36
# The first byte of a varint that goes on, for each value of its low 7 bits.
_CONTINUED = tuple(bytes([low | 0x80]) for low in range(0x80))


def stored_event_schema(access_event: dict[str, Any]) -> dict[str, Any]:
    """The newest access-event schema with its nested records flattened, then the consumer's fields."""
    fields: list[dict[str, Any]] = []
    for field in access_event["fields"]:
        kind = field["type"]
        if isinstance(kind, dict) and kind.get("type") == "record":
            for inner in kind["fields"]:
                if isinstance(inner["type"], dict) and inner["type"].get("type") == "record":
                    raise ValueError(f"{field['name']}.{inner['name']}: records nested two deep cannot be flattened")
                fields.append({"name": f"{field['name']}_{inner['name']}", "type": inner["type"]})
        else:
            fields.append({"name": field["name"], "type": kind})
    return {"type": "record", "name": "StoredAccessEvent", "namespace": "kansa.store",
            "fields": fields + _CONSUMER_FIELDS}


def passthrough_body(framed: bytes) -> bytes:
    """The Avro body of a newest-schema record if ClickHouse can take it as sent, else b"" (re-encode it).

    The first field is the event id; the decoder accepted it as a UUID, but Python also accepts
    forms ClickHouse does not (braces, no hyphens, a `urn:uuid:` prefix). Only the canonical
    36-character form passes through.
    """
    # framed[5] is the text's length as a zig-zag varint; its hyphens sit at 8, 13, 18 and 23.
    canonical = (len(framed) > 29 and framed[5] == 2 * _UUID_LENGTH
                 and framed[14] == framed[19] == framed[24] == framed[29] == 0x2D)
    return framed[5:] if canonical else b""


class OffsetEncoder:
    """Avro longs for a batch's offsets, which are mostly consecutive: all but the lowest 7 bits are cached.

    For v = 2 * offset (the zig-zag form of a non-negative long) of 128 or more, the varint is the low
    7 bits with the continuation bit, then the varint of v >> 7, which changes once every 64 offsets.
    """

    def __init__(self) -> None:
        self._rest: dict[int, bytes] = {}

    def encode(self, offset: int) -> bytes:
        value = offset << 1
        if value < 0x80:
            return avro_long(offset)
        rest = self._rest.get(value >> 7)
        if rest is None:
            rest = self._rest[value >> 7] = varint(value >> 7)
        return _CONTINUED[value & 0x7F] + rest


class StoredEventEncoder:
    """Encodes a batch for `INSERT INTO access_events (columns) FORMAT Avro`."""

    def __init__(self, policies: Callable[[], PolicySet] | None = None, registry: SchemaRegistry | None = None) -> None:
        registry = registry or SchemaRegistry.load()
        newest = registry.newest(ACCESS_EVENT)
        schema = stored_event_schema(json.loads((SCHEMA_DIR / newest.file).read_text(encoding="utf-8")))
        self.columns = tuple(field["name"] for field in schema["fields"])
        self._codec = AvroCodec(registry, ACCESS_EVENT)
        self._policies = policies
        self._sync = os.urandom(16)
        self._header = self._container_header(schema)
        self._allow = self._decision(ALLOW)
        self._retention: dict[tuple[Any, ...], bytes] = {}
        self._retention_for: PolicySet | None = None

    def encode(self, batch: Batch[StoredEvent]) -> bytes:
        # This runs on the writer's thread, and every microsecond of Python there is GIL time the
        # consumer's thread waits out (an extra encode per batch cost it ~9 µs per event), so the
        # loop keeps to four pieces per row and cached encodings.
        policies = self._policies() if self._policies else None
        if policies is not self._retention_for or len(self._retention) > _RETENTION_CACHE_SIZE:
            self._retention, self._retention_for = {}, policies
        partition = avro_long(batch.partition.number)
        allowed: dict[int, bytes] = {}  # schema id -> the allow decision, the schema id and the partition
        offsets = OffsetEncoder()
        retention = self._retention
        parts: list[bytes] = []
        append = parts.append
        for item in batch.items:
            append(item.body or self._reencoded(item))
            decision = item.decision
            if decision is ALLOW:
                middle = allowed.get(item.schema_id)
                if middle is None:
                    middle = allowed[item.schema_id] = self._allow + avro_long(item.schema_id) + partition
                append(middle)
            else:
                append(self._decision(decision) + avro_long(item.schema_id) + partition)
            append(offsets.encode(item.offset))
            # Decoded times are UTC, and retention periods are whole days, so the day is all that matters.
            collected = item.collected_at
            key = (item.org, tuple(item.data_categories), item.occurred_at.date(),
                   collected.date() if collected is not None else None)
            retain = retention.get(key)
            if retain is None:
                retain = retention[key] = self._retain_until(item, policies)
            append(retain)
        body = b"".join(parts)
        return b"".join((self._header, avro_long(len(batch.items)), avro_long(len(body)), body, self._sync))

    def _reencoded(self, item: StoredEvent) -> bytes:
        if item.event is None:
            raise ValueError(f"offset {item.offset}: no Avro body to store and no event to encode one from")
        return self._codec.encode(item.event)[5:]

    @staticmethod
    def _retain_until(item: StoredEvent, policies: PolicySet | None) -> bytes:
        end = retention_end(item.org, item.data_categories, item.occurred_at, item.collected_at, policies)
        return avro_long((end - _EPOCH).days)

    @staticmethod
    def _decision(decision: Decision) -> bytes:
        rule_ids = [hit.rule_id for hit in decision.hits]
        array = (avro_long(len(rule_ids)) + b"".join(avro_string(rule) for rule in rule_ids) if rule_ids else b"")
        return avro_string(decision.verdict) + avro_string(decision.severity or "") + array + b"\x00"

    def _container_header(self, schema: dict[str, Any]) -> bytes:
        metadata = {"avro.schema": json.dumps(schema).encode(), "avro.codec": b"null"}
        encoded = b"".join(avro_string(key) + avro_long(len(value)) + value for key, value in metadata.items())
        return b"Obj\x01" + avro_long(len(metadata)) + encoded + b"\x00" + self._sync
