"""The migration to the one decision model keeps every existing decision."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("messaging", "0009_message_extra_and_submitted_content")]
AFTER = [("messaging", "0010_moderation_decisions")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_decisions_are_carried_over():
    old = _migrate(BEFORE)
    try:
        Account = old.get_model("cabinet", "Account")
        Campaign = old.get_model("messaging", "Campaign")
        SenderName = old.get_model("messaging", "SenderName")
        ModerationTemplate = old.get_model("messaging", "ModerationTemplate")
        account = Account.objects.create(name="Old")
        now = timezone.now()

        def campaign(status, note=""):
            return Campaign.objects.create(
                account=account,
                status=status,
                moderation_note=note,
                created_at=now - timedelta(hours=1),
                started_at=now if status not in ("moderation", "rejected") else None,
                finished_at=now if status in ("rejected", "cancelled") else None,
            ).pk

        waiting = campaign("moderation")
        rejected = campaign("rejected", "Спам")
        approved = campaign("done", "Успешно")
        approved_with_word = campaign("running", "Проверено вручную")
        approved_then_cancelled = campaign("cancelled", "Успешно")
        failed_to_prepare = campaign("cancelled", "Не хватает промокодов")
        never_moderated = campaign("done")
        SenderName.objects.create(
            account=account, name="Brand", status="rejected", reason="brand"
        )
        ModerationTemplate.objects.create(
            account=account, text="A [любая фраза]", status="rejected", comment="Нет"
        )
        ModerationTemplate.objects.create(
            account=account, text="B [любая фраза]", status="approved", comment="Ок"
        )
    finally:
        new = _migrate(AFTER)
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    CampaignModeration = new.get_model("messaging", "CampaignModeration")
    rows = {r.campaign_id: r for r in CampaignModeration.objects.all()}
    assert set(rows) == {
        waiting,
        rejected,
        approved,
        approved_with_word,
        approved_then_cancelled,
    }
    assert rows[waiting].status == "pending" and rows[waiting].decided_at is None
    assert rows[rejected].status == "rejected"
    assert rows[rejected].reason_text == "Спам"
    assert rows[rejected].decided_at is not None
    assert rows[approved].status == "approved" and rows[approved].comment == ""
    assert rows[approved_with_word].comment == "Проверено вручную"
    assert rows[approved_then_cancelled].status == "approved"
    assert failed_to_prepare not in rows and never_moderated not in rows
    assert all(r.account_id == account.pk for r in rows.values())

    SenderName = new.get_model("messaging", "SenderName")
    assert SenderName.objects.get().reason == "brand"
    ModerationTemplate = new.get_model("messaging", "ModerationTemplate")
    texts = {
        t.text: (t.status, t.reason_text, t.comment)
        for t in ModerationTemplate.objects.all()
    }
    assert texts == {
        "A [любая фраза]": ("rejected", "Нет", ""),
        "B [любая фраза]": ("approved", "", "Ок"),
    }
