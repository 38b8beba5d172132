"""The Alert contract: Avro schema id 4, identities, the ClickHouse row and the Alertmanager mapping."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from consumers.alerts import Alert, Kind, Sensitivity, Severity, alert_fingerprint, episode_id, to_alertmanager, to_row
from schemas.codec import AvroCodec
from schemas.registry import ALERT, SCHEMA_DIR, SchemaRegistry, fingerprint
from tests.consumers.alerts.alert_support import T0, violation


def test_alert_schema_is_registered_as_id_4_with_its_fingerprint() -> None:
    """registry.json pins kansa.Alert v1 as id 4 with the sha256 of alert.v1.avsc."""
    entry = SchemaRegistry.load().by_id(4)
    assert entry is not None
    assert (entry.subject, entry.version, entry.file) == (ALERT, 1, "alert.v1.avsc")
    assert entry.fingerprint == fingerprint(json.loads(Path(SCHEMA_DIR / "alert.v1.avsc").read_text()))


def test_alert_round_trips_through_the_wire_format(codec: AvroCodec) -> None:
    """Encoding an alert with every optional part set and decoding it gives the same alert."""
    alert = violation(sensitivities=(Sensitivity.SENSITIVE,), subjects_affected=1_500)
    assert alert.appi is not None
    data = codec.encode(alert.to_record())
    assert data[:5] == b"\x00\x00\x00\x00\x04"
    assert Alert.from_record(codec.decode(data)) == alert


def test_fingerprint_is_stable_and_names_the_problem() -> None:
    """Same org/rule/actor/subject give the same fingerprint; changing any part changes it."""
    base = alert_fingerprint("weia", "KP004", "staff-1", "s-1")
    assert base == alert_fingerprint("weia", "KP004", "staff-1", "s-1")
    variants = {alert_fingerprint("chiba-cia", "KP004", "staff-1", "s-1"),
                alert_fingerprint("weia", "KP005", "staff-1", "s-1"),
                alert_fingerprint("weia", "KP004", "staff-2", "s-1"),
                alert_fingerprint("weia", "KP004", "staff-1", None)}
    assert base not in variants
    assert len(variants) == 4


def test_episode_id_is_deterministic_for_replays() -> None:
    """Re-raising from the same first event (a replay after a crash) gives the same alert id."""
    first = violation(event_id="11111111-1111-1111-1111-111111111111")
    again = violation(event_id="11111111-1111-1111-1111-111111111111")
    other = violation(event_id="22222222-2222-2222-2222-222222222222")
    assert first.alert_id == again.alert_id == episode_id(first.fingerprint, "11111111-1111-1111-1111-111111111111")
    assert other.alert_id != first.alert_id


def test_row_is_flat_and_keeps_appi_deadlines() -> None:
    """The ClickHouse row flattens texts and APPI fields and keeps aware datetimes."""
    row = to_row(violation(sensitivities=(Sensitivity.FINANCIAL,)))
    assert row["summary_en"] == "KP012 violated at chiba-cia"
    assert row["appi_cases"] == ["financial_damage"]
    assert row["appi_final_due"] == T0 + timedelta(days=30)
    assert all(not isinstance(v, dict) for v in row.values())


def test_alertmanager_labels_route_and_annotations_explain() -> None:
    """Labels carry alertname/severity/org/rule/actor/fingerprint; annotations carry texts, count and APPI."""
    alert = violation(kind=Kind.DETECTOR, rule="KD-BULK-EXPORT", severity=Severity.PAGE, org="izumisano-ssw",
                      subject=None, subjects_affected=3_000)
    posted = to_alertmanager(alert, now=T0, hold=timedelta(minutes=4))
    assert posted["labels"] == {"alertname": "KansaAccessAnomaly", "severity": "page", "org": "izumisano-ssw",
                                "rule": "KD-BULK-EXPORT", "actor": "staff-7", "kansa_fingerprint": alert.fingerprint}
    assert posted["annotations"]["summary"] == "KD-BULK-EXPORT violated at izumisano-ssw"
    assert posted["annotations"]["summary_ja"] == "KD-BULK-EXPORT 違反 (izumisano-ssw)"
    assert posted["annotations"]["appi_cases"] == "over_1000_persons"
    assert posted["annotations"]["count"] == "1"
    assert (posted["startsAt"], posted["endsAt"]) == ("2026-11-20T09:00:00Z", "2026-11-20T09:04:00Z")


def test_resolved_alert_ends_at_its_resolution() -> None:
    """A resolved alert is sent with endsAt = resolved_at, which ends it in Alertmanager."""
    resolved = violation().resolve(T0 + timedelta(minutes=15))
    assert to_alertmanager(resolved, now=T0 + timedelta(hours=1), hold=timedelta(minutes=4))["endsAt"] == \
        "2026-11-20T09:15:00Z"
