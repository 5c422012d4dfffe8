"""Reads for the events pages and the API; everything scoped to the account."""

from django.http import Http404

from contacts.models import CustomField, Group

from .kinds import KINDS
from .models import Handler, Run


def handlers(*, account_id: int):
    return Handler.objects.filter(account_id=account_id).prefetch_related("actions")


def handler_get(*, account_id: int, pk) -> Handler:
    handler = Handler.objects.filter(account_id=account_id, pk=pk).first()
    if handler is None:
        raise Http404
    return handler


def kinds_with_handlers(*, account_id: int) -> list[tuple]:
    """[(kind, [handler…])] in the order of KINDS."""
    by_kind: dict[str, list] = {code: [] for code in KINDS}
    for h in handlers(account_id=account_id):
        by_kind.setdefault(h.kind, []).append(h)
    return [(KINDS[code], by_kind[code]) for code in KINDS]


def runs(*, handler: Handler):
    return Run.objects.filter(handler=handler).prefetch_related("webhooks")


def group_names(*, account_id: int) -> dict[int, str]:
    return dict(Group.objects.filter(account_id=account_id).values_list("id", "name"))


def custom_fields(*, account_id: int):
    return list(CustomField.objects.filter(account_id=account_id))


def date_fields(*, account_id: int):
    return list(
        CustomField.objects.filter(account_id=account_id, kind=CustomField.Kind.DATE)
    )
