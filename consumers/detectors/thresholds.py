"""Detector thresholds: defaults in code, per-organisation overrides from `config/detectors.yaml`."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml


class ThresholdsError(ValueError):
    """config/detectors.yaml was refused; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """One organisation's thresholds. Windows and ages are event-time seconds; "recent" counts are over a
    sliding half hour (the state keeps half-hour buckets)."""

    # Baselines only judge an actor after this many events (and, for first-seen, this many
    # events without anything new), so a new hire's first week is learning, not alerts.
    mature_events: int = 60
    settled_events: int = 60
    # KD-FIRST-SEEN: events carrying something new (purpose, purpose+action, category) within the window.
    first_seen_events: int = 3
    first_seen_window: float = 3600.0
    # KD-SNOOPING: distinct subjects the actor never opened before, in a sliding half hour.
    snooping_novel_subjects: int = 20
    # KD-VOLUME-SPIKE: events in a sliding half hour against the actor's own robust baseline: an EWMA
    # of its active half-hours' counts (mean) and of their absolute deviation (spread, floored at the
    # Poisson noise sqrt(mean)). A closed half-hour feeds the baseline winsorised at
    # mean + volume_clip * spread, so a spike (or a run of busy days) cannot lift its own bar.
    # Alert at max(volume_min_events, volume_factor * mean, mean + volume_sigmas * spread): a normal
    # half-hour stays within ~3x the mean (lunch and arrival hours only lower the mean), while the
    # simulator's spike is 8-15x the actor's hourly rate in one hour, i.e. >= 9x a full half-hour.
    volume_min_events: int = 30
    volume_factor: float = 6.0
    volume_sigmas: float = 6.0
    volume_clip: float = 4.0
    volume_min_buckets: int = 6
    # KD-BULK-EXPORT: records exported or printed in a sliding half hour.
    bulk_export_records: int = 1000
    # KD-OFF-HOURS: events outside the organisation's business hours in a sliding half hour.
    off_hours_events: int = 6
    # KD-DORMANT: an account idle this long (or never seen once the org has this much history)
    # that acts again, counted once it has done this many events.
    dormant_seconds: float = 30 * 86400.0
    org_history_seconds: float = 20 * 3600.0
    dormant_events: int = 5
    # KD-DENIED-BURST: denied outcomes in a sliding ten minutes.
    denied_events: int = 8
    # KD-RATE-CAP: records in a sliding half hour above the role's max_records_per_hour times this.
    rate_cap_factor: float = 1.5
    # One alert per rule and actor per cool-down, so a long episode pages once.
    cooldown: float = 3600.0
    # KD-POPULAR-SUBJECT (SQL): distinct actors on one subject in the window, where at most
    # `popular_prior_share` of that many opened it in the baseline period before.
    popular_actors: int = 8
    popular_prior_share: float = 0.5
    popular_window: float = 3600.0
    popular_baseline: float = 7 * 86400.0
    popular_min_history: float = 12 * 3600.0


@dataclass(frozen=True, slots=True)
class DetectorThresholds:
    default: Thresholds
    by_org: dict[str, Thresholds]

    def for_org(self, org: str) -> Thresholds:
        return self.by_org.get(org, self.default)


_NAMES = frozenset(f.name for f in fields(Thresholds))


def _apply(base: Thresholds, values: Any, where: str) -> Thresholds:
    if values is None:
        return base
    if not isinstance(values, dict):
        raise ThresholdsError(f"{where}: expected a mapping of threshold names to numbers")
    unknown = sorted(set(values) - _NAMES)
    if unknown:
        raise ThresholdsError(f"{where}: unknown threshold(s) {', '.join(unknown)}")
    typed: dict[str, Any] = {}
    for name, value in values.items():
        kind = type(getattr(base, name))
        wrong_kind = kind is int and not isinstance(value, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or wrong_kind:
            expected = "an integer" if kind is int else "a number"
            raise ThresholdsError(f"{where}.{name}: expected {expected}, got {value!r}")
        typed[name] = kind(value)
    return replace(base, **typed)


def load_thresholds(path: Path | None) -> DetectorThresholds:
    """Defaults, then `defaults:` from the file, then `orgs: {org: {...}}`; a missing file means defaults."""
    if path is None or not path.exists():
        return DetectorThresholds(Thresholds(), {})
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ThresholdsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or set(document) - {"defaults", "orgs"}:
        raise ThresholdsError(f"{path}: expected top-level keys 'defaults' and 'orgs' only")
    default = _apply(Thresholds(), document.get("defaults"), f"{path}:defaults")
    orgs = document.get("orgs") or {}
    if not isinstance(orgs, dict):
        raise ThresholdsError(f"{path}:orgs: expected a mapping of org ids")
    return DetectorThresholds(default, {str(org): _apply(default, v, f"{path}:orgs.{org}") for org, v in orgs.items()})
