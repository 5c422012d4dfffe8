"""What the messaging app puts on the dashboard (``cabinet.dashboard``):
the quick-send tile and the latest campaigns.  Registered in
``MessagingConfig.ready()``."""

from cabinet.dashboard import Widget

from .selectors import recent_campaigns


def _recent(request) -> dict:
    return {"campaigns": recent_campaigns(account_id=request.account.pk, limit=10)}


WIDGETS = (
    Widget(
        key="messaging.quick_send",
        template="messaging/dashboard/quick_send.html",
        area="stats",
        order=10,
    ),
    Widget(
        key="messaging.recent_campaigns",
        template="messaging/dashboard/recent_campaigns.html",
        data=_recent,
        area="cards",
        order=10,
    ),
)
