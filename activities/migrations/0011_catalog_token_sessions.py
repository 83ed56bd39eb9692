"""Sessions are catalog tables too: the date filters match on them, so a change to a session or its credits
gives the catalog token a new value at commit, with the same deferred trigger as the other catalog tables
(0005). SQLite's triggers are made by ``activities.sqlite_triggers`` after every migrate.
"""

from django.db import migrations

SESSION_TABLES = ["activities_session", "activities_sessioncredit"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SESSION_TABLES:
        schema_editor.execute(
            f"CREATE CONSTRAINT TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (activities_catalog_change_queued()) "
            "EXECUTE FUNCTION activities_catalog_changed()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER catalog_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION activities_catalog_changed()"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in SESSION_TABLES:
        schema_editor.execute(f"DROP TRIGGER catalog_changed ON {table}")
        schema_editor.execute(f"DROP TRIGGER catalog_truncated ON {table}")


class Migration(migrations.Migration):
    dependencies = [("activities", "0010_checkin_and_claim_windows")]

    operations = [migrations.RunPython(forward, backward)]
