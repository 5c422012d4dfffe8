"""Reads of the integrations app; every query is scoped to the account."""

from cabinet.models import ApiToken, TokenScope

from .models import ProtocolCredentials, WebhookDelivery, WebhookEndpoint


def tokens_by_scope(*, account_id: int) -> dict[str, list[ApiToken]]:
    """The account's tokens grouped by scope (a token with several scopes — made
    through the API helpers — is listed under each).  One query."""
    grouped: dict[str, list[ApiToken]] = {scope: [] for scope in TokenScope.values}
    for token in ApiToken.objects.filter(account_id=account_id).order_by(
        "revoked_at", "-created_at"
    ):
        for scope in token.scopes or []:
            if scope in grouped:
                grouped[scope].append(token)
    return grouped


def webhook_endpoint(*, account_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(account_id=account_id).first()


def webhook_deliveries(*, account_id: int):
    return WebhookDelivery.objects.filter(account_id=account_id).order_by("-id")


def protocol_credentials(*, account_id: int) -> ProtocolCredentials | None:
    return ProtocolCredentials.objects.filter(account_id=account_id).first()
