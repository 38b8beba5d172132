"""The Alert value: what the pipeline raises, publishes, folds and delivers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

EVIDENCE_CAP = 20


class Status(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Kind(StrEnum):
    POLICY = "policy"
    DETECTOR = "detector"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    PAGE = "page"


class Sensitivity(StrEnum):
    """How bad a leak of a data category is, in the APPI's terms."""

    ORDINARY = "ordinary"
    SENSITIVE = "sensitive"  # 要配慮個人情報 (Art. 2(3))
    FINANCIAL = "financial"  # data whose misuse can cause property damage (card, account)


class AppiCase(StrEnum):
    """The four reportable cases of the APPI enforcement rules, Art. 7."""

    SENSITIVE_DATA = "sensitive_data"
    FINANCIAL_DAMAGE = "financial_damage"
    UNJUST_PURPOSE = "unjust_purpose"
    OVER_1000_PERSONS = "over_1000_persons"


@dataclass(frozen=True)
class LocalizedText:
    ja: str
    en: str
    vi: str | None = None


@dataclass(frozen=True)
class AppiIncident:
    cases: tuple[AppiCase, ...]
    discovered_at: datetime
    preliminary_report_due: datetime
    final_report_due: datetime


@dataclass(frozen=True)
class Alert:
    alert_id: str
    fingerprint: str
    revision: int
    status: Status
    kind: Kind
    rule: str
    severity: Severity
    org: str
    actor: str | None
    subject: str | None
    window_start: datetime
    window_end: datetime
    count: int
    subjects_affected: int
    evidence_event_ids: tuple[str, ...]
    summary: LocalizedText
    description: LocalizedText
    runbook_url: str
    raised_at: datetime
    updated_at: datetime
    sensitivity: Sensitivity = Sensitivity.ORDINARY
    suspected_unjust_purpose: bool = False
    data_categories: tuple[str, ...] = ()
    subject_key_id: str | None = None
    policy_clause: str | None = None
    appi: AppiIncident | None = None
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("window_start", "window_end", "raised_at", "updated_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Alert.{name} must be timezone-aware, got {value!r}")
        if self.count < 1:
            raise ValueError(f"Alert.count must be at least 1, got {self.count}")

    def resolve(self, at: datetime) -> Alert:
        return replace(self, status=Status.RESOLVED, resolved_at=at, updated_at=at, revision=self.revision + 1)

    def to_record(self) -> dict[str, Any]:
        """The Avro record for `kansa.Alert` (schemas/alert.v1.avsc)."""
        return {
            **_flat_fields(self),
            "summary": _text_record(self.summary), "description": _text_record(self.description),
            "policy_clause": self.policy_clause,
            "appi": None if self.appi is None else {
                "cases": [case.value for case in self.appi.cases],
                "discovered_at": self.appi.discovered_at,
                "preliminary_report_due": self.appi.preliminary_report_due,
                "final_report_due": self.appi.final_report_due,
            },
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Alert:
        appi = record.get("appi")
        return cls(
            alert_id=str(record["alert_id"]), fingerprint=record["fingerprint"], revision=record["revision"],
            status=Status(record["status"]), kind=Kind(record["kind"]), rule=record["rule"],
            severity=Severity(record["severity"]), org=record["org"], actor=record["actor"],
            subject=record["subject"], subject_key_id=record["subject_key_id"],
            window_start=record["window_start"], window_end=record["window_end"], count=record["count"],
            subjects_affected=record["subjects_affected"],
            evidence_event_ids=tuple(record["evidence_event_ids"]),
            data_categories=tuple(record["data_categories"]), sensitivity=Sensitivity(record["sensitivity"]),
            suspected_unjust_purpose=record["suspected_unjust_purpose"],
            summary=LocalizedText(**record["summary"]), description=LocalizedText(**record["description"]),
            policy_clause=record["policy_clause"],
            appi=None if appi is None else AppiIncident(
                cases=tuple(AppiCase(c) for c in appi["cases"]), discovered_at=appi["discovered_at"],
                preliminary_report_due=appi["preliminary_report_due"], final_report_due=appi["final_report_due"],
            ),
            runbook_url=record["runbook_url"], raised_at=record["raised_at"], updated_at=record["updated_at"],
            resolved_at=record["resolved_at"],
        )


def _text_record(text: LocalizedText) -> dict[str, str | None]:
    return {"ja": text.ja, "en": text.en, "vi": text.vi}


def merge_evidence(first: Iterable[str], more: Iterable[str], cap: int = EVIDENCE_CAP) -> tuple[str, ...]:
    """Keeps the earliest ids: the first occurrences are what an investigator opens first."""
    merged = list(dict.fromkeys(first))
    for event_id in more:
        if len(merged) >= cap:
            break
        if event_id not in merged:
            merged.append(event_id)
    return tuple(merged[:cap])


def to_row(alert: Alert) -> dict[str, Any]:
    """A flat row for the ClickHouse `alerts` table (one row per revision; keep the highest per alert_id)."""
    return {
        **_flat_fields(alert),
        "summary_ja": alert.summary.ja, "summary_en": alert.summary.en, "summary_vi": alert.summary.vi,
        "description_ja": alert.description.ja, "description_en": alert.description.en,
        "description_vi": alert.description.vi, "policy_clause": alert.policy_clause,
        "appi_cases": [case.value for case in alert.appi.cases] if alert.appi else [],
        "appi_preliminary_due": alert.appi.preliminary_report_due if alert.appi else None,
        "appi_final_due": alert.appi.final_report_due if alert.appi else None,
    }


def _flat_fields(alert: Alert) -> dict[str, Any]:
    """What the Avro record and the ClickHouse row share: every field that is a plain value in both."""
    return {
        "alert_id": alert.alert_id, "fingerprint": alert.fingerprint, "revision": alert.revision,
        "status": alert.status.value, "kind": alert.kind.value, "rule": alert.rule,
        "severity": alert.severity.value, "org": alert.org, "actor": alert.actor, "subject": alert.subject,
        "subject_key_id": alert.subject_key_id, "window_start": alert.window_start,
        "window_end": alert.window_end, "count": alert.count, "subjects_affected": alert.subjects_affected,
        "evidence_event_ids": list(alert.evidence_event_ids), "data_categories": list(alert.data_categories),
        "sensitivity": alert.sensitivity.value, "suspected_unjust_purpose": alert.suspected_unjust_purpose,
        "runbook_url": alert.runbook_url, "raised_at": alert.raised_at, "updated_at": alert.updated_at,
        "resolved_at": alert.resolved_at,
    }


def utc_now() -> datetime:
    return datetime.now(UTC)
