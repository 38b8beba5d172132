"""The schema id map: issued ids pinned, tampering refused, v1 events read by the newest reader."""

from __future__ import annotations

import json
import shutil
import struct
import uuid
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import fastavro
import pytest

from schemas.codec import AvroCodec
from schemas.errors import SchemaRegistryError
from schemas.registry import ACCESS_EVENT, ALERT, SCHEMA_DIR, SUBJECT_REQUEST, SchemaRegistry, fingerprint

# Issued ids never change. These literals are the contract: if one of these assertions fails, a schema
# that producers already use was edited. Revert the edit and add a new version with a new id instead.
PINNED = {
    1: ("kansa.AccessEvent", 1, "access_event.v1.avsc",
        "sha256:7b53ac86e557d66cc1ad52af2982bc2d2260a8c8e9bfb94c7408b09d911877a2"),
    2: ("kansa.SubjectRequest", 1, "subject_request.v1.avsc",
        "sha256:bb7b7a65f228945244a793c47ecc87033eb47f1b4b5066127c16b5567ad0a551"),
    3: ("kansa.AccessEvent", 2, "access_event.v2.avsc",
        "sha256:bffd64d55c49f6c826175033396945ade20b7577da1ad1da4cc8f9eb39c92419"),
    4: ("kansa.Alert", 1, "alert.v1.avsc",
        "sha256:ceaf0c1858303b286222e3979862194694d654323787b441de3147b308e1ae43"),
}


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    target.mkdir()
    for path in SCHEMA_DIR.iterdir():
        if path.suffix in (".avsc", ".json") and path.is_file():
            shutil.copy(path, target / path.name)
    return target


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("schema_id", sorted(PINNED))
def test_issued_id_keeps_its_pinned_subject_version_file_and_fingerprint(schema_id: int) -> None:
    """Each issued schema id still maps to the subject, version, file and fingerprint it was issued with."""
    entry = SchemaRegistry.load().by_id(schema_id)
    assert entry is not None, f"schema id {schema_id} was removed from registry.json"
    assert (entry.subject, entry.version, entry.file, entry.fingerprint) == PINNED[schema_id]


@pytest.mark.parametrize("schema_id", sorted(PINNED))
def test_schema_file_content_matches_pinned_fingerprint(schema_id: int) -> None:
    """The file behind each issued id hashes to the pinned literal, independently of registry.json."""
    _, _, file, pinned = PINNED[schema_id]
    assert fingerprint(json.loads((SCHEMA_DIR / file).read_text(encoding="utf-8"))) == pinned


def test_registry_only_grows_and_ids_are_unique() -> None:
    """registry.json lists every pinned id once; new ids may only come after them."""
    raw = json.loads((SCHEMA_DIR / "registry.json").read_text(encoding="utf-8"))
    ids = [int(item["id"]) for item in raw["schemas"]]
    assert len(ids) == len(set(ids))
    assert ids[: len(PINNED)] == sorted(PINNED)
    assert all(i > max(PINNED) for i in ids[len(PINNED):])


def test_newest_version_per_subject() -> None:
    """Encoders write with the newest version of each subject."""
    registry = SchemaRegistry.load()
    assert registry.newest(ACCESS_EVENT).id == 3
    assert registry.newest(SUBJECT_REQUEST).id == 2
    assert registry.newest(ALERT).id == 4
    assert AvroCodec(registry, ACCESS_EVENT).writer_id == 3


def test_editing_an_issued_schema_fails_load(tmp_path: Path) -> None:
    """Changing only a doc string of an issued schema makes load fail, naming the id and both fingerprints."""
    directory = copy_schemas(tmp_path)
    edit_json(directory / "access_event.v1.avsc", lambda d: d.update(doc="edited after issue"))
    with pytest.raises(SchemaRegistryError, match="schema id 1 was issued with fingerprint") as caught:
        SchemaRegistry.load(directory)
    assert PINNED[1][3] in str(caught.value)


def test_adding_a_field_to_an_issued_schema_fails_load(tmp_path: Path) -> None:
    """Adding an optional field to an issued schema (instead of a new version) makes load fail."""
    directory = copy_schemas(tmp_path)
    extra = {"name": "note", "type": ["null", "string"], "default": None}
    edit_json(directory / "access_event.v2.avsc", lambda d: d["fields"].append(extra))
    with pytest.raises(SchemaRegistryError, match="schema id 3"):
        SchemaRegistry.load(directory)


def test_reformatting_whitespace_keeps_fingerprint(tmp_path: Path) -> None:
    """Fingerprints cover the schema's JSON content, not its layout: re-indenting a file still loads."""
    directory = copy_schemas(tmp_path)
    edit_json(directory / "access_event.v1.avsc", lambda d: None)
    assert SchemaRegistry.load(directory).by_id(1).fingerprint == PINNED[1][3]  # type: ignore[union-attr]


def test_duplicate_id_fails_load(tmp_path: Path) -> None:
    """An id listed twice in registry.json is refused."""
    directory = copy_schemas(tmp_path)
    edit_json(directory / "registry.json", lambda d: d["schemas"].append(dict(d["schemas"][0])))
    with pytest.raises(SchemaRegistryError, match="schema id 1 listed twice"):
        SchemaRegistry.load(directory)


def test_subject_not_matching_schema_name_fails_load(tmp_path: Path) -> None:
    """A registry entry whose subject differs from the schema's own full name is refused."""
    directory = copy_schemas(tmp_path)
    edit_json(directory / "registry.json", lambda d: d["schemas"][1].update(subject="kansa.AccessEvent"))
    with pytest.raises(SchemaRegistryError, match=r"names kansa\.SubjectRequest"):
        SchemaRegistry.load(directory)


def test_missing_schema_file_and_missing_map_fail_load(tmp_path: Path) -> None:
    """A missing schema file or registry.json gives SchemaRegistryError, not an OSError."""
    directory = copy_schemas(tmp_path)
    (directory / "alert.v1.avsc").unlink()
    with pytest.raises(SchemaRegistryError, match="cannot read schema id 4"):
        SchemaRegistry.load(directory)
    with pytest.raises(SchemaRegistryError, match="cannot read schema id map"):
        SchemaRegistry.load(tmp_path / "nowhere")


def test_unknown_subject_is_refused() -> None:
    """Asking for a subject nobody registered raises SchemaRegistryError naming it."""
    registry = SchemaRegistry.load()
    with pytest.raises(SchemaRegistryError, match=r"kansa\.Nope"):
        registry.newest("kansa.Nope")
    with pytest.raises(SchemaRegistryError, match=r"kansa\.Nope"):
        AvroCodec(registry, "kansa.Nope")
    assert registry.by_id(999) is None


def v1_record() -> dict[str, Any]:
    return {
        "event_id": uuid.UUID("6f1c1a52-3f1e-4c47-9b0e-5d1b2f3a4c5d"),
        "occurred_at": datetime(2026, 11, 20, 1, 15, 0, 123456, tzinfo=UTC),
        "org": "weia", "app": "hr-portal",
        "actor": {"id": "staff-hr-2", "type": "staff", "roles": ["recruiter"], "department": "総務部"},
        "action": "read", "resource": {"system": "hr-portal", "record_type": "applicant"},
        "subject_id": "applicant-301", "subject_count": 1, "data_categories": ["name", "email"],
        "purpose": "p13_recruitment_selection", "legal_basis": None, "recipient": None,
        "source_ip": "10.20.0.14", "session_id": None, "request_id": "r-1", "outcome": "success",
        "record_count": 1,
    }


def test_v1_written_event_is_read_by_newest_reader() -> None:
    """Bytes written by an old app with v1 (id 1) decode to the newest shape, new fields None."""
    v1 = fastavro.parse_schema(json.loads((SCHEMA_DIR / "access_event.v1.avsc").read_text(encoding="utf-8")))
    buffer = BytesIO()
    buffer.write(struct.pack(">bI", 0, 1))
    fastavro.schemaless_writer(buffer, v1, v1_record())
    decoded = AvroCodec(SchemaRegistry.load(), ACCESS_EVENT).decode(buffer.getvalue())
    assert decoded == {**v1_record(), "subject_key_id": None, "collected_at": None}
