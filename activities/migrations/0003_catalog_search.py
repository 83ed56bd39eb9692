"""Catalog search: the full-text search vector and the catalog state token, kept current by the database.

On PostgreSQL, triggers maintain ``activity.search_vector`` (title weight A; provider and specialty names
weight B; summary weight C; English stemming) behind a GIN index, whatever code writes the rows. On every
database, triggers give ``catalogstate.token`` a new random value whenever a table the catalog shows
changes, in the same transaction.
"""

import django.contrib.postgres.search
from django.db import migrations, models

CATALOG_TABLES = [
    "activities_activity",
    "activities_creditdesignation",
    "activities_mocapproval",
    "activities_activity_specialties",
    "activities_provider",
    "activities_specialty",
]

POSTGRES_FORWARD = r"""
CREATE INDEX activity_search_gin ON activities_activity USING gin (search_vector);

CREATE FUNCTION activities_search_document(activity activities_activity) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(activity.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(
               (SELECT p.name FROM activities_provider p WHERE p.id = activity.provider_id), '')), 'B')
        || setweight(to_tsvector('english', coalesce(
               (SELECT string_agg(s.name, ' ') FROM activities_activity_specialties x
                  JOIN activities_specialty s ON s.id = x.specialty_id
                 WHERE x.activity_id = activity.id), '')), 'B')
        || setweight(to_tsvector('english', coalesce(activity.summary, '')), 'C')
$$;

-- An activity's own row: computed on insert, and on update when the text changed or a refresh asked for
-- it by setting the vector to NULL.
CREATE FUNCTION activities_activity_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.search_vector IS NULL
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.summary IS DISTINCT FROM OLD.summary
       OR NEW.provider_id IS DISTINCT FROM OLD.provider_id THEN
        NEW.search_vector := activities_search_document(NEW);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER activity_search_row BEFORE INSERT OR UPDATE ON activities_activity
    FOR EACH ROW EXECUTE FUNCTION activities_activity_search_row();

-- Specialty links added or removed: refresh those activities, once per statement.
CREATE FUNCTION activities_specialty_links_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_activity SET search_vector = NULL
     WHERE id IN (SELECT DISTINCT activity_id FROM new_links);
    RETURN NULL;
END $$;
CREATE TRIGGER activity_specialties_added AFTER INSERT ON activities_activity_specialties
    REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT EXECUTE FUNCTION activities_specialty_links_added();
CREATE FUNCTION activities_specialty_links_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_activity SET search_vector = NULL
     WHERE id IN (SELECT DISTINCT activity_id FROM old_links);
    RETURN NULL;
END $$;
CREATE TRIGGER activity_specialties_removed AFTER DELETE ON activities_activity_specialties
    REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT EXECUTE FUNCTION activities_specialty_links_removed();

-- A provider or specialty renamed: its activities' documents name it.
CREATE FUNCTION activities_provider_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name THEN
        UPDATE activities_activity SET search_vector = NULL WHERE provider_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER provider_renamed AFTER UPDATE ON activities_provider
    FOR EACH ROW EXECUTE FUNCTION activities_provider_renamed();
CREATE FUNCTION activities_specialty_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name THEN
        UPDATE activities_activity SET search_vector = NULL
         WHERE id IN (SELECT activity_id FROM activities_activity_specialties WHERE specialty_id = NEW.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER specialty_renamed AFTER UPDATE ON activities_specialty
    FOR EACH ROW EXECUTE FUNCTION activities_specialty_renamed();

CREATE FUNCTION activities_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_catalogstate SET token = md5(random()::text || clock_timestamp()::text);
    RETURN NULL;
END $$;
"""

POSTGRES_BACKWARD = r"""
DROP TRIGGER IF EXISTS activity_search_row ON activities_activity;
DROP TRIGGER IF EXISTS activity_specialties_added ON activities_activity_specialties;
DROP TRIGGER IF EXISTS activity_specialties_removed ON activities_activity_specialties;
DROP TRIGGER IF EXISTS provider_renamed ON activities_provider;
DROP TRIGGER IF EXISTS specialty_renamed ON activities_specialty;
DROP FUNCTION IF EXISTS activities_activity_search_row();
DROP FUNCTION IF EXISTS activities_specialty_links_added();
DROP FUNCTION IF EXISTS activities_specialty_links_removed();
DROP FUNCTION IF EXISTS activities_provider_renamed();
DROP FUNCTION IF EXISTS activities_specialty_renamed();
DROP FUNCTION IF EXISTS activities_search_document(activities_activity);
DROP INDEX IF EXISTS activity_search_gin;
"""


def forward(apps, schema_editor):
    apps.get_model("activities", "CatalogState").objects.get_or_create(pk=1)
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FORWARD)
            for table in CATALOG_TABLES:
                cursor.execute(
                    f"CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION activities_catalog_changed()"
                )
            cursor.execute("UPDATE activities_activity SET search_vector = NULL")
        elif connection.vendor == "sqlite":
            for table in CATALOG_TABLES:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_catalog_{event.lower()} AFTER {event} ON {table} BEGIN "
                        "UPDATE activities_catalogstate SET token = lower(hex(randomblob(16))); END"
                    )


def backward(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in CATALOG_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS catalog_changed ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS activities_catalog_changed()")
            cursor.execute(POSTGRES_BACKWARD)
        elif connection.vendor == "sqlite":
            for table in CATALOG_TABLES:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0002_reference_data"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(default="initial", max_length=64)),
            ],
            options={"verbose_name": "catalog state"},
        ),
        migrations.AddField(
            model_name="activity",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(forward, backward),
    ]
