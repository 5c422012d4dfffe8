"""The ledger's account index is redundant: (account, -created_at) and the
unique (account, kind, reference) lead with the account.  Only the index is
dropped — Django's AlterField would also drop and re-validate the foreign key,
a scan of the whole ledger on deploy for nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_refund_kind_label"),
        ("cabinet", "0002_security_support"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="ledger_entries",
                        to="cabinet.account",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "billing_ledgerentry_account_id_ac8d6a24"',
                    reverse_sql='CREATE INDEX "billing_ledgerentry_account_id_ac8d6a24" '
                    'ON "billing_ledgerentry" ("account_id")',
                ),
            ],
        ),
    ]
