"""Per-actor streaming detectors in one pass per event: first seen, snooping, volume spike, bulk export,
off hours, dormancy, denied bursts and the role's records-per-hour cap.

Pure: events and state in, alerts out. State is kept per Kafka partition (events are keyed
org:actor, so the partition owns its actors) and restored through an injected loader the
first time a partition's event arrives, so an assignment after a rebalance or a restart starts
from the last checkpoint instead of an empty baseline.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from consumers.alerts import Alert, Kind, new_alert
from consumers.alerts.model import utc_now
from consumers.detectors.explain import RULES, Evidence, explain, sensitivities_of
from consumers.detectors.state import (
    FAMILIAR_BITS,
    FAMILIAR_RESET_BITS,
    FIVE_MINUTES,
    HALF_HOUR,
    ActorState,
    Pending,
    TokenTable,
    slide,
)
from consumers.detectors.thresholds import DetectorThresholds, Thresholds
from consumers.messages import EvaluatedEvent
from consumers.policy import PolicySet, is_business_hours

EXPORTS = frozenset(("export", "print"))
EWMA_ALPHA = 0.1
# The first active half-hours are averaged plainly (weight 1/k), then weighted EWMA_ALPHA: an unbiased
# start instead of an EWMA creeping up from zero, which would understate a new actor's usual volume.
_EWMA_WARMUP = round(1.0 / EWMA_ALPHA)
_NO_ALERTS: tuple[Alert, ...] = ()
# Business-hours answers are cached per organisation and five-minute slot of event time.
_HOURS_SLOT = 300.0
_HOURS_CACHE_MAX = 50_000
_PENDING_IDS = 5

Snapshot = dict[str, Any]


def _spread(st: ActorState) -> float:
    """The baseline's scale: its mean absolute deviation, never below Poisson noise (or one event)."""
    return max(st.dev, math.sqrt(st.mean), 1.0)


def learn(st: ActorState, count: int, th: Thresholds) -> None:
    """Feed one closed active half-hour's event count into the actor's robust volume baseline.

    Once the baseline judges (volume_min_buckets), the count is winsorised at mean + volume_clip * spread:
    a spike, or the half-hour it started in, moves the baseline by a bounded step instead of lifting it
    to the spike's level (which used to hide the rest of the spike, and the next one)."""
    value = float(count)
    if st.buckets >= th.volume_min_buckets:
        value = min(value, st.mean + th.volume_clip * _spread(st))
    alpha = EWMA_ALPHA if st.buckets >= _EWMA_WARMUP else 1.0 / (st.buckets + 1)
    diff = value - st.mean
    st.mean += alpha * diff
    st.dev += alpha * (abs(diff) - st.dev)
    st.buckets += 1


class PartitionState:
    __slots__ = ("actors", "observed", "org_first", "replayed", "replayed_until")

    def __init__(self) -> None:
        self.actors: dict[str, dict[str, ActorState]] = {}
        # When this partition first saw each organisation: "never seen" only means something after that.
        self.org_first: dict[str, float] = {}
        self.observed = -1  # the last offset observed
        # After a restore: the offset each restored actor was copied at. The replay from the committed
        # offset skips what an actor's state already holds, until it passes the newest of them.
        self.replayed: dict[tuple[str, str], int] = {}
        self.replayed_until = -1

    def count(self) -> int:
        return sum(len(by_actor) for by_actor in self.actors.values())


class ActorDetectors:
    """Not thread-safe: called from the consumer loop (and its rebalance hook, under the processing lock)."""

    def __init__(self, policies: Callable[[], PolicySet], thresholds: Callable[[], DetectorThresholds],
                 restore: Callable[[Hashable], Snapshot | None] = lambda partition: None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._policies = policies
        self._thresholds = thresholds
        self._restore = restore
        self._clock = clock
        self._tokens = TokenTable()
        self._task_bits: dict[str, dict[str, int]] = {}
        self._category_bits: dict[str, int] = {}
        self._parts: dict[Hashable, PartitionState] = {}
        self._hours: dict[tuple[str, int], bool] = {}
        self._hours_for: PolicySet | None = None

    # --- partitions and checkpoints -------------------------------------------------------------

    def partitions(self) -> list[Hashable]:
        return list(self._parts)

    def actor_count(self) -> int:
        return sum(part.count() for part in self._parts.values())

    def snapshot(self, partition: Hashable) -> Snapshot | None:
        part = self._parts.get(partition)
        if part is None:
            return None
        return self.assemble(partition, {org: self.copy_actors(partition, org, by_actor)
                                         for org, by_actor in part.actors.items()})

    def roster(self, partition: Hashable) -> list[tuple[str, list[str]]]:
        """Every actor id held for `partition`, by organisation: what a sliced snapshot copies."""
        part = self._parts.get(partition)
        return [] if part is None else [(org, list(by_actor)) for org, by_actor in part.actors.items()]

    def copy_actors(self, partition: Hashable, org: str, actor_ids: Iterable[str]) -> dict[str, list[Any]]:
        """The checkpoint form of those of `actor_ids` still held; an actor evicted since is left out.

        Each ends with the offset up to which the state holds the actor's events: the last observed, or
        the one it was restored at while the replay has not reached that yet.
        """
        part = self._parts.get(partition)
        by_actor = part.actors.get(org) if part is not None else None
        if part is None or not by_actor:
            return {}
        tokens, observed, replayed = self._tokens, part.observed, part.replayed
        return {aid: [*st.to_list(tokens), max(observed, replayed.get((org, aid), observed))]
                for aid in actor_ids if (st := by_actor.get(aid)) is not None}

    def assemble(self, partition: Hashable, actors: dict[str, dict[str, list[Any]]]) -> Snapshot:
        """The checkpoint of `partition` made of `actors` (copied actors, by organisation)."""
        part = self._parts.get(partition)
        return {"version": 2, "org_first": {} if part is None else dict(part.org_first), "actors": actors}

    def load(self, partition: Hashable, snapshot: Snapshot | None) -> PartitionState:
        part = PartitionState()
        version = snapshot.get("version") if snapshot is not None else None
        if snapshot is not None and version in (1, 2):
            part.org_first = {str(k): float(v) for k, v in snapshot["org_first"].items()}
            part.actors = {org: {aid: ActorState.from_list(values, self._tokens) for aid, values in by_actor.items()}
                           for org, by_actor in snapshot["actors"].items()}
            part.replayed = {(org, aid): int(values[31]) for org, by_actor in snapshot["actors"].items()
                             for aid, values in by_actor.items() if len(values) > 31}
            part.replayed_until = max(part.replayed.values(), default=-1)
            if version == 1:  # version 1 kept the EWMA variance where the absolute deviation now is
                for by_actor in part.actors.values():
                    for st in by_actor.values():
                        st.dev = math.sqrt(max(0.0, st.dev))
        self._parts[partition] = part
        return part

    def forget(self, partitions: Iterable[Hashable]) -> None:
        for partition in partitions:
            self._parts.pop(partition, None)

    def evict(self, idle_seconds: float, max_actors: int) -> int:
        """Drop actors idle longer than `idle_seconds` of event time, then the stalest above `max_actors`."""
        dropped = 0
        for part in self._parts.values():
            newest = max((st.last for by_actor in part.actors.values() for st in by_actor.values()), default=0.0)
            for by_actor in part.actors.values():
                stale = [aid for aid, st in by_actor.items() if newest - st.last > idle_seconds]
                for aid in stale:
                    del by_actor[aid]
                dropped += len(stale)
        excess = self.actor_count() - max_actors
        if excess > 0:
            everyone = sorted((st.last, id(by_actor), aid, by_actor) for part in self._parts.values()
                              for by_actor in part.actors.values() for aid, st in by_actor.items())
            for _, _, aid, by_actor in everyone[:excess]:
                del by_actor[aid]
            dropped += excess
        return dropped

    # --- the hot path ---------------------------------------------------------------------------

    def observe_in(self, partition: Hashable, item: EvaluatedEvent) -> Sequence[Alert]:
        part = self._parts.get(partition)
        if part is None:
            part = self.load(partition, self._restore(partition))
        event = item.event
        org = event["org"]
        actor = event["actor"]
        aid = actor["id"]
        offset = item.offset
        if offset > part.observed:
            part.observed = offset
        if part.replayed:
            if offset > part.replayed_until:
                part.replayed = {}
            elif offset <= part.replayed.get((org, aid), -1):
                return _NO_ALERTS  # replayed after a restart: the restored state already counted it
        ts = event["occurred_at"].timestamp()
        policies = self._policies()
        if policies is not self._hours_for:  # a reload may have changed the hours or the closed days
            self._hours, self._hours_for = {}, policies
        th = self._thresholds().for_org(org)
        by_actor = part.actors.get(org)
        if by_actor is None:
            by_actor = part.actors[org] = {}
            part.org_first[org] = ts
        st = by_actor.get(aid)
        alerts: list[Alert] | None = None
        if st is None:
            st = by_actor[aid] = ActorState(ts)
            if ts - part.org_first[org] >= th.org_history_seconds:
                st.woke_at, st.woke_n = part.org_first[org], 0
        elif ts - st.last >= th.dormant_seconds:
            st.woke_at, st.woke_n = st.last, st.n
        if ts > st.last:
            st.last = ts
        st.n += 1
        self._roll(st, ts, th)
        records = event["record_count"] or event["subject_count"] or 1
        st.ev += 1
        st.rec += records
        human = actor["type"] != "service"
        mature = st.n > th.mature_events

        if st.woke_at and st.n - st.woke_n >= th.dormant_events:
            alerts = self._add(alerts, self._raise("KD-DORMANT", st, ts, th, item, Evidence(
                count=st.n - st.woke_n, baseline=(ts - st.woke_at) / 86400.0)))
            st.woke_at = 0.0

        action = event["action"]
        mask = self._task_bit(event["purpose"], action)
        for category in event["data_categories"]:
            bit = self._category_bits.get(category)
            mask |= bit if bit is not None else self._category_bit(category)
        new = mask & ~st.seen
        if new:
            # Settled = quiet for at least as long as learning took, so slow learners wait longer.
            if not mature or not human or st.n - st.settled_at < max(th.settled_events, st.settled_at):
                st.seen |= new
                st.settled_at = st.n
            else:
                alerts = self._add(alerts, self._first_seen(st, ts, th, item, new))

        # Integrations export by design; their volume is judged by the spike baseline instead.
        if human and action in EXPORTS:
            st.exp += records
            exported = slide(st.exp, st.exp_p, ts, HALF_HOUR)
            if exported >= th.bulk_export_records:
                alerts = self._add(alerts, self._raise("KD-BULK-EXPORT", st, ts, th, item, Evidence(
                    count=round(exported)), subjects=round(exported), unjust=True))

        if event["outcome"] == "denied":
            slot = int(ts // FIVE_MINUTES)
            if slot > st.db:
                st.den_p = st.den if slot == st.db + 1 else 0
                st.den, st.db = 0, slot
            st.den += 1
            denied = slide(st.den, st.den_p, ts, FIVE_MINUTES)
            if denied >= th.denied_events:
                alerts = self._add(alerts, self._raise("KD-DENIED-BURST", st, ts, th, item, Evidence(
                    count=round(denied))))

        if human:
            subject = event["subject_id"]
            if subject:
                bit = 1 << (zlib.crc32(subject.encode()) % FAMILIAR_BITS)
                if not st.familiar & bit:
                    st.familiar = bit if st.familiar.bit_count() >= FAMILIAR_RESET_BITS else st.familiar | bit
                    if mature:
                        st.nov += 1
                        novel = slide(st.nov, st.nov_p, ts, HALF_HOUR)
                        if novel >= th.snooping_novel_subjects:
                            alerts = self._add(alerts, self._raise("KD-SNOOPING", st, ts, th, item, Evidence(
                                count=round(novel)), subjects=round(novel), unjust=True))
            if not self._business_hours(policies, org, ts):
                st.off += 1
                off = slide(st.off, st.off_p, ts, HALF_HOUR)
                if off >= th.off_hours_events:
                    alerts = self._add(alerts, self._raise("KD-OFF-HOURS", st, ts, th, item, Evidence(
                        count=round(off))))

        if st.buckets >= th.volume_min_buckets:
            volume = slide(st.ev, st.ev_p, ts, HALF_HOUR)
            if volume >= th.volume_min_events:
                usual = st.mean
                if volume >= th.volume_factor * usual and volume >= usual + th.volume_sigmas * _spread(st):
                    # One spike, one alert: the window stays high for up to half an hour after the spike
                    # (and the baseline no longer rises to meet it), so the cool-down runs from its last
                    # event above the bar, not from the alert.
                    alerts = self._add(alerts, self._raise("KD-VOLUME-SPIKE", st, ts, th, item, Evidence(
                        count=round(volume), baseline=usual), episode=True))

        cap = self._cap(policies, org, actor["roles"])
        if cap is not None:
            used = slide(st.rec, st.rec_p, ts, HALF_HOUR)
            if used > cap * th.rate_cap_factor:
                alerts = self._add(alerts, self._raise("KD-RATE-CAP", st, ts, th, item, Evidence(
                    count=round(used), baseline=float(cap))))
        return alerts if alerts is not None else _NO_ALERTS

    def _roll(self, st: ActorState, ts: float, th: Thresholds) -> None:
        """Move the hour windows to `ts`'s half-hour; a closed active half-hour feeds the volume baseline."""
        bucket = int(ts // HALF_HOUR)
        if bucket <= st.hb:
            return  # late events count in the current bucket: windows never run backwards
        if st.ev:
            learn(st, st.ev, th)
        if bucket == st.hb + 1:
            st.ev_p, st.rec_p, st.exp_p, st.nov_p, st.off_p = st.ev, st.rec, st.exp, st.nov, st.off
        else:
            st.ev_p = st.rec_p = st.exp_p = st.nov_p = st.off_p = 0
        st.ev = st.rec = st.exp = st.nov = st.off = 0
        st.hb = bucket

    def _first_seen(self, st: ActorState, ts: float, th: Thresholds, item: EvaluatedEvent,
                    new: int) -> Alert | None:
        """Something new once is a rare task; the same new thing again within the window is a new habit.

        Counted per novel token (purpose, purpose/action, category): a few different rare tasks that
        happen to fall in one hour are still rare tasks, not one new habit."""
        pending = st.pending
        if pending is not None and ts - pending.at > th.first_seen_window:
            st.seen |= pending.tokens
            pending = None
        if pending is None:
            pending = st.pending = Pending(ts)
        pending.tokens |= new
        pending.n += 1
        if len(pending.ids) < _PENDING_IDS:
            pending.ids = (*pending.ids, str(item.event["event_id"]))
        counts, rest, top = pending.counts, new, 0
        while rest:
            low = rest & -rest
            seen = counts[low] = counts.get(low, 0) + 1
            top = max(top, seen)
            rest ^= low
        if top < th.first_seen_events:
            return None
        names = self._tokens.names(pending.tokens)
        alert = self._raise("KD-FIRST-SEEN", st, ts, th, item, Evidence(
            count=pending.n, baseline=float(st.n - pending.n), new=names), ids=pending.ids, since=pending.at)
        st.seen |= pending.tokens
        st.pending = None
        return alert

    def _raise(self, rule: str, st: ActorState, ts: float, th: Thresholds, item: EvaluatedEvent,
               evidence: Evidence, *, subjects: int | None = None, unjust: bool = False,
               ids: tuple[str, ...] = (), since: float | None = None, episode: bool = False) -> Alert | None:
        """`episode`: a suppressed repeat extends the cool-down, so a continuing condition alerts once."""
        fired = st.fired
        if fired is not None and ts - fired.get(rule, -math.inf) < th.cooldown:
            if episode:
                fired[rule] = ts
            return None
        if fired is None:
            fired = st.fired = {}
        fired[rule] = ts
        event = item.event
        compiled = self._policies().get(event["org"])
        severity, window = RULES[rule]
        summary, description = explain(rule, event, evidence)
        start = max(since if since is not None else ts - window, st.first)
        return new_alert(
            kind=Kind.DETECTOR, rule=rule, severity=severity, org=event["org"], actor=event["actor"]["id"],
            subject=None, event_ids=list(ids) or [str(event["event_id"])],
            first_seen=datetime.fromtimestamp(start, UTC), last_seen=event["occurred_at"], now=self._clock(),
            summary=summary, description=description,
            sensitivities=sensitivities_of(compiled, event["data_categories"]),
            subjects_affected=max(1, subjects if subjects is not None else event["subject_count"]),
            unjust_purpose=unjust, data_categories=event["data_categories"],
            subject_key_id=event["subject_key_id"], count=max(1, evidence.count),
        )

    @staticmethod
    def _add(alerts: list[Alert] | None, alert: Alert | None) -> list[Alert] | None:
        if alert is None:
            return alerts
        if alerts is None:
            return [alert]
        alerts.append(alert)
        return alerts

    def _task_bit(self, purpose: str, action: str) -> int:
        """The purpose and the (purpose, action) pair: a new task is new even on familiar categories."""
        by_action = self._task_bits.get(purpose)
        if by_action is None:
            by_action = self._task_bits[purpose] = {}
        bit = by_action.get(action)
        if bit is None:
            bit = by_action[action] = self._tokens.bit("purpose:" + purpose) | \
                self._tokens.bit(f"task:{purpose}/{action}")
        return bit

    def _category_bit(self, category: str) -> int:
        bit = self._category_bits[category] = self._tokens.bit("category:" + category)
        return bit

    def _business_hours(self, policies: PolicySet, org: str, ts: float) -> bool:
        key = (org, int(ts // _HOURS_SLOT))
        known = self._hours.get(key)
        if known is None:
            compiled = policies.get(org)
            # No policy loaded means no declared hours: never call it off hours.
            known = compiled is None or is_business_hours(compiled, datetime.fromtimestamp(key[1] * _HOURS_SLOT, UTC))
            if len(self._hours) >= _HOURS_CACHE_MAX:
                self._hours.clear()
            self._hours[key] = known
        return known

    @staticmethod
    def _cap(policies: PolicySet, org: str, roles: list[str]) -> int | None:
        compiled = policies.get(org)
        if compiled is None:
            return None
        cap: int | None = None
        for role in roles:
            known = compiled.roles.get(role)
            if known is None or known.max_records_per_hour is None:
                return None  # an uncapped role lifts the cap
            cap = max(cap or 0, known.max_records_per_hour)
        return cap
