"""Every page of the cabinet answers junk query parameters with a page or a
clear 4xx, never a server error: each GET route the signed-in user can open,
with the parameters the cabinet's own links use set to junk values."""

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PARAMS = [
    "q",
    "page",
    "cursor",
    "status",
    "date_from",
    "date_to",
    "period",
    "sort",
    "order",
    "limit",
    "group",
    "tag",
    "channel",
    "source",
    "sender",
    "weekday",
    "kind",
    "tab",
    "id",
    "ids",
    "format",
    "year",
    "month",
    "per_page",
    "filter",
    "f_gender",
    "f_operator",
    "f_birth_month",
    "f_age_min",
]
JUNK = ["'\"<x>", "-1", "99999999999999999999999", "2026-13-45", "абв", "", "1e9"]


class _Failed(Exception):
    pass


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _fill(route: str, ids: dict) -> str | None:
    """A concrete path for a route: parameters become the user's own ids."""
    import re

    if route.startswith(("admin/", "^", "static")) or "(?P" in route:
        return None

    def value(match):
        converter, name = match.group(1) or "str", match.group(2)
        if converter == "int":
            return str(ids.get(name, ids["default"]))
        if name == "channel":
            return "sms"
        return "x"

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


@pytest.fixture
def own_ids(user) -> dict:
    """The ids a route's ``<int:…>`` parameters get: the user's own objects."""
    from contacts.models import Contact, Group
    from messaging import services

    group = Group.objects.create(account=user.account, name="Клиенты")
    contact = Contact.objects.create(
        account=user.account, group=group, phone="+79161234567"
    )
    campaign = services.campaign_launch(
        account=user.account, channel="sms", text="Тест", phones=["+79161234567"]
    )
    return {
        "group_id": group.pk,
        "contact_id": contact.pk,
        "pk": campaign.pk,
        "campaign_id": campaign.pk,
        "default": 1,
    }


def _cabinet_paths(ids: dict, *, skip: tuple[str, ...] = ()):
    """Every cabinet route (not the APIs) as a concrete path."""
    for route in sorted(set(_routes())):
        path = _fill(route, ids)
        if path is None or path.startswith(("/api/", "/json/", "/lcabApi/")):
            continue
        if "logout" in path or any(part in path for part in skip):
            continue
        yield path


def _answer(send, *args, **kwargs):
    """``send(*args, **kwargs)``'s response, in a savepoint: a failing query
    must not abort the test's transaction and fail every page after it."""
    try:
        with transaction.atomic():
            response = send(*args, **kwargs)
            if response.status_code >= 500:
                raise _Failed
    except _Failed:
        pass
    return response


def test_no_page_fails_on_junk_parameters(user, own_ids):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(user)
    failures, visited = [], 0
    for path in _cabinet_paths(own_ids, skip=("export", ".csv", ".xlsx")):
        # The same page asked by htmx (its partial) with the first junk too.
        for junk, headers in [(junk, {}) for junk in JUNK] + [
            (JUNK[0], {"HTTP_HX_REQUEST": "true"})
        ]:
            query = {name: junk for name in PARAMS}
            response = _answer(client.get, path, query, **headers)
            visited += 1
            if response.status_code >= 500:
                failures.append(f"{path}?…={junk!r} {headers}: {response.status_code}")
                break
    assert visited > 100
    assert not failures, "\n".join(failures)


POST_FIELDS = PARAMS + [
    "action",
    "target",
    "form",
    "name",
    "text",
    "phone",
    "phones",
    "amount",
    "decision",
    "scope",
    "password",
    "confirm",
    "sender",
    "groups",
    "months",
    "hours",
    "minutes",
    "email",
    "code",
]


def test_no_form_fails_on_junk_posts(user, own_ids):
    """The same routes, posted junk form fields: a form error, a redirect or a
    4xx — never a server error."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    failures, visited = [], 0
    for path in _cabinet_paths(own_ids):
        for junk in JUNK:
            client.force_login(user)
            data = {name: junk for name in POST_FIELDS}
            response = _answer(client.post, path, data)
            visited += 1
            if response.status_code >= 500:
                failures.append(f"POST {path} …={junk!r}: {response.status_code}")
                break
    assert visited > 100
    assert not failures, "\n".join(failures)
