"""Third-party provision records (APPI Art. 29) for one organisation and period."""

from __future__ import annotations

from datetime import date
from typing import Any

from clickhouse_connect.driver.client import Client

COLUMNS = ("provided_on", "occurred_at", "recipient", "recipient_name", "subject_id", "categories", "basis",
           "purpose", "event_id")


def provision_rows(client: Client, org: str, start: date, end: date) -> list[tuple[Any, ...]]:
    """Records with provided_on in [start, end], oldest first."""
    result = client.query(
        f"SELECT {', '.join(COLUMNS)} FROM provision_records "
        "WHERE org = {org:String} AND provided_on BETWEEN {start:Date} AND {end:Date} "
        "ORDER BY provided_on, occurred_at, event_id",
        parameters={"org": org, "start": start, "end": end},
    )
    return [tuple(row) for row in result.result_rows]
