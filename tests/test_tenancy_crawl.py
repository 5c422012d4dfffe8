"""Tenancy, generically: every cabinet web route that names an object by an
``<int:…>`` id answers another account's id with a 404 — never a 200 showing
the object, never a 403 confirming it exists, never a 500 — and a POST there
cannot act on it.

The crawl walks the URL resolver (``_routes`` of test_junk_queries), so a new
route with an int parameter is crawled too; it must then be given an object
kind in ``OBJECT_FOR_ROUTE`` (the test fails on an unmapped route rather than
skipping it).  A control crawl with the signed-in user's own objects proves
every crawled route really reaches its object (not a 404 for another reason),
so the 404s of the stranger crawl mean "not yours"."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.test_junk_queries import _fill, _routes

pytestmark = pytest.mark.django_db

# Machine routes, not cabinet pages (as in test_junk_queries); the admin is
# staff-only and skipped by ``_fill``; so is the staff console (403 for every
# cabinet user: tests/staff/test_console.py).
SKIP_PREFIXES = ("api/", "json/", "lcabApi/", "admin/", "staff/")

# Route pattern (its longest matching prefix) → the kind of object its int
# parameter names.  Every crawled route must match one.
OBJECT_FOR_ROUTE = {
    "api-settings/tokens/": "token",
    "billing/invoices/": "invoice",
    "chat/sites/": "chat_site",
    "chat/operators/": "chat_operator",
    "chat/console/conversations/": "chat_conversation",
    "chat/console/canned/": "chat_canned",
    "contacts/contact/": "contact",
    # Restoring takes a group from the trash: a deleted group.
    "contacts/groups/<int:group_id>/restore/": "trashed_group",
    "contacts/groups/": "group",
    "contacts/imports/": "import_job",
    "events/": "event_handler",
    "notifications/": "notification",
    "promo/managers/": "promo_manager",
    "promo/": "promo_action",
    "reports/<channel:channel>/filters/": "saved_filter",
    "reports/campaigns/": "campaign",
    "scenarios/runs/": "scenario_run",
    "scenarios/": "scenario",
    "settings/users/": "member",
    "sms/greetings/": "greeting",
    "sms/moderation-templates/": "moderation_template",
    "sms/scheduler/": "schedule",
    "sms/senders/": "sender_name",
    "sms/templates/": "message_template",
    "social/messengers/": "messenger_binding",
    "social/senders/": "social_name_request",
    "support/": "ticket",
    "voice/audio/": "audio",
    "voice/numbers/": "voice_caller_number",
    "viber/moderation-templates/": "viber_moderation_template",
    "viber/senders/": "viber_sender_name",
}

# Real leaks found by this crawl and not fixed yet: {(route, method): why}.
# Each one is a bug to fix in the view, then to delete from here.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}

# Posted to every route: enough for each form to get past validation, so a
# view that forgot to scope its lookup would really act (rename, delete, change
# a role, reply, set a password…) rather than stop at a form error.
POST_DATA = {
    "name": "Взлом",
    "text": "Взлом [любая фраза]",
    "body": "Взлом",
    "role": "admin",
    "password": "hijacked-pass-1",
    "phone": "+79169999999",
    "all_text": "+79169999998",
    "scope": "one",
    "action": "delete",
    "target": "excel",
    "which": "all",
    "occasion": "Взлом",
    "greet_time": "10:00",
    "minutes": "0",
    "hours": "9",
    "timezone": "Europe/Moscow",
    "code_length": "6",
    "valid_days": "30",
}

NONEXISTENT_ID = 2_000_000_000


class _Rollback(Exception):
    pass


def _int_routes():
    """(route, object kind) for every cabinet web route with an int parameter;
    a route that matches no ``OBJECT_FOR_ROUTE`` prefix has kind None."""
    out = []
    for route in sorted(set(_routes())):
        if "<int:" not in route or route.startswith(SKIP_PREFIXES):
            continue
        assert route.count("<int:") == 1, f"{route}: more than one int parameter"
        prefixes = [p for p in OBJECT_FOR_ROUTE if route.startswith(p)]
        kind = OBJECT_FOR_ROUTE[max(prefixes, key=len)] if prefixes else None
        out.append((route, kind))
    return out


def _make_objects(owner, make_user, tmp_path) -> dict:
    """One object of every kind the int routes name, for ``owner``'s account."""
    from billing.models import Requisites
    from billing.services import invoice_create
    from cabinet.services import notification_create, token_create
    from cabinet.support import ticket_create
    from contacts.models import Contact, Group, ImportJob
    from events.services import handler_save
    from messaging import services as messaging_services
    from messaging.models import (
        Greeting,
        MessageTemplate,
        ModerationTemplate,
        Schedule,
        SenderName,
    )
    from promo.services import action_create, manager_create
    from reports.models import SavedFilter
    from scenarios.models import Run, Scenario
    from social.models import MessengerBinding
    from social.services import name_request_create

    chain = [{"channel": "sms", "text": "Привет", "decision": 600, "options": {}}]
    from tests.billing.conftest import VALID_REQUISITES
    from voice.services import audio_synthesize

    account = owner.account
    tag = f"a{account.pk}"
    group = Group.objects.create(account=account, name=f"Клиенты {tag}")
    trashed = Group.objects.create(account=account, name=f"Корзина {tag}")
    Group.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    contact = Contact.objects.create(
        account=account, group=group, phone="+79161234567", first_name="Иван"
    )
    # A finished import with an error report on disk: were the lookup not
    # scoped, both its page and the report would be served.
    tmp_path.mkdir(parents=True, exist_ok=True)
    errors = tmp_path / f"errors-{tag}.csv"
    errors.write_text("phone;error\n123;bad\n", encoding="utf-8")
    job = ImportJob.objects.create(
        account=account,
        group=group,
        filename="x.csv",
        path=str(tmp_path / "missing.csv"),
        kind="csv",
        status=ImportJob.Status.DONE,
        errors_path=str(errors),
    )
    Requisites.objects.create(account=account, **VALID_REQUISITES)
    from chat import services as chat_services
    from chat.models import CannedReply, Operator

    chat_site = chat_services.site_add(
        account=account, address=f"https://{tag}.example", language="ru", user=owner
    )
    chat_visitor = chat_services.visitor_connect(site=chat_site, key="0" * 32)
    chat_message = chat_services.visitor_message(visitor=chat_visitor, text="Привет")
    return {
        "chat_site": chat_site,
        "chat_operator": Operator.objects.get(account=account),
        "chat_conversation": chat_message.conversation,
        "chat_canned": CannedReply.objects.create(
            account=account, title=f"Ответ {tag}", text="Текст"
        ),
        "token": token_create(account=account, scopes=["messaging"]).token,
        "invoice": invoice_create(account=account, amount=Decimal("100")),
        "contact": contact,
        "group": group,
        "trashed_group": trashed,
        "import_job": job,
        "notification": notification_create(
            account_id=account.pk, title=f"Уведомление {tag}", url="/"
        ),
        "promo_manager": manager_create(
            account_id=account.pk,
            name="Анна",
            login=f"clerk-{tag}",
            password="clerk-pass-1",
        ),
        "promo_action": action_create(
            account_id=account.pk, name=f"Скидка {tag}", code_length=6, valid_days=30
        ),
        "saved_filter": SavedFilter.objects.create(
            account=account, channel="sms", name=f"Фильтр {tag}", query="tag=a"
        ),
        "campaign": messaging_services.campaign_launch(
            account=account, channel="sms", text="Тест", phones=["+79161234567"]
        ),
        "member": make_user(account=account, role="operator"),
        "greeting": Greeting.objects.create(
            account=account, occasion=f"ДР {tag}", send_time="10:00", payload={}
        ),
        "moderation_template": ModerationTemplate.objects.create(
            account=account, text=f"Код {tag}: [любая фраза]"
        ),
        "schedule": Schedule.objects.create(
            account=account,
            name=f"План {tag}",
            minutes=[0],
            hours=[9],
            payload={"text": "x"},
        ),
        "sender_name": SenderName.objects.create(account=account, name="Shop"),
        "viber_moderation_template": ModerationTemplate.objects.create(
            account=account, channel="viber", text=f"Заказ {tag}: [любая фраза]"
        ),
        "viber_sender_name": SenderName.objects.create(
            account=account, channel="viber", name="ViberShop", status="approved"
        ),
        # An own caller number waiting for staff (withdrawable).
        "voice_caller_number": SenderName.objects.create(
            account=account, channel="voice", name=f"+7916{account.pk % 10_000_000:07d}"
        ),
        "message_template": MessageTemplate.objects.create(
            account=account, name=f"Шаблон {tag}", text="Привет"
        ),
        "ticket": ticket_create(
            account=account, author=owner, subject=f"Вопрос {tag}", body="Текст"
        ),
        "event_handler": handler_save(
            account=account,
            kind="contact_added",
            name=f"Приветствие {tag}",
            actions=[{"kind": "sms_contact", "config": {"text": f"Привет {tag}"}}],
        ),
        "audio": audio_synthesize(
            account=account, text=f"Запись {tag}", voice="espeak:ru"
        ),
        "messenger_binding": MessengerBinding.objects.create(
            account=account, messenger="telegram", chat_id=f"chat-{tag}"
        ),
        "social_name_request": name_request_create(
            account=account,
            vk=f"vk.com/shop{account.pk}",
            letter=SimpleUploadedFile(
                "letter.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
            ),
        ),
        "scenario": Scenario.objects.create(
            account=account, name=f"Сценарий {tag}", steps=chain
        ),
        "scenario_run": Run.objects.create(
            account=account, name=f"Сценарий {tag}", steps=chain
        ),
    }


def _snapshot(objects: dict) -> dict:
    """Every stored field of every object (None for a deleted one)."""
    return {
        kind: type(obj).objects.filter(pk=obj.pk).values().first()
        for kind, obj in objects.items()
    }


def _request(client, user, method, path, *, rollback=False):
    """One request in a savepoint: a failing query cannot abort the test's
    transaction; with ``rollback`` whatever the request wrote is undone."""
    client.force_login(user)
    send = client.get if method == "GET" else client.post
    data = POST_DATA if method == "POST" else None
    response = None
    try:
        with transaction.atomic():
            response = send(path, data)
            if rollback or response.status_code >= 500:
                raise _Rollback
    except _Rollback:
        pass
    return response


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and "/login/" in response.get(
        "Location", ""
    )


def test_another_accounts_objects_are_404_on_every_route(
    user, other_user, make_user, tmp_path
):
    assert user.role == "owner" and user.account_id != other_user.account_id
    routes = _int_routes()
    unmapped = [route for route, kind in routes if kind is None]
    assert not unmapped, (
        "Routes with an int parameter but no object kind in OBJECT_FOR_ROUTE:\n"
        + "\n".join(unmapped)
    )

    theirs = _make_objects(other_user, make_user, tmp_path / "theirs")
    before = _snapshot(theirs)
    client = Client(raise_request_exception=False)

    failures, known, checked, not_allowed = [], [], [], []
    for route, kind in routes:
        path = _fill(route, {"default": theirs[kind].pk})
        for method in ("GET", "POST"):
            response = _request(client, user, method, path)
            status = response.status_code
            if _is_login_redirect(response):
                failures.append(f"{method} {route}: session lost ({status})")
                continue
            if status == 405:
                # The view does not take this method at all (require_POST):
                # the same answer for an id that exists nowhere, so it tells
                # nothing about the stranger's object.
                control = _request(
                    client, user, method, _fill(route, {"default": NONEXISTENT_ID})
                )
                if control.status_code != 405:
                    failures.append(
                        f"{method} {route}: 405 for a foreign id but "
                        f"{control.status_code} for a nonexistent one"
                    )
                not_allowed.append((route, method))
                continue
            checked.append((route, method))
            if status == 404:
                continue
            line = f"{method} {route} ({kind} #{theirs[kind].pk}): {status}"
            if (route, method) in KNOWN_LEAKS:
                known.append(line)
            else:
                failures.append(line)

    after = _snapshot(theirs)
    changed = [kind for kind in theirs if before[kind] != after[kind]]
    assert not failures and not changed, (
        "Foreign objects not answered with 404:\n"
        + "\n".join(failures)
        + f"\nAnother account's objects changed by the crawl: {changed}"
    )
    # Spelled out for the objects a hijacking POST would most visibly change.
    theirs["group"].refresh_from_db()
    theirs["token"].refresh_from_db()
    theirs["campaign"].refresh_from_db()
    theirs["member"].refresh_from_db()
    theirs["ticket"].refresh_from_db()
    assert theirs["group"].name.startswith("Клиенты")
    assert theirs["group"].deleted_at is None
    assert theirs["token"].revoked_at is None
    assert theirs["campaign"].status == before["campaign"]["status"]
    assert theirs["member"].role == "operator"
    assert theirs["ticket"].messages.count() == 1
    assert len(known) == len(KNOWN_LEAKS), (
        "A known leak is no longer seen — remove it from KNOWN_LEAKS:\n"
        + "\n".join(known)
    )
    # The crawl cannot pass by skipping: every int route was crawled, with
    # each method it takes.
    assert len({route for route, _ in checked}) == len(routes)
    assert len(checked) >= 40, checked


def test_the_same_routes_reach_the_users_own_objects(user, make_user, tmp_path):
    """The control: with the user's own ids no crawled route is a 404, so the
    stranger crawl's 404s come from the account scoping, not from a wrong
    path, a channel or a missing object.  Each request is rolled back."""
    mine = _make_objects(user, make_user, tmp_path / "mine")
    client = Client(raise_request_exception=False)
    failures, reached = [], 0
    for route, kind in _int_routes():
        path = _fill(route, {"default": mine[kind].pk})
        for method in ("GET", "POST"):
            response = _request(client, user, method, path, rollback=True)
            status = response.status_code
            if status == 405:
                continue
            reached += 1
            if status == 404 or status >= 500 or _is_login_redirect(response):
                failures.append(f"{method} {route} ({kind}): {status}")
    assert not failures, "Own objects not reached:\n" + "\n".join(failures)
    assert reached >= 40
