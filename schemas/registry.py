"""File-based, append-only schema id map (the Confluent framing's 4-byte id points here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro

from schemas.errors import SchemaRegistryError

SCHEMA_DIR = Path(__file__).resolve().parent
ACCESS_EVENT = "kansa.AccessEvent"
SUBJECT_REQUEST = "kansa.SubjectRequest"
ALERT = "kansa.Alert"


def fingerprint(schema_json: Any) -> str:
    """sha256 over the whole schema in sorted-key JSON: docs and defaults count, so any edit shows."""
    canonical = json.dumps(schema_json, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredSchema:
    id: int
    subject: str
    version: int
    file: str
    fingerprint: str
    parsed: Any


class SchemaRegistry:
    """Loads `registry.json`, checks every issued schema against its pinned fingerprint."""

    def __init__(self, entries: list[RegisteredSchema]) -> None:
        self._by_id = {e.id: e for e in entries}
        self._newest: dict[str, RegisteredSchema] = {}
        for entry in entries:
            current = self._newest.get(entry.subject)
            if current is None or entry.version > current.version:
                self._newest[entry.subject] = entry

    @classmethod
    def load(cls, directory: Path = SCHEMA_DIR) -> SchemaRegistry:
        path = directory / "registry.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SchemaRegistryError(f"{path}: cannot read schema id map: {exc}") from exc
        entries: list[RegisteredSchema] = []
        seen: set[int] = set()
        for item in raw.get("schemas", []):
            sid = int(item["id"])
            if sid in seen:
                raise SchemaRegistryError(f"{path}: schema id {sid} listed twice")
            seen.add(sid)
            file = directory / item["file"]
            try:
                schema_json = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SchemaRegistryError(f"{file}: cannot read schema id {sid}: {exc}") from exc
            actual = fingerprint(schema_json)
            if actual != item["fingerprint"]:
                raise SchemaRegistryError(
                    f"{file}: schema id {sid} was issued with fingerprint {item['fingerprint']!r} "
                    f"but the file now has {actual!r}; issued schemas never change, add a new version"
                )
            named = schema_json.get("namespace", "") + "." + schema_json["name"]
            if named != item["subject"]:
                raise SchemaRegistryError(f"{file}: schema id {sid} names {named}, registry says {item['subject']}")
            entries.append(RegisteredSchema(
                id=sid, subject=item["subject"], version=int(item["version"]), file=item["file"],
                fingerprint=actual, parsed=fastavro.parse_schema(schema_json, named_schemas={}),
            ))
        return cls(entries)

    def by_id(self, schema_id: int) -> RegisteredSchema | None:
        return self._by_id.get(schema_id)

    def newest(self, subject: str) -> RegisteredSchema:
        try:
            return self._newest[subject]
        except KeyError:
            raise SchemaRegistryError(f"no schema registered for subject {subject}") from None

    def all(self) -> list[RegisteredSchema]:
        return sorted(self._by_id.values(), key=lambda e: e.id)
