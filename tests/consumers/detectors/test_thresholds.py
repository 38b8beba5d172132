"""config/detectors.yaml: defaults, per-organisation overrides, and clear errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.detectors import Thresholds, ThresholdsError, load_thresholds

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "detectors.yaml"


def test_shipped_file_overrides_weia_and_keeps_the_code_defaults_elsewhere() -> None:
    """weia's crowd is 6 readers, other orgs take `defaults:`, unnamed thresholds keep the code's values."""
    thresholds = load_thresholds(SHIPPED)
    assert thresholds.for_org("weia").popular_actors == 6
    assert thresholds.for_org("chiba-cia").popular_actors == 8
    assert thresholds.for_org("chiba-cia").mature_events == Thresholds().mature_events


def test_a_missing_file_means_the_code_defaults(tmp_path: Path) -> None:
    """No file (a deployment without tuning) is the defaults, not an error."""
    assert load_thresholds(tmp_path / "absent.yaml").default == Thresholds()


@pytest.mark.parametrize(("text", "message"), [
    ("defaults:\n  popular_actor: 5\n", r"defaults: unknown threshold\(s\) popular_actor"),
    ("orgs:\n  weia:\n    popular_actors: 2.5\n", r"orgs\.weia\.popular_actors: expected an integer, got 2\.5"),
    ("defaults:\n  cooldown: yes\n", r"defaults\.cooldown: expected a number, got True"),
    ("default:\n  cooldown: 60\n", "expected top-level keys 'defaults' and 'orgs' only"),
    ("defaults: [1, 2\n", "not valid YAML"),
])
def test_a_bad_file_is_refused_naming_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    """Unknown names, wrong types, stray keys and broken YAML each raise ThresholdsError with the file's path."""
    path = tmp_path / "detectors.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ThresholdsError, match=message) as caught:
        load_thresholds(path)
    assert str(path) in str(caught.value)
