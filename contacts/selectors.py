"""Reads of the phonebook.  Every function takes the account first; a foreign
or deleted group is ``Group.DoesNotExist`` (views turn it into a 404)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from . import history
from . import phones as ph
from .models import Contact, CustomField, Group, ImportJob, StopNumber, Unsubscribe

# Keys of the dicts audience_iter yields, in the order of the values_list.
AUDIENCE_FIELDS = (
    "id",
    "phone",
    "last_name",
    "first_name",
    "middle_name",
    "gender",
    "birth_date",
    "email",
    "link",
    "operator",
    "country",
    "region",
    "timezone",
    "extra",
)
AUDIENCE_KEYS = ("contact_id",) + AUDIENCE_FIELDS[1:]

# Text fields a filter may match by fragment (case-insensitive).
TEXT_FILTER_FIELDS = (
    "phone",
    "last_name",
    "first_name",
    "middle_name",
    "email",
    "link",
)
# Fields a filter matches exactly (a value or a list of values).
CHOICE_FILTER_FIELDS = ("operator", "region", "timezone", "country")


def blocked_phones(
    *, account_id: int, channel: str, sender: str, phones: Iterable[str] | None = None
) -> set[str]:
    """Every number this account must not write to on ``channel`` from ``sender``:
    its stop-list numbers, members of its stop-list groups, and numbers that
    unsubscribed from this sender on this channel.

    The dispatch pipeline calls this for every send in every channel, so no
    channel can forget the stop-list.  With ``phones`` the answer is limited to
    those numbers (cheaper for small sends).  One query per source, phones
    only, so a whole account with a million contacts stays cheap."""
    stop = StopNumber.objects.filter(account_id=account_id)
    members = Contact.objects.filter(
        account_id=account_id, group__is_stoplist=True, group__deleted_at__isnull=True
    )
    unsub = Unsubscribe.objects.filter(
        account_id=account_id, channel=channel, sender=sender
    )
    if phones is not None:
        phones = list(set(phones))
        if not phones:
            return set()
        stop, members, unsub = (
            q.filter(phone__any=phones) for q in (stop, members, unsub)
        )
    # One round trip: the three sources as one UNION.
    union = stop.values_list("phone", flat=True).union(
        members.values_list("phone", flat=True).order_by(),
        unsub.values_list("phone", flat=True),
    )
    return set(union)


def blocked_phone_sql(*, account: str, channel: str, sender: str, phone: str) -> str:
    """``blocked_phones`` compiled for one number: a query returning a row when
    ``phone`` must not be written to (the arguments are SQL expressions)."""
    return f"""
        SELECT 1 FROM contacts_stopnumber s
        WHERE s.account_id = {account} AND s.phone = {phone}
        UNION ALL
        SELECT 1 FROM contacts_group g JOIN contacts_contact k ON k.group_id = g.id
        WHERE g.account_id = {account} AND g.is_stoplist AND g.deleted_at IS NULL
          AND k.phone = {phone}
        UNION ALL
        SELECT 1 FROM contacts_unsubscribe u
        WHERE u.account_id = {account} AND u.channel = {channel}
          AND u.sender = {sender} AND u.phone = {phone}"""


# --- groups ----


def groups_live(*, account_id: int) -> QuerySet[Group]:
    return Group.objects.filter(account_id=account_id, deleted_at__isnull=True)


def group_list(*, account_id: int, show_hidden: bool = False) -> QuerySet[Group]:
    qs = groups_live(account_id=account_id)
    if not show_hidden:
        qs = qs.filter(is_hidden=False)
    return qs


def group_get(*, account_id: int, group_id) -> Group:
    """The account's live group or ``Group.DoesNotExist``."""
    try:
        group_id = int(group_id)
    except (TypeError, ValueError):
        raise Group.DoesNotExist from None
    return groups_live(account_id=account_id).get(pk=group_id)


def groups_owned(*, account_id: int, group_ids: Iterable) -> list[Group]:
    """The account's live groups with these ids, in id order; raises
    ``Group.DoesNotExist`` if any id is foreign, deleted or not a number."""
    try:
        ids = {int(i) for i in group_ids}
    except (TypeError, ValueError):
        raise Group.DoesNotExist from None
    groups = list(groups_live(account_id=account_id).filter(pk__in=ids).order_by("id"))
    if len(groups) != len(ids):
        raise Group.DoesNotExist
    return groups


def trash_list(*, account_id: int) -> QuerySet[Group]:
    return Group.objects.filter(
        account_id=account_id, deleted_at__isnull=False
    ).order_by("-deleted_at")


def custom_fields(*, account_id: int) -> list[CustomField]:
    """The account's custom contact fields (C11) in display order; ``key`` is
    the substitution command ``[key]`` and the key in ``Contact.extra``."""
    return list(CustomField.objects.filter(account_id=account_id))


def custom_field_get(*, account_id: int, field_id) -> CustomField:
    """The account's custom field or ``CustomField.DoesNotExist``."""
    return CustomField.objects.get(account_id=account_id, pk=field_id)


# --- contacts ----


def contact_get(*, account_id: int, contact_id) -> Contact:
    """A contact of one of the account's live groups or ``Contact.DoesNotExist``."""
    try:
        contact_id = int(contact_id)
    except (TypeError, ValueError):
        raise Contact.DoesNotExist from None
    return Contact.objects.select_related("group").get(
        pk=contact_id, account_id=account_id, group__deleted_at__isnull=True
    )


def contact_fields(*, account_id: int, contact_id) -> dict | None:
    """One contact of the account as ``audience_iter`` yields it (the keys of
    ``AUDIENCE_KEYS``: what substitutions read), ``None`` when there is none."""
    row = (
        Contact.objects.filter(account_id=account_id, pk=contact_id)
        .values(*AUDIENCE_FIELDS)
        .first()
    )
    if row is None:
        return None
    row["contact_id"] = row.pop("id")
    return row


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set):
        return [v for v in value if v not in (None, "")]
    return [value]


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def apply_filters(qs: QuerySet[Contact], filters: dict | None) -> QuerySet[Contact]:
    """Apply the filter dict (C6; shape in docs/CONTACTS.md) to a contact
    queryset.  Unknown keys are ignored; values are already validated by
    ``forms.ContactFilterForm`` or the API serializer."""
    if not filters:
        return qs
    q = (filters.get("q") or "").strip()
    if q:
        qs = qs.filter(search_q(q))
    for name in TEXT_FILTER_FIELDS:
        value = (
            (filters.get(name) or "").strip()
            if isinstance(filters.get(name), str)
            else ""
        )
        if value:
            if name == "phone":
                value = "".join(ch for ch in value if ch.isdigit()) or value
            qs = qs.filter(_ci(name, value))
    for name in CHOICE_FILTER_FIELDS:
        values = _as_list(filters.get(name))
        if values:
            qs = qs.filter(**{f"{name}__in": values})
    gender = filters.get("gender")
    if gender in ("m", "f"):
        qs = qs.filter(gender=gender)
    elif gender == "none":
        qs = qs.filter(gender="")
    consent = filters.get("consent")
    if consent in (True, "1", "true", "yes"):
        qs = qs.filter(consent=True)
    elif consent in (False, "0", "false", "no"):
        qs = qs.filter(consent=False)
    today = timezone.localdate()
    age_min, age_max = filters.get("age_min"), filters.get("age_max")
    if age_min not in (None, ""):
        qs = qs.filter(birth_date__lte=_years_ago(today, int(age_min)))
    if age_max not in (None, ""):
        # Younger than age_max + 1 full years.
        qs = qs.filter(birth_date__gt=_years_ago(today, int(age_max) + 1))
    month = filters.get("birth_month")
    if month not in (None, ""):
        qs = qs.filter(birth_date__month=int(month))
    if filters.get("has_birth_date") in (True, "1", "true"):
        qs = qs.filter(birth_date__isnull=False)
    extra = filters.get("extra") or {}
    if isinstance(extra, dict):
        for key, value in extra.items():
            if value in (None, ""):
                continue
            qs = qs.filter(**{f"extra__{key}__icontains": str(value)})
    return qs


def _ci(name: str, text: str) -> Q:
    """Case-insensitive "contains".  SQLite's LIKE folds ASCII only, so there
    the usual capitalisations of Cyrillic text are tried as well."""
    cond = Q(**{f"{name}__icontains": text})
    if connection.vendor == "sqlite" and not text.isascii():
        for variant in {text.lower(), text.capitalize(), text.upper(), text.title()}:
            cond |= Q(**{f"{name}__contains": variant})
    return cond


def _phone_digits(text: str) -> str | None:
    """The digits of a query that is a phone (fragment), else None."""
    stripped = text.replace(" ", "").replace("+", "").replace("-", "")
    stripped = stripped.replace("(", "").replace(")", "")
    return stripped if stripped.isdigit() else None


def _phone_q(digits: str) -> Q:
    """Numbers that are this one, start with these digits (after the country
    code or the national 8) or end with them."""
    try:
        if len(digits) >= 10:
            return Q(phone=ph.normalize_phone(digits))
    except ph.InvalidPhone:
        pass
    prefixes = {"+" + digits}
    if digits[0] == "8":
        prefixes.add("+7" + digits[1:])
    elif digits[0] == "9":
        prefixes.add("+7" + digits)
    cond = Q(phone_rev__startswith=digits[::-1])
    for prefix in prefixes:
        # A range, not LIKE: the (group, phone) btree serves it whatever the
        # collation (numbers are "+" and digits only).
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        cond |= Q(phone__gte=prefix, phone__lt=upper)
    return cond


def _known_operator_region(word: str) -> tuple[str, str]:
    from .plan import ensure_plan

    ensure_plan()
    plan = ph.default_plan()
    names = _PLAN_NAMES.get(id(plan))
    if names is None:
        brands: dict[str, str] = {}
        regions: dict[str, str] = {}
        for _starts, _ends, payload in plan._index.values():
            for entry in payload:
                brands.setdefault(entry.brand.casefold(), entry.brand)
                regions.setdefault(entry.region.casefold(), entry.region)
        _PLAN_NAMES.clear()
        names = _PLAN_NAMES[id(plan)] = (brands, regions)
    key = word.casefold()
    return names[0].get(key, ""), names[1].get(key, "")


_PLAN_NAMES: dict[int, tuple[dict, dict]] = {}


# Must be the expression of the index of migration 0007.
FULL_NAME_SQL = (
    "(upper(last_name || ' ' || first_name || ' ' || middle_name) COLLATE \"C\")"
)
FALLBACK_TIMEOUT_MS = 50


def search_queryset(qs: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Filter ``qs`` by a search text (C7) with indexed conditions only.

    On PostgreSQL (indexes of migrations 0005/0007): a phone fragment matches
    the start or the end of the number; an operator brand or region name of
    the numbering plan matches those fields; other text matches the start of
    "Фамилия Имя Отчество" (case-insensitive).  Elsewhere (SQLite) the text is
    matched anywhere in more fields by a scan (``search_q``)."""
    text = " ".join(text.split())[:100]
    if not text:
        return qs
    if connection.vendor != "postgresql":
        return qs.filter(search_q(text))
    from django.db.models import CharField
    from django.db.models.expressions import RawSQL
    from django.db.models.functions import Reverse

    digits = _phone_digits(text)
    if digits:
        # In number order: "newest first" would invite a backward scan of the
        # primary key past every older contact when the matches are old.
        return (
            qs.annotate(phone_rev=Reverse("phone"))
            .filter(_phone_q(digits))
            .order_by("phone", "id")
        )
    brand, region = _known_operator_region(text)
    if brand or region:
        return qs.filter(Q(operator=brand) if brand else Q(region=region))
    full_name = RawSQL(FULL_NAME_SQL, [], output_field=CharField())
    # Ordered like the index (account, full name, id): a page is an index
    # range read that stops after a page of rows.
    return (
        qs.annotate(full_name=full_name)
        .filter(full_name__startswith=text.upper())
        .order_by("full_name", "id")
    )


# A page number from a hand-edited link past this is the last one we walk to
# (an OFFSET beyond bigint would be a database error).
SEARCH_MAX_PAGE = 100_000


def contacts_search_page(
    *, account_id: int, text: str, page: int = 1, per_page: int = 50
) -> dict:
    """One page of the search across groups, newest first, without a total.

    The indexed search runs first; when it finds nothing (a first name, an
    e-mail, a fragment from the middle of a field), the portable "anywhere"
    search runs with a statement timeout on PostgreSQL, so an unselective
    scan of a huge base ends with "уточните запрос" instead of a slow page."""
    from django.db import OperationalError, transaction

    page = min(max(1, page), SEARCH_MAX_PAGE)
    offset = (page - 1) * per_page
    # Live groups as a literal list, not a join: the planner can then read the
    # search index in order and stop after one page.
    live = list(groups_live(account_id=account_id).values_list("pk", flat=True))
    base = Contact.objects.filter(account_id=account_id, group_id__in=live).order_by(
        "-id"
    )
    text = " ".join((text or "").split())[:100]
    result = {
        "items": [],
        "has_next": False,
        "number": page,
        "timed_out": False,
        "broad": False,
    }
    if not text:
        return result
    found = []
    if not ("@" in text and connection.vendor == "postgresql"):
        found = list(search_queryset(base, text)[offset : offset + per_page + 1])
    if not found and connection.vendor == "postgresql" and not _phone_digits(text):
        result["broad"] = True
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {FALLBACK_TIMEOUT_MS}")
                found = list(
                    base.filter(search_q(text))[offset : offset + per_page + 1]
                )
        except OperationalError:
            result["timed_out"] = True
            found = []
    items = found[:per_page]
    names = dict(
        Group.objects.filter(pk__in={c.group_id for c in items}).values_list(
            "pk", "name"
        )
    )
    for contact in items:
        contact.group_name = names.get(contact.group_id, "")
    result["items"] = items
    result["has_next"] = len(found) > per_page
    return result


def search_q(text: str) -> Q:
    """The portable search condition: ``text`` anywhere in a field."""
    text = text.strip()
    digits = _phone_digits(text)
    if digits:
        if len(digits) == 11 and digits[0] == "8":
            digits = "7" + digits[1:]
        cond = Q(phone__contains=digits)
        if digits[:2] == "89" and len(digits) >= 4:
            # "8 903 111…" is the national prefix: +7 903 111…
            cond |= Q(phone__startswith="+7" + digits[1:])
        return cond
    cond = Q()
    for name in (
        "last_name",
        "first_name",
        "middle_name",
        "email",
        "operator",
        "region",
        "link",
    ):
        cond |= _ci(name, text)
    brand, region = _known_operator_region(text)
    if brand:
        cond |= Q(operator=brand)
    if region:
        cond |= Q(region=region)
    parts = text.split()
    if len(parts) > 1:
        # "Иванов Иван" — each word must match one of the name fields.
        words = Q()
        for word in parts:
            words &= (
                _ci("last_name", word)
                | _ci("first_name", word)
                | _ci("middle_name", word)
            )
        cond |= words
    return cond


def group_contacts(
    *, account_id: int, group: Group, filters: dict | None = None
) -> QuerySet[Contact]:
    """A group's contacts in phone order: the unique (group, phone) index
    serves the page (every index costs the COPY import, so there is no
    separate (group, id) one)."""
    qs = Contact.objects.filter(account_id=account_id, group_id=group.pk).order_by(
        "phone"
    )
    return apply_filters(qs, filters)


def contacts_in_groups(
    *, account_id: int, group_ids: Iterable[int], filters: dict | None = None
) -> QuerySet[Contact]:
    ids = [int(i) for i in group_ids]
    qs = Contact.objects.filter(
        account_id=account_id, group_id__in=ids, group__deleted_at__isnull=True
    )
    return apply_filters(qs, filters)


def audience_iter(
    *,
    account_id: int,
    group_ids: Iterable[int],
    filters: dict | None = None,
    chunk_size: int = 20000,
    fields: Iterable[str] | None = None,
) -> Iterator[list[dict]]:
    """Stream the contacts of these groups (the account's own live groups only),
    optionally filtered (same semantics as the in-group filter, C6), ordered by
    id, in lists of at most ``chunk_size`` dicts with the keys of
    ``AUDIENCE_KEYS``.  A phone in several groups comes once per group.

    Keyset pagination (``id > last ORDER BY id LIMIT n``) over the
    ``(group, id)``/``(account, id)`` indexes: each chunk is one indexed query,
    no server-side cursor is held between chunks, and memory stays at one
    chunk."""
    ids = [
        g.pk
        for g in Group.objects.filter(
            account_id=account_id,
            deleted_at__isnull=True,
            pk__in=[int(i) for i in group_ids],
        ).only("id")
    ]
    if not ids:
        return
    base = apply_filters(
        Contact.objects.filter(account_id=account_id, group_id__in=ids), filters
    ).order_by("id")
    last = 0
    # ``fields`` (a subset of AUDIENCE_KEYS) fetches less: a campaign whose text
    # has no substitutions needs only the phone and its numbering-plan data.
    keys = (
        AUDIENCE_KEYS
        if fields is None
        else ("contact_id",)
        + tuple(k for k in AUDIENCE_KEYS if k in set(fields) and k != "contact_id")
    )
    columns = tuple("id" if k == "contact_id" else k for k in keys)
    while True:
        rows = list(base.filter(id__gt=last).values_list(*columns)[:chunk_size])
        if not rows:
            return
        last = rows[-1][0]
        yield [dict(zip(keys, row, strict=True)) for row in rows]
        if len(rows) < chunk_size:
            return


def audience_count(
    *, account_id: int, group_ids: Iterable[int], filters: dict | None = None
) -> int:
    """How many contact rows ``audience_iter`` would yield (before the engine
    de-duplicates phones)."""
    ids = [int(i) for i in group_ids]
    if not ids:
        return 0
    if not filters:
        return sum(
            Group.objects.filter(
                account_id=account_id, deleted_at__isnull=True, pk__in=ids
            ).values_list("size", flat=True)
        )
    qs = Contact.objects.filter(
        account_id=account_id, group_id__in=ids, group__deleted_at__isnull=True
    )
    return apply_filters(qs, filters).count()


def _empty_q(spec: str) -> Q:
    """Contacts whose field ``spec`` (a column, or ``extra:<key>`` for a custom
    field) is empty."""
    if spec.startswith("extra:"):
        key = spec[len("extra:") :]
        return (
            ~Q(extra__has_key=key)
            | Q(**{f"extra__{key}": ""})
            | Q(**{f"extra__{key}__isnull": True})
        )
    if spec in ("birth_date",):
        return Q(**{f"{spec}__isnull": True})
    return Q(**{spec: ""}) | Q(**{f"{spec}__isnull": True})


def audience_missing(
    *,
    account_id: int,
    group_ids: Iterable[int],
    filters: dict | None = None,
    fields: dict[str, Iterable[str]],
) -> dict[str, int]:
    """How many contact rows of the audience (as ``audience_count`` counts
    them) lack each entry of ``fields`` (label → field specs; a row lacks it
    when every field is empty).  One aggregate query."""
    ids = [int(i) for i in group_ids]
    if not ids or not fields:
        return {label: 0 for label in fields}
    qs = apply_filters(
        Contact.objects.filter(
            account_id=account_id, group_id__in=ids, group__deleted_at__isnull=True
        ),
        filters,
    )
    aggregates = {}
    for n, specs in enumerate(fields.values()):
        cond = Q()
        for spec in specs:
            cond &= _empty_q(spec)
        aggregates[f"m{n}"] = Count("id", filter=cond)
    counts = qs.aggregate(**aggregates)
    return {label: counts[f"m{n}"] for n, label in enumerate(fields)}


# --- statistics (C8) ----

AGE_BANDS = ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))


def contact_stats(*, account_id: int, group_ids: Iterable[int] | None = None) -> dict:
    """Distribution of the base by operator, region, gender, age band and
    consent: a handful of indexed GROUP BY queries, never rows."""
    qs = Contact.objects.filter(account_id=account_id, group__deleted_at__isnull=True)
    if group_ids:
        qs = qs.filter(group_id__in=list(group_ids))

    def by(field, limit=None):
        rows = qs.values(field).annotate(n=Count("id")).order_by("-n", field)
        if limit:
            rows = rows[:limit]
        return [(r[field], r["n"]) for r in rows]

    today = timezone.localdate()
    age = []
    for low, high in AGE_BANDS:
        born_after = _years_ago(today, high + 1)
        born_before = _years_ago(today, low)
        age.append(
            ((low, high), Q(birth_date__gt=born_after, birth_date__lte=born_before))
        )
    aggregates = {
        f"age_{i}": Count("id", filter=cond) for i, (_, cond) in enumerate(age)
    }
    aggregates["no_birth_date"] = Count("id", filter=Q(birth_date__isnull=True))
    aggregates["total"] = Count("id")
    totals = qs.aggregate(**aggregates)
    return {
        "total": totals["total"],
        "operator": by("operator", 15),
        "region": by("region", 20),
        "gender": by("gender"),
        "consent": by("consent"),
        "age": [(band, totals[f"age_{i}"]) for i, (band, _) in enumerate(age)],
        "no_birth_date": totals["no_birth_date"],
    }


# --- imports ----


def import_jobs(*, account_id: int, group_id: int | None = None):
    """The account's contact imports, optionally of one group (newest first by
    the caller's ordering)."""
    qs = ImportJob.objects.filter(account_id=account_id)
    if group_id is not None:
        qs = qs.filter(group_id=group_id)
    return qs


def import_job_get(*, account_id: int, job_id) -> ImportJob:
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise ImportJob.DoesNotExist from None
    return ImportJob.objects.select_related("group").get(
        pk=job_id, account_id=account_id
    )


def stop_numbers(*, account_id: int, text: str = "") -> QuerySet[StopNumber]:
    qs = StopNumber.objects.filter(account_id=account_id).order_by("-id")
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        qs = (
            qs.filter(phone__contains=digits)
            if digits
            else qs.filter(comment__icontains=text)
        )
    return qs


def stop_number_get(*, account_id: int, number_id) -> StopNumber:
    """The account's stop-list number or ``StopNumber.DoesNotExist``."""
    return StopNumber.objects.get(account_id=account_id, pk=number_id)


def unsubscribes(*, account_id: int) -> QuerySet[Unsubscribe]:
    return Unsubscribe.objects.filter(account_id=account_id).order_by("-id")


def stoplist_groups(*, account_id: int) -> QuerySet[Group]:
    return groups_live(account_id=account_id).filter(is_stoplist=True)


def undelivered_candidates(
    *, account_id: int, last_n: int, limit: int | None = None
) -> list[str]:
    """Phones (in the account's live groups) whose last ``last_n`` messages were
    all not delivered (C10a), sorted.  The messages belong to the messaging
    app, which answers through ``contacts.history``."""
    phones_in_book = Contact.objects.filter(
        account_id=account_id, group__deleted_at__isnull=True
    ).values("phone")
    result = sorted(
        history.phones_undelivered(
            account_id=account_id, phones=phones_in_book, last_n=last_n
        )
    )
    return result[:limit] if limit else result
