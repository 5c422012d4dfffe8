"""VK/OK pages (manual section 6), «Получать в мессенджеры» (section 13) and
the bots' webhooks.  Views are thin: a form, one service or selector, render
or redirect."""

import json
import logging

from django.contrib import messages as flash
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.selectors import requisites_for
from cabinet.permissions import SEND, cabinet_view
from messaging import compose_views
from messaging.forms import TemplateSaveForm
from messaging.models import Campaign
from messaging.selectors import campaign_get
from messaging.services import LaunchError

from . import compose, letters, messengers, selectors, services
from .bots import Forged
from .channels import MAX_TEXT
from .forms import BindingKindsForm, NameRequestForm, SocialComposeForm
from .models import Messenger, MessengerBinding, NameRequest

log = logging.getLogger(__name__)


@cabinet_view()
def reports(request):
    """«Рассылки ВК и ОК → Отчёты»: the reports of every channel, on VK's tab."""
    return redirect("reports:channel_campaigns", "vk")


# --- send (6.2) ---------------------------------------------------------------------


def _prefill(request) -> dict:
    """?repeat= (a VK or OK campaign of the account), ?template=, ?group=…;
    404 for another account's or another channel's ids."""
    if request.GET.get("repeat"):
        try:
            campaign = campaign_get(
                account_id=request.account.pk, campaign_id=int(request.GET["repeat"])
            )
        except (Campaign.DoesNotExist, ValueError):
            raise Http404 from None
        if campaign.channel not in selectors.CHANNELS:
            raise Http404
    return compose_views.prefill(request, compose=compose)


def _context(request, form, **extra) -> dict:
    templates = list(compose.template_list(account_id=request.account.pk))
    return {
        "form": form,
        "templates": templates,
        "template_form": extra.pop("template_form", None)
        or TemplateSaveForm(templates=templates),
        "custom_fields": compose.core.compose_custom_fields(
            account_id=request.account.pk
        ),
        "max_text": MAX_TEXT,
        **extra,
    }


def _page(request, form, **extra):
    return render(request, "social/send.html", _context(request, form, **extra))


@cabinet_view(SEND)
def send(request):
    if not selectors.has_approved_name(account_id=request.account.pk):
        # The manual's box: «Перед созданием рассылки необходимо заказать имя
        # отправителя».
        return render(
            request,
            "social/need_name.html",
            {"pending": selectors.pending_request(account_id=request.account.pk)},
        )
    kwargs = compose.form_kwargs(account=request.account)
    if request.method != "POST":
        initial = compose_views.blank_initial(**_prefill(request))
        return _page(request, SocialComposeForm(initial=initial, **kwargs))
    form = SocialComposeForm(request.POST, **kwargs)
    if request.POST.get("action") == "save_template":
        return compose_views.save_template(
            request,
            form,
            compose=compose,
            url_name="social:send",
            render_page=lambda form, **extra: _page(request, form, **extra),
        )
    if form.is_valid():
        try:
            campaign = compose.compose_launch(
                account=request.account,
                user=request.user,
                form=form,
                payload=compose.payload_from_form(form),
                quote_token=request.POST.get("quote_token", ""),
            )
        except LaunchError as exc:
            compose_views.refuse_on_form(form, exc, {"content": None})
        else:
            compose_views.flash_launched(
                request,
                campaign,
                accepted=_(
                    "Рассылка #%(id)s принята к отправке. Зарезервировано: %(cost)s ₽"
                )
                + " "
                + _("Списываются только доставленные сообщения."),
            )
            if form.cleaned_data.get("clear_form"):
                return redirect("social:send")
            return redirect("reports:campaign", campaign.pk)
    return _page(request, form)


@cabinet_view(SEND, write_methods_only=False)
@require_POST
def estimate(request):
    """htmx: the price before sending and the first recipients' messages."""
    form = SocialComposeForm(
        request.POST, **compose.form_kwargs(account=request.account)
    )
    context = compose_views.estimate_context(
        request,
        form,
        compose=compose,
        preview=lambda payload, result: {
            "rows": compose.compose_preview(account=request.account, payload=payload)
        },
    )
    return render(request, "social/_estimate.html", context)


# --- sender names (6.1) ---------------------------------------------------------------


@cabinet_view(SEND)
def sender_names(request):
    form = NameRequestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.name_request_create(
                account=request.account,
                vk=form.cleaned_data["vk_group"],
                ok=form.cleaned_data["ok_group"],
                letter=form.cleaned_data.get("letter"),
            )
        except letters.InvalidRequest as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(
                request,
                _(
                    "Заявка отправлена на согласование. Мы сообщим о решении в "
                    "уведомлениях."
                ),
            )
            return redirect("social:sender_names")
    return render(
        request,
        "social/sender_names.html",
        {
            "form": form,
            "rows": selectors.name_requests(account_id=request.account.pk),
            "groups": selectors.approved_groups(account_id=request.account.pk),
            "max_mb": letters.max_letter_bytes() // 2**20,
            "open_dialog": request.method == "POST" or "new" in request.GET,
        },
    )


@cabinet_view(SEND)
@require_POST
def request_withdraw(request, pk: int):
    return compose_views.request_withdraw(
        request,
        lambda: services.name_request_withdraw(account=request.account, pk=pk),
        missing=NameRequest.DoesNotExist,
        refused=letters.InvalidRequest,
        done="social:sender_names",
        success=_("Заявка отозвана."),
    )


@cabinet_view()
def letter_blank(request):
    """«Скачать бланк»: the letter to sign, with the account's requisites."""
    requisites = requisites_for(account_id=request.account.pk)
    data = letters.blank_pdf(
        account=request.account,
        requisites=requisites.snapshot() if requisites else None,
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="letter-vk-ok.pdf"'
    return response


def letter_response(row: NameRequest):
    try:
        handle = row.letter.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"letter-{row.pk}.{row.letter_ext}",
        content_type=letters.KINDS.get(row.letter_ext, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@cabinet_view()
def letter(request, pk: int):
    """The account's own uploaded letter."""
    try:
        row = selectors.name_request_get(account_id=request.account.pk, pk=pk)
    except NameRequest.DoesNotExist:
        raise Http404 from None
    return letter_response(row)


# --- notifications in messengers (13) ------------------------------------------------


@cabinet_view()
def messengers_page(request):
    """«Уведомления → Получать в мессенджеры»: a tab per messenger with the bot's
    link and a one-time code; the bound chats and their kinds."""
    chosen = request.GET.get("m") or Messenger.TELEGRAM
    if chosen not in Messenger.values:
        chosen = Messenger.TELEGRAM
    code = messengers.code_issue(
        account=request.account, user=request.user, messenger=chosen
    )
    rows = [
        (b, BindingKindsForm(initial={"kinds": b.kinds}, prefix=f"b{b.pk}"))
        for b in selectors.bindings(account_id=request.account.pk)
    ]
    return render(
        request,
        "social/messengers.html",
        {
            "messengers": Messenger.choices,
            "chosen": chosen,
            "chosen_label": Messenger(chosen).label,
            "code": code,
            "link": messengers.bot_link(chosen),
            "rows": rows,
        },
    )


@cabinet_view()
@require_POST
def binding_kinds(request, pk: int):
    form = BindingKindsForm(request.POST, prefix=f"b{pk}")
    if not form.is_valid():
        flash.error(request, _("Выберите виды уведомлений из списка."))
        return redirect("social:messengers")
    try:
        messengers.binding_kinds_set(
            account=request.account, binding_id=pk, kinds=form.cleaned_data["kinds"]
        )
    except MessengerBinding.DoesNotExist:
        raise Http404 from None
    flash.success(request, _("Настройки уведомлений сохранены."))
    return redirect("social:messengers")


@cabinet_view()
@require_POST
def binding_delete(request, pk: int):
    try:
        messengers.binding_delete(account=request.account, binding_id=pk)
    except MessengerBinding.DoesNotExist:
        raise Http404 from None
    flash.success(request, _("Мессенджер отключён: уведомления туда больше не придут."))
    return redirect("social:messengers")


MAX_WEBHOOK_BODY = 256 * 1024


def _webhook(request, messenger: str, path_secret: str = ""):
    body = request.body[: MAX_WEBHOOK_BODY + 1]
    if len(body) > MAX_WEBHOOK_BODY:
        return JsonResponse({"error": "too large"}, status=413)
    try:
        parsed = messengers.webhook_receive(
            messenger=messenger,
            headers=request.headers,
            body=body,
            path_secret=path_secret,
        )
    except Forged:
        log.warning("%s webhook: forged call refused", messenger)
        return JsonResponse({"error": "forbidden"}, status=403)
    except ValueError:
        return JsonResponse({"error": "bad request"}, status=400)
    if parsed.answer is not None:  # VK's confirmation
        return HttpResponse(parsed.answer, content_type="text/plain")
    if messenger == "vk":
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponse(json.dumps({"ok": True}), content_type="application/json")


@csrf_exempt
@require_POST
def webhook_telegram(request):
    return _webhook(request, "telegram")


@csrf_exempt
@require_POST
def webhook_viber(request):
    return _webhook(request, "viber")


@csrf_exempt
@require_POST
def webhook_vk(request):
    return _webhook(request, "vk")


@csrf_exempt
@require_POST
def webhook_ok(request, secret: str):
    return _webhook(request, "ok", path_secret=secret)
