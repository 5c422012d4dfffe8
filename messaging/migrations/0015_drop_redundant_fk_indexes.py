"""Two redundant indexes written on every send: the campaign's account index
((account, -created_at) leads with it) and the counter's campaign index (the
unique (campaign, status) leads with it).  Only the indexes are dropped —
Django's AlterField would also drop and re-validate the foreign keys, a scan
of the tables on deploy for nothing."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cabinet", "0002_security_support"),
        ("messaging", "0014_sendername_name_64"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="campaign",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="campaigns",
                        to="cabinet.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="campaigncounter",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="counters",
                        to="messaging.campaign",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "messaging_campaign_account_id_ba16c1db"',
                    reverse_sql='CREATE INDEX "messaging_campaign_account_id_ba16c1db" '
                    'ON "messaging_campaign" ("account_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "messaging_campaigncounter_campaign_id_67b05549"',
                    reverse_sql='CREATE INDEX "messaging_campaigncounter_campaign_id_67b05549" '
                    'ON "messaging_campaigncounter" ("campaign_id")',
                ),
            ],
        ),
    ]
