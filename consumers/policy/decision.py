"""What the engine answers: a verdict, its worst severity, and every rule hit that explains it."""

from __future__ import annotations

from dataclasses import dataclass

from consumers.policy.model import SEVERITIES, Severity, Verdict

_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule_id: str
    severity: Severity
    clause: str
    reason_ja: str
    reason_en: str
    reason_vi: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    severity: Severity | None
    hits: tuple[RuleHit, ...]


# Shared so the common allow path allocates nothing.
ALLOW = Decision("allow", None, ())


def decide(hits: list[RuleHit]) -> Decision:
    """Info hits (a claimed legal basis) ask for review; anything worse is a violation."""
    if not hits:
        return ALLOW
    ordered = tuple(sorted(hits, key=lambda hit: (hit.rule_id, hit.reason_en)))
    worst = max((hit.severity for hit in ordered), key=_RANK.__getitem__)
    return Decision("review" if worst == "info" else "violation", worst, ordered)
