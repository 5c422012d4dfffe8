"""Tenancy of the REST API, generically: every /api/v1/ operation whose path
names an object by an id answers another account's id with a 404 in the one
error shape (``{"error": {"code": "not_found", …}}``) — never a 200 showing
the object, never a 403 confirming it exists, never a 500 — and a write there
(POST/PUT/PATCH/DELETE, with a body that would pass validation) changes
nothing.

The crawl walks the OpenAPI schema (as test_schemathesis generates it), so a
new endpoint with an id in its path is crawled too; it must then be given an
object kind in ``OBJECT_FOR_PATH`` (the test fails on an unmapped path rather
than skipping it).  A control crawl with the caller's own objects proves every
crawled operation really reaches its object — and that the bodies sent really
act — so the 404s of the stranger crawl mean "not yours"."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"

# Schema path (its longest matching prefix) → the kind of object its id
# parameter names.  Every crawled path must match one.
OBJECT_FOR_PATH = {
    "/api/v1/campaigns/": "campaign",
    "/api/v1/chat/conversations/": "chat_conversation",
    # Resuming needs a paused campaign, or even an unscoped view would refuse.
    "/api/v1/campaigns/{id}/resume/": "paused_campaign",
    "/api/v1/contact-fields/": "custom_field",
    "/api/v1/contacts/": "contact",
    "/api/v1/events/handlers/": "event_handler",
    "/api/v1/groups/": "group",
    "/api/v1/imports/": "import_job",
    "/api/v1/invoices/": "invoice",
    "/api/v1/promo/actions/": "promo_action",
    "/api/v1/sms/moderation-templates/": "moderation_template",
    "/api/v1/sms/senders/": "sender_name",
    "/api/v1/sms/templates/": "message_template",
    "/api/v1/stoplist/": "stop_number",
    "/api/v1/callpassword/": "callpassword",
    "/api/v1/scenarios/": "scenario",
    "/api/v1/scenarios/runs/": "scenario_run",
    "/api/v1/viber/images/": "viber_image",
}

# Real leaks found by this crawl and not fixed yet: {(path, METHOD): why}.
# Each one is a bug to fix in the view, then to delete from here.  A known
# leak's request is rolled back, so the rest of the crawl still proves itself.
KNOWN_LEAKS: dict[tuple[str, str], str] = {}

# Sent as JSON to every write that takes JSON: enough for each serializer to
# get past validation (unknown keys are ignored), so a view that forgot to
# scope its lookup would really act (rename, re-phone, add a contact…) rather
# than stop at a 400.  The control crawl checks that it does act.
JSON_BODY = {
    "name": "Взлом",
    "text": "Взлом",
    "phone": "+79169999999",
    # A scenario's launch.
    "phones": ["+79169999999"],
    "first_name": "Взлом",
    "is_hidden": True,
    "everywhere": True,
}

# A file upload (the group import): a real CSV of two new numbers.
IMPORT_CSV = b"+79169999998\n+79169999997\n"

MIN_OPERATIONS = 25


class _Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Imports store their uploads and error reports under MEDIA_ROOT.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def _body_kind(schema: dict, path: str, method: str, operation: dict) -> str | None:
    """ "json", "multipart" or None (no body) for the operation; fails when the
    body this crawl sends would miss a field the schema requires."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    if not content:
        return None
    if "application/json" in content:
        kind, sent = "json", set(JSON_BODY)
        body_schema = content["application/json"]["schema"]
    elif "multipart/form-data" in content:
        kind, sent = "multipart", {"file", "policy"}
        body_schema = content["multipart/form-data"]["schema"]
    else:
        raise AssertionError(f"{method} {path}: request body of {sorted(content)}")
    missing = set(_resolve(schema, body_schema).get("required", [])) - sent
    assert not missing, (
        f"{method} {path} requires {sorted(missing)}: add plausible values to "
        "JSON_BODY so that the crawl's write would pass validation"
    )
    return kind


def _id_operations() -> list[tuple[str, str, str | None, str | None]]:
    """(path, METHOD, object kind, body kind) for every schema operation with
    an id in its path; a path matching no ``OBJECT_FOR_PATH`` prefix has kind
    None."""
    schema = _schema()
    out = []
    for path, item in sorted(schema["paths"].items()):
        if "{" not in path:
            continue
        assert path.startswith(API_PREFIX), path
        params = re.findall(r"\{(\w+)\}", path)
        assert len(params) == 1, f"{path}: more than one path parameter"
        prefixes = [p for p in OBJECT_FOR_PATH if path.startswith(p)]
        kind = OBJECT_FOR_PATH[max(prefixes, key=len)] if prefixes else None
        for method, operation in sorted(item.items()):
            method = method.upper()
            if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            declared = {
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "path"
            }
            assert declared == set(params), (path, method, declared)
            out.append(
                (path, method, kind, _body_kind(schema, path, method, operation))
            )
    return out


def _fill(path: str, obj) -> str:
    """The path naming ``obj``: by its ``public_id`` where the path says so (an
    uploaded Viber image), else by its primary key."""
    return re.sub(r"\{(\w+)\}", lambda m: str(getattr(obj, m.group(1), obj.pk)), path)


def _make_objects(owner) -> dict:
    """One object of every kind the id paths name, for ``owner``'s account,
    made with the project's own services."""
    from billing.services import invoice_create, requisites_save
    from contacts import services as contacts
    from contacts.models import StopNumber
    from events.services import handler_save
    from messaging import compose, moderation, senders
    from messaging import services as messaging
    from promo.services import action_create
    from scenarios import services as scenario_services
    from tests.billing.conftest import VALID_REQUISITES
    from tests.viber.conftest import picture
    from viber.images import image_upload
    from voice.services import callpassword_send

    account = owner.account
    tag = f"a{account.pk}"
    group = contacts.group_create(account=account, name=f"Клиенты {tag}")
    contact = contacts.contact_create(
        account=account,
        group=group,
        data={"phone": "+79161234567", "first_name": "Иван"},
    )
    # A finished import (eager Celery runs it at once).
    job = contacts.import_job_create(
        account=account,
        group=group,
        upload=SimpleUploadedFile("clients.csv", b"+79161234568\n"),
    )
    contacts.import_job_start(job=job, policy="skip")
    contacts.stop_numbers_add(account_id=account.pk, text="+79161112233")
    requisites_save(account=account, data=dict(VALID_REQUISITES))
    # Campaigns still scheduled a month ahead: cancelling, pausing and (for
    # the paused one) resuming are all possible.
    send_at = timezone.now() + timedelta(days=30)
    campaign = messaging.campaign_launch(
        account=account,
        channel="sms",
        text="Тест",
        phones=["+79161234567"],
        send_at=send_at,
    )
    paused = messaging.campaign_launch(
        account=account,
        channel="sms",
        text="Пауза",
        phones=["+79161234569"],
        send_at=send_at,
    )
    assert campaign.status == paused.status == "scheduled", campaign.status
    scenario = scenario_services.scenario_save(
        account=account,
        name=f"Сценарий {tag}",
        steps=[{"channel": "sms", "text": "Привет", "decision": 600}],
    )
    assert messaging.campaign_pause(campaign=paused)
    paused.refresh_from_db()
    job.refresh_from_db()
    assert job.status == "done", (job.status, job.message)
    from chat import services as chat

    chat_site = chat.site_add(
        account=account, address=f"https://{tag}.example", language="ru", user=owner
    )
    chat_message = chat.visitor_message(
        visitor=chat.visitor_connect(site=chat_site, key="0" * 32), text="Привет"
    )
    return {
        "chat_conversation": chat_message.conversation,
        "group": group,
        "contact": contact,
        "import_job": job,
        "custom_field": contacts.custom_field_create(
            account=account, name=f"Карта {tag}"
        ),
        "stop_number": StopNumber.objects.get(account=account, phone="+79161112233"),
        "callpassword": callpassword_send(
            account=account, recipient="+79161234500"
        ).request,
        "campaign": campaign,
        "paused_campaign": paused,
        "invoice": invoice_create(account=account, amount=Decimal("100")),
        "promo_action": action_create(
            account_id=account.pk, name=f"Скидка {tag}", code_length=6, valid_days=30
        ),
        "sender_name": senders.sender_request(account=account, name="MyShop"),
        "message_template": compose.template_save(
            account=account, payload={"text": "Привет"}, name=f"Шаблон {tag}"
        ),
        "moderation_template": moderation.template_create(
            account=account, text=f"Код {tag}: [любая фраза]"
        ),
        "event_handler": handler_save(
            account=account,
            kind="contact_added",
            name=f"Приветствие {tag}",
            actions=[{"kind": "sms_contact", "config": {"text": f"Привет {tag}"}}],
        ),
        "viber_image": image_upload(
            account=account,
            upload=SimpleUploadedFile("sale.png", picture(), content_type="image/png"),
        ),
        "scenario": scenario,
        "scenario_run": scenario_services.run_launch(
            account=account, scenario=scenario, phones=["+79161234570"]
        ),
    }


def _snapshot(objects: dict, account_id: int) -> dict:
    """Every stored field of every object (None for a deleted one), and every
    row stored against the account or hanging off one of its objects (a
    contact imported into its group, a message of its campaign, its balance…),
    so that an unscoped write is seen wherever it lands."""
    from django.apps import apps

    from cabinet.models import Account

    rows = {
        kind: type(obj).objects.filter(pk=obj.pk).values().first()
        for kind, obj in objects.items()
    }
    owners: dict = {Account: {account_id}}
    for obj in objects.values():
        owners.setdefault(type(obj), set()).add(obj.pk)
    rows["account"] = Account.objects.filter(pk=account_id).values().first()
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in owners:
                ids = owners[field.related_model]
                rows[(model._meta.label, field.name)] = list(
                    model.objects.filter(**{f"{field.attname}__in": ids})
                    .order_by("pk")
                    .values()
                )
    return rows


def _request(api, method, path, body_kind, *, rollback=False):
    """One request in a savepoint: a failing query cannot abort the test's
    transaction; with ``rollback`` whatever the request wrote is undone (else
    it is committed to the savepoint, and its on-commit work — Celery tasks,
    an import — runs as in production)."""
    send = getattr(api, method.lower())
    if body_kind == "json":
        kwargs = {"data": dict(JSON_BODY), "format": "json"}
    elif body_kind == "multipart":
        upload = SimpleUploadedFile("hijack.csv", IMPORT_CSV, content_type="text/csv")
        kwargs = {"data": {"file": upload, "policy": "skip"}, "format": "multipart"}
    else:
        kwargs = {}
    response = None
    try:
        with transaction.atomic():
            response = send(path, **kwargs)
            if rollback or response.status_code >= 500:
                raise _Rollback
    except _Rollback:
        pass
    return response


def _body(response) -> str:
    try:
        return str(response.json())[:300]
    except ValueError:
        return repr(response.content[:300])


def test_another_accounts_objects_are_404_on_every_id_path(
    user, other_user, api_client_for
):
    assert user.account_id != other_user.account_id
    operations = _id_operations()
    unmapped = sorted({path for path, _m, kind, _b in operations if kind is None})
    assert not unmapped, (
        "API paths with an id but no object kind in OBJECT_FOR_PATH:\n"
        + "\n".join(unmapped)
    )

    theirs = _make_objects(other_user)
    before = _snapshot(theirs, other_user.account_id)
    api = api_client_for(user)
    api.raise_request_exception = False

    failures, known, checked = [], [], []
    for path, method, kind, body_kind in operations:
        leak = (path, method) in KNOWN_LEAKS
        response = _request(
            api, method, _fill(path, theirs[kind]), body_kind, rollback=leak
        )
        checked.append((path, method))
        status = response.status_code
        try:
            code = response.json()["error"]["code"]
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            code = message = None
        if status == 404 and code == "not_found" and message:
            continue
        line = (
            f"{method} {path} ({kind} #{theirs[kind].pk}): {status} {_body(response)}"
        )
        (known if leak else failures).append(line)

    after = _snapshot(theirs, other_user.account_id)
    changed = [key for key in before if before[key] != after[key]]
    assert not failures and not changed, (
        "Foreign objects not answered with a not_found 404:\n"
        + "\n".join(failures)
        + f"\nAnother account's stored rows changed by the crawl: {changed}"
    )
    # Spelled out for the objects a hijacking write would most visibly change.
    for obj in theirs.values():
        obj.refresh_from_db()  # DoesNotExist if a DELETE went through
    assert theirs["group"].name.startswith("Клиенты")
    assert theirs["group"].deleted_at is None and not theirs["group"].is_hidden
    assert theirs["group"].contacts.count() == 2  # Иван and the imported one
    assert theirs["contact"].phone == "+79161234567"
    assert theirs["campaign"].status == "scheduled"
    assert theirs["paused_campaign"].status == "paused"
    assert theirs["custom_field"].name.startswith("Карта")
    assert theirs["message_template"].name.startswith("Шаблон")
    assert theirs["sender_name"].status == "pending"
    assert theirs["event_handler"].is_active
    assert len(known) == len(KNOWN_LEAKS), (
        "A known leak is no longer seen — remove it from KNOWN_LEAKS:\n"
        + "\n".join(known)
    )
    # The crawl cannot pass by skipping: every id path of the schema was
    # crawled with each of its methods.
    assert {p for p, _m in checked} == {p for p, _m, _k, _b in operations}
    assert len(checked) >= MIN_OPERATIONS, checked


def test_the_same_paths_reach_the_callers_own_objects(user, api_client_for):
    """The control: with the caller's own ids no crawled operation is a 404 or
    a 5xx, and every write succeeds (2xx) with the very body the stranger crawl
    sends — so the stranger crawl's 404s come from the account scoping, not
    from a wrong path, a missing object or a body the view would refuse.  Each
    request is rolled back."""
    mine = _make_objects(user)
    api = api_client_for(user)
    api.raise_request_exception = False
    failures, reached = [], 0
    for path, method, kind, body_kind in _id_operations():
        response = _request(
            api, method, _fill(path, mine[kind]), body_kind, rollback=True
        )
        status = response.status_code
        reached += 1
        if status == 404 or status >= 500:
            failures.append(f"{method} {path} ({kind}): {status} {_body(response)}")
        elif method != "GET" and not 200 <= status < 300:
            failures.append(
                f"{method} {path} ({kind}): the write did not act, {status} "
                f"{_body(response)}"
            )
    assert not failures, "Own objects not reached:\n" + "\n".join(failures)
    assert reached >= MIN_OPERATIONS
