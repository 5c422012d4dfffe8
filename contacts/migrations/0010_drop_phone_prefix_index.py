"""Drop (account, phone text_pattern_ops) on PostgreSQL: lookups by number go
through the unique (group, phone) index with the account's groups, and the
"starts with" search is a range on that index.  One index less per imported
row."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS contact_phone_prefix")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS contact_phone_prefix ON contacts_contact "
            "(account_id, phone text_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_drop_group_id_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
