"""A bad policy file is refused with the file, line, key path and problem; the seed files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.policy import PolicyError, load_policies
from consumers.policy.loader import load_policy_file

POLICY_DIR = Path(__file__).resolve().parents[3] / "policies"
SEED = (POLICY_DIR / "chiba-cia.yaml").read_text(encoding="utf-8")


def write(tmp_path: Path, old: str, new: str, name: str = "chiba-cia.yaml") -> tuple[Path, int]:
    """The seed with one edit, and the 1-based line where the edit starts."""
    assert SEED.count(old) == 1, old
    text = SEED.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, SEED[: SEED.index(old)].count("\n") + 1


def refused(path: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy_file(str(path))
    return caught.value


def test_unknown_key(tmp_path: Path) -> None:
    """An unknown key is refused at its own line, with its key path."""
    path, line = write(tmp_path, "    sensitivity: financial\n    clause: 002 第7条1\n  payment_record:",
                       "    sensitivity: financial\n    colour: red\n    clause: 002 第7条1\n  payment_record:")
    error = refused(path)
    assert (error.file, error.line, error.key_path) == (str(path), line + 1, "categories.payment_token.colour")
    assert "unknown key 'colour'" in str(error)
    assert str(path) in str(error)
    assert f":{line + 1}:" in str(error)


def test_grant_names_unknown_category(tmp_path: Path) -> None:
    """A grant naming an undeclared category is refused at that list item's line."""
    path, line = write(tmp_path, "        categories: [name, email, payment_record]\n",
                       "        categories: [name, email, card_pin]\n")
    error = refused(path)
    assert error.line == line
    assert error.key_path == "roles.accounting.grants[0].categories[2]"
    assert "unknown data category 'card_pin'" in error.problem


def test_grant_names_unknown_purpose(tmp_path: Path) -> None:
    """A grant naming an undeclared purpose is refused, naming the purpose."""
    path, line = write(tmp_path, "        purposes: [payment_settlement]\n  privacy_officer:",
                       "        purposes: [fundraising]\n  privacy_officer:")
    error = refused(path)
    assert (error.line, error.key_path) == (line, "roles.accounting.grants[0].purposes[0]")
    assert "unknown purpose 'fundraising'" in error.problem


def test_recipient_names_unknown_category(tmp_path: Path) -> None:
    """A recipient may only receive declared categories."""
    path, _ = write(tmp_path, "    categories: [payment_token, payment_record]\n",
                    "    categories: [payment_token, card_number_full]\n")
    assert refused(path).key_path == "recipients.stripe-japan.categories[1]"


def test_missing_required_key(tmp_path: Path) -> None:
    """A category without a clause is refused: every entry must cite its source."""
    path, _line = write(tmp_path, "    sensitivity: ordinary\n    clause: 002 第5条1\n  birth_date:",
                       "    sensitivity: ordinary\n  birth_date:")
    error = refused(path)
    assert error.key_path == "categories.name"
    assert "missing required key 'clause'" in error.problem


def test_bad_enum_value(tmp_path: Path) -> None:
    """Sensitivity and actions must come from their fixed vocabularies."""
    path, _ = write(tmp_path, "    actions: [read, search, update, print]\n", "    actions: [read, peek]\n")
    error = refused(path)
    assert error.key_path == "purposes.registration_continuation.actions[1]"
    assert "'peek' is not one of" in error.problem


def test_missing_language_label(tmp_path: Path) -> None:
    """Declaring Vietnamese makes a vi label mandatory on every entry."""
    path, _ = write(tmp_path, "languages: [ja, en]", "languages: [ja, en, vi]")
    error = refused(path)
    assert error.key_path == "name"
    assert "missing required key 'vi'" in error.problem


def test_unquoted_time(tmp_path: Path) -> None:
    """YAML 1.1 reads 9:00 unquoted as the base-60 number 540, so the loader asks for quotes."""
    path, _ = write(tmp_path, 'start: "09:00"', "start: 9:00")
    assert refused(path).key_path == "business_hours.start"


def test_unknown_time_zone(tmp_path: Path) -> None:
    """The business-hours time zone must be a real IANA zone."""
    path, _ = write(tmp_path, "timezone: Asia/Tokyo", "timezone: Asia/Chiba")
    assert refused(path).key_path == "business_hours.timezone"


def test_closed_days_load_as_dates(tmp_path: Path) -> None:
    """`closed_on` lists the dates an organisation is shut on an open weekday."""
    path, _ = write(tmp_path, 'end: "20:00"\n', 'end: "20:00"\n  closed_on: ["2026-12-29", "2027-01-04"]\n')
    closed = load_policy_file(str(path)).business_hours.closed
    assert sorted(day.isoformat() for day in closed) == ["2026-12-29", "2027-01-04"]


def test_bad_closed_day(tmp_path: Path) -> None:
    """A closed day that is not an ISO date is refused at its list item, asking for the form wanted."""
    path, line = write(tmp_path, 'end: "20:00"\n', 'end: "20:00"\n  closed_on: ["2026-12-29", "29/12/2026"]\n')
    error = refused(path)
    assert (error.line, error.key_path) == (line + 1, "business_hours.closed_on[1]")
    assert 'expected a quoted date such as "2026-01-01"' in error.problem


def test_duplicate_key(tmp_path: Path) -> None:
    """A key given twice is refused rather than silently overwritten."""
    path, line = write(tmp_path, "  gender:\n", "  name:\n")
    error = refused(path)
    assert (error.line, error.problem) == (line, "duplicate key 'name'")


def test_never_held_overlaps_held(tmp_path: Path) -> None:
    """A category cannot be both held and never held."""
    path, _ = write(tmp_path, "  card_security_code:\n", "  payment_token:\n")
    assert "declared as a held category too" in refused(path).problem


def test_org_must_match_file_name(tmp_path: Path) -> None:
    """policies/<org>.yaml: a file whose org differs from its name is refused."""
    path, _ = write(tmp_path, "org: chiba-cia", "org: chiba")
    assert refused(path).key_path == "org"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    """Broken YAML is refused with the line the parser stopped at."""
    path, line = write(tmp_path, "  start: \"09:00\"\n", "  start: [\"09:00\"\n")
    error = refused(path)
    assert error.line is not None
    assert error.line >= line
    assert "not valid YAML" in error.problem


def test_load_policies_refuses_bad_file_in_dir(tmp_path: Path) -> None:
    """One bad file makes load_policies fail naming that file."""
    write(tmp_path, "org: chiba-cia", "org: chiba-cia\nextra: 1")
    with pytest.raises(PolicyError, match=r"chiba-cia\.yaml:.*extra"):
        load_policies(str(tmp_path))


def test_load_policies_empty_dir(tmp_path: Path) -> None:
    """A directory without policy files is an error, not an empty policy set that allows nothing."""
    with pytest.raises(PolicyError, match="no policy files"):
        load_policies(str(tmp_path))


def test_never_held_needs_a_sensitivity(tmp_path: Path) -> None:
    """A never-held category without `sensitivity` is refused at that entry: its alert needs the APPI case."""
    label = "    label: {ja: カードセキュリティコード, en: Card security code}\n"
    path, _ = write(tmp_path, label + "    sensitivity: financial\n", label)
    error = refused(path)
    assert error.key_path == "never_held.card_security_code"
    assert "missing required key 'sensitivity'" in error.problem
