"""The daily rhythm: how present a staff member or a service is at a local time of the week.

Rates are looked up per 15-minute slot, so these functions run once per slot, never per event.
"""

from __future__ import annotations

from datetime import datetime, time

from consumers.policy.model import BusinessHours

SLOT_SECONDS = 900
# Staff stay a little after closing; kept small so legitimate overtime stays rare next to the
# off-hours scenario, as it does in a real office.
OVERTIME = 0.02


def staff_presence(hours: BusinessHours, local: datetime) -> float:
    """Share of a staff member's full-day rate at `local` (a time in the organisation's zone)."""
    if not hours.open_on(local.date()):
        return 0.0
    now = local.time()
    if not hours.start <= now < hours.end:
        return OVERTIME if hours.end <= now < _plus_hour(hours.end) else 0.0
    if now < _plus_hour(hours.start):
        return 0.6  # arriving, reading mail
    if time(12, 0) <= now < time(13, 0):
        return 0.35  # lunch
    if _plus_hour(now) >= hours.end:
        return 0.7
    return 1.0


def service_presence(local: datetime) -> float:
    """Integrations follow the public's use of the organisation's web services: quiet at night, never idle."""
    hour = local.hour
    if hour < 6:
        return 0.15
    if hour < 9 or hour >= 21:
        return 0.5
    return 1.0


def _plus_hour(value: time) -> time:
    return time(value.hour + 1, value.minute) if value.hour < 23 else time.max
