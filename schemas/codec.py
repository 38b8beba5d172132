"""Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro binary body."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from io import BytesIO
from typing import Any

import fastavro

from schemas.errors import InvalidEvent
from schemas.registry import SchemaRegistry

MAGIC = 0
_HEADER = struct.Struct(">bI")


def avro_long(value: int) -> bytes:
    """Avro's zig-zag varint, for hand-written encoders of hot paths.

    Lengths, counts and enum indexes are nearly always small: those come from a table.
    """
    if 0 <= value < _SMALL_LONGS:
        return _SMALL[value]
    return varint((value << 1) ^ (value >> 63))


def varint(value: int) -> bytes:
    """Little-endian base-128 varint of a non-negative integer."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL_LONGS = 1024
_SMALL = [varint(n << 1) for n in range(_SMALL_LONGS)]  # the zig-zag form of n >= 0 is 2n


def avro_string(text: str) -> bytes:
    raw = text.encode()
    return avro_long(len(raw)) + raw


class AvroCodec:
    """Encodes with the newest schema of one subject; decodes any registered version of it."""

    def __init__(self, registry: SchemaRegistry, subject: str) -> None:
        self._registry = registry
        self._subject = subject
        newest = registry.newest(subject)
        self.writer_id = newest.id
        self._writer = newest.parsed
        self._header = _HEADER.pack(MAGIC, newest.id)
        self._readers: dict[int, tuple[Any, Any]] = {}
        for entry in registry.all():
            if entry.subject == subject:
                reader = None if entry.id == newest.id else newest.parsed
                self._readers[entry.id] = (entry.parsed, reader)

    def encode(self, record: Mapping[str, Any]) -> bytes:
        buffer = BytesIO()
        buffer.write(self._header)
        try:
            fastavro.schemaless_writer(buffer, self._writer, record)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidEvent("invalid_field", f"does not fit {self._subject}: {exc}") from exc
        return buffer.getvalue()

    def decode(self, data: bytes | None) -> dict[str, Any]:
        if not data:
            raise InvalidEvent("empty", "message has no value")
        if len(data) < 5 or data[0] != MAGIC:
            raise InvalidEvent("bad_magic", f"expected Confluent framing (magic byte 0), got {data[:5]!r}")
        schema_id = int.from_bytes(data[1:5], "big")
        schemas = self._readers.get(schema_id)
        if schemas is None:
            if self._registry.by_id(schema_id) is not None:
                raise InvalidEvent("wrong_schema", f"schema id {schema_id} is not a {self._subject} schema")
            raise InvalidEvent("unknown_schema_id", f"schema id {schema_id} is not in the registry")
        writer, reader = schemas
        buffer = BytesIO(data)
        buffer.seek(5)
        try:
            record: Any = fastavro.schemaless_reader(buffer, writer, reader)
        except Exception as exc:  # fastavro raises many types on corrupt bytes; all mean the same here
            raise InvalidEvent("avro_decode", f"cannot decode Avro body with schema id {schema_id}: {exc!r}") from exc
        if buffer.tell() != len(data):
            raise InvalidEvent("avro_decode", f"{len(data) - buffer.tell()} trailing bytes after the Avro body")
        if not isinstance(record, dict):
            raise InvalidEvent("avro_decode", f"schema id {schema_id} did not decode to a record")
        return record
