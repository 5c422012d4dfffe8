"""``manage.py bench events --contacts 100000``

An import of N contacts into a group that has a welcome-SMS handler
(«Добавлен новый контакт» → «Рассылка смс контакту»), through the real
import job and the real events engine.  Prints the import's own time, then
the time from the import's end to the last welcome message queued: the
events task (claim the event, run the handler, launch the campaigns through
``campaign_launch``) and the campaigns' prepare tasks (message rows written),
run here one after the other as a worker would.  Also the number of events,
runs, campaigns and tasks it took.  Needs PostgreSQL (``DATABASE_URL``)."""

import time
import uuid
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection


def add_arguments(parser):
    parser.add_argument("--contacts", type=int, default=100_000)


def _csv(n: int) -> Path:
    path = Path(settings.BASE_DIR) / "var" / "bench" / f"events_{n}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        names = ["Анна", "Иван", "Мария", "Пётр", "Ольга", "Сергей"]
        with open(path, "w", encoding="utf-8") as out:
            out.write("Телефон;Имя\n")
            made = i = 0
            while made < n:
                phone = f"+7916{i:07d}"
                i += 1
                # The fake carrier's special tails (errors) are left out.
                if phone[-4:] in {"0000", "0001", "1111", "2222", "3333"}:
                    continue
                out.write(f"{phone};{names[made % len(names)]}\n")
                made += 1
    return path


def run(*, contacts: int, **_):
    if connection.vendor != "postgresql":
        raise SystemExit("bench events needs PostgreSQL: set DATABASE_URL")
    from celery import current_app

    from cabinet.models import Account
    from cabinet.services import account_create
    from contacts import services as contact_services
    from contacts.models import Contact, Group, ImportJob
    from events import services as events
    from events.models import Event, Run
    from messaging import prepare
    from messaging import services as messaging
    from messaging.models import Campaign, Message

    current_app.conf.task_always_eager = True
    # The tasks a worker would run are run here, timed: count them instead.
    prepare_tasks: list[int] = []
    messaging._enqueue_prepare = prepare_tasks.append
    prepare.enqueue_dispatch = lambda channel: None
    events._kick = lambda: None

    user = account_create(
        email=f"bench-events-{uuid.uuid4().hex[:8]}@example.com",
        password=uuid.uuid4().hex,
        balance=Decimal(contacts) * Decimal("10"),
    )
    Account.objects.filter(pk=user.account_id).update(is_trusted=True)
    account = Account.objects.get(pk=user.account_id)
    group = Group.objects.create(account=account, name="bench events")
    handler = events.handler_save(
        account=account,
        kind="contact_added",
        name="Приветствие",
        conditions=[{"field": "group", "op": "eq", "value": str(group.pk)}],
        actions=[
            {
                "kind": "sms_contact",
                "config": {"text": "Здравствуйте, [Имя]! Рады знакомству."},
            }
        ],
    )
    path = _csv(contacts)
    job = ImportJob.objects.create(
        account=account,
        group=group,
        filename=path.name,
        path=str(path.with_suffix(".run.csv")),
        kind="csv",
        mapping={"0": "phone", "1": "first_name"},
        has_header=True,
        status=ImportJob.Status.QUEUED,
    )
    Path(job.path).write_bytes(path.read_bytes())

    t0 = time.perf_counter()
    job = contact_services.import_job_run(job_id=job.pk)
    import_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    processed = events.events_process()
    handler_seconds = time.perf_counter() - t1
    t2 = time.perf_counter()
    for campaign_id in prepare_tasks:
        prepare.campaign_prepare(campaign_id=campaign_id)
    prepare_seconds = time.perf_counter() - t2
    total = time.perf_counter() - t1

    campaigns = Campaign.objects.filter(account=account, source="event")
    queued = Message.objects.filter(campaign__in=campaigns).count()
    runs = list(Run.objects.filter(handler=handler).values("outcome", "results"))
    result = {
        "contacts": contacts,
        "imported": job.created,
        "import_seconds": round(import_seconds, 3),
        "seconds_to_last_welcome_queued": round(total, 3),
        "handler_seconds": round(handler_seconds, 3),
        "prepare_seconds": round(prepare_seconds, 3),
        "events": Event.objects.filter(account=account).count(),
        "events_processed": processed,
        "runs": len(runs),
        "outcome": runs[0]["outcome"] if runs else None,
        "campaigns": campaigns.count(),
        "tasks": 1 + len(prepare_tasks),
        "welcome_messages_queued": queued,
    }
    Message.objects.filter(account_id=account.pk)._raw_delete("default")
    Contact.objects.filter(group=group)._raw_delete("default")
    return result
