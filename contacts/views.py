"""Pages of the phonebook (manual section 1).  Thin: a form, one service or
selector call, render or redirect.  Foreign or deleted ids are 404s."""

from __future__ import annotations

import json
from urllib.parse import quote

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cabinet.permissions import CONTACTS, cabinet_view

from . import exporter, importer, selectors, services
from .forms import (
    CleanupDuplicatesForm,
    CleanupUndeliveredForm,
    ContactFilterForm,
    ContactForm,
    CustomFieldForm,
    ExportForm,
    GroupForm,
    GroupsChoiceForm,
    ImportMappingForm,
    ImportUploadForm,
    QuickAddForm,
    StopNumbersForm,
)
from .models import Contact, CustomField, Group, ImportJob

PAGE_SIZE = 50
# A filtered group page counts at most this many matches (COUNT over a
# LIMITed subquery), so a filter on a million-contact group stays fast.
COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    @cached_property
    def count(self):
        # No ORDER BY: the scan stops at the cap instead of sorting every match.
        return self.object_list.order_by()[: COUNT_CAP + 1].count()


def _group(request, group_id) -> Group:
    try:
        return selectors.group_get(account_id=request.account.pk, group_id=group_id)
    except Group.DoesNotExist:
        raise Http404 from None


def _contact(request, contact_id) -> Contact:
    try:
        return selectors.contact_get(
            account_id=request.account.pk, contact_id=contact_id
        )
    except Contact.DoesNotExist:
        raise Http404 from None


def _job(request, job_id) -> ImportJob:
    try:
        return selectors.import_job_get(account_id=request.account.pk, job_id=job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def _partial(request, template: str, name: str) -> str:
    if request.htmx and not request.htmx.boosted:
        return f"{template}#{name}"
    return template


def _ids(request) -> list[int]:
    out = []
    for value in request.POST.getlist("ids"):
        try:
            out.append(int(value))
        except ValueError:
            continue
    return out


# --- groups (C1) ----


@cabinet_view(CONTACTS)
def group_list(request):
    show_hidden = request.GET.get("hidden") == "1"
    groups = selectors.group_list(
        account_id=request.account.pk, show_hidden=show_hidden
    )
    return render(
        request,
        "contacts/group_list.html",
        {"groups": groups, "show_hidden": show_hidden, "form": GroupForm()},
    )


@cabinet_view(CONTACTS)
def group_create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        group = services.group_create(
            account=request.account,
            name=d["name"],
            is_hidden=d["is_hidden"],
            is_stoplist=d["is_stoplist"],
        )
        flash.success(request, _("Группа «%(name)s» создана.") % {"name": group.name})
        return redirect("contacts:group_detail", group.pk)
    return render(request, "contacts/group_form.html", {"form": form})


@cabinet_view(CONTACTS)
def group_edit(request, group_id):
    group = _group(request, group_id)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services.group_update(
            group=group,
            name=d["name"],
            is_hidden=d["is_hidden"],
            is_stoplist=d["is_stoplist"],
        )
        flash.success(request, _("Группа сохранена."))
        return redirect("contacts:group_detail", group.pk)
    return render(request, "contacts/group_form.html", {"form": form, "group": group})


@require_POST
@cabinet_view(CONTACTS)
def group_delete(request, group_id):
    group = _group(request, group_id)
    services.groups_delete(account_id=request.account.pk, group_ids=[group.pk])
    flash.success(
        request, _("Группа «%(name)s» перемещена в корзину.") % {"name": group.name}
    )
    return redirect("contacts:group_list")


@cabinet_view(CONTACTS)
def group_detail(request, group_id):
    group = _group(request, group_id)
    fields = selectors.custom_fields(account_id=request.account.pk)
    filter_form = ContactFilterForm(request.GET or None, custom_fields=fields)
    filters = filter_form.filters() if request.GET else {}
    qs = selectors.group_contacts(
        account_id=request.account.pk, group=group, filters=filters
    )
    paginator = CappedPaginator(qs, PAGE_SIZE)
    if not filters:
        # The count is kept on the group: never COUNT(*) a big group.
        paginator.count = group.size
    page = paginator.get_page(request.GET.get("page"))
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    other_groups = selectors.group_list(
        account_id=request.account.pk, show_hidden=True
    ).exclude(pk=group.pk)
    return render(
        request,
        _partial(request, "contacts/group_detail.html", "rows"),
        {
            "group": group,
            "page": page,
            "filter_form": filter_form,
            "filters": filters,
            "fields": fields,
            "query": query,
            "other_groups": other_groups,
            "filtered_count": paginator.count,
            "count_capped": bool(filters) and paginator.count > COUNT_CAP,
            "filters_json": json.dumps(filters, default=str),
        },
    )


@require_POST
@cabinet_view(CONTACTS)
def contacts_bulk(request, group_id):
    """Copy / move / delete the selected contacts (C3)."""
    group = _group(request, group_id)
    ids = _ids(request)
    action = request.POST.get("action")
    back = redirect(
        request.POST.get("next") or reverse("contacts:group_detail", args=[group.pk])
    )
    if not ids:
        flash.error(request, _("Отметьте контакты."))
        return back
    if action == "delete":
        n = services.contacts_delete(account_id=request.account.pk, contact_ids=ids)
        flash.success(request, _("Удалено контактов: %(n)s.") % {"n": n})
        return back
    if action in ("copy", "move"):
        try:
            target = selectors.group_get(
                account_id=request.account.pk, group_id=request.POST.get("target")
            )
        except Group.DoesNotExist:
            flash.error(request, _("Выберите группу."))
            return back
        copied, skipped = services.contacts_copy(
            account_id=request.account.pk,
            contact_ids=ids,
            target=target,
            move=action == "move",
        )
        msg = (
            _("Перенесено в «%(g)s»: %(n)s.")
            if action == "move"
            else _("Скопировано в «%(g)s»: %(n)s.")
        ) % {"g": target.name, "n": copied}
        if skipped:
            msg += " " + _("Уже были в группе: %(n)s.") % {"n": skipped}
        flash.success(request, msg)
        return back
    flash.error(request, _("Неизвестное действие."))
    return back


# --- contacts (C2, C3) ----


@cabinet_view(CONTACTS)
def contact_add(request, group_id):
    group = _group(request, group_id)
    fields = selectors.custom_fields(account_id=request.account.pk)
    form = ContactForm(request.POST or None, custom_fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                account=request.account, group=group, data=form.service_data()
            )
        except services.ContactError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # The form stays open for the next entry (manual 1.1).
            flash.success(
                request, _("Контакт %(phone)s добавлен.") % {"phone": contact.phone}
            )
            return redirect("contacts:contact_add", group.pk)
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "group": group, "adding": True},
    )


@cabinet_view(CONTACTS)
def contact_edit(request, contact_id):
    contact = _contact(request, contact_id)
    fields = selectors.custom_fields(account_id=request.account.pk)
    form = ContactForm(
        request.POST or None,
        custom_fields=fields,
        with_scope=True,
        initial=ContactForm.initial_from(contact),
    )
    if request.method == "POST" and form.is_valid():
        try:
            n = services.contact_update(
                account=request.account,
                contact=contact,
                data=form.service_data(),
                everywhere=form.cleaned_data["scope"] == "all",
            )
        except services.ContactError as exc:
            form.add_error(exc.field, exc.message)
        else:
            flash.success(
                request, _("Сохранено (контактов изменено: %(n)s).") % {"n": n}
            )
            return redirect("contacts:group_detail", contact.group_id)
    return render(
        request,
        "contacts/contact_form.html",
        {"form": form, "group": contact.group, "contact": contact},
    )


@require_POST
@cabinet_view(CONTACTS)
def contact_delete(request, contact_id):
    contact = _contact(request, contact_id)
    services.contacts_delete(account_id=request.account.pk, contact_ids=[contact.pk])
    flash.success(request, _("Контакт %(phone)s удалён.") % {"phone": contact.phone})
    return redirect("contacts:group_detail", contact.group_id)


def _vcard_escape(text: str) -> str:
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\n", "\\n")
    )


@cabinet_view(CONTACTS)
def contact_download(request, contact_id):
    """The contact as a vCard (the manual's «скачать»)."""
    c = _contact(request, contact_id)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:"
        + ";".join(
            _vcard_escape(x) for x in (c.last_name, c.first_name, c.middle_name, "", "")
        ),
        "FN:"
        + _vcard_escape(
            " ".join(x for x in (c.first_name, c.middle_name, c.last_name) if x)
            or c.phone
        ),
        f"TEL;TYPE=CELL:{c.phone}",
    ]
    if c.email:
        lines.append("EMAIL:" + _vcard_escape(c.email))
    if c.birth_date:
        lines.append("BDAY:" + c.birth_date.isoformat())
    if c.link:
        lines.append("URL:" + _vcard_escape(c.link))
    lines.append("END:VCARD")
    response = HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/vcard")
    response["Content-Disposition"] = f'attachment; filename="{c.phone[1:]}.vcf"'
    return response


@cabinet_view(CONTACTS)
def quick_add(request, group_id):
    """C4: every phone number in pasted text or a .txt file."""
    group = _group(request, group_id)
    form = QuickAddForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.contacts_quick_add(
            account_id=request.account.pk,
            group=group,
            text=form.cleaned_data["all_text"],
        )
        group.refresh_from_db()
    return render(
        request,
        "contacts/quick_add.html",
        {"form": form, "group": group, "result": result},
    )


# --- import (C5) ----


@cabinet_view(CONTACTS)
def import_upload(request, group_id):
    group = _group(request, group_id)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                account=request.account,
                group=group,
                upload=form.cleaned_data["file"],
                created_by=request.user,
            )
        except importer.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("contacts:import_detail", job.pk)
    jobs = ImportJob.objects.filter(account=request.account, group=group)[:10]
    return render(
        request,
        "contacts/import_upload.html",
        {"form": form, "group": group, "jobs": jobs},
    )


@cabinet_view(CONTACTS)
def import_detail(request, job_id):
    """Preview + mapping (while in preview), then the live progress/result."""
    job = _job(request, job_id)
    fields = selectors.custom_fields(account_id=request.account.pk)
    rows, form = [], None
    if job.status == ImportJob.Status.PREVIEW:
        try:
            rows = services.import_job_preview(job=job)
        except importer.ImportFileError as exc:
            flash.error(request, exc.message)
            return redirect("contacts:import_upload", job.group_id)
        columns = max((len(r) for r in rows), default=0)
        form = ImportMappingForm(
            request.POST or None, job=job, columns=columns, custom_fields=fields
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.import_job_start(
                    job=job,
                    mapping=form.mapping(),
                    policy=form.cleaned_data["policy"],
                    has_header=form.cleaned_data["has_header"],
                )
            except importer.ImportFileError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("contacts:import_detail", job.pk)
    elif request.method == "POST":
        return redirect("contacts:import_detail", job.pk)  # double submit
    job.live_processed = services.import_job_processed(job)
    return render(
        request,
        _partial(request, "contacts/import_detail.html", "progress"),
        {"job": job, "rows": rows, "form": form},
    )


@cabinet_view(CONTACTS)
def import_errors(request, job_id):
    job = _job(request, job_id)
    if not job.errors_path:
        raise Http404
    try:
        handle = open(job.errors_path, "rb")
    except OSError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"errors-{job.pk}.csv",
        content_type="text/csv",
    )


# --- search, statistics (C7, C8) ----


@cabinet_view(CONTACTS)
def search(request):
    text = (request.GET.get("q") or "").strip()[:100]
    page = None
    if text:
        # No COUNT over a million rows: one row more than shown tells
        # whether there is a next page.
        page = selectors.contacts_search_page(
            account_id=request.account.pk,
            text=text,
            page=_int(request.GET.get("page"), 1),
            per_page=PAGE_SIZE,
        )
    return render(
        request,
        _partial(request, "contacts/search.html", "results"),
        {"q": text, "page": page},
    )


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@cabinet_view(CONTACTS)
def stats(request):
    groups = selectors.group_list(account_id=request.account.pk, show_hidden=True)
    chosen = [g for g in groups if str(g.pk) in request.GET.getlist("group")]
    data = selectors.contact_stats(
        account_id=request.account.pk, group_ids=[g.pk for g in chosen] or None
    )
    gender_labels = {"m": _("Мужской"), "f": _("Женский"), "": _("не указан")}
    charts = {
        "operator": {
            "labels": [o or _("не определён") for o, _n in data["operator"]],
            "values": [n for _o, n in data["operator"]],
        },
        "region": {
            "labels": [r or _("не определён") for r, _n in data["region"]],
            "values": [n for _r, n in data["region"]],
        },
        "gender": {
            "labels": [gender_labels.get(g, g) for g, _n in data["gender"]],
            "values": [n for _g, n in data["gender"]],
        },
        "age": {
            "labels": [
                f"{lo}–{hi}" if hi < 200 else f"{lo}+" for (lo, hi), _n in data["age"]
            ]
            + [_("не указан")],
            "values": [n for _b, n in data["age"]] + [data["no_birth_date"]],
        },
        "consent": {
            "labels": [_("есть") if c else _("нет") for c, _n in data["consent"]],
            "values": [n for _c, n in data["consent"]],
        },
    }
    return render(
        request,
        "contacts/stats.html",
        {
            "groups": groups,
            "chosen": [g.pk for g in chosen],
            "data": data,
            "charts": charts,
        },
    )


# --- trash, cleanup (C9, C10) ----


@cabinet_view(CONTACTS)
def trash(request):
    from django.conf import settings

    return render(
        request,
        "contacts/trash.html",
        {
            "groups": selectors.trash_list(account_id=request.account.pk),
            "retention_days": getattr(settings, "CONTACTS_TRASH_RETENTION_DAYS", 30),
        },
    )


@require_POST
@cabinet_view(CONTACTS)
def group_restore(request, group_id):
    try:
        group = services.group_restore(account_id=request.account.pk, group_id=group_id)
    except (Group.DoesNotExist, ValueError):
        raise Http404 from None
    flash.success(request, _("Группа «%(name)s» восстановлена.") % {"name": group.name})
    return redirect("contacts:trash")


@cabinet_view(CONTACTS)
def cleanup(request):
    aid = request.account.pk
    undelivered = CleanupUndeliveredForm(
        request.POST if request.POST.get("form") == "undelivered" else None,
        account_id=aid,
    )
    duplicates = CleanupDuplicatesForm(
        request.POST if request.POST.get("form") == "duplicates" else None,
        account_id=aid,
        prefix="dup",
    )
    several = GroupsChoiceForm(
        request.POST if request.POST.get("form") == "groups" else None,
        account_id=aid,
        prefix="del",
    )
    preview = None
    if request.method == "POST":
        kind = request.POST.get("form")
        if kind == "undelivered" and undelivered.is_valid():
            d = undelivered.cleaned_data
            if request.POST.get("confirm") != "1":
                preview = selectors.undelivered_candidates(
                    account_id=aid, last_n=d["last_n"]
                )
            else:
                n = services.cleanup_undelivered(
                    account=request.account,
                    last_n=d["last_n"],
                    action=d["action"],
                    target_group_id=d["target"].pk if d.get("target") else None,
                )
                flash.success(request, _("Обработано номеров: %(n)s.") % {"n": n})
                return redirect("contacts:cleanup")
        elif kind == "duplicates" and duplicates.is_valid():
            d = duplicates.cleaned_data
            n = services.cleanup_duplicates(
                account_id=aid,
                fields=d["fields_"],
                group_ids=[g.pk for g in d["groups"]],
            )
            flash.success(
                request, _("Удалено повторяющихся контактов: %(n)s.") % {"n": n}
            )
            return redirect("contacts:cleanup")
        elif kind == "groups" and several.is_valid():
            n = services.groups_delete(
                account_id=aid, group_ids=[g.pk for g in several.cleaned_data["groups"]]
            )
            flash.success(request, _("Групп перемещено в корзину: %(n)s.") % {"n": n})
            return redirect("contacts:cleanup")
    return render(
        request,
        "contacts/cleanup.html",
        {
            "undelivered": undelivered,
            "duplicates": duplicates,
            "several": several,
            "preview": preview,
        },
    )


# --- stop-list (C12) ----


@cabinet_view(CONTACTS)
def stoplist(request):
    aid = request.account.pk
    form = StopNumbersForm(request.POST if request.POST.get("form") == "add" else None)
    if request.method == "POST":
        kind = request.POST.get("form")
        if kind == "add" and form.is_valid():
            added, rejected = services.stop_numbers_add(
                account_id=aid,
                text=form.cleaned_data["text"],
                comment=form.cleaned_data["comment"],
            )
            if added:
                flash.success(
                    request, _("Добавлено в стоп-лист: %(n)s.") % {"n": added}
                )
            if rejected:
                flash.warning(
                    request,
                    _("Не распознаны: %(list)s") % {"list": ", ".join(rejected[:20])},
                )
            if not added and not rejected:
                flash.warning(request, _("Эти номера уже в стоп-листе."))
            return redirect("contacts:stoplist")
        if kind == "remove":
            n = services.stop_numbers_remove(account_id=aid, ids=_ids(request))
            flash.success(request, _("Удалено из стоп-листа: %(n)s.") % {"n": n})
            return redirect("contacts:stoplist")
        if kind == "unsubscribes":
            n = services.unsubscribes_remove(account_id=aid, ids=_ids(request))
            flash.success(request, _("Удалено отписок: %(n)s.") % {"n": n})
            return redirect("contacts:stoplist")
    q = (request.GET.get("q") or "").strip()[:50]
    numbers = Paginator(
        selectors.stop_numbers(account_id=aid, text=q), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/stoplist.html",
        {
            "form": form,
            "numbers": numbers,
            "q": q,
            "groups": selectors.stoplist_groups(account_id=aid),
            "unsubscribes": selectors.unsubscribes(account_id=aid)[:200],
        },
    )


# --- export (C14) ----


@cabinet_view(CONTACTS)
def export(request):
    form = ExportForm(request.GET or None, account_id=request.account.pk)
    if request.GET and form.is_valid():
        return export_response(
            request.account.pk,
            list(form.cleaned_data["groups"]),
            form.cleaned_data["format"] or "xlsx",
        )
    return render(request, "contacts/export.html", {"form": form})


def export_response(
    account_id: int, groups: list[Group], fmt: str, filters: dict | None = None
) -> StreamingHttpResponse:
    fields = selectors.custom_fields(account_id=account_id)
    if fmt == "csv":
        stream = exporter.csv_stream(
            account_id=account_id, groups=groups, fields=fields, filters=filters
        )
        content_type = "text/csv; charset=utf-8"
    else:
        fmt = "xlsx"
        stream = exporter.xlsx_stream(
            account_id=account_id, groups=groups, fields=fields, filters=filters
        )
        content_type = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response = StreamingHttpResponse(stream, content_type=content_type)
    name = exporter.filename(groups, fmt)
    response["Content-Disposition"] = (
        f"attachment; filename=\"contacts.{fmt}\"; filename*=UTF-8''{quote(name)}"
    )
    return response


@cabinet_view(CONTACTS)
def group_export(request, group_id):
    """Download one group (with the current filter)."""
    group = _group(request, group_id)
    fields = selectors.custom_fields(account_id=request.account.pk)
    filters = (
        ContactFilterForm(request.GET or None, custom_fields=fields).filters()
        if request.GET
        else {}
    )
    return export_response(
        request.account.pk, [group], request.GET.get("format", "xlsx"), filters
    )


# --- custom fields (C11, manual 1.9) ----


@cabinet_view(CONTACTS)
def fields(request):
    form = CustomFieldForm(request.POST if request.POST.get("form") == "add" else None)
    if request.method == "POST":
        kind = request.POST.get("form")
        if kind == "add" and form.is_valid():
            d = form.cleaned_data
            try:
                services.custom_field_create(
                    account=request.account,
                    name=d["name"],
                    key=d["key"],
                    kind=d["kind"],
                )
            except services.ContactError as exc:
                form.add_error(exc.field, exc.message)
            else:
                flash.success(request, _("Поле добавлено."))
                return redirect("contacts:fields")
        elif kind in ("rename", "delete"):
            try:
                obj = CustomField.objects.get(
                    account=request.account, pk=_int(request.POST.get("id"), 0)
                )
            except CustomField.DoesNotExist:
                raise Http404 from None
            if kind == "delete":
                services.custom_field_delete(field_obj=obj)
                flash.success(request, _("Поле «%(n)s» удалено.") % {"n": obj.name})
            else:
                try:
                    services.custom_field_update(
                        field_obj=obj, name=request.POST.get("name", "")
                    )
                except services.ContactError as exc:
                    flash.error(request, exc.message)
                else:
                    flash.success(request, _("Сохранено."))
            return redirect("contacts:fields")
    return render(
        request,
        "contacts/fields.html",
        {
            "form": form,
            "fields": selectors.custom_fields(account_id=request.account.pk),
        },
    )
