"""Keyed-HMAC pseudonyms for data subjects, so raw subject ids need never leave the app.

The report tools compute the same pseudonym from a requester's id with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SubjectPseudonymiser:
    key_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise ValueError("the subject pseudonym key must be at least 16 bytes")
        if not self.key_id:
            raise ValueError("the subject pseudonym key needs an id (it is stored with every pseudonym)")

    def pseudonym(self, org: str, subject_id: str) -> str:
        """Scoped by org, so one person's pseudonyms at two organisations cannot be joined."""
        digest = hmac.new(self.key, f"{org}\x1f{subject_id}".encode(), hashlib.sha256).hexdigest()
        return f"ps_{digest[:40]}"
