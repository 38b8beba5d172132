"""Per-actor detector state: small, flat, and cheap to update on every event.

Windows are sliding-window counters on a half-window grid (current and previous bucket,
the previous weighted by how much of it still overlaps), so each costs two ints and no
per-event allocation. Seen purposes/categories are bits in one int (the token table maps
names to bits); subjects the actor has opened are bits of a small Bloom filter.
"""

from __future__ import annotations

from typing import Any

HALF_HOUR = 1800.0
FIVE_MINUTES = 300.0
FAMILIAR_BITS = 512
# A filter this full says little any more: start it afresh from the next event on.
FAMILIAR_RESET_BITS = FAMILIAR_BITS * 3 // 4


class TokenTable:
    """Purpose and category names as bit positions, shared by every actor of a process."""

    __slots__ = ("_bits", "_names")

    def __init__(self) -> None:
        self._bits: dict[str, int] = {}
        self._names: list[str] = []

    def bit(self, name: str) -> int:
        bit = self._bits.get(name)
        if bit is None:
            bit = self._bits[name] = 1 << len(self._names)
            self._names.append(name)
        return bit

    def names(self, mask: int) -> list[str]:
        return [name for index, name in enumerate(self._names) if mask >> index & 1]

    def mask(self, names: list[str]) -> int:
        mask = 0
        for name in names:
            mask |= self.bit(name)
        return mask


class Pending:
    """New purposes/categories an actor used since `at`, waiting to be judged habit or one-off."""

    __slots__ = ("at", "counts", "ids", "n", "tokens")

    def __init__(self, at: float) -> None:
        self.at = at
        self.tokens = 0
        self.n = 0
        self.ids: tuple[str, ...] = ()
        self.counts: dict[int, int] = {}  # events carrying each pending token (by bit)


_NO_PENDING = Pending(0.0)


class ActorState:
    __slots__ = (
        "buckets",
        "db",
        "den",
        "den_p",
        "dev",
        "ev",
        "ev_p",
        "exp",
        "exp_p",
        "familiar",
        "fired",
        "first",
        "hb",
        "last",
        "mean",
        "n",
        "nov",
        "nov_p",
        "off",
        "off_p",
        "pending",
        "rec",
        "rec_p",
        "seen",
        "settled_at",
        "woke_at",
        "woke_n",
    )

    def __init__(self, at: float) -> None:
        self.first = at
        self.last = at
        self.n = 0
        self.seen = 0
        self.settled_at = 0  # event count when something new was last learned
        # New tokens seen after maturity, not yet judged; None for almost every actor almost always,
        # which keeps four fields out of each actor's state.
        self.pending: Pending | None = None
        self.familiar = 0
        self.hb = int(at // HALF_HOUR)
        self.ev = self.ev_p = self.rec = self.rec_p = self.exp = self.exp_p = 0
        self.nov = self.nov_p = self.off = self.off_p = 0
        self.db = int(at // FIVE_MINUTES)
        self.den = self.den_p = 0
        # Volume baseline over active half-hours: EWMA of the count and of its absolute deviation.
        self.mean = 0.0
        self.dev = 0.0
        self.buckets = 0
        self.fired: dict[str, float] | None = None
        # When a dormant (or never seen) account woke up, and its event count then; 0.0 = awake.
        self.woke_at = 0.0
        self.woke_n = 0

    def to_list(self, tokens: TokenTable) -> list[Any]:
        pending = self.pending or _NO_PENDING
        return [self.first, self.last, self.n, tokens.names(self.seen), self.settled_at,
                tokens.names(pending.tokens), pending.at, pending.n, list(pending.ids),
                format(self.familiar, "x"), self.hb, self.ev, self.ev_p, self.rec, self.rec_p, self.exp, self.exp_p,
                self.nov, self.nov_p, self.off, self.off_p, self.db, self.den, self.den_p, self.mean, self.dev,
                self.buckets, self.fired, self.woke_at, self.woke_n,
                {tokens.names(bit)[0]: count for bit, count in pending.counts.items()}]

    @classmethod
    def from_list(cls, values: list[Any], tokens: TokenTable) -> ActorState:
        state = cls(float(values[0]))
        (_, state.last, state.n, seen, state.settled_at, pending, pending_at, pending_n, ids,
         familiar, state.hb, state.ev, state.ev_p, state.rec, state.rec_p, state.exp, state.exp_p,
         state.nov, state.nov_p, state.off, state.off_p, state.db, state.den, state.den_p, state.mean,
         state.dev, state.buckets, state.fired, state.woke_at, state.woke_n) = values[:30]
        state.seen = tokens.mask(seen)
        if pending:
            state.pending = Pending(float(pending_at))
            state.pending.tokens = tokens.mask(pending)
            state.pending.n = int(pending_n)
            state.pending.ids = tuple(ids)
            # Older snapshots had no per-token counts: credit every pending token with the pending events.
            counts = values[30] if len(values) > 30 else {name: pending_n for name in pending}
            state.pending.counts = {tokens.bit(name): int(count) for name, count in counts.items()}
        state.familiar = int(familiar, 16)
        return state


def slide(current: int, previous: int, at: float, width: float) -> float:
    """Sliding-window estimate: all of this bucket plus the part of the last still inside the window."""
    return current + previous * (1.0 - (at % width) / width)
