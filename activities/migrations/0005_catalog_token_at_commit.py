"""The catalog token changes once per transaction, at commit, instead of after every statement.

Updating the one token row after each statement made it a lock that concurrent writers took in the middle
of their work, after their own row locks: two imports could deadlock. Deferred constraint triggers queue a
single event per transaction (the WHEN condition lets only the first change through) and update the token
at commit, when the transaction waits for nothing else.
"""

from django.db import migrations

CATALOG_TABLES = [
    "activities_activity",
    "activities_creditdesignation",
    "activities_mocapproval",
    "activities_activity_specialties",
    "activities_provider",
    "activities_specialty",
]

FUNCTIONS = r"""
CREATE FUNCTION activities_catalog_change_queued() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF coalesce(current_setting('activities.catalog_change_queued', true), '') = 'on' THEN
        RETURN false;
    END IF;
    PERFORM set_config('activities.catalog_change_queued', 'on', true);
    RETURN true;
END $$;

CREATE OR REPLACE FUNCTION activities_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_catalogstate SET token = md5(random()::text || clock_timestamp()::text);
    PERFORM set_config('activities.catalog_change_queued', '', true);
    RETURN NULL;
END $$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    for table in CATALOG_TABLES:
        schema_editor.execute(f"DROP TRIGGER catalog_changed ON {table}")
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
    for table in CATALOG_TABLES:
        schema_editor.execute(f"DROP TRIGGER catalog_changed ON {table}")
        schema_editor.execute(f"DROP TRIGGER catalog_truncated ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION activities_catalog_changed()"
        )
    schema_editor.execute("DROP FUNCTION activities_catalog_change_queued()")


class Migration(migrations.Migration):
    dependencies = [("activities", "0004_deferred_search_documents")]

    operations = [migrations.RunPython(forward, backward)]
