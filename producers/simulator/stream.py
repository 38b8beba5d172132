"""Normal traffic and scheduled scenarios merged into one stream in simulated-time order.

Scenarios are planned lazily, one per `every` of simulated time after `warmup` (so detectors
have a baseline first), taking the enabled kinds in a seeded round-robin; a kind that cannot
run at that moment (e.g. off-hours browsing during business hours) yields its turn to the next.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from producers.simulator.labels import ScenarioRun
from producers.simulator.population import Population
from producers.simulator.scenarios import SCENARIOS, Context, Payload
from producers.simulator.workload import Workload

Item = tuple[Payload, ScenarioRun | None]


def parse_scenarios(text: str) -> tuple[str, ...]:
    """`all`, `none`, or a comma list of scenario names; raises ValueError naming unknown ones."""
    value = text.strip()
    if value == "all":
        return tuple(SCENARIOS)
    if value in ("none", ""):
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s): {', '.join(unknown)}; known: all, none, {', '.join(SCENARIOS)}")
    return names


@dataclass(frozen=True, slots=True)
class Schedule:
    every: timedelta = timedelta(minutes=10)
    warmup: timedelta = timedelta(minutes=10)


class Simulation:
    """Iterating yields (event or subject request, its scenario or None) forever, deterministic for the seed."""

    def __init__(self, population: Population, start: datetime, seed: int, scenarios: Sequence[str] = (),
                 schedule: Schedule | None = None) -> None:
        schedule = schedule or Schedule()
        if schedule.every <= timedelta(0) or schedule.warmup < timedelta(0):
            raise ValueError("the scenario interval must be positive and the warm-up not negative")
        unknown = [name for name in scenarios if name not in SCENARIOS]
        if unknown:
            raise ValueError(f"unknown scenario(s): {', '.join(unknown)}")
        self.workload = Workload(population, start, seed)
        self.population = population
        self.start = start.timestamp()
        self.seed = seed
        self.scenarios = tuple(scenarios)
        self.schedule = schedule

    def __iter__(self) -> Iterator[Item]:
        normal = iter(self.workload)
        injected = self._scenario_items()
        event = next(normal)
        pending = next(injected, None)
        while True:
            if pending is not None and pending[0] <= event["occurred_at"].timestamp():
                yield pending[1], pending[2]
                pending = next(injected, None)
            else:
                yield event, None
                event = next(normal)

    def _scenario_items(self) -> Iterator[tuple[float, Payload, ScenarioRun]]:
        if not self.scenarios:
            return
        rng = random.Random(f"kansa-sim:{self.seed}:scenarios")
        order = list(self.scenarios)
        rng.shuffle(order)
        heap: list[tuple[float, int, Payload, ScenarioRun]] = []
        spent: set[str] = set()
        sequence = turn = planned = 0
        next_at = self.start + self.schedule.warmup.total_seconds()
        every = self.schedule.every.total_seconds()
        while True:
            # Plan every scenario due before the earliest pending item, so nothing comes out of order.
            while not heap or next_at <= heap[0][0]:
                for attempt in range(len(order)):
                    name = order[(turn + attempt) % len(order)]
                    ctx = Context(rng, self.population, next_at + rng.uniform(0, 60), self.start,
                                  f"sc-{planned + 1:05d}-{name}", spent)
                    plan = SCENARIOS[name](ctx)
                    if plan is not None:
                        planned += 1
                        turn = (turn + attempt + 1) % len(order)
                        for at, payload in plan.items:
                            sequence += 1
                            heapq.heappush(heap, (at, sequence, payload, plan.run))
                        break
                next_at += every
            at, _, payload, run = heapq.heappop(heap)
            yield at, payload, run
