"""Writes to the phonebook.  Keyword-only, account first; each function leaves
``Group.size`` right for the groups it touched."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import phones as ph
from . import selectors
from .models import Contact, CustomField, Group, ImportJob, StopNumber, Unsubscribe
from .signals import contacts_added
from .translit import transliterate

CONTACT_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "phone",
    "birth_date",
    "gender",
    "email",
    "link",
    "consent",
)
DERIVED_FIELDS = ("operator", "country", "region", "timezone")


class ContactError(Exception):
    """A business error with a Russian message (forms show it, the API maps it)."""

    def __init__(
        self, message: str, *, code: str = "invalid", field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def refresh_sizes(group_ids: Iterable[int]) -> None:
    """Recount ``Group.size`` of these groups with one UPDATE."""
    ids = list({int(i) for i in group_ids})
    if not ids:
        return
    counts = (
        Contact.objects.filter(group_id=OuterRef("pk"))
        .order_by()
        .values("group_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    Group.objects.filter(pk__in=ids).update(size=Coalesce(Subquery(counts), Value(0)))


def derived(phone: str) -> dict:
    """Operator, country, region and time zone of an E.164 number (C13)."""
    from .plan import ensure_plan

    ensure_plan()
    info = ph.lookup(phone)
    return {
        "operator": info.operator,
        "country": info.country,
        "region": info.region,
        "timezone": info.timezone,
    }


# --- groups (C1, C9, C10c) ----


def group_create(
    *, account, name: str, is_hidden: bool = False, is_stoplist: bool = False
) -> Group:
    name = (name or "").strip()
    if not name:
        raise ContactError(_("Укажите название группы."), field="name")
    return Group.objects.create(
        account=account, name=name[:200], is_hidden=is_hidden, is_stoplist=is_stoplist
    )


def group_update(
    *, group: Group, name: str, is_hidden: bool, is_stoplist: bool
) -> Group:
    name = (name or "").strip()
    if not name:
        raise ContactError(_("Укажите название группы."), field="name")
    group.name, group.is_hidden, group.is_stoplist = name[:200], is_hidden, is_stoplist
    group.save(update_fields=["name", "is_hidden", "is_stoplist"])
    return group


def groups_delete(*, account_id: int, group_ids: Iterable[int]) -> int:
    """Move groups (with their contacts) to the trash (C9, C10c)."""
    groups = selectors.groups_owned(account_id=account_id, group_ids=group_ids)
    return Group.objects.filter(pk__in=[g.pk for g in groups]).update(
        deleted_at=timezone.now()
    )


def group_restore(*, account_id: int, group_id) -> Group:
    group = Group.objects.get(
        account_id=account_id, pk=int(group_id), deleted_at__isnull=False
    )
    group.deleted_at = None
    group.save(update_fields=["deleted_at"])
    return group


def import_jobs_purge(*, older_than: dt.timedelta) -> int:
    """Drop uploads that were never started (left at the preview step) and
    error reports of old jobs."""
    from pathlib import Path

    cutoff = timezone.now() - older_than
    from django.db.models import Q

    stale = ImportJob.objects.filter(
        Q(status=ImportJob.Status.PREVIEW) | ~Q(errors_path=""), created_at__lt=cutoff
    )
    count = 0
    for job in stale.only("pk", "path", "errors_path", "status"):
        Path(job.path).unlink(missing_ok=True)
        if job.errors_path:
            Path(job.errors_path).unlink(missing_ok=True)
        count += 1
    stale.filter(status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.FAILED, message=_("Загрузка не была запущена.")
    )
    stale.exclude(errors_path="").update(errors_path="")
    return count


def groups_purge(*, older_than: dt.timedelta) -> int:
    """Delete for good the groups in the trash longer than ``older_than``
    (periodic task).  Contacts go first in one statement per group so the
    cascade never loads rows into Python."""
    cutoff = timezone.now() - older_than
    ids = list(Group.objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True))
    for group_id in ids:
        with transaction.atomic():
            Contact.objects.filter(group_id=group_id)._raw_delete("default")
            Group.objects.filter(pk=group_id).delete()
    return len(ids)


# --- contacts (C2, C3) ----


def _clean_extra(account_id: int, extra: dict | None) -> dict:
    if not extra:
        return {}
    keys = {f.key for f in selectors.custom_fields(account_id=account_id)}
    return {
        k: ("" if v is None else str(v))[:500]
        for k, v in extra.items()
        if k in keys and v not in (None, "")
    }


def _normalize(phone) -> str:
    try:
        return ph.normalize_phone(phone)
    except ph.InvalidPhone as exc:
        raise ContactError(exc.reason, code="invalid_phone", field="phone") from exc


def contact_create(
    *, account, group: Group, data: dict, source: str = "manual"
) -> Contact:
    """Add one contact (C3).  ``data`` has CONTACT_FIELDS (+ ``extra``);
    ``source`` says how (``"manual"``, ``"api"``) for ``contacts_added``."""
    phone = _normalize(data.get("phone"))
    values = {k: data.get(k) for k in CONTACT_FIELDS if k != "phone" and k in data}
    values = {
        k: ("" if v is None and k not in ("birth_date",) else v)
        for k, v in values.items()
    }
    values["consent"] = bool(data.get("consent"))
    contact = Contact(
        account=account,
        group=group,
        phone=phone,
        extra=_clean_extra(account.pk, data.get("extra")),
        **values,
        **derived(phone),
    )
    try:
        with transaction.atomic():
            contact.save()
            contacts_added.send(
                sender=Contact,
                account_id=account.pk,
                group_id=group.pk,
                source=source,
                contact_ids=[contact.pk],
            )
    except IntegrityError:
        raise ContactError(
            _("Номер %(phone)s уже есть в этой группе.") % {"phone": phone},
            code="duplicate",
            field="phone",
        ) from None
    refresh_sizes([group.pk])
    return contact


def contact_update(
    *, account, contact: Contact, data: dict, everywhere: bool = False
) -> int:
    """Edit a contact "only in this group" or, with ``everywhere``, in all the
    account's live groups holding the same number (C3).  Returns how many
    contact rows changed."""
    old_phone = contact.phone
    phone = _normalize(data.get("phone", old_phone))
    values = {k: data[k] for k in CONTACT_FIELDS if k in data and k != "phone"}
    for k, v in list(values.items()):
        if v is None and k != "birth_date":
            values[k] = ""
    if "consent" in values:
        values["consent"] = bool(values["consent"])
    if "extra" in data:
        values["extra"] = _clean_extra(account.pk, data.get("extra"))
    values["phone"] = phone
    if phone != old_phone:
        values.update(derived(phone))
    targets = Contact.objects.filter(account_id=account.pk, pk=contact.pk)
    if everywhere:
        targets = Contact.objects.filter(
            account_id=account.pk, phone=old_phone, group__deleted_at__isnull=True
        )
    if phone != old_phone:
        clash = Contact.objects.filter(
            group_id__in=targets.values("group_id"), phone=phone
        ).exists()
        if clash:
            raise ContactError(
                _("Номер %(phone)s уже есть в группе.") % {"phone": phone},
                code="duplicate",
                field="phone",
            )
    with transaction.atomic():
        changed = targets.update(**values)
    return changed


def contacts_delete(*, account_id: int, contact_ids: Iterable[int]) -> int:
    ids = [int(i) for i in contact_ids]
    qs = Contact.objects.filter(account_id=account_id, pk__in=ids)
    groups = set(qs.values_list("group_id", flat=True))
    deleted, _unused = qs.delete()
    refresh_sizes(groups)
    return deleted


def contacts_copy(
    *, account_id: int, contact_ids: Iterable[int], target: Group, move: bool = False
) -> tuple[int, int]:
    """Copy (or move) contacts to another group of the account (C3).  Numbers
    already in the target are skipped.  Returns (copied, skipped)."""
    ids = [int(i) for i in contact_ids]
    source = list(
        Contact.objects.filter(
            account_id=account_id, pk__in=ids, group__deleted_at__isnull=True
        )
    )
    existing = set(
        Contact.objects.filter(
            group_id=target.pk, phone__in=[c.phone for c in source]
        ).values_list("phone", flat=True)
    )
    fresh, seen = [], set(existing)
    for c in source:
        if c.group_id == target.pk or c.phone in seen:
            continue
        seen.add(c.phone)
        fresh.append(c)
    with transaction.atomic():
        Contact.objects.bulk_create(
            [
                Contact(
                    account_id=account_id,
                    group_id=target.pk,
                    **{
                        f: getattr(c, f)
                        for f in CONTACT_FIELDS + DERIVED_FIELDS + ("extra",)
                    },
                )
                for c in fresh
            ],
            batch_size=2000,
        )
        if fresh:
            contacts_added.send(
                sender=Contact,
                account_id=account_id,
                group_id=target.pk,
                source="copy",
                phones=[c.phone for c in fresh],
            )
        touched = {target.pk}
        if move:
            moved = [c for c in source if c.group_id != target.pk]
            touched |= {c.group_id for c in moved}
            Contact.objects.filter(pk__in=[c.pk for c in moved]).delete()
        refresh_sizes(touched)
    return len(fresh), len(source) - len(fresh)


def _insert_phones(
    *, account_id: int, group: Group, phones: list[str], source: str
) -> int:
    existing = (
        set(
            Contact.objects.filter(group_id=group.pk, phone__in=phones).values_list(
                "phone", flat=True
            )
        )
        if len(phones) < 5000
        else set(
            Contact.objects.filter(group_id=group.pk).values_list("phone", flat=True)
        )
    )
    fresh = [p for p in dict.fromkeys(phones) if p not in existing]
    Contact.objects.bulk_create(
        [
            Contact(account_id=account_id, group_id=group.pk, phone=p, **derived(p))
            for p in fresh
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    if fresh:
        contacts_added.send(
            sender=Contact,
            account_id=account_id,
            group_id=group.pk,
            source=source,
            phones=fresh,
        )
    return len(fresh)


def group_add_phones(
    *,
    account_id: int,
    phones: Iterable[str],
    group_id: int | None = None,
    new_group_name: str = "",
    remove_from_other_groups: bool = False,
) -> Group:
    """Add E.164 numbers to an existing live group of the account or to a new
    group named ``new_group_name`` (reports' "export recipients to a group",
    R6), skipping numbers already there.  With ``remove_from_other_groups`` the
    numbers are removed from the account's other groups."""
    phones = [p for p in dict.fromkeys(phones) if p]
    with transaction.atomic():
        if group_id is not None:
            group = selectors.group_get(account_id=account_id, group_id=group_id)
        else:
            name = (new_group_name or "").strip()
            if not name:
                raise ContactError(_("Укажите название группы."), field="name")
            group = Group.objects.create(account_id=account_id, name=name[:200])
        _insert_phones(
            account_id=account_id, group=group, phones=phones, source="report"
        )
        touched = {group.pk}
        if remove_from_other_groups and phones:
            # By group ids: the unique (group, phone) index finds the rows.
            group_ids = list(
                Group.objects.filter(account_id=account_id)
                .exclude(pk=group.pk)
                .values_list("pk", flat=True)
            )
            others = Contact.objects.filter(
                account_id=account_id, group_id__in=group_ids, phone__in=phones
            )
            touched |= set(others.values_list("group_id", flat=True))
            others.delete()
        refresh_sizes(touched)
    group.refresh_from_db(fields=["size"])
    return group


@dataclass
class QuickAddResult:
    added: int = 0
    already: int = 0
    rejected: list[str] = field(default_factory=list)


def contacts_quick_add(*, account_id: int, group: Group, text: str) -> QuickAddResult:
    """Extract every phone from free text (C4), add the new ones to the group."""
    found, rejected = ph.extract_phones(text or "")
    result = QuickAddResult(rejected=list(rejected))
    if not found:
        return result
    with transaction.atomic():
        result.added = _insert_phones(
            account_id=account_id, group=group, phones=found, source="quick"
        )
        refresh_sizes([group.pk])
    result.already = len(found) - result.added
    return result


# --- stop-list (C12) ----------------------------------------------------------------


def stop_numbers_add(
    *, account_id: int, text: str, comment: str = ""
) -> tuple[int, list[str]]:
    found, rejected = ph.extract_phones(text or "")
    objs = [
        StopNumber(account_id=account_id, phone=p, comment=comment[:200]) for p in found
    ]
    before = StopNumber.objects.filter(account_id=account_id, phone__in=found).count()
    StopNumber.objects.bulk_create(objs, ignore_conflicts=True)
    return len(found) - before, list(rejected)


def stop_numbers_remove(*, account_id: int, ids: Iterable[int]) -> int:
    return StopNumber.objects.filter(
        account_id=account_id, pk__in=[int(i) for i in ids]
    ).delete()[0]


def unsubscribe_add(*, account_id: int, phone: str, channel: str, sender: str) -> None:
    """Record that ``phone`` unsubscribed from ``sender`` on ``channel``."""
    Unsubscribe.objects.get_or_create(
        account_id=account_id, phone=phone, channel=channel, sender=sender
    )


def unsubscribes_remove(*, account_id: int, ids: Iterable[int]) -> int:
    return Unsubscribe.objects.filter(
        account_id=account_id, pk__in=[int(i) for i in ids]
    ).delete()[0]


# --- custom fields (C11) ----


def _translit(text: str) -> str:
    """A custom field's name as the Latin base of its substitution key (the same
    transliteration as SMS texts)."""
    return transliterate(text).lower().replace(" ", "_")


BUILTIN_KEYS = {
    "name",
    "firstname",
    "lastname",
    "middlename",
    "phone",
    "email",
    "link",
    "birthday",
    "birth_date",
    "gender",
    "operator",
    "region",
    "couponcode",
    "first_name",
    "last_name",
    "middle_name",
    "promo",
}


def custom_field_create(
    *, account, name: str, key: str = "", kind: str = CustomField.Kind.TEXT
) -> CustomField:
    name = (name or "").strip()
    if not name:
        raise ContactError(_("Укажите название поля."), field="name")
    key = slugify(_translit((key or "").strip() or name)).replace("-", "_")
    if not key or not key[0].isalpha():
        raise ContactError(
            _("Команда подстановки: латинские буквы, цифры и «_», начиная с буквы."),
            field="key",
        )
    if key.lower() in BUILTIN_KEYS:
        raise ContactError(
            _("Команда «%(key)s» занята встроенным полем.") % {"key": key}, field="key"
        )
    if CustomField.objects.filter(account=account, key=key).exists():
        raise ContactError(
            _("Поле с командой «%(key)s» уже есть.") % {"key": key}, field="key"
        )
    position = CustomField.objects.filter(account=account).count()
    return CustomField.objects.create(
        account=account, name=name[:100], key=key[:40], kind=kind, position=position
    )


def custom_field_update(*, field_obj: CustomField, name: str) -> CustomField:
    name = (name or "").strip()
    if not name:
        raise ContactError(_("Укажите название поля."), field="name")
    field_obj.name = name[:100]
    field_obj.save(update_fields=["name"])
    return field_obj


def custom_field_delete(*, field_obj: CustomField) -> None:
    """Remove the field definition; values stay in ``extra`` but are no longer
    shown (re-creating the field with the same key brings them back)."""
    field_obj.delete()


# --- cleanup (C10) ----


def cleanup_undelivered(
    *, account, last_n: int, action: str, target_group_id: int | None = None
) -> int:
    """Contacts whose last ``last_n`` messages were not delivered (C10a):
    ``trash`` (delete from groups), ``move`` to a group, or ``stoplist``.
    Returns the number of phones acted on."""
    phones = selectors.undelivered_candidates(account_id=account.pk, last_n=last_n)
    if not phones:
        return 0
    with transaction.atomic():
        if action == "stoplist":
            StopNumber.objects.bulk_create(
                [
                    StopNumber(account=account, phone=p, comment=_("Очистка базы"))
                    for p in phones
                ],
                ignore_conflicts=True,
            )
        elif action == "move":
            group_add_phones(
                account_id=account.pk,
                phones=phones,
                group_id=target_group_id,
                remove_from_other_groups=True,
            )
        elif action == "trash":
            qs = Contact.objects.filter(
                account_id=account.pk, phone__in=phones, group__deleted_at__isnull=True
            )
            touched = set(qs.values_list("group_id", flat=True))
            qs.delete()
            refresh_sizes(touched)
        else:
            raise ContactError(_("Неизвестное действие."), field="action")
    return len(phones)


def cleanup_duplicates(
    *, account_id: int, fields: Iterable[str], group_ids: Iterable[int] | None = None
) -> int:
    """Among the account's live groups (or the chosen ones) keep one contact
    (the oldest) per equal value of ``fields`` (phone and/or other fields,
    C10b); delete the others.  Returns how many were removed."""
    allowed = {"phone", "last_name", "first_name", "middle_name", "email", "birth_date"}
    keys = [f for f in fields if f in allowed] or ["phone"]
    qs = Contact.objects.filter(account_id=account_id, group__deleted_at__isnull=True)
    if group_ids:
        qs = qs.filter(group_id__in=[int(i) for i in group_ids])
    from django.db.models import Min

    dup_groups = (
        qs.values(*keys).annotate(keep=Min("id"), n=Count("id")).filter(n__gt=1)
    )
    keep_ids = [row["keep"] for row in dup_groups]
    if not keep_ids:
        return 0
    doomed = qs.filter(**{f"{keys[0]}__in": [row[keys[0]] for row in dup_groups]})
    victims = []
    wanted = {tuple(row[k] for k in keys) for row in dup_groups}
    keep = set(keep_ids)
    for row in doomed.values_list("id", "group_id", *keys).iterator(chunk_size=5000):
        if row[0] not in keep and tuple(row[2:]) in wanted:
            victims.append((row[0], row[1]))
    with transaction.atomic():
        for start in range(0, len(victims), 5000):
            Contact.objects.filter(
                pk__in=[v[0] for v in victims[start : start + 5000]]
            ).delete()
        refresh_sizes({v[1] for v in victims})
    return len(victims)


def contacts_add_bulk_counts(*, group_id: int, created: int) -> None:
    Group.objects.filter(pk=group_id).update(size=F("size") + created)


# --- import (C5) ----


def _import_dir(account_id: int):
    from pathlib import Path

    from django.conf import settings

    path = Path(settings.MEDIA_ROOT) / "imports" / str(account_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_job_create(
    *, account, group: Group, upload, created_by=None, filename: str = ""
) -> ImportJob:
    """Store an uploaded file, check it (size, type, password, zip bomb,
    readability) and create a job in the preview state with an automatic
    column mapping.  Raises ``importer.ImportFileError``; nothing is kept
    for a rejected file."""
    import uuid

    from django.conf import settings

    from . import importer

    filename = (filename or getattr(upload, "name", "") or "file")[-255:]
    size = getattr(upload, "size", None)
    if size is not None and size > settings.UPLOAD_MAX_BYTES:
        raise importer.ImportFileError(importer._too_big(settings.UPLOAD_MAX_BYTES))
    path = _import_dir(account.pk) / f"{uuid.uuid4().hex}.upload"
    written = 0
    try:
        with open(path, "wb") as out:
            chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
            for chunk in chunks:
                written += len(chunk)
                if written > settings.UPLOAD_MAX_BYTES:
                    raise importer.ImportFileError(
                        importer._too_big(settings.UPLOAD_MAX_BYTES)
                    )
                out.write(chunk)
        kind = importer.sniff(path, filename)
        rows, height = importer.read_preview(path, kind)
    except importer.ImportFileError:
        path.unlink(missing_ok=True)
        raise
    custom = {f.key: f.name for f in selectors.custom_fields(account_id=account.pk)}
    mapping, has_header = importer.guess_mapping(rows, custom)
    return ImportJob.objects.create(
        account=account,
        group=group,
        created_by=created_by,
        filename=filename,
        path=str(path),
        kind=kind,
        mapping={str(k): v for k, v in mapping.items()},
        has_header=has_header,
        preview=rows,
        total=max(0, height - (1 if has_header else 0)),
    )


def import_job_preview(*, job: ImportJob) -> list[list[str]]:
    from . import importer

    if job.preview:
        return job.preview
    rows, _height = importer.read_preview(job.path, job.kind)
    return rows


def import_job_start(
    *,
    job: ImportJob,
    mapping=None,
    policy: str | None = None,
    has_header: bool | None = None,
) -> ImportJob:
    """Confirm the mapping and queue the job (a double submit is a no-op)."""
    from . import importer, tasks

    if job.status != ImportJob.Status.PREVIEW:
        return job
    if has_header is not None:
        job.has_header = has_header
    if mapping is not None:
        rows = import_job_preview(job=job)
        header = rows[0] if job.has_header and rows else []
        keys = {f.key for f in selectors.custom_fields(account_id=job.account_id)}
        clean = importer.normalize_mapping(mapping, header, keys)
        job.mapping = {str(k): v for k, v in clean.items()}
    elif "phone" not in job.mapping.values():
        raise importer.ImportFileError(_("Выберите колонку с номером телефона."))
    if policy:
        if policy not in ImportJob.Policy.values:
            raise importer.ImportFileError(_("Неизвестная политика дубликатов."))
        job.policy = policy
    with transaction.atomic():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.PREVIEW
        ).update(
            status=ImportJob.Status.QUEUED,
            mapping=job.mapping,
            policy=job.policy,
            has_header=job.has_header,
        )
        if claimed:
            transaction.on_commit(lambda: tasks.contacts_import.delay(job.pk))
    job.refresh_from_db()
    return job


def import_job_discard(*, job: ImportJob, message: str) -> None:
    """Mark a job that will never run as failed and drop its file."""
    from pathlib import Path

    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEW).update(
        status=ImportJob.Status.FAILED,
        message=message.replace("\x00", "")[:500],
        finished_at=timezone.now(),
    )
    Path(job.path).unlink(missing_ok=True)


def import_progress_key(job_id: int) -> str:
    return f"contacts:import:{job_id}:processed"


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued import (the task).  Claims the job atomically, so a
    repeated task does nothing."""
    from pathlib import Path

    from django.core.cache import cache

    from . import importer

    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    ):
        return None
    job = ImportJob.objects.get(pk=job_id)
    key = import_progress_key(job_id)

    def progress(done: int) -> None:
        cache.set(key, done, 3600)

    try:
        if job.group.deleted_at is not None:
            raise importer.ImportFileError(_("Группа удалена."))
        stats = importer.run(job, progress=progress)
    except importer.ImportFileError as exc:
        job.status = ImportJob.Status.FAILED
        job.message = exc.message.replace("\x00", "")[:500]
        job.processed = 0
    except Exception:
        import logging

        logging.getLogger(__name__).exception("contacts import %s failed", job_id)
        job.status = ImportJob.Status.FAILED
        job.message = _(
            "Не удалось загрузить файл: внутренняя ошибка. Контакты не изменены."
        )
    else:
        job.status = ImportJob.Status.DONE
        job.total, job.processed = stats.total, stats.total
        job.created, job.updated = stats.created, stats.updated
        job.duplicates, job.invalid = stats.duplicates, stats.invalid
        job.errors = stats.errors
        report = Path(job.path).with_name(f"errors-{job.pk}.csv")
        job.errors_path = str(report) if stats.invalid and report.exists() else ""
    job.finished_at = timezone.now()
    job.save()
    cache.delete(key)
    Path(job.path).unlink(missing_ok=True)
    return job


def import_job_processed(job: ImportJob) -> int:
    from django.core.cache import cache

    if job.status == ImportJob.Status.RUNNING:
        return int(cache.get(import_progress_key(job.pk)) or 0)
    return job.processed
