# The integrator's id (client_ref) is no longer unique: a reused id with other
# content is another message.  What makes a repeat "the same message" is the
# caller's digest in client_key, unique per account.

import hashlib

from django.db import migrations, models


def _key(client_ref: str, phone: str, text: str) -> str:
    # Frozen copy of integrations.compat.replay_key at the time of this
    # migration (a migration never imports live code).  Existing rows get the
    # digest of their stored text: the submitted text is not kept, and for a
    # message without short links it is the same.
    raw = "\x1f".join((client_ref, phone, text)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def backfill(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    rows = (
        Message.objects.exclude(client_ref="")
        .filter(client_key="")
        .values_list("id", "client_ref", "phone", "text")
        .order_by("id")
    )
    batch = []
    for mid, ref, phone, text in rows.iterator(chunk_size=2000):
        batch.append(Message(id=mid, client_key=_key(ref, phone, text)))
        if len(batch) == 2000:
            Message.objects.bulk_update(batch, ["client_key"])
            batch = []
    if batch:
        Message.objects.bulk_update(batch, ["client_key"])


class Migration(migrations.Migration):

    dependencies = [
        ('cabinet', '0002_security_support'),
        ('messaging', '0011_message_awaiting_report_idx'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='client_key',
            field=models.CharField(blank=True, db_default='', default='', max_length=32),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('client_ref', ''), _negated=True), fields=['account', 'client_ref', 'id'], name='message_client_ref_idx'),
        ),
        migrations.AddConstraint(
            model_name='message',
            constraint=models.UniqueConstraint(condition=models.Q(('client_key', ''), _negated=True), fields=('account', 'client_key'), name='message_unique_client_key'),
        ),
        migrations.RemoveConstraint(
            model_name='message',
            name='message_unique_client_ref',
        ),
    ]
