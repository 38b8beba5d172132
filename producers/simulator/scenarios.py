"""Injected misuse with ground truth: each scenario plans its events (and subject requests) and a label.

Behavioural scenarios stay inside the policy, so only the anomaly detectors can catch them;
rule-based ones break it in the way their name says. The label's `rules` come from running the
real PolicyEngine over the scenario's own events, so they state what the engine decides.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from consumers.policy.compiled import PolicySet
from consumers.policy.engine import PolicyEngine
from consumers.policy.requests import SubjectRequestBook
from producers.simulator.labels import Expectation, ScenarioRun
from producers.simulator.population import MULTI_RECORD, OrgPopulation, Population, SimActor, Task
from producers.simulator.workload import Access, make_event, new_uuid, task_access, token
from schemas.records import AccessEvent, SubjectRequest

Payload = AccessEvent | SubjectRequest

UNNAMED_RECIPIENTS = ("data-broker-kk", "recruitment-agency-x", "marketing-affiliate", "unknown-partner")
UNDECLARED_PURPOSES = ("personal_interest", "marketing_list_building", "staff_curiosity")
# Long enough for the longest scenario window, so a business-hours scenario ends before closing.
_LONGEST_WINDOW = timedelta(minutes=90)


@dataclass(slots=True)
class Plan:
    run: ScenarioRun
    items: list[tuple[float, Payload]]


@dataclass(slots=True)
class Context:
    rng: random.Random
    population: Population
    at: float
    start: float
    scenario_id: str
    # Keys of one-off situations already used (a first use, a dormant account), so none repeats.
    spent: set[str]

    def open_org(self) -> OrgPopulation | None:
        """An organisation in business hours now with time left for the scenario, chosen at random."""
        moment = datetime.fromtimestamp(self.at, UTC)
        fits = []
        for _, pop in sorted(self.population.orgs.items()):
            hours = pop.policy.business_hours
            if hours.open_at(moment.astimezone(hours.zone)) and \
                    hours.open_at((moment + _LONGEST_WINDOW).astimezone(hours.zone)):
                fits.append(pop)
        return self.rng.choice(fits) if fits else None

    def open_staff(self, wanted: Callable[[SimActor], bool] = lambda a: True) -> tuple[OrgPopulation, SimActor] | None:
        """A staff member matching `wanted` at an organisation that is open now."""
        pop = self.open_org()
        actor = self.staff(pop, wanted) if pop is not None else None
        return (pop, actor) if pop is not None and actor is not None else None

    def staff(self, pop: OrgPopulation, wanted: Callable[[SimActor], bool] = lambda a: True) -> SimActor | None:
        found = [a for a in pop.actors if a.type == "staff" and wanted(a)]
        return self.rng.choice(found) if found else None

    def times(self, count: int, window_seconds: float, offset: float = 0.0) -> list[float]:
        base = self.at + offset
        return sorted(base + self.rng.uniform(0, window_seconds) for _ in range(count))

    def plan(self, name: str, pop: OrgPopulation, actors: list[SimActor], subject: int | None,
             expected: Expectation, detail: dict[str, object], items: list[tuple[float, Payload]]) -> Plan:
        run = ScenarioRun(name, self.scenario_id, pop.org, sorted({a.id for a in actors}),
                          pop.subject_id(subject) if subject is not None else None, expected,
                          _rules(self.population, items), dict(detail),
                          planned_events=sum(1 for _, p in items if "event_id" in p))
        return Plan(run, items)

    def event(self, pop: OrgPopulation, actor: SimActor, at: float, access: Access, session: str) -> AccessEvent:
        return make_event(self.rng, pop, actor, at, access, session, self.start)


def _per_subject(task: Task) -> bool:
    return task.action not in MULTI_RECORD and task.action != "disclose"


def _read_task(actor: SimActor) -> Task | None:
    reads = [t for t in actor.tasks if t.action == "read"]
    return reads[0] if reads else None


def bulk_export(ctx: Context) -> Plan | None:
    found = ctx.open_staff(lambda a: any(t.action == "export" for t in a.tasks))
    if found is None:
        return None
    pop, actor = found
    task = next(t for t in actor.tasks if t.action == "export")
    session, window = token(ctx.rng, "sess"), ctx.rng.uniform(180, 600)
    items: list[tuple[float, Payload]] = []
    total = 0
    # Either one export per record (a script walking the list) or large batches (the export button).
    if ctx.rng.random() < 0.5:
        wanted = min(pop.subjects, ctx.rng.randint(2000, 5000))
        style, subjects = "per_record", ctx.rng.sample(range(pop.subjects), wanted)
        for at, subject in zip(ctx.times(len(subjects), window), subjects, strict=True):
            access = Access("export", task.purpose, task.screens[0], task.record_type, subject)
            items.append((at, ctx.event(pop, actor, at, access, session)))
        total = len(subjects)
    else:
        style = "batched"
        for at in ctx.times(ctx.rng.randint(10, 20), window):
            access = Access("export", task.purpose, task.screens[0], task.record_type, None,
                            ctx.rng.randint(200, 500))
            items.append((at, ctx.event(pop, actor, at, access, session)))
            total += access.subject_count
    return ctx.plan("bulk_export", pop, [actor], None, "anomaly",
                    {"style": style, "subjects": total, "window_seconds": round(window)}, items)


def off_hours(ctx: Context) -> Plan | None:
    moment = datetime.fromtimestamp(ctx.at, UTC)
    closed = []
    for _, pop in sorted(ctx.population.orgs.items()):
        hours = pop.policy.business_hours
        local = moment.astimezone(hours.zone)
        later = (moment + _LONGEST_WINDOW).astimezone(hours.zone)
        # Two hours clear of closing time, so it is not mistaken for staff working late.
        if not any(hours.open_at(t) for t in (local, later, local - timedelta(hours=2))) \
                and not time(7, 0) <= local.time() < time(9, 0):
            closed.append(pop)
    if not closed:
        return None
    pop = ctx.rng.choice(closed)
    actor = ctx.staff(pop, lambda a: _read_task(a) is not None)
    if actor is None:
        return None
    task, session = _read_task(actor), token(ctx.rng, "sess")
    assert task is not None  # the filter above guarantees it
    items: list[tuple[float, Payload]] = [
        (at, ctx.event(pop, actor, at, task_access(ctx.rng, pop, actor, task), session))
        for at in ctx.times(ctx.rng.randint(20, 60), ctx.rng.uniform(1200, 5400))
    ]
    local = moment.astimezone(pop.policy.business_hours.zone)
    return ctx.plan("off_hours", pop, [actor], None, "anomaly", {"local_start": local.isoformat()}, items)


def snooping_actor(ctx: Context) -> Plan | None:
    found = ctx.open_staff(lambda a: _read_task(a) is not None)
    if found is None:
        return None
    pop, actor = found
    task, session = _read_task(actor), token(ctx.rng, "sess")
    assert task is not None
    subjects = ctx.rng.sample(range(pop.subjects), ctx.rng.randint(40, 120))
    items: list[tuple[float, Payload]] = [
        (at, ctx.event(pop, actor, at, task_access(ctx.rng, pop, actor, task, subject), session))
        for at, subject in zip(ctx.times(len(subjects), ctx.rng.uniform(1800, 3600)), subjects, strict=True)
    ]
    return ctx.plan("snooping_actor", pop, [actor], None, "anomaly", {"distinct_subjects": len(subjects)}, items)


def snooping_subject(ctx: Context) -> Plan | None:
    pop = ctx.open_org()
    if pop is None:
        return None
    readers = [a for a in pop.actors if a.type == "staff" and _read_task(a) is not None]
    if len(readers) < 12:
        return None
    actors = ctx.rng.sample(readers, ctx.rng.randint(12, min(25, len(readers))))
    subject = pop.reserved_subject(ctx.rng)
    items: list[tuple[float, Payload]] = []
    for at, actor in zip(ctx.times(len(actors), 3600), actors, strict=True):
        task = _read_task(actor)
        assert task is not None
        access = task_access(ctx.rng, pop, actor, task, subject)
        items.append((at, ctx.event(pop, actor, at, access, token(ctx.rng, "sess"))))
    return ctx.plan("snooping_subject", pop, actors, subject, "anomaly", {"distinct_actors": len(actors)}, items)


def volume_spike(ctx: Context) -> Plan | None:
    # An uncapped role, so the spike is only visible against the actor's own baseline.
    found = ctx.open_staff(lambda a: ctx.population.orgs[a.org].compiled.roles[a.role].max_records_per_hour is None) \
        or ctx.open_staff()
    if found is None:
        return None
    pop, actor = found
    usual = actor.events_per_hour * ctx.population.rate_factor
    count = max(60, round(usual * ctx.rng.uniform(8, 15)))
    session = token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = []
    for at in ctx.times(count, 3600):
        task = actor.tasks[int(ctx.rng.random() * len(actor.tasks))]
        items.append((at, ctx.event(pop, actor, at, task_access(ctx.rng, pop, actor, task), session)))
    return ctx.plan("volume_spike", pop, [actor], None, "anomaly",
                    {"events": count, "usual_events_per_hour": round(usual, 1)}, items)


def first_use(ctx: Context) -> Plan | None:
    pop = ctx.open_org()
    if pop is None:
        return None
    candidates = []
    for actor in pop.actors:
        purposes = {t.purpose for t in actor.tasks}
        used = {c for t in actor.tasks for s in t.screens for c in s}
        for task in actor.unused_tasks:
            new = sorted({c for s in task.screens for c in s} - used)
            key = f"first_use:{actor.id}:{task.purpose}:{task.action}"
            if task.action != "disclose" and (task.purpose not in purposes or new) and key not in ctx.spent:
                candidates.append((actor, task, task.purpose not in purposes, new))
    if not candidates:
        return None
    actor, task, new_purpose, new_categories = ctx.rng.choice(candidates)
    # Once this actor has stepped outside their habits, a second "first use" by them would be noise.
    ctx.spent.update(f"first_use:{actor.id}:{t.purpose}:{t.action}" for t in actor.unused_tasks)
    session = token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = [
        (at, ctx.event(pop, actor, at, task_access(ctx.rng, pop, actor, task), session))
        for at in ctx.times(ctx.rng.randint(3, 10), 1800)
    ]
    return ctx.plan("first_use", pop, [actor], None, "anomaly",
                    {"purpose": task.purpose, "action": task.action, "new_purpose": new_purpose,
                     "new_categories": new_categories}, items)


def dormant(ctx: Context) -> Plan | None:
    pop = ctx.open_org()
    fresh = [a for a in pop.dormant if f"dormant:{a.id}" not in ctx.spent] if pop is not None else []
    if pop is None or not fresh:
        return None
    actor = fresh[0]
    ctx.spent.add(f"dormant:{actor.id}")
    session = token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = []
    for at in ctx.times(ctx.rng.randint(20, 60), 3600):
        task = actor.tasks[int(ctx.rng.random() * len(actor.tasks))]
        items.append((at, ctx.event(pop, actor, at, task_access(ctx.rng, pop, actor, task), session)))
    return ctx.plan("dormant", pop, [actor], None, "anomaly", {"prior_events_in_stream": 0}, items)


def probing(ctx: Context) -> Plan | None:
    found = ctx.open_staff()
    if found is None:
        return None
    pop, actor = found
    role = pop.compiled.roles[actor.role]
    targets = [(p.id, sorted(p.categories - role.categories(p.id, "read")))
               for _, p in sorted(pop.policy.purposes.items())]
    targets = [(purpose, cats) for purpose, cats in targets if cats]
    if not targets:
        return None
    session = token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = []
    for at in ctx.times(ctx.rng.randint(15, 40), ctx.rng.uniform(120, 300)):
        purpose, cats = ctx.rng.choice(targets)
        access = Access("read", purpose, ctx.rng.sample(cats, min(len(cats), ctx.rng.randint(1, 3))),
                        "person", ctx.rng.randrange(pop.subjects), outcome="denied")
        items.append((at, ctx.event(pop, actor, at, access, session)))
    return ctx.plan("probing", pop, [actor], None, "denied", {"attempts": len(items)}, items)


def unnamed_recipient(ctx: Context) -> Plan | None:
    pop = ctx.open_org()
    if pop is None:
        return None
    actor = ctx.staff(pop, lambda a: any(t.action == "disclose" for t in a.tasks)) or ctx.staff(pop)
    if actor is None:
        return None
    task = next((t for t in actor.tasks if t.action == "disclose"), actor.tasks[0])
    recipient, session = ctx.rng.choice(UNNAMED_RECIPIENTS), token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = []
    for at in ctx.times(ctx.rng.randint(1, 5), 1800):
        access = Access("disclose", task.purpose, task.screens[0], task.record_type, pop.popular_subject(ctx.rng),
                        recipient=recipient)
        items.append((at, ctx.event(pop, actor, at, access, session)))
    return ctx.plan("unnamed_recipient", pop, [actor], None, "violation", {"recipient": recipient}, items)


def after_suspension(ctx: Context) -> Plan | None:
    found = ctx.open_staff(lambda a: any(_per_subject(t) for t in a.tasks))
    if found is None:
        return None
    pop, actor = found
    subject = pop.reserved_subject(ctx.rng)
    moment = datetime.fromtimestamp(ctx.at, UTC)
    request: SubjectRequest = {
        "request_id": new_uuid(ctx.rng), "org": pop.org, "subject_id": pop.subject_id(subject),
        "kind": "suspend_use", "effective_at": moment, "received_at": moment,
        "reference": f"SR-{ctx.scenario_id}",
    }
    tasks, session = [t for t in actor.tasks if _per_subject(t)], token(ctx.rng, "sess")
    items: list[tuple[float, Payload]] = [(ctx.at, request)]
    for at in ctx.times(ctx.rng.randint(1, 4), 3600, offset=300):
        access = task_access(ctx.rng, pop, actor, ctx.rng.choice(tasks), subject)
        items.append((at, ctx.event(pop, actor, at, access, session)))
    run = ctx.plan("after_suspension", pop, [actor], subject, "violation",
                   {"request_kind": "suspend_use", "effective_at": moment.isoformat()}, items)
    run.run.request_ids.append(str(request["request_id"]))
    return run


def purpose_misuse(ctx: Context) -> Plan | None:
    found = ctx.open_staff()
    if found is None:
        return None
    pop, actor = found
    granted = set(pop.compiled.roles[actor.role].access)
    foreign = [p for _, p in sorted(pop.policy.purposes.items()) if p.id not in granted and "read" in p.actions]
    session = token(ctx.rng, "sess")
    screen = actor.tasks[0].screens[0]
    if foreign and ctx.rng.random() < 0.5:
        target = ctx.rng.choice(foreign)
        purpose, categories, variant = target.id, sorted(target.categories)[:3], "ungranted_purpose"
    else:
        purpose, categories, variant = ctx.rng.choice(UNDECLARED_PURPOSES), list(screen), "undeclared_purpose"
    items: list[tuple[float, Payload]] = []
    for at in ctx.times(ctx.rng.randint(2, 6), 1800):
        access = Access("read", purpose, categories, actor.tasks[0].record_type, pop.popular_subject(ctx.rng))
        items.append((at, ctx.event(pop, actor, at, access, session)))
    return ctx.plan("purpose_misuse", pop, [actor], None, "violation", {"variant": variant, "purpose": purpose},
                    items)


SCENARIOS: dict[str, Callable[[Context], Plan | None]] = {
    "bulk_export": bulk_export, "off_hours": off_hours, "snooping_actor": snooping_actor,
    "snooping_subject": snooping_subject, "volume_spike": volume_spike, "first_use": first_use,
    "dormant": dormant, "probing": probing, "unnamed_recipient": unnamed_recipient,
    "after_suspension": after_suspension, "purpose_misuse": purpose_misuse,
}


def _rules(population: Population, items: list[tuple[float, Payload]]) -> list[str]:
    policies = PolicySet({org: pop.compiled for org, pop in population.orgs.items()})
    engine, book = PolicyEngine(policies), SubjectRequestBook()
    hits: set[str] = set()
    for _, payload in items:
        if "event_id" in payload:
            hits.update(h.rule_id for h in engine.evaluate(payload, book).hits)  # type: ignore[arg-type]
        else:
            book.apply(payload)
    return sorted(hits)
