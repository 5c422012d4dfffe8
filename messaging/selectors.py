from .models import Campaign, Message


def recent_campaigns(*, account_id: int, limit: int = 10):
    return list(
        Campaign.objects.filter(account_id=account_id).order_by("-created_at", "-id")[
            :limit
        ]
    )


def campaign_get(*, account_id: int, campaign_id: int) -> Campaign:
    """A campaign of this account (``Campaign.DoesNotExist`` for anyone else's)."""
    return Campaign.objects.get(account_id=account_id, pk=campaign_id)


def messages_list(*, account_id: int, campaign_id: int | None = None):
    qs = Message.objects.filter(account_id=account_id)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.order_by("-id")
