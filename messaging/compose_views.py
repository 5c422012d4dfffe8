"""What every channel's send page does the same way, so each channel's view
keeps only what is its own (its form, its content, its wording).

``compose`` below is a channel's compose module: ``messaging.compose`` for SMS,
``viber.compose`` (and the like) for the others.  It provides
``form_initial``, ``payload_from_form``, ``payload_from_campaign``,
``template_list``, ``template_get`` and ``template_save``.
"""

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from . import compose as core
from . import moderation
from .forms import ModerationTemplateForm, TemplateSaveForm
from .models import Campaign, MessageTemplate, ModerationTemplate
from .selectors import campaign_get
from .services import LaunchError


def blank_initial(**initial) -> dict:
    """A fresh send form: «send later» proposes the next whole hour, and a
    token makes a double click one campaign."""
    soon = timezone.localtime() + timedelta(hours=1)
    return {
        "send_date": soon.date(),
        "send_time": soon.time().replace(minute=0, second=0, microsecond=0),
        **initial,
        "submit_token": uuid.uuid4().hex,
    }


def prefill(request, *, compose, channel: str | None = None) -> dict:
    """Prefill from ?repeat=, ?template=, or ?group=&filters=&phone= (404 for
    another account's ids, and for a campaign of another channel when
    ``channel`` is given)."""
    account_id = request.account.pk
    if request.GET.get("repeat"):
        try:
            campaign = campaign_get(
                account_id=account_id, campaign_id=int(request.GET["repeat"])
            )
        except (Campaign.DoesNotExist, ValueError):
            raise Http404 from None
        if channel is not None and campaign.channel != channel:
            raise Http404
        return compose.form_initial(compose.payload_from_campaign(campaign))
    if request.GET.get("template"):
        try:
            template = compose.template_get(
                account_id=account_id, template_id=request.GET["template"]
            )
        except MessageTemplate.DoesNotExist:
            raise Http404 from None
        return compose.form_initial({**(template.form or {}), "text": template.text})
    initial = {}
    if request.GET.get("group"):
        initial["groups"] = request.GET.getlist("group")
    if request.GET.get("filters"):
        initial["filters"] = request.GET["filters"]
    if request.GET.get("phone"):
        initial["phones"] = "\n".join(request.GET.getlist("phone"))
    return initial


def refuse_on_form(form, exc, aliases: dict | None = None) -> None:
    """A ``LaunchError`` shown on the form: under the field it names (through
    ``aliases`` where the service's name differs from the form's), else on
    top of the form."""
    names = {"group_ids": "groups", "options": None, **(aliases or {})}
    field = names.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def flash_launched(
    request, campaign: Campaign, *, accepted: str = "", moderation: str = ""
) -> None:
    """What the user reads after «Отправить»: in moderation, scheduled, or
    accepted with the sum held (a channel may say either in its own words)."""
    values = {"id": campaign.pk, "cost": number_format(campaign.cost, 2)}
    if campaign.status == Campaign.Status.MODERATION:
        flash.warning(
            request,
            (
                moderation
                or _(
                    "Рассылка #%(id)s отправлена на модерацию. Мы сообщим о "
                    "решении в уведомлениях."
                )
            )
            % values,
        )
    elif campaign.status == Campaign.Status.SCHEDULED:
        flash.success(
            request,
            _("Рассылка #%(id)s запланирована. Стоимость: %(cost)s ₽") % values,
        )
    else:
        accepted = accepted or _(
            "Рассылка #%(id)s принята к отправке. Стоимость: %(cost)s ₽"
        )
        flash.success(request, accepted % values)


def save_template(
    request,
    form,
    *,
    compose,
    url_name: str,
    render_page: Callable,
    before_save: Callable | None = None,
):
    """«Шаблоны» → «Сохранить текущую форму в шаблон» → Продолжить: the form
    as it is (recipients not required) saved as a new template or over one of
    the account's; ``render_page(form, **extra)`` shows the page again with
    the errors."""
    templates = list(compose.template_list(account_id=request.account.pk))
    tform = TemplateSaveForm(request.POST, templates=templates)
    form.needs_recipients = False
    if before_save is not None and form.is_valid():
        before_save(form)
    if form.is_valid() and tform.is_valid():
        target = None
        if tform.cleaned_data["mode"] == "update":
            try:
                target = compose.template_get(
                    account_id=request.account.pk,
                    template_id=tform.cleaned_data["template_id"],
                )
            except MessageTemplate.DoesNotExist:
                raise Http404 from None
        template = compose.template_save(
            account=request.account,
            payload=compose.payload_from_form(form),
            name=tform.cleaned_data.get("template_name") or "",
            template=target,
        )
        flash.success(
            request, _("Шаблон «%(name)s» сохранен.") % {"name": template.name}
        )
        return redirect(f"{reverse(url_name)}?template={template.pk}")
    return render_page(form, template_form=tform, open_templates=True)


def estimate_context(request, form, *, compose, preview: Callable) -> dict:
    """htmx «Рассчитать стоимость» for a channel whose quote carries the core's
    ``quote`` (Viber, VK/OK): the price, the signed quote the send checks
    against, and ``preview(payload, result)`` → the channel's own preview."""
    context = {"form": form}
    if not form.is_valid():
        context["errors"] = [e for errs in form.errors.values() for e in errs]
        return context
    payload = compose.payload_from_form(form)
    try:
        result = compose.compose_quote(account=request.account, payload=payload)
    except LaunchError as exc:
        context["error"] = exc.message
        return context
    context["estimate"] = result
    context["quote_token"] = core.quote_token(
        account=request.account, payload=payload, quote=result.quote
    )
    context.update(preview(payload, result))
    return context


# --- moderation templates: edit and delete one of the account's ----------------


def own_moderation_template(request, pk, *, channel: str | None = None):
    """One of the account's moderation templates (404 for another account's,
    and for another channel's when ``channel`` is given)."""
    try:
        row = core.moderation_template_get(account_id=request.account.pk, pk=pk)
    except ModerationTemplate.DoesNotExist:
        raise Http404 from None
    if channel is not None and row.channel != channel:
        raise Http404
    return row


def moderation_template_edit(
    request, pk, *, list_url: str, page: str, channel: str | None = None
):
    """Change a template's text: it goes back to moderation."""
    row = own_moderation_template(request, pk, channel=channel)
    form = ModerationTemplateForm(request.POST or None, initial={"text": row.text})
    if request.method == "POST" and form.is_valid():
        try:
            moderation.template_update(template=row, text=form.cleaned_data["text"])
        except moderation.InvalidTemplate as exc:
            form.add_error("text", exc.message)
        else:
            flash.success(request, _("Шаблон изменен и отправлен на модерацию."))
            return redirect(list_url)
    return render(
        request, page, {"form": form, "row": row, "any_phrase": moderation.ANY_PHRASE}
    )


def moderation_template_delete(request, pk, *, list_url: str, channel=None):
    core.owned_delete(own_moderation_template(request, pk, channel=channel))
    flash.success(request, _("Шаблон удален."))
    return redirect(list_url)


def request_withdraw(
    request,
    withdraw: Callable[[], object],
    *,
    missing: type[Exception],
    refused: type[Exception],
    done: str,
    success: str = "",
):
    """Withdraw one of the account's requests still waiting for staff (a
    sender name, a caller number, a VK/OK name request): ``withdraw()`` does
    it; ``missing`` is what it raises for an unknown or another account's
    request (404), ``refused`` for one already decided (its ``message`` is
    shown); then back to the ``done`` page."""
    try:
        withdraw()
    except missing:
        raise Http404 from None
    except refused as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, success or _("Запрос отозван."))
    return redirect(done)
