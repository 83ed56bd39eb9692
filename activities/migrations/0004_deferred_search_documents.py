"""Bulk writers may defer search documents to one set-based refresh at the end of their batch.

With ``SET LOCAL activities.search_deferred = 'on'`` the search triggers leave ``search_vector`` alone; the
writer then calls ``activities_refresh_search(ids)`` for the activities it touched, which computes every
document in one statement, after the activities' specialties are linked: once per activity instead of
once per row trigger and again per specialty link.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION activities_search_deferred() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('activities.search_deferred', true), '') = 'on'
$$;

CREATE OR REPLACE FUNCTION activities_activity_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF activities_search_deferred() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.search_vector IS NULL
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.summary IS DISTINCT FROM OLD.summary
       OR NEW.provider_id IS DISTINCT FROM OLD.provider_id THEN
        NEW.search_vector := activities_search_document(NEW);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION activities_specialty_links_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT activities_search_deferred() THEN
        UPDATE activities_activity SET search_vector = NULL
         WHERE id IN (SELECT DISTINCT activity_id FROM new_links);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION activities_specialty_links_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT activities_search_deferred() THEN
        UPDATE activities_activity SET search_vector = NULL
         WHERE id IN (SELECT DISTINCT activity_id FROM old_links);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION activities_refresh_search(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE activities_activity a SET search_vector =
           setweight(to_tsvector('english', coalesce(a.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(p.name, '')), 'B')
        || setweight(to_tsvector('english', coalesce(s.names, '')), 'B')
        || setweight(to_tsvector('english', coalesce(a.summary, '')), 'C')
      FROM activities_provider p,
           activities_activity b
           LEFT JOIN (SELECT x.activity_id, string_agg(sp.name, ' ') AS names
                        FROM activities_activity_specialties x
                        JOIN activities_specialty sp ON sp.id = x.specialty_id
                       WHERE x.activity_id = ANY(ids)
                       GROUP BY x.activity_id) s ON s.activity_id = b.id
     WHERE p.id = a.provider_id AND b.id = a.id AND a.id = ANY(ids)
$$;
"""

BACKWARD = r"""
DROP FUNCTION IF EXISTS activities_refresh_search(bigint[]);
CREATE OR REPLACE FUNCTION activities_activity_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.search_vector IS NULL
       OR NEW.title IS DISTINCT FROM OLD.title OR NEW.summary IS DISTINCT FROM OLD.summary
       OR NEW.provider_id IS DISTINCT FROM OLD.provider_id THEN
        NEW.search_vector := activities_search_document(NEW);
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION activities_specialty_links_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_activity SET search_vector = NULL WHERE id IN (SELECT DISTINCT activity_id FROM new_links);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION activities_specialty_links_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities_activity SET search_vector = NULL WHERE id IN (SELECT DISTINCT activity_id FROM old_links);
    RETURN NULL;
END $$;
DROP FUNCTION IF EXISTS activities_search_deferred();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("activities", "0003_catalog_search")]

    operations = [migrations.RunPython(forward, backward)]
