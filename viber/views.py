"""Viber pages (manual section 5): send, sender names and packages, moderation
templates, tariffs, and the image the carrier fetches.  Views are thin: a
form, one service or selector, render or redirect."""

from decimal import Decimal

from django.contrib import messages as flash
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from cabinet.permissions import SEND, cabinet_view
from messaging import compose_views, moderation
from messaging import senders as core_senders
from messaging.forms import ModerationTemplateForm, TemplateSaveForm
from messaging.models import SenderName
from messaging.services import LaunchError

from . import compose, selectors, services
from .channels import MAX_TEXT, VIBER
from .forms import ImageUploadForm, TariffForm, ViberComposeForm, ViberSenderRequestForm
from .images import InvalidImage, image_upload
from .models import ViberImage
from .periods import today

CHANNEL = "viber"


@cabinet_view()
def reports(request):
    """«Рассылка Viber → Отчёты»: the reports of every channel, on Viber's tab."""
    return redirect("reports:channel_campaigns", CHANNEL)


# --- send (5.1–5.2) -------------------------------------------------------------------


def _context(request, form, **extra) -> dict:
    templates = list(compose.template_list(account_id=request.account.pk))
    image = None
    image_id = form["image_id"].value() if "image_id" in form.fields else ""
    if image_id:
        try:
            image = selectors.image_get(
                account_id=request.account.pk, public_id=image_id
            )
        except ViberImage.DoesNotExist:
            image = None
    return {
        "form": form,
        "image": image,
        "templates": templates,
        "template_form": extra.pop("template_form", None)
        or TemplateSaveForm(templates=templates),
        "custom_fields": compose.core.compose_custom_fields(
            account_id=request.account.pk
        ),
        "max_text": MAX_TEXT,
        "shared": VIBER.shared(),
        **extra,
    }


@cabinet_view(SEND)
def send(request):
    kwargs = compose.form_kwargs(account=request.account)
    if request.method != "POST":
        initial = compose_views.blank_initial(
            **compose_views.prefill(request, compose=compose, channel=CHANNEL)
        )
        form = ViberComposeForm(initial=initial, **kwargs)
        return render(request, "viber/send.html", _context(request, form))
    form = ViberComposeForm(request.POST, request.FILES, **kwargs)
    if request.POST.get("action") == "save_template":
        return compose_views.save_template(
            request,
            form,
            compose=compose,
            url_name="viber:send",
            render_page=lambda form, **extra: render(
                request, "viber/send.html", _context(request, form, **extra)
            ),
            before_save=lambda form: compose.attach_upload(
                account=request.account, form=form
            ),
        )
    if form.is_valid():
        compose.attach_upload(account=request.account, form=form)
    if form.is_valid():
        payload = compose.payload_from_form(form)
        try:
            campaign = compose.compose_launch(
                account=request.account,
                user=request.user,
                form=form,
                payload=payload,
                quote_token=request.POST.get("quote_token", ""),
            )
        except LaunchError as exc:
            compose_views.refuse_on_form(form, exc, {"image": "image"})
        else:
            compose_views.flash_launched(request, campaign)
            if form.cleaned_data.get("clear_form"):
                return redirect("viber:send")
            return redirect("reports:campaign", campaign.pk)
    return render(request, "viber/send.html", _context(request, form))


@cabinet_view(SEND, write_methods_only=False)
@require_POST
def estimate(request):
    """htmx: the price before sending and a Viber bubble per first recipient."""
    form = ViberComposeForm(
        request.POST, **compose.form_kwargs(account=request.account)
    )
    form.fields["image"].required = False
    context = compose_views.estimate_context(
        request,
        form,
        compose=compose,
        preview=lambda payload, result: {
            "bubbles": compose.compose_preview(
                account=request.account, payload=payload, sender=result.sender
            )
        },
    )
    return render(request, "viber/_estimate.html", context)


@cabinet_view(SEND, write_methods_only=False)
@require_POST
def image_upload_view(request):
    """The image picked in the form, uploaded at once (JavaScript): the
    thumbnail and the id the form sends, or the reason it was refused."""
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": _("Выберите файл изображения.")}, status=400)
    try:
        image = image_upload(account=request.account, upload=form.cleaned_data["image"])
    except InvalidImage as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse(
        {
            "id": image.public_id,
            "width": image.width,
            "height": image.height,
            "size": image.size,
            "thumbnail": reverse("viber:thumbnail", args=[image.public_id]),
            "url": reverse("viber:image", args=[image.public_id]),
        },
        status=201,
    )


def _image_response(image: ViberImage, thumbnail: bool) -> FileResponse:
    stored = image.thumbnail if thumbnail else image.file
    try:
        handle = stored.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@cache_control(public=True, max_age=86400)
def image(request, public_id: str):
    """The picture Viber fetches for the message (no sign-in: the carrier and
    the recipients' phones load it; the id is unguessable)."""
    try:
        found = selectors.image_public(public_id=public_id)
    except ViberImage.DoesNotExist:
        raise Http404 from None
    return _image_response(found, thumbnail=False)


@require_GET
@cache_control(public=True, max_age=86400)
def thumbnail(request, public_id: str):
    try:
        found = selectors.image_public(public_id=public_id)
    except ViberImage.DoesNotExist:
        raise Http404 from None
    return _image_response(found, thumbnail=True)


# --- sender names and packages (5.4) --------------------------------------------


@cabinet_view(SEND)
def sender_names(request):
    form = ViberSenderRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sender_name_request(
                account=request.account,
                name=form.cleaned_data["name"],
                start=form.cleaned_data["start"],
            )
        except core_senders.InvalidSenderName as exc:
            form.add_error("name", exc.message)
        else:
            flash.success(
                request,
                _(
                    "Запрос отправлен на согласование: срок — 2–4 рабочих дня. "
                    "Пакет будет списан, когда менеджер отправит имя в работу."
                ),
            )
            return redirect("viber:sender_names")
    return render(
        request,
        "viber/sender_names.html",
        {
            "form": form,
            "rows": selectors.sender_rows(account_id=request.account.pk, today=today()),
            "shared": VIBER.shared(),
            "price": services.package_price(account=request.account),
            "open_dialog": request.method == "POST",
        },
    )


@cabinet_view(SEND)
@require_POST
def sender_withdraw(request, pk: int):
    return compose_views.request_withdraw(
        request,
        lambda: services.sender_name_withdraw(
            account=request.account, sender_name_id=pk
        ),
        missing=SenderName.DoesNotExist,
        refused=core_senders.InvalidSenderName,
        done="viber:sender_names",
    )


@cabinet_view(SEND)
@require_POST
def package_pay(request, pk: int):
    try:
        package = services.package_pay(account=request.account, sender_name_id=pk)
    except SenderName.DoesNotExist:
        raise Http404 from None
    except services.PackageError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(
            request,
            _("Пакет оплачен: %(price)s ₽, действует с %(start)s по %(end)s.")
            % {
                "price": number_format(package.price, 2),
                "start": package.starts_on.strftime("%d.%m.%Y"),
                "end": package.ends_on.strftime("%d.%m.%Y"),
            },
        )
    return redirect("viber:sender_names")


# --- moderation templates ------------------------------------------------------------


@cabinet_view(SEND)
def moderation_templates(request):
    form = ModerationTemplateForm(request.POST or None)
    form.fields["text"].label = _("Текст сообщения")
    if request.method == "POST" and form.is_valid():
        try:
            moderation.template_create(
                account=request.account, text=form.cleaned_data["text"], channel=CHANNEL
            )
        except moderation.InvalidTemplate as exc:
            form.add_error("text", exc.message)
        else:
            flash.success(request, _("Шаблон отправлен на модерацию."))
            return redirect("viber:moderation_templates")
    rows = compose.core.moderation_template_list(
        account_id=request.account.pk, channel=CHANNEL
    )
    return render(
        request,
        "viber/moderation_templates.html",
        {
            "form": form,
            "rows": rows,
            "any_phrase": moderation.ANY_PHRASE,
            "open_dialog": request.method == "POST",
        },
    )


@cabinet_view(SEND)
def moderation_template_edit(request, pk: int):
    return compose_views.moderation_template_edit(
        request,
        pk,
        channel=CHANNEL,
        list_url="viber:moderation_templates",
        page="viber/moderation_template_edit.html",
    )


@cabinet_view(SEND)
@require_POST
def moderation_template_delete(request, pk: int):
    return compose_views.moderation_template_delete(
        request, pk, channel=CHANNEL, list_url="viber:moderation_templates"
    )


# --- tariffs (5.5) -------------------------------------------------------------------


@cabinet_view()
def tariffs(request):
    account = request.account
    countries = selectors.tariff_countries()
    form = TariffForm(request.GET or None, countries=countries)
    balance = account.balance
    chosen: list[str] = []
    if form.is_valid():
        if form.cleaned_data.get("balance") is not None:
            balance = form.cleaned_data["balance"]
        chosen = form.cleaned_data.get("countries") or []
    table = selectors.viber_tariffs(balance=balance, countries=chosen)
    top = table.tier_rows[-1].min_balance if table.tier_rows else Decimal("0")
    template = "viber/tariffs.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(
        request,
        template,
        {
            "form": form,
            "table": table,
            "balance": balance,
            "slider_max": max(top * Decimal("1.5"), balance, Decimal("1000")),
            "package_price": services.package_price(account=account),
            "chosen": chosen,
        },
    )
