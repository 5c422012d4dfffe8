"""Prefix-search indexes for the search across groups (C7), PostgreSQL only.

``text_pattern_ops`` lets ``LIKE 'prefix%'`` use a btree whatever the
database collation; ``reverse(phone)`` turns "ends with these digits" into a
prefix search.  Not declared in ``Meta.indexes`` because SQLite has no
operator classes (and the portable search there is a plain scan)."""

from django.db import migrations

INDEXES = {
    "contact_phone_prefix": "(account_id, phone text_pattern_ops)",
    "contact_phone_suffix": "(account_id, reverse(phone) text_pattern_ops)",
    "contact_last_name_prefix": "(account_id, upper(last_name) text_pattern_ops)",
    "contact_first_name_prefix": "(account_id, upper(first_name) text_pattern_ops)",
    "contact_email_prefix": "(account_id, lower(email) text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact {columns}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_drop_account_id_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
