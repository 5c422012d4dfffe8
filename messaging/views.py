from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cabinet.permissions import SEND, cabinet_view

from . import (
    compose,
    compose_views,
    greetings,
    links,
    moderation,
    scheduling,
    selectors,
    senders,
)
from .forms import (
    AdvertisingForm,
    ComposeForm,
    GreetingForm,
    ModerationTemplateForm,
    ScheduleForm,
    SenderRequestForm,
    TemplateRenameForm,
    TemplateSaveForm,
)
from .models import (
    CampaignLink,
    Greeting,
    MessageTemplate,
    Schedule,
    SenderName,
)
from .services import LaunchError


def _partial(request, template: str, name: str) -> str:
    return (
        f"{template}#{name}" if request.htmx and not request.htmx.boosted else template
    )


# --- compose (S1–S4, S6, R5) --------------------------------------------------


def _compose_context(request, form, **extra) -> dict:
    account = request.account
    templates = list(compose.template_list(account_id=account.pk))
    return {
        "form": form,
        "templates": templates,
        "template_form": extra.pop("template_form", None)
        or TemplateSaveForm(templates=templates),
        "custom_fields": compose.compose_custom_fields(account_id=account.pk),
        "promo_actions": form.fields["promo_action"].choices[1:],
        "default_sender": senders.default_sender(),
        "translit": compose.translit_table(),
        **extra,
    }


@cabinet_view(SEND)
def sms_send(request):
    kwargs = compose.form_kwargs(account=request.account)
    if request.method != "POST":
        initial = compose_views.blank_initial(
            **compose_views.prefill(request, compose=compose)
        )
        form = ComposeForm(initial=initial, **kwargs)
        return render(
            request, "messaging/sms_send.html", _compose_context(request, form)
        )
    form = ComposeForm(request.POST, **kwargs)
    if request.POST.get("action") == "save_template":
        return compose_views.save_template(
            request,
            form,
            compose=compose,
            url_name="messaging:sms_send",
            render_page=lambda form, **extra: render(
                request,
                "messaging/sms_send.html",
                _compose_context(request, form, **extra),
            ),
        )
    if form.is_valid():
        try:
            campaign = compose.compose_launch(
                account=request.account,
                user=request.user,
                form=form,
                quote_token=request.POST.get("quote_token", ""),
            )
        except LaunchError as exc:
            compose_views.refuse_on_form(form, exc)
        else:
            _flash_launched(request, campaign)
            if form.cleaned_data.get("clear_form"):
                return redirect("messaging:sms_send")
            return redirect("messaging:messages")
    return render(
        request, "messaging/sms_send.html", _compose_context(request, form), status=200
    )


def _flash_launched(request, campaign):
    if campaign.recipients and campaign.prepared >= campaign.recipients:
        accepted = _("Сообщение принято к отправке. Стоимость: %(cost)s ₽")
    else:
        # A large audience is prepared in the background: the sum held now is
        # an estimate, settled against the real cost once every text is built.
        accepted = _(
            "Рассылка #%(id)s принята к отправке. Предварительная стоимость: "
            "%(cost)s ₽; точная будет в отчёте после подготовки сообщений."
        )
    compose_views.flash_launched(request, campaign, accepted=accepted)


@cabinet_view(SEND, write_methods_only=False)
@require_POST
def sms_estimate(request):
    """htmx: the price before sending and the first recipients' texts."""
    form = ComposeForm(request.POST, **compose.form_kwargs(account=request.account))
    context = {"form": form}
    if form.is_valid():
        payload = compose.payload_from_form(form)
        try:
            context["quote"] = compose.compose_quote(
                account=request.account, payload=payload
            )
            context["quote_token"] = compose.quote_token(
                account=request.account, payload=payload, quote=context["quote"]
            )
            context["preview"] = compose.compose_preview(
                account=request.account, payload=payload
            )
            context["gaps"] = compose.compose_missing_fields(
                account=request.account, payload=payload
            )
        except LaunchError as exc:
            context["error"] = exc.message
    else:
        context["errors"] = [e for errs in form.errors.values() for e in errs]
    return render(request, "messaging/_estimate.html", context)


@cabinet_view()
def messages_page(request):
    page = Paginator(
        selectors.messages_list(account_id=request.account.pk), 50
    ).get_page(request.GET.get("page"))
    return render(
        request, _partial(request, "messaging/messages.html", "rows"), {"page": page}
    )


# --- templates (S6) -----------------------------------------------------------


@cabinet_view(SEND)
def templates_page(request):
    templates = compose.template_list(account_id=request.account.pk)
    return render(request, "messaging/templates.html", {"templates": templates})


@cabinet_view(SEND)
def template_edit(request, pk):
    try:
        template = compose.template_get(account_id=request.account.pk, template_id=pk)
    except MessageTemplate.DoesNotExist:
        raise Http404 from None
    form = TemplateRenameForm(
        request.POST or None, initial={"name": template.name, "text": template.text}
    )
    if request.method == "POST" and form.is_valid():
        compose.template_update(
            template=template,
            name=form.cleaned_data["name"],
            text=form.cleaned_data["text"],
        )
        flash.success(request, _("Шаблон сохранен."))
        return redirect("messaging:templates")
    return render(
        request, "messaging/template_edit.html", {"form": form, "template": template}
    )


@cabinet_view(SEND)
@require_POST
def template_delete(request, pk):
    try:
        template = compose.template_get(account_id=request.account.pk, template_id=pk)
    except MessageTemplate.DoesNotExist:
        raise Http404 from None
    compose.template_delete(template=template)
    flash.success(request, _("Шаблон удален."))
    return redirect("messaging:templates")


# --- sender names (S7) --------------------------------------------------------


@cabinet_view(SEND)
def sender_names(request):
    form = SenderRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            senders.sender_request(
                account=request.account, name=form.cleaned_data["name"]
            )
        except senders.InvalidSenderName as exc:
            form.add_error("name", exc.message)
        else:
            flash.success(
                request,
                _(
                    "Запрос отправлен модератору. Обычно он отвечает в течение "
                    "одного рабочего дня; о решении придёт уведомление."
                ),
            )
            return redirect("messaging:sender_names")
    rows = compose.sender_history(account_id=request.account.pk)
    return render(
        request,
        "messaging/sender_names.html",
        {
            "form": form,
            "approved": [r for r in rows if r.status == SenderName.Status.APPROVED],
            "history": rows,
            "default_sender": senders.default_sender(),
            "open_dialog": request.method == "POST",
        },
    )


@cabinet_view(SEND)
@require_POST
def sender_withdraw(request, pk):
    return compose_views.request_withdraw(
        request,
        lambda: senders.sender_withdraw(account=request.account, sender_name_id=pk),
        missing=SenderName.DoesNotExist,
        refused=senders.InvalidSenderName,
        done="messaging:sender_names",
    )


# --- moderation templates (S8) ------------------------------------------------


@cabinet_view(SEND)
def moderation_templates(request):
    form = ModerationTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.template_create(
                account=request.account, text=form.cleaned_data["text"]
            )
        except moderation.InvalidTemplate as exc:
            form.add_error("text", exc.message)
        else:
            flash.success(request, _("Шаблон отправлен на модерацию."))
            return redirect("messaging:moderation_templates")
    rows = compose.moderation_template_list(account_id=request.account.pk)
    return render(
        request,
        "messaging/moderation_templates.html",
        {
            "form": form,
            "rows": rows,
            "any_phrase": moderation.ANY_PHRASE,
            "open_dialog": request.method == "POST",
        },
    )


@cabinet_view(SEND)
def moderation_template_edit(request, pk):
    return compose_views.moderation_template_edit(
        request,
        pk,
        list_url="messaging:moderation_templates",
        page="messaging/moderation_template_edit.html",
    )


@cabinet_view(SEND)
@require_POST
def moderation_template_delete(request, pk):
    return compose_views.moderation_template_delete(
        request, pk, list_url="messaging:moderation_templates"
    )


# --- scheduler (S10) and greetings (S9) ---------------------------------------


def _recurring_form(request, form_class, instance=None, **extra):
    kwargs = compose.form_kwargs(account=request.account)
    if request.method == "POST":
        return form_class(request.POST, **kwargs, **extra)
    initial = {}
    if instance is not None:
        initial = compose.form_initial(instance.payload)
        initial["timezone"] = instance.timezone
    return form_class(initial=initial, **kwargs, **extra)


@cabinet_view(SEND)
def scheduler(request):
    rows = compose.schedule_list(account_id=request.account.pk)
    return render(
        request,
        "messaging/scheduler.html",
        {
            "rows": [(r, scheduling.describe(scheduling.Rule.of(r))) for r in rows],
        },
    )


def _own(model, request, pk):
    try:
        return compose.owned_get(model, account_id=request.account.pk, pk=pk)
    except model.DoesNotExist:
        raise Http404 from None


@cabinet_view(SEND)
def schedule_edit(request, pk=None):
    instance = _own(Schedule, request, pk) if pk else None
    form = _recurring_form(request, ScheduleForm, instance)
    if instance is not None and request.method != "POST":
        form.initial.update(
            name=instance.name,
            months=instance.months,
            days=instance.days,
            weekdays=instance.weekdays,
            hours=instance.hours,
            minutes=instance.minutes,
        )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            scheduling.schedule_upsert(
                account=request.account,
                user=request.user,
                schedule=instance,
                name=d.get("name") or "",
                payload=compose.payload_from_form(form),
                timezone=d["timezone"],
                rule=d["rule"],
            )
        except scheduling.InvalidRule as exc:
            form.add_error(None, exc.message)
        else:
            flash.success(request, _("Рассылка сохранена в планировщике."))
            return redirect("messaging:scheduler")
    return render(
        request,
        "messaging/schedule_form.html",
        {
            "form": form,
            "instance": instance,
            "custom_fields": compose.compose_custom_fields(
                account_id=request.account.pk
            ),
        },
    )


@cabinet_view(SEND)
@require_POST
def schedule_toggle(request, pk):
    scheduling.schedule_toggle(schedule=_own(Schedule, request, pk))
    return redirect("messaging:scheduler")


@cabinet_view(SEND)
@require_POST
def schedule_delete(request, pk):
    compose.owned_delete(_own(Schedule, request, pk))
    flash.success(request, _("Рассылка удалена из планировщика."))
    return redirect("messaging:scheduler")


@cabinet_view(SEND)
def greetings_page(request):
    rows = compose.greeting_list(account_id=request.account.pk)
    return render(request, "messaging/greetings.html", {"rows": rows})


@cabinet_view(SEND)
def greeting_edit(request, pk=None):
    instance = _own(Greeting, request, pk) if pk else None
    date_fields = greetings.date_fields(account_id=request.account.pk)
    form = _recurring_form(request, GreetingForm, instance, date_fields=date_fields)
    if instance is not None and request.method != "POST":
        form.initial.update(
            occasion=instance.occasion,
            date_field=instance.date_field,
            greet_time=instance.send_time,
        )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        greetings.greeting_upsert(
            account=request.account,
            user=request.user,
            greeting=instance,
            occasion=d["occasion"],
            date_field=d["date_field"],
            send_time=d["greet_time"],
            timezone=d["timezone"],
            payload=compose.payload_from_form(form),
        )
        flash.success(request, _("Рассылка сохранена."))
        return redirect("messaging:greetings")
    return render(
        request,
        "messaging/greeting_form.html",
        {
            "form": form,
            "instance": instance,
            "custom_fields": compose.compose_custom_fields(
                account_id=request.account.pk
            ),
        },
    )


@cabinet_view(SEND)
@require_POST
def greeting_toggle(request, pk):
    greetings.greeting_toggle(greeting=_own(Greeting, request, pk))
    return redirect("messaging:greetings")


@cabinet_view(SEND)
@require_POST
def greeting_delete(request, pk):
    compose.owned_delete(_own(Greeting, request, pk))
    flash.success(request, _("Рассылка удалена."))
    return redirect("messaging:greetings")


# --- SMS advertising (D1) -----------------------------------------------------

# The manual's price tiers (section 10): from N SMS → price of one SMS, roubles.
ADVERTISING_PRICES = [
    ("2 500", "6,5"),
    ("5 000", "6,3"),
    ("10 000", "6,1"),
    ("20 000", "5,9"),
    ("50 000", "5,5"),
]


@cabinet_view(SEND)
def advertising(request):
    form = AdvertisingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        compose.advertising_request_create(
            account=request.account, user=request.user, data=form.cleaned_data
        )
        flash.success(
            request,
            _(
                "Заявка принята. Менеджер свяжется с вами, чтобы "
                "согласовать дату, время и стоимость рассылки."
            ),
        )
        return redirect("messaging:advertising")
    return render(
        request,
        "messaging/advertising.html",
        {
            "form": form,
            "prices": ADVERTISING_PRICES,
            "requests": compose.advertising_list(account_id=request.account.pk),
            "open_dialog": request.method == "POST",
        },
    )


# --- short links (S5) and chat replies (S14) ----------------------------------


@csrf_exempt
def short_link(request, token):
    """A recipient follows a short link: count it, mark the message clicked
    and redirect.  Any bad token is a plain 404.  A chat link opens the reply
    page (S14) instead; a reply is posted back to the same address (the token
    is the credential, so there is no session and no CSRF cookie)."""
    try:
        link, message_id = links.link_resolve(token=token)
    except (links.BadToken, CampaignLink.DoesNotExist):
        raise Http404 from None
    if link.kind != CampaignLink.Kind.CHAT:
        links.link_click(link=link, message_id=message_id)
        return HttpResponseRedirect(links.target_url(link))
    if link.url.startswith(("http://", "https://")):
        # An external online chat: it gets the token to identify the message.
        links.link_click(link=link, message_id=message_id)
        sep = "&" if "?" in link.url else "?"
        return HttpResponseRedirect(f"{link.url}{sep}reply={token}")
    sent = False
    error = ""
    if request.method == "POST":
        text = (request.POST.get("text") or "").strip()
        if not text:
            error = _("Введите сообщение.")
        elif len(text) > links.MAX_REPLY:
            error = _("Сообщение длиннее %(n)s символов.") % {"n": links.MAX_REPLY}
        else:
            try:
                links.chat_reply(link=link, message_id=message_id, text=text)
            except links.TooManyReplies:
                error = _("Слишком много сообщений. Попробуйте через час.")
            else:
                sent = True
    else:
        links.link_click(link=link, message_id=message_id)
    return render(
        request,
        "messaging/chat_reply.html",
        {
            "sender": link.campaign.sender,
            "sent": sent,
            "error": error,
        },
    )
