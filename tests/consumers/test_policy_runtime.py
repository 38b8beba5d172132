"""PolicyRuntime: reloads on file change or SIGHUP between polls; a bad edit keeps the policies in force."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.policy import load_policies
from consumers.policy_runtime import PolicyRuntime, record_open_orgs
from kansa import metrics
from schemas.records import AccessEvent, SubjectRequest
from tests.conftest import POLICY_DIR
from tests.eventdata import sample_events


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def open_flag(org: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("kansa_org_open", {"org": org})


def calendar_end(org: str) -> float | None:
    return metrics.REGISTRY.get_sample_value("kansa_policy_closed_on_end_timestamp_seconds", {"org": org})


def counselling_event() -> AccessEvent:
    (event,) = [e for e in sample_events() if e["purpose"] == "p01_consultation_service"]
    return event


def rename_purpose(policy_dir: Path) -> None:
    path = policy_dir / "weia.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("p01_consultation_service", "p01_renamed"),
                    encoding="utf-8")


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(POLICY_DIR, tmp_path / "policies"))


def test_file_change_is_picked_up_after_the_watch_interval(policy_dir: Path) -> None:
    """An edited policy file takes effect at the first refresh after the watch interval, not before."""
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=2.0, clock=clock)
    event = counselling_event()
    assert runtime.evaluate(event)[0].verdict == "allow"
    rename_purpose(policy_dir)
    clock.now = 1.0
    runtime.refresh()
    assert runtime.evaluate(event)[0].verdict == "allow"
    clock.now = 2.5
    runtime.refresh()
    decision = runtime.evaluate(event)[0]
    assert decision.verdict == "violation"
    assert "KP003" in [hit.rule_id for hit in decision.hits]


def test_bad_edit_keeps_the_policies_in_force(policy_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A policy file broken on disk is refused at reload, with file and reason logged; evaluation goes on."""
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=1.0, clock=clock)
    (policy_dir / "weia.yaml").write_text("org: weia\nunknown_key: 1\n", encoding="utf-8")
    clock.now = 5
    runtime.refresh()
    assert runtime.evaluate(counselling_event())[0].verdict == "allow"
    assert "weia.yaml" in caplog.text
    assert "policy reload refused" in caplog.text


def test_sighup_reloads_at_the_next_refresh(policy_dir: Path) -> None:
    """SIGHUP asks for a reload that happens at the next refresh, even inside the watch interval."""
    previous = signal.getsignal(signal.SIGHUP)
    try:
        runtime = PolicyRuntime(policy_dir, watch_seconds=3600, clock=Clock())
        runtime.install_sighup()
        rename_purpose(policy_dir)
        os.kill(os.getpid(), signal.SIGHUP)
        runtime.refresh()
        assert runtime.evaluate(counselling_event())[0].verdict == "violation"
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_subject_requests_apply_at_refresh_once(policy_dir: Path) -> None:
    """Requests offered by the tailer thread bind from the next refresh; a replayed one is not returned again."""
    runtime = PolicyRuntime(policy_dir, watch_seconds=3600, clock=Clock())
    event = counselling_event()
    at = event["occurred_at"] - timedelta(days=1)
    request: SubjectRequest = {
        "request_id": uuid.uuid4(), "org": "weia", "subject_id": event["subject_id"] or "", "kind": "suspend_use",
        "effective_at": at, "received_at": datetime.now(UTC), "reference": None,
    }
    runtime.offer_request(request)
    assert runtime.evaluate(event)[0].verdict == "allow"
    assert runtime.refresh() == [request]
    assert runtime.evaluate(event)[0].verdict == "violation"
    runtime.offer_request(request)
    assert runtime.refresh() == []


def test_open_orgs_follow_each_policys_business_hours() -> None:
    """Monday 10:00 in Tokyo weia is open and chiba-cia (Tuesday to Sunday) closed; at 03:00 nobody is."""
    policies = load_policies(str(POLICY_DIR))
    record_open_orgs(policies, datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    assert (open_flag("weia"), open_flag("izumisano-ssw"), open_flag("chiba-cia")) == (1, 1, 0)
    record_open_orgs(policies, datetime(2026, 11, 16, 18, 0, tzinfo=UTC))
    assert (open_flag("weia"), open_flag("izumisano-ssw"), open_flag("chiba-cia")) == (0, 0, 0)


def test_no_org_is_open_on_a_closed_day() -> None:
    """Tuesday 2027-02-23 (天皇誕生日) at 10:00 Tokyo: weia and izumisano-ssw list it, chiba-cia opens."""
    record_open_orgs(load_policies(str(POLICY_DIR)), datetime(2027, 2, 23, 1, 0, tzinfo=UTC))
    assert (open_flag("weia"), open_flag("izumisano-ssw"), open_flag("chiba-cia")) == (0, 0, 1)


def test_each_policys_closed_days_end_where_its_list_ends(policy_dir: Path) -> None:
    """weia's list ends 2027-11-23: gauge at 2027-11-24 00:00 Tokyo; chiba-cia lists none; a reload moves it."""
    PolicyRuntime(policy_dir, watch_seconds=1.0)
    assert calendar_end("weia") == datetime(2027, 11, 23, 15, 0, tzinfo=UTC).timestamp()
    assert calendar_end("chiba-cia") is None
    weia = policy_dir / "weia.yaml"
    weia.write_text(weia.read_text(encoding="utf-8").replace('"2027-11-23"]', '"2027-11-23", "2028-01-03"]'),
                    encoding="utf-8")
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=1.0, clock=clock)
    assert calendar_end("weia") == datetime(2028, 1, 3, 15, 0, tzinfo=UTC).timestamp()
    weia.write_text(weia.read_text(encoding="utf-8").replace(', "2028-01-03"]', ']'), encoding="utf-8")
    clock.now = 5
    runtime.refresh()
    assert calendar_end("weia") == datetime(2027, 11, 23, 15, 0, tzinfo=UTC).timestamp()


def test_an_org_whose_policy_is_removed_loses_its_open_flag(policy_dir: Path) -> None:
    """After a reload without izumisano-ssw's file, the gauge no longer has its series (KM-ORG-SILENT ignores it)."""
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=1.0, clock=clock)
    assert open_flag("izumisano-ssw") is not None
    (policy_dir / "izumisano-ssw.yaml").unlink()
    clock.now = 5
    runtime.refresh()
    assert open_flag("izumisano-ssw") is None
    assert calendar_end("izumisano-ssw") is None
    assert open_flag("weia") is not None


def test_edited_detector_thresholds_take_effect_at_the_next_reload(policy_dir: Path, tmp_path: Path) -> None:
    """A changed config/detectors.yaml is picked up like a policy file: no consumer restart."""
    thresholds = tmp_path / "detectors.yaml"
    thresholds.write_text("orgs:\n  weia:\n    popular_actors: 6\n", encoding="utf-8")
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=1.0, clock=clock, thresholds_file=thresholds)
    assert runtime.thresholds.for_org("weia").popular_actors == 6
    # A different size too: the watch compares size and mtime, and a quick rewrite may keep the mtime.
    thresholds.write_text("orgs:\n  weia:\n    popular_actors: 12\n", encoding="utf-8")
    clock.now = 5
    runtime.refresh()
    assert runtime.thresholds.for_org("weia").popular_actors == 12


def test_a_broken_thresholds_file_keeps_policies_and_thresholds_in_force(
        policy_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A bad thresholds edit alongside a good policy edit: neither is applied, and the log names the file."""
    thresholds = tmp_path / "detectors.yaml"
    thresholds.write_text("orgs:\n  weia:\n    popular_actors: 6\n", encoding="utf-8")
    clock = Clock()
    runtime = PolicyRuntime(policy_dir, watch_seconds=1.0, clock=clock, thresholds_file=thresholds)
    rename_purpose(policy_dir)
    thresholds.write_text("orgs:\n  weia:\n    popular_actor: 4\n", encoding="utf-8")
    clock.now = 5
    runtime.refresh()
    assert runtime.thresholds.for_org("weia").popular_actors == 6
    assert runtime.evaluate(counselling_event())[0].verdict == "allow"
    assert "detectors.yaml" in caplog.text
    assert "popular_actor" in caplog.text
