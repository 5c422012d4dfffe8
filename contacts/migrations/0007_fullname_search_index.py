"""One full-name prefix index instead of separate last-name, first-name and
e-mail ones: each index costs the COPY import, and "Фамилия Имя Отчество"
typed from the start is what people search for; other fragments are found
by the time-boxed fallback scan (selectors.contacts_search_page).  ``id`` ends
the index so name results come in index order (name, id) and a page stops
after 50 rows however many contacts share a common name; the "C" collation
(byte order) lets the same btree serve ``LIKE 'prefix%'`` and that ORDER BY."""

from django.db import migrations

FULL_NAME = (
    "CREATE INDEX IF NOT EXISTS contact_full_name_prefix ON contacts_contact "
    "(account_id, (upper(last_name || ' ' || first_name || ' ' || middle_name) "
    'COLLATE "C"), id)'

)
OLD = {
    "contact_last_name_prefix": "(account_id, upper(last_name) text_pattern_ops)",
    "contact_first_name_prefix": "(account_id, upper(first_name) text_pattern_ops)",
    "contact_email_prefix": "(account_id, lower(email) text_pattern_ops)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FULL_NAME)
    schema_editor.execute("ANALYZE contacts_contact")
    for name in OLD:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS contact_full_name_prefix")
    for name, columns in OLD.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact {columns}"
        )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_account_phone_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
