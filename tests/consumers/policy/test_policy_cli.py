"""`policy lint` and `policy explain`: exit codes and the bilingual explanation."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from consumers.policy.cli import add_policy_commands

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "schemas" / "samples" / "valid"


def run(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="kansa")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code: int = args.func(args, out, err)
    return code, out.getvalue(), err.getvalue()


def test_lint_seed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no files given, lint checks every file in policies/ and exits 0 when all are valid."""
    monkeypatch.chdir(REPO)
    code, out, _ = run(["policy", "lint"])
    assert code == 0
    assert out.count("ok: ") == 3
    assert "weia: 13 purposes" in out


def test_lint_bad_file(tmp_path: Path) -> None:
    """A bad file makes lint exit 1 and print the file, line and key; the good file is still reported."""
    bad = tmp_path / "weia.yaml"
    bad.write_text((REPO / "policies" / "weia.yaml").read_text(encoding="utf-8").replace(
        "    sensitivity: sensitive\n", "    sensitivity: secret\n"), encoding="utf-8")
    code, out, err = run(["policy", "lint", str(bad), str(REPO / "policies" / "chiba-cia.yaml")])
    assert code == 1
    assert f"{bad}:" in err
    assert "categories.consultation_content.sensitivity" in err
    assert "'secret'" in err
    assert "ok: " in out


def test_explain_allowed_sample() -> None:
    """An allowed sample event explains as allow and exits 0."""
    code, out, _ = run(["policy", "explain", str(SAMPLES / "weia-counsellor-updates-case.json"),
                        "--policies", str(REPO / "policies")])
    assert (code, out.strip()) == (0, "weia-counsellor-updates-case.json: allow")


def test_explain_violation_in_all_languages(tmp_path: Path) -> None:
    """A violation exits 2 and prints each hit's rule, clause and ja/en/vi reasons."""
    event = json.loads((SAMPLES / "izumisano-ssw-identity-check.json").read_text(encoding="utf-8"))
    event["purpose"] = "marketing"
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    code, out, _ = run(["policy", "explain", str(path), "--policies", str(REPO / "policies")])
    assert code == 2
    assert "KP003 [critical] 000 Điều 3.1" in out
    assert "    ja: " in out
    assert "    en: " in out
    assert "    vi: " in out


def test_explain_with_subject_requests(tmp_path: Path) -> None:
    """--requests applies subject requests first: a suspended subject turns an allowed read into KP009."""
    requests = [{"request_id": "6f1b2c3d-0000-4000-8000-000000000009", "org": "izumisano-ssw",
                 "subject_id": "worker-00921", "kind": "suspend_use", "effective_at": "2026-11-01T00:00:00+09:00",
                 "received_at": "2026-11-01T00:00:00+09:00"}]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    code, out, _ = run(["policy", "explain", str(SAMPLES / "izumisano-ssw-identity-check.json"),
                        "--policies", str(REPO / "policies"), "--requests", str(path)])
    assert code == 2
    assert "KP009" in out


def test_explain_unreadable_event(tmp_path: Path) -> None:
    """A missing or invalid event file exits 3 with the reason on stderr."""
    code, _, err = run(["policy", "explain", str(tmp_path / "nope.json"), "--policies", str(REPO / "policies")])
    assert code == 3
    assert "nope.json" in err
