"""Normal traffic: every actor acting at its rate times the daily rhythm, as one time-ordered stream.

The stream is one Poisson process whose intensity is fixed within each 15-minute slot of simulated
time; each event goes to an actor drawn by weight. One global clock means events come out in
non-decreasing `occurred_at` order, overall and so per actor.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from producers.simulator.population import MULTI_RECORD, OrgPopulation, Population, SimActor, Task
from producers.simulator.rhythm import SLOT_SECONDS, service_presence, staff_presence
from schemas.records import AccessEvent, Action, Outcome

SESSION_GAP_SECONDS = 1800.0
CASELOAD_SHARE = 0.85


def new_uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def token(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.getrandbits(64):016x}"


# Not frozen: a frozen dataclass's __init__ costs several times more, and one is built per event.
@dataclass(slots=True)
class Access:
    """What an event says beyond who and when; scenarios fill it in to step outside normal traffic."""

    action: Action
    purpose: str
    categories: Sequence[str]
    record_type: str
    subject: int | None
    subject_count: int = 1
    recipient: str | None = None
    outcome: Outcome = "success"


def make_event(rng: random.Random, pop: OrgPopulation, actor: SimActor, at: float, access: Access,
               session_id: str, start: float) -> AccessEvent:
    """One complete, valid access event; `at` and `start` are POSIX seconds of simulated time."""
    subject = access.subject
    return {
        "event_id": new_uuid(rng),
        "occurred_at": datetime.fromtimestamp(at, UTC),
        "org": actor.org, "app": actor.app,
        "actor": {"id": actor.id, "type": actor.type, "roles": [actor.role], "department": actor.department},
        "action": access.action,
        "resource": {"system": actor.app, "record_type": access.record_type},
        "subject_id": pop.subject_id(subject) if subject is not None else None,
        "subject_key_id": None,
        "subject_count": access.subject_count,
        "data_categories": list(access.categories),
        "purpose": access.purpose,
        "legal_basis": None,
        "recipient": access.recipient,
        "source_ip": actor.source_ip,
        "session_id": session_id,
        "request_id": token(rng, "req"),
        "outcome": access.outcome,
        "record_count": access.subject_count,
        "collected_at": (datetime.fromtimestamp(pop.collected_at_seconds(subject, start), UTC)
                         if subject is not None else None),
    }


def task_access(rng: random.Random, pop: OrgPopulation, actor: SimActor, task: Task,
                subject: int | None = None) -> Access:
    """An access doing `task` the way the actor's screens do it; multi-record actions name no one subject."""
    screen = task.screens[int(rng.random() * len(task.screens))]
    span = MULTI_RECORD.get(task.action)
    if span is not None:
        return Access(task.action, task.purpose, screen, task.record_type, None, rng.randint(*span))
    if subject is None:
        subject = (actor.caseload[int(rng.random() * len(actor.caseload))]
                   if actor.caseload and rng.random() < CASELOAD_SHARE else pop.popular_subject(rng))
    return Access(task.action, task.purpose, screen, task.record_type, subject, 1, task.recipient)


@dataclass(frozen=True, slots=True)
class _Slot:
    events_per_second: float
    cumulative: list[float]


class Workload:
    """Iterating yields normal events from `start` on, forever; the same seed gives the same events."""

    def __init__(self, population: Population, start: datetime, seed: int) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("the simulation start must be timezone-aware")
        self.population = population
        self.start = start.timestamp()
        self.seed = seed
        self._actors = population.actors()
        self._orgs = population.orgs
        zones = {pop.policy.business_hours.zone.key for pop in population.orgs.values()}
        self._zones = [ZoneInfo(name) for name in sorted(zones)]
        self._hours = [pop.policy.business_hours for _, pop in sorted(population.orgs.items())]
        self._slots: dict[tuple[tuple[tuple[int, int, int], ...], tuple[bool, ...]], _Slot] = {}

    def __iter__(self) -> Iterator[AccessEvent]:
        rng = random.Random(f"kansa-sim:{self.seed}:workload")
        actors, orgs, start = self._actors, self._orgs, self.start
        sessions: dict[str, tuple[float, str]] = {}
        at = start
        while True:
            slot_end = (at // SLOT_SECONDS + 1) * SLOT_SECONDS
            slot = self._slot(at)
            if slot.events_per_second <= 0:
                at = slot_end
                continue
            while True:
                at += rng.expovariate(slot.events_per_second)
                if at >= slot_end:
                    break
                actor = actors[bisect_right(slot.cumulative, rng.random() * slot.events_per_second)]
                last = sessions.get(actor.id)
                session = token(rng, "sess") if last is None or at - last[0] > SESSION_GAP_SECONDS else last[1]
                sessions[actor.id] = (at, session)
                task = actor.tasks[bisect_right(actor.task_cumulative, rng.random() * actor.task_cumulative[-1])]
                pop = orgs[actor.org]
                yield make_event(rng, pop, actor, at, task_access(rng, pop, actor, task), session, start)
            # Memoryless arrivals: restarting the clock at the slot boundary keeps the process exact.
            at = slot_end

    def _slot(self, at: float) -> _Slot:
        moment = datetime.fromtimestamp(at, UTC)
        # A slot's rates repeat weekly, except on the days an organisation closes (holidays).
        week = tuple((local.weekday(), local.hour, local.minute // 15)
                     for local in (moment.astimezone(zone) for zone in self._zones))
        key = (week, tuple(hours.open_on(moment.astimezone(hours.zone).date()) for hours in self._hours))
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = self._build_slot(moment)
        return slot

    def _build_slot(self, moment: datetime) -> _Slot:
        factor = self.population.rate_factor / 3600.0
        presence: dict[str, tuple[float, float]] = {}
        for org, pop in self._orgs.items():
            hours = pop.policy.business_hours
            local = moment.astimezone(hours.zone)
            presence[org] = (staff_presence(hours, local), service_presence(local))
        cumulative: list[float] = []
        total = 0.0
        for actor in self._actors:
            staff, service = presence[actor.org]
            total += actor.events_per_hour * factor * (service if actor.type == "service" else staff)
            cumulative.append(total)
        return _Slot(total, cumulative)
