"""``manage.py bench contacts_pages --contacts 1000000``

Server time of the phonebook pages with ``contacts`` contacts in one account
(one big group of 60 % and four others): the group list, a group page (first
and a deep page), filtered group pages, search across groups by a phone
fragment, a name and a term that matches nothing (the worst case).  Each page
is requested through Django's test client (middleware, template and all);
the figure is the median of 5 requests after a warm-up, with the number of
SQL queries.  ``--keep`` reuses the seeded account on the next run."""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

EMAIL = "bench-pages@example.com"


def add_arguments(parser):
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the seeded account for the next run"
    )


def _setup(total: int):
    from bench.contacts_export import seed
    from cabinet.models import User
    from cabinet.services import account_create
    from contacts import services
    from contacts.models import Contact, CustomField, Group

    user = User.objects.filter(email=EMAIL).first()
    if user is not None:
        groups = list(Group.objects.filter(account=user.account).order_by("id"))
        stored = Contact.objects.filter(account_id=user.account_id).count()
        if sum(g.size for g in groups) == total == stored:
            return user, groups
        Contact.objects.filter(account_id=user.account_id)._raw_delete("default")
        user.account.delete()
    user = account_create(email=EMAIL, password="bench-pass-123")
    CustomField.objects.create(account=user.account, key="card", name="Номер карты")
    sizes = [int(total * 0.6)] + [int(total * 0.1)] * 4
    sizes[-1] += total - sum(sizes)
    groups, offset = [], 0
    for i, size in enumerate(sizes):
        group = Group.objects.create(account=user.account, name=f"Группа {i + 1}")
        seed(user.account_id, group.pk, size, offset)
        offset += size
        groups.append(group)
    services.refresh_sizes([g.pk for g in groups])
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE contacts_contact")
    for g in groups:
        g.refresh_from_db()
    return user, groups


def _measure(client, url, params=None, runs=5):
    client.get(url, params or {})
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url, params or {})
            times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return {"ms": round(statistics.median(times), 1), "queries": queries}


def run(contacts, keep=False, **_):
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    t0 = time.perf_counter()
    user, groups = _setup(contacts)
    seeded = time.perf_counter() - t0
    client = Client()
    client.force_login(user)
    big = groups[0]
    detail = reverse("contacts:group_detail", args=[big.pk])
    search = reverse("contacts:search")
    result = {
        "contacts": contacts,
        "seed_seconds": round(seeded, 1),
        "group_list": _measure(client, reverse("contacts:group_list")),
        "group_page_1": _measure(client, detail),
        "group_page_200": _measure(client, detail, {"page": 200}),
        "group_filter_gender": _measure(client, detail, {"gender": "f"}),
        "group_filter_operator_age": _measure(
            client, detail, {"operator": "МТС", "age_min": 30, "age_max": 40}
        ),
        "group_filter_name": _measure(client, detail, {"q": "Петрова"}),
        "search_phone_fragment": _measure(client, search, {"q": "1234567"}),
        "search_full_phone": _measure(client, search, {"q": "+7 900 012 34 56"}),
        "search_phone_prefix_10k_matches": _measure(client, search, {"q": "8 900 012"}),
        "search_name": _measure(client, search, {"q": "Кузнецова Ольга"}),
        "search_no_match": _measure(client, search, {"q": "Нетакогоимени"}),
        "search_email": _measure(client, search, {"q": "user123456@example.com"}),
    }
    if not keep:
        from contacts.models import Contact

        Contact.objects.filter(account_id=user.account_id)._raw_delete("default")
        user.account.delete()
    return result
