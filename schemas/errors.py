"""Typed errors for input that does not meet the contract."""

from __future__ import annotations

from typing import Literal

InvalidReason = Literal[
    "empty", "bad_magic", "unknown_schema_id", "wrong_schema", "avro_decode", "invalid_field", "bad_json",
]


class InvalidEvent(Exception):
    """Input that cannot become a valid event; `reason` is a bounded code fit for a metric label."""

    def __init__(self, reason: InvalidReason, message: str, field: str | None = None) -> None:
        self.reason: InvalidReason = reason
        self.field = field
        self.message = message
        where = f"field '{field}': " if field else ""
        super().__init__(f"{reason}: {where}{message}")


class SchemaRegistryError(Exception):
    """The schema id map or a schema file is missing, malformed, or was changed after issue."""
