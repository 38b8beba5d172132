"""Anomaly detectors: per-actor streaming detectors (pure) and subject-centric SQL detectors.

`actors` and `state` hold no Kafka or ClickHouse import; `checkpoint_store` and `popular_subject`
are the adapters that talk to ClickHouse.
"""

from consumers.detectors.actors import ActorDetectors
from consumers.detectors.thresholds import DetectorThresholds, Thresholds, ThresholdsError, load_thresholds

__all__ = ["ActorDetectors", "DetectorThresholds", "Thresholds", "ThresholdsError", "load_thresholds"]
