"""Subject, actor and violations reports against simulated traffic stored through the consumer's own code."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from kansa.cli import main
from kansa.reports.actor import actor_report
from kansa.reports.document import Period, render_report
from kansa.reports.subject import stored_subject_id, subject_report
from kansa.reports.violations import violations_report
from producers.pseudonym import SubjectPseudonymiser
from tests.conftest import POLICY_DIR
from tests.dashboards.storefill import CASE_COUNSELLOR, CASE_ORG, CASE_REFERENCE, CASE_SUBJECT, open_filled

KEY = SubjectPseudonymiser("report-test-key", b"kansa-report-tests-0123456789")
START = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # a Monday: business hours have traffic
ORG, PERSON, COUNSELLOR = CASE_ORG, CASE_SUBJECT, CASE_COUNSELLOR
DAY = Period.of_days(date(2026, 11, 16), date(2026, 11, 16))


@pytest.fixture(scope="module")
def store(chdb_dir: Path) -> Iterator[Client]:
    """Simulated traffic, plus one member who paid through Stripe, asked to stop use, and was read anyway."""
    client = open_filled(chdb_dir, f"reports_{uuid.uuid4().hex[:8]}", POLICY_DIR, 40_000, START, KEY)
    yield client
    client.close()


def test_subject_report_lists_every_access_with_disclosure_request_and_breach(store: Client) -> None:
    """The pseudonymised subject's three accesses: a read, the Stripe disclosure, and the post-suspension breach."""
    report = subject_report(store, ORG, stored_subject_id(ORG, PERSON, KEY), Period())
    accesses = [dict(zip(report.sections[0].columns, row, strict=True)) for row in report.sections[0].rows]
    assert [a["action"] for a in accesses] == ["read", "disclose", "read"]
    before, disclosure, after = accesses
    assert disclosure["disclosure"] is True
    assert (disclosure["recipient"], disclosure["recipient_name"]) == ("stripe-japan", "Stripe Japan K.K.")
    assert disclosure["provision_basis"] == "consent"
    assert disclosure["decision"] == "allow"
    assert before["request_in_force"] is None
    assert disclosure["request_in_force"] is None
    assert after["request_in_force"] == "suspend_use"
    assert after["decision"] == "violation"
    assert "KP009" in after["rules"]
    assert after["purpose"] == "applications"
    assert after["categories"] == ["name", "phone", "consultation_content"]
    assert after["actor_role"] == "consultation_counsellor"
    assert "actor_id" not in report.sections[0].columns
    requests, provisions = report.sections[1].rows, report.sections[2].rows
    assert [(r[0], r[3]) for r in requests] == [("suspend_use", CASE_REFERENCE)]
    assert [p[2] for p in provisions] == ["stripe-japan"]
    assert report.parameters["rule_breaches"] == 1


def test_subject_report_names_staff_only_when_asked(store: Client) -> None:
    """show_staff adds the actor ids; without it no staff id appears anywhere in the rendered report."""
    subject = stored_subject_id(ORG, PERSON, KEY)
    hidden = render_report(subject_report(store, ORG, subject, Period()), "json")
    shown = subject_report(store, ORG, subject, Period(), show_staff=True)
    assert COUNSELLOR not in hidden
    assert [row[-1] for row in shown.sections[0].rows] == [COUNSELLOR, "svc-payments", COUNSELLOR]


def test_subject_report_uses_the_subject_projection(store: Client) -> None:
    """The per-subject lookup is answered from the by_subject projection, not a scan of the table."""
    subject = stored_subject_id(ORG, PERSON, KEY)
    rows = store.query(
        "SELECT count() FROM access_events WHERE org = {org:String} AND subject_id = {s:String}",
        parameters={"org": ORG, "s": subject}, settings={"force_optimize_projection_name": "by_subject"},
    ).result_rows
    assert rows == [(3,)]


def test_subject_report_period_excludes_other_days(store: Client) -> None:
    """A period that ends before the accesses yields none of them."""
    report = subject_report(store, ORG, stored_subject_id(ORG, PERSON, KEY),
                            Period.of_days(date(2026, 11, 1), date(2026, 11, 15)))
    assert report.sections[0].rows == []


def test_report_subject_command_pseudonymises_the_requester_id(store: Client, chdb_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    """`kansa report subject --subject RAW` hashes the id with KANSA_SUBJECT_KEY_FILE like the SDK and prints JSON."""
    key_file = tmp_path / "subject-key"
    key_file.write_text(KEY.key.decode(), encoding="utf-8")
    _env(monkeypatch, chdb_dir, store.database, KANSA_SUBJECT_KEY_FILE=str(key_file),
         KANSA_SUBJECT_KEY_ID=KEY.key_id)
    assert main(["report", "subject", "--org", ORG, "--subject", PERSON, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["parameters"]["subject_id"] == KEY.pseudonym(ORG, PERSON)
    assert [a["decision"] for a in document["accesses"]] == ["allow", "allow", "violation"]
    assert document["provisions"][0]["recipient_name"] == "Stripe Japan K.K."


def test_html_report_is_one_self_contained_page(store: Client) -> None:
    """The HTML page escapes its values and loads nothing from elsewhere (no script, link or src)."""
    page = render_report(subject_report(store, ORG, stored_subject_id(ORG, PERSON, KEY), Period()), "html")
    tags: list[tuple[str, dict[str, str | None]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, dict(attrs)))

    Collect().feed(page)
    names = {tag for tag, _ in tags}
    assert {"table", "style", "h1"} <= names
    assert not names & {"script", "link", "img", "iframe"}
    assert not any("src" in attrs or "href" in attrs for _, attrs in tags)
    assert sum(1 for tag, attrs in tags if tag == "tr" and attrs.get("class") == "violation") == 1
    assert "Stripe Japan K.K." in page


def test_subject_report_csv_and_table(store: Client) -> None:
    """CSV carries the accesses with a header row; the text table carries every section."""
    report = subject_report(store, ORG, stored_subject_id(ORG, PERSON, KEY), Period())
    lines = render_report(report, "csv").splitlines()
    assert lines[0].startswith("occurred_at,org,app,system")
    assert len(lines) == 4
    table = render_report(report, "table")
    assert CASE_REFERENCE in table
    assert "Records of provision" in table


def test_actor_report_shows_accesses_violations_and_alerts(store: Client) -> None:
    """The counsellor's day includes the suspended member's read as a violation, with the KP009 alert."""
    report = actor_report(store, ORG, COUNSELLOR, DAY)
    accesses, violations, alerts = (section.rows for section in report.sections)
    assert len(accesses) >= 2
    subject = stored_subject_id(ORG, PERSON, KEY)
    assert any(row[6] == subject and "KP009" in row[-1] for row in violations)
    assert all(row[12] != "allow" for row in violations)
    assert any(row[2] == "KP009" for row in alerts)


def test_violations_summary_counts_rule_hits_per_org_and_rule(store: Client) -> None:
    """Per (org, rule) counts match a direct count of the stored rule hits, and the alerts section is filled."""
    report = violations_report(store, DAY)
    rows = {(r[0], r[1], r[2], r[3]): r[4] for r in report.sections[0].rows}
    assert rows[(ORG, "KP009", "critical", "violation")] >= 1
    expected = store.query(
        "SELECT count() FROM access_events ARRAY JOIN rule_ids AS r WHERE decision != 'allow' "
        "AND occurred_at >= '2026-11-16' AND occurred_at < '2026-11-17'").result_rows[0][0]
    assert sum(rows.values()) == expected > 1
    assert {r[0] for r in report.sections[1].rows} >= {ORG}
    only = violations_report(store, DAY, org="weia")
    assert {r[0] for r in only.sections[0].rows} <= {"weia"}


def test_violations_summary_counts_each_alert_once_by_its_newest_revision(store: Client) -> None:
    """An alert with a later resolved revision counts once, and not as open."""
    day = "raised_at >= '2026-11-16' AND raised_at < '2026-11-17'"
    store.command(f"INSERT INTO alerts SELECT * REPLACE (revision + 1 AS revision, 'resolved' AS status, "
                  f"updated_at AS resolved_at) FROM alerts "
                  f"WHERE {day} AND rule != 'KP009' AND cityHash64(alert_id) % 2 = 0")
    alerts, revisions, resolved = store.query(
        f"SELECT uniqExact(alert_id), count(), countIf(status = 'resolved') FROM alerts FINAL "
        f"WHERE {day}").result_rows[0]
    assert revisions > alerts > resolved > 0
    rows = violations_report(store, DAY).sections[1].rows
    assert sum(r[3] for r in rows) == alerts
    assert sum(r[4] for r in rows) == alerts - resolved


def test_report_commands_render_every_format(store: Client, chdb_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """actor and violations run from the command line in table, csv, json and html."""
    _env(monkeypatch, chdb_dir, store.database)
    for fmt in ("table", "csv", "json", "html"):
        assert main(["report", "actor", "--org", ORG, "--actor", COUNSELLOR, "--from", "2026-11-16",
                     "--to", "2026-11-16", "--format", fmt]) == 0
        assert KEY.pseudonym(ORG, PERSON) in capsys.readouterr().out
        assert main(["report", "violations", "--from", "2026-11-16", "--to", "2026-11-16", "--format", fmt]) == 0
        assert "KP009" in capsys.readouterr().out
    assert main(["report", "violations", "--from", "2026-11-17", "--to", "2026-11-16"]) == 2


def _env(monkeypatch: pytest.MonkeyPatch, chdb_dir: Path, database: str, **extra: str) -> None:
    for name in [k for k in __import__("os").environ if k.startswith("KANSA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KANSA_CLICKHOUSE_DSN", f"chdb://{chdb_dir}")
    monkeypatch.setenv("KANSA_CLICKHOUSE_DATABASE", database)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
