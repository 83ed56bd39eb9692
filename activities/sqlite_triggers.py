"""The catalog token's triggers on SQLite, made sure of after every migrate.

On SQLite, Django rebuilds a table for many schema changes (copy into a new table, drop the old one), and
dropping a table drops its triggers. So the triggers that give ``activities_catalogstate.token`` a new value
on every change to a catalog table are (re)created after each migrate, if missing. PostgreSQL keeps its
triggers through ALTER TABLE; there, the migrations install them once.
"""

from django.db import connections

CATALOG_TABLES = (
    "activities_activity",
    "activities_creditdesignation",
    "activities_mocapproval",
    "activities_activity_specialties",
    "activities_provider",
    "activities_specialty",
    "activities_session",
    "activities_sessioncredit",
)


def ensure_catalog_triggers(using: str = "default", **kwargs) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    tables = set(connection.introspection.table_names())
    if "activities_catalogstate" not in tables:
        return
    with connection.cursor() as cursor:
        for table in CATALOG_TABLES:
            if table not in tables:
                continue
            for event in ("INSERT", "UPDATE", "DELETE"):
                update = "UPDATE activities_catalogstate SET token = lower(hex(randomblob(16)))"
                name = f"{table}_catalog_{event.lower()}"
                sql = f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {update}; END"
                cursor.execute(sql)
