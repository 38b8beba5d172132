"""Identities: the fingerprint names a problem, the alert id names one episode of it."""

from __future__ import annotations

import hashlib
import uuid

# Fixed forever: changing it would give replayed episodes new ids and page twice.
_ALERT_NAMESPACE = uuid.UUID("6f1d3c52-8a7e-5b0c-9d2e-4b6a1f0e7c31")
_SEPARATOR = "\x1f"


def alert_fingerprint(org: str, rule: str, actor: str | None, subject: str | None) -> str:
    """Same org, rule, actor and subject = same problem; time and counts stay out so repeats match."""
    parts = (org, rule, actor or "", subject or "")
    return hashlib.sha256(_SEPARATOR.join(parts).encode()).hexdigest()[:32]


def episode_id(fingerprint: str, first_event_id: str) -> str:
    """Deterministic, so a consumer that re-reads uncommitted events re-raises the same alert, not a new one."""
    return str(uuid.uuid5(_ALERT_NAMESPACE, fingerprint + _SEPARATOR + first_event_id))
