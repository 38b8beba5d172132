"""`alerts_current`: one row per alert, its newest revision, however the revisions reached `alerts`."""

from __future__ import annotations

from datetime import timedelta

from clickhouse_connect.driver.client import Client

from consumers.alerts import Alert, AlertFolder
from kansa.storage.client import scalar
from kansa.storage.migrate import available_migrations, migrate
from tests.consumers.alerts.alert_support import T0, violation
from tests.dashboards.storefill import store_alerts


def revisions() -> list[Alert]:
    """Three alerts as the folder publishes them: two fired, grew and resolved; one still firing."""
    now = [T0]
    folder = AlertFolder(timedelta(minutes=10), clock=lambda: now[0])
    folder.add(violation(actor="staff-1", at=T0))
    folder.add(violation(actor="staff-2", at=T0))
    published = folder.drain()
    now[0] = T0 + timedelta(minutes=1)
    folder.add(violation(actor="staff-1", at=now[0]))
    published += folder.drain()
    now[0] = T0 + timedelta(minutes=5)
    folder.add(violation(actor="staff-2", at=now[0]))
    published += folder.drain()
    now[0] = T0 + timedelta(minutes=12)
    published += folder.drain()
    folder.add(violation(actor="staff-3", at=now[0]))
    return published + folder.drain()


def current(client: Client) -> dict[str, tuple[int, str, int]]:
    rows = client.query("SELECT actor, revision, status, count FROM alerts_current FINAL").result_rows
    return {actor: (revision, status, count) for actor, revision, status, count in rows}


def test_alerts_current_keeps_each_alerts_newest_revision(client: Client) -> None:
    """Every revision stays in `alerts`; `alerts_current FINAL` has one row per alert: resolved ones resolved."""
    migrate(client)
    published = revisions()
    store_alerts(client, published)
    assert scalar(client, "SELECT count() FROM alerts FINAL") == len(published) == 7
    assert current(client) == {"staff-1": (3, "resolved", 2), "staff-2": (3, "resolved", 2),
                               "staff-3": (1, "firing", 1)}


def test_a_replayed_older_revision_does_not_reopen_a_resolved_alert(client: Client) -> None:
    """Storing an earlier firing revision again (a replay) leaves the alert resolved."""
    migrate(client)
    published = revisions()
    store_alerts(client, published)
    store_alerts(client, [published[0]])
    assert current(client)["staff-1"] == (3, "resolved", 2)


def test_migration_copies_the_alerts_stored_before_it(client: Client) -> None:
    """Revisions stored under the sixth migration are in `alerts_current` once the seventh runs."""
    migrate(client)
    seventh = available_migrations()[6]
    assert seventh.name == "0007_alerts_current.sql"
    client.command("DROP VIEW alerts_current_mv")
    client.command("DROP TABLE alerts_current")
    client.command("DELETE FROM schema_migrations WHERE version >= 7")
    published = revisions()
    store_alerts(client, published)
    assert migrate(client)[0] == seventh.name
    assert current(client)["staff-2"] == (3, "resolved", 2)
    assert len(current(client)) == 3
