"""APPI Art. 26 incident classification (個人情報保護法 漏えい等報告), as a pure function.

The enforcement rules (施行規則) Art. 7 list four cases in which a leak must be reported to
the Personal Information Protection Commission; Art. 8 sets the deadlines: a preliminary
report (速報) "promptly" — the PPC guidelines read that as about 3–5 days from discovery — and
a final report (確報) within 30 days, or 60 days when the leak was for an unjust purpose.
An alert only says the incident *may* be reportable; people decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from consumers.alerts.model import AppiCase, AppiIncident, Sensitivity

# The earliest end of the guidelines' 3–5 day range, so the alert never suggests a late date.
PRELIMINARY_REPORT_WITHIN = timedelta(days=3)
FINAL_REPORT_WITHIN = timedelta(days=30)
FINAL_REPORT_WITHIN_UNJUST_PURPOSE = timedelta(days=60)
PERSONS_THRESHOLD = 1_000


def classify(sensitivities: Iterable[Sensitivity], subjects_affected: int, unjust_purpose: bool,
             discovered_at: datetime) -> AppiIncident | None:
    """The reportable cases and deadlines, or None when no case applies."""
    if discovered_at.tzinfo is None:
        raise ValueError(f"discovered_at must be timezone-aware, got {discovered_at!r}")
    present = set(sensitivities)
    cases: list[AppiCase] = []
    if Sensitivity.SENSITIVE in present:
        cases.append(AppiCase.SENSITIVE_DATA)
    if Sensitivity.FINANCIAL in present:
        cases.append(AppiCase.FINANCIAL_DAMAGE)
    if unjust_purpose:
        cases.append(AppiCase.UNJUST_PURPOSE)
    # Art. 7(iv) says "exceeds 1,000": exactly 1,000 persons is not reportable on this ground.
    if subjects_affected > PERSONS_THRESHOLD:
        cases.append(AppiCase.OVER_1000_PERSONS)
    if not cases:
        return None
    final_within = FINAL_REPORT_WITHIN_UNJUST_PURPOSE if unjust_purpose else FINAL_REPORT_WITHIN
    return AppiIncident(
        cases=tuple(cases), discovered_at=discovered_at,
        preliminary_report_due=discovered_at + PRELIMINARY_REPORT_WITHIN,
        final_report_due=discovered_at + final_within,
    )


def most_sensitive(sensitivities: Iterable[Sensitivity]) -> Sensitivity:
    """One class for display: sensitive data outranks financial, which outranks ordinary."""
    present = set(sensitivities)
    for candidate in (Sensitivity.SENSITIVE, Sensitivity.FINANCIAL):
        if candidate in present:
            return candidate
    return Sensitivity.ORDINARY
