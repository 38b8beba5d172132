"""Who works at each seed organisation, which apps they use, and whose data they open.

Everything is derived from the loaded policy (roles, grants, purposes, recipients), so a policy
change never makes normal traffic violate it. Headcount scales with the requested volume: real
people keep realistic per-person rates (and stay under each role's max_records_per_hour), and
a higher rate means more people, not busier ones.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from consumers.policy.compiled import CompiledPolicy, PolicySet
from consumers.policy.model import Policy
from schemas.records import Action, ActorType

STAFF_EVENTS_PER_HOUR = 24.0
SERVICE_EVENTS_PER_HOUR = 360.0
# Share of a capped role's max_records_per_hour its staff use on a normal day.
CAP_HEADROOM = 0.35
RESERVED_SUBJECTS = 500
MAX_SUBJECTS = 5_000_000
# A multiplier coprime with every subject count: shuffles popularity ranks over ids cheaply.
_SHUFFLE = 1_000_003

ACTION_WEIGHTS: dict[str, float] = {
    "read": 50.0, "search": 12.0, "update": 10.0, "create": 5.0, "print": 2.0,
    "disclose": 3.0, "export": 0.5, "delete": 0.3, "other": 0.0,
}
# (low, high) records touched by one event of a multi-record action.
MULTI_RECORD: dict[str, tuple[int, int]] = {"search": (3, 30), "export": (20, 300)}

_SUBJECT_PREFIX = {"chiba-cia": "member-", "izumisano-ssw": "worker-", "weia": "client-"}
_SUBJECTS_PER_SCALE = {"chiba-cia": 4000, "izumisano-ssw": 1500, "weia": 2500}
_HEADCOUNT = {
    "consultation_counsellor": 4, "support_counsellor": 4, "harassment_counsellor": 5, "reception": 3,
    "inquiry_desk": 3, "member_services": 3, "support_desk": 3, "interpreter": 3, "course_administrator": 3,
    "privacy_officer": 1, "privacy_office": 1, "centre_manager": 1, "system_administrator": 1,
}
_APPS: dict[str, dict[str, str]] = {
    "chiba-cia": {
        "member_services": "member-portal", "volunteer_coordinator": "member-portal",
        "course_administrator": "member-portal", "privacy_officer": "member-portal", "svc_mailer": "mailer",
        "consultation_counsellor": "consultation-desk", "inquiry_desk": "consultation-desk",
        "room_booking_clerk": "booking-integration", "svc_booking_sync": "booking-integration",
        "accounting": "payment-integration", "svc_payment_gateway": "payment-integration",
        "publications_clerk": "publications-dispatch", "system_administrator": "site-operations",
    },
    "izumisano-ssw": {
        "support_counsellor": "ssw-case-manager", "interpreter": "ssw-case-manager",
        "reception": "ssw-case-manager", "centre_manager": "ssw-case-manager",
        "survey_analyst": "survey-portal", "svc_notifier": "notification-service",
        "system_administrator": "web-analytics", "svc_web_analytics": "web-analytics",
    },
    "weia": {
        "harassment_counsellor": "consultation-desk", "counsellor_supervisor": "consultation-desk",
        "client_account_manager": "client-portal", "billing_clerk": "client-portal",
        "privacy_office": "client-portal", "events_staff": "events-crm", "marketing": "events-crm",
        "svc_newsletter": "events-crm", "support_desk": "support-desk", "trust_and_safety": "support-desk",
        "recruiter": "recruiting", "service_analyst": "analytics", "svc_usage_tracker": "analytics",
    },
}
_DEPARTMENTS = {
    "consultation_counsellor": "consultation", "support_counsellor": "consultation",
    "harassment_counsellor": "consultation", "counsellor_supervisor": "consultation", "interpreter": "consultation",
    "system_administrator": "it", "svc_mailer": "it", "svc_notifier": "it", "svc_web_analytics": "it",
    "svc_newsletter": "it", "svc_usage_tracker": "it", "svc_payment_gateway": "it", "svc_booking_sync": "it",
    "accounting": "finance", "billing_clerk": "finance", "privacy_officer": "privacy", "privacy_office": "privacy",
    "reception": "front-desk", "inquiry_desk": "front-desk", "support_desk": "front-desk",
    "centre_manager": "management",
}
# Most specific category first: it names the kind of record the screen shows.
_RECORD_TYPES = (
    ("consultation_content", "consultation_record"), ("counsellor_record", "consultation_record"),
    ("payment_token", "payment"), ("payment_record", "payment"), ("billing_info", "invoice"),
    ("booking_details", "room_booking"), ("survey_response", "survey_response"),
    ("applicant_record", "applicant"), ("misuse_record", "misuse_case"), ("inquiry_content", "inquiry"),
    ("residence_card_number", "residence_card"), ("usage_history", "usage_log"),
    ("access_log", "access_log"), ("device_id", "web_session"), ("cookie", "web_session"),
    ("ip_address", "web_session"),
)


@dataclass(frozen=True, slots=True)
class Task:
    """One kind of thing a role does: an action for a purpose on one of a few fixed screens (category sets)."""

    purpose: str
    action: Action
    screens: tuple[tuple[str, ...], ...]
    record_type: str
    recipient: str | None
    weight: float


@dataclass(frozen=True, slots=True)
class SimActor:
    id: str
    org: str
    type: ActorType
    role: str
    department: str
    app: str
    source_ip: str
    events_per_hour: float
    tasks: tuple[Task, ...]
    # Granted tasks this person has never used: what the first-use scenario reaches for.
    unused_tasks: tuple[Task, ...]
    task_cumulative: tuple[float, ...]
    caseload: tuple[int, ...]


@dataclass(slots=True)
class OrgPopulation:
    org: str
    compiled: CompiledPolicy
    subject_prefix: str
    # Subjects [0, subjects) get normal traffic; [subjects, subjects + RESERVED_SUBJECTS) only scenarios,
    # so a scenario's subject (e.g. one under a suspension request) is never touched by normal traffic.
    subjects: int
    actors: list[SimActor]
    # Accounts that never act in normal traffic, for the dormant-account scenario.
    dormant: list[SimActor]
    role_tasks: dict[str, tuple[Task, ...]] = field(default_factory=dict)
    _collected_span: int = 1

    @property
    def policy(self) -> Policy:
        return self.compiled.policy

    def subject_id(self, index: int) -> str:
        return f"{self.subject_prefix}{index:06d}"

    def popular_subject(self, rng: random.Random) -> int:
        """A subject index with Zipf(s=1) popularity: rank r is drawn with weight ~1/r."""
        rank = int((self.subjects + 1) ** rng.random()) - 1
        return (rank * _SHUFFLE + 7) % self.subjects

    def reserved_subject(self, rng: random.Random) -> int:
        return self.subjects + rng.randrange(RESERVED_SUBJECTS)

    def collected_at_seconds(self, index: int, start: float) -> float:
        """When the subject's data was collected: fixed per subject, well inside every retention period."""
        days = 7 + (index * 7919) % self._collected_span
        return start - days * 86400.0 - (index * 104729) % 86400


@dataclass(slots=True)
class Population:
    orgs: dict[str, OrgPopulation]
    scale: int
    # Multiplier on every actor's rate so the weekday peak hits the requested volume exactly.
    rate_factor: float

    def actors(self) -> list[SimActor]:
        return [a for org in sorted(self.orgs) for a in self.orgs[org].actors]


def build_population(policies: PolicySet, seed: int, peak_events_per_second: float) -> Population:
    """Staff, services and subjects for every loaded organisation, sized for the given weekday-peak volume."""
    if peak_events_per_second <= 0:
        raise ValueError("peak_events_per_second must be positive")
    unit = _build(policies, seed, 1)
    per_scale = sum(a.events_per_hour for org in unit.orgs.values() for a in org.actors) / 3600.0
    scale = max(1, math.ceil(peak_events_per_second / per_scale))
    population = unit if scale == 1 else _build(policies, seed, scale)
    population.rate_factor = peak_events_per_second / (per_scale * scale)
    return population


def _build(policies: PolicySet, seed: int, scale: int) -> Population:
    rng = random.Random(f"kansa-sim:{seed}:population")
    orgs: dict[str, OrgPopulation] = {}
    for org_index, org in enumerate(policies):
        cp = policies.by_org[org]
        subjects = min(MAX_SUBJECTS, _SUBJECTS_PER_SCALE.get(org, 2000) * scale)
        pop = OrgPopulation(org, cp, _SUBJECT_PREFIX.get(org, "subject-"), subjects, [], [])
        min_days = int(cp.min_retention.total_seconds() // 86400)
        pop._collected_span = max(1, int(min_days * 0.6) - 7)
        pop.role_tasks = {role: _role_tasks(cp, role, rng) for role in sorted(cp.roles)}
        staff_no = 0
        for dept_index, role_id in enumerate(sorted(cp.roles)):
            tasks = pop.role_tasks[role_id]
            if not tasks:
                continue
            is_service = "service" in cp.roles[role_id].role.actor_types
            head = (1 if is_service else _HEADCOUNT.get(role_id, 2)) * scale
            rate = _role_rate(cp, role_id, tasks, is_service)
            for instance in range(1, head + 1):
                if is_service:
                    actor_id = f"{org}/{role_id.removeprefix('svc_').replace('_', '-')}-{instance:02d}"
                    ip = f"172.16.{(org_index * 16 + dept_index) % 256}.{instance % 250 + 2}"
                    personal = 1.0
                else:
                    staff_no += 1
                    actor_id = f"{org}/staff-{staff_no:04d}"
                    ip = f"10.{org_index}.{(dept_index * 8 + staff_no // 250) % 256}.{staff_no % 250 + 2}"
                    personal = rng.uniform(0.6, 1.4)
                pop.actors.append(_actor(rng, pop, actor_id, role_id, is_service, ip, rate * personal, tasks))
        for _ in range(max(3, scale)):
            staff_no += 1
            role_id = rng.choice([a.role for a in pop.actors if a.type == "staff"])
            pop.dormant.append(_actor(rng, pop, f"{org}/staff-{staff_no:04d}", role_id, False,
                                      f"10.{org_index}.250.{staff_no % 250 + 2}", 0.0, pop.role_tasks[role_id]))
        orgs[org] = pop
    return Population(orgs, scale, 1.0)


def _role_tasks(cp: CompiledPolicy, role_id: str, rng: random.Random) -> tuple[Task, ...]:
    """Every (purpose, action) a role's grants allow, with two or three fixed screens of categories each."""
    policy = cp.policy
    tasks: list[Task] = []
    for purpose_id, by_action in sorted(cp.roles[role_id].access.items()):
        purpose = policy.purposes.get(purpose_id)
        if purpose is None:
            continue
        for action, granted in sorted(by_action.items()):
            if action not in purpose.actions or ACTION_WEIGHTS.get(action, 0.0) <= 0:
                continue
            categories = sorted(granted & purpose.categories)
            recipient = None
            if action == "disclose":
                named = [r for _, r in sorted(policy.recipients.items())
                         if purpose_id in r.purposes and set(categories) & r.categories]
                if not named:
                    continue
                recipient = named[0].id
                categories = [c for c in categories if c in named[0].categories]
            if not categories:
                continue
            tasks.append(Task(purpose_id, action, _screens(rng, categories), _record_type(categories),
                              recipient, ACTION_WEIGHTS[action]))
    return tuple(tasks)


def _screens(rng: random.Random, categories: list[str]) -> tuple[tuple[str, ...], ...]:
    screens: list[tuple[str, ...]] = []
    for _ in range(3):
        size = rng.randint(1, min(4, len(categories)))
        chosen = set(rng.sample(categories, size))
        if "name" in categories:
            chosen.add("name")  # every screen about a person shows who it is
        screens.append(tuple(sorted(chosen)))
    return tuple(dict.fromkeys(screens))


def _record_type(categories: list[str]) -> str:
    present = set(categories)
    return next((kind for category, kind in _RECORD_TYPES if category in present), "person")


def _role_rate(cp: CompiledPolicy, role_id: str, tasks: tuple[Task, ...], is_service: bool) -> float:
    rate = SERVICE_EVENTS_PER_HOUR if is_service else STAFF_EVENTS_PER_HOUR
    cap = cp.roles[role_id].max_records_per_hour
    if cap is None:
        return rate
    total = sum(t.weight for t in tasks)
    mean_records = sum(t.weight * sum(MULTI_RECORD.get(t.action, (1, 1))) / 2 for t in tasks) / total
    return min(rate, CAP_HEADROOM * cap / mean_records)


def _actor(rng: random.Random, pop: OrgPopulation, actor_id: str, role_id: str, is_service: bool, ip: str,
           rate: float, tasks: tuple[Task, ...]) -> SimActor:
    used: tuple[Task, ...] = tasks
    unused: tuple[Task, ...] = ()
    if not is_service:
        # Nobody uses every permission their role grants; reads always stay, as every job reads.
        keep = [t.action == "read" or rng.random() < 0.7 for t in tasks]
        if not any(keep):
            keep[0] = True
        used = tuple(t for t, k in zip(tasks, keep, strict=True) if k)
        unused = tuple(t for t, k in zip(tasks, keep, strict=True) if not k)
    cumulative: list[float] = []
    total = 0.0
    for task in used:
        total += task.weight
        cumulative.append(total)
    caseload = () if is_service else tuple(dict.fromkeys(pop.popular_subject(rng) for _ in range(rng.randint(30, 80))))
    return SimActor(
        id=actor_id, org=pop.org, type="service" if is_service else "staff", role=role_id,
        department=_DEPARTMENTS.get(role_id, role_id.removeprefix("svc_").replace("_", "-")),
        app=_APPS.get(pop.org, {}).get(role_id, "backoffice"), source_ip=ip,
        events_per_hour=rate, tasks=used, unused_tasks=unused, task_cumulative=tuple(cumulative),
        caseload=caseload,
    )

