"""Staff decisions on messaging's items (``cabinet.moderation``): campaigns in
moderation (S8) — their pending decision, opened when a campaign is created in
the "moderation" status, and the engine effect of the decision — and the staff
queues messaging registers (``register_queues``, from ``MessagingConfig.ready``):
sender names, campaigns, moderation templates, SMS-advertising applications.

Apart from ``messaging.moderation`` (the rules that send a campaign to
moderation), because this module needs the engine (prepare, statuses), which
itself asks those rules.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cabinet import moderation as decisions

from .models import (
    AdvertisingRequest,
    Campaign,
    CampaignModeration,
    Message,
    ModerationTemplate,
    S,
    SenderName,
)
from .prepare import enqueue_dispatch
from .statuses import locked, messages_refund, set_statuses


def campaign_moderation_open(*, campaign: Campaign) -> CampaignModeration:
    """The campaign's pending decision (created once)."""
    row, _created = CampaignModeration.objects.get_or_create(
        campaign_id=campaign.pk,
        defaults={"account_id": campaign.account_id, "created_at": campaign.created_at},
    )
    return row


def campaign_decide(
    *,
    campaign: Campaign,
    approve: bool,
    reason_text: str = "",
    comment: str = "",
    staff_user=None,
) -> CampaignModeration:
    """Staff decision on a campaign in moderation (a rejection needs
    ``reason_text``); see ``campaign_decision_apply`` for what it does.
    ``DecisionError`` for a campaign that never went to moderation."""
    row = CampaignModeration.objects.filter(campaign_id=campaign.pk).first()
    if row is None:
        # A campaign written without save() (none today) gets its decision on
        # the first staff look.
        status = Campaign.objects.values_list("status", flat=True).get(pk=campaign.pk)
        if status != Campaign.Status.MODERATION:
            raise decisions.DecisionError(
                _("Рассылка #%(id)s не на модерации.") % {"id": campaign.pk}
            )
        row = campaign_moderation_open(campaign=campaign)
    return decisions.decide(
        item=row,
        approve=approve,
        reason_text=reason_text,
        comment=comment,
        staff_user=staff_user,
    ).item


def _campaign_created(sender, instance, created, raw=False, **kwargs):
    # Both ways a campaign is written at launch (a create, or an insert of a
    # prepared campaign) go through save(), so every campaign created for
    # moderation gets its pending decision in the same transaction.
    if created and not raw and instance.status == Campaign.Status.MODERATION:
        campaign_moderation_open(campaign=instance)


def campaign_decision_apply(row: CampaignModeration) -> None:
    """The engine effect of a decision on a campaign, under the decision's row
    lock: approved messages become due at their planned time; a rejected
    campaign is cancelled and refunded.  ``DecisionError`` when the campaign
    left moderation meanwhile (cancelled by the client, or its preparation
    failed)."""
    campaign = locked(Campaign.objects.filter(pk=row.campaign_id)).get()
    if campaign.status != Campaign.Status.MODERATION:
        raise decisions.DecisionError(
            _("Рассылка #%(id)s уже не на модерации: %(status)s.")
            % {"id": campaign.pk, "status": campaign.get_status_display()}
        )
    rows = list(
        locked(
            Message.objects.filter(
                campaign_id=campaign.pk, status=S.MODERATION
            ).order_by("id")
        ).values_list("id", "campaign_id", "status")
    )
    note = row.reason_display
    if row.status == decisions.Decision.APPROVED:
        set_statuses(rows, S.DEFERRED, channel=campaign.channel)
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.RUNNING,
            started_at=timezone.now(),
            moderation_note=(row.comment or "Успешно")[:300],
        )
        channel = campaign.channel
        transaction.on_commit(lambda: enqueue_dispatch(channel))
    else:
        set_statuses(
            rows,
            S.CANCELLED,
            channel=campaign.channel,
            reason=f"Отклонено модератором: {note}"[:200],
        )
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.REJECTED,
            finished_at=timezone.now(),
            moderation_note=note[:300],
        )
        transaction.on_commit(lambda: messages_refund(campaign_id=campaign.pk))


def campaigns_waiting():
    """Campaign decisions staff still have to take (the campaign is still in
    moderation: one cancelled by the client meanwhile waits for nobody)."""
    return CampaignModeration.objects.filter(
        status=decisions.Decision.PENDING,
        campaign__status=Campaign.Status.MODERATION,
    )


def register_queues() -> None:
    """Messaging's staff queues (from ``MessagingConfig.ready``)."""
    decisions.register_queue(model=SenderName, label=gettext_lazy("Имена отправителя"))
    decisions.register_queue(
        model=CampaignModeration,
        label=gettext_lazy("Рассылки на модерации"),
        pending=campaigns_waiting,
        apply=campaign_decision_apply,
    )
    decisions.register_queue(
        model=ModerationTemplate, label=gettext_lazy("Шаблоны модерации")
    )
    # An application is a request staff work on, not a yes/no decision: its
    # queue lists the ones not finished yet.
    decisions.register_queue(
        model=AdvertisingRequest,
        label=gettext_lazy("Заявки на SMS-рекламу"),
        pending=lambda: AdvertisingRequest.objects.filter(
            status__in=[
                AdvertisingRequest.Status.NEW,
                AdvertisingRequest.Status.IN_WORK,
            ]
        ),
        admin_url=lambda: (
            reverse("admin:messaging_advertisingrequest_changelist")
            + "?status__in=new,in_work"
        ),
    )
    post_save.connect(
        _campaign_created,
        sender=Campaign,
        dispatch_uid="messaging.decisions.campaign_created",
    )
