"""Voice pages: send (audio upload or speech, listen, IVR, redials), sender
numbers, tariffs, CallPassword; the audio itself for the page's player."""

from pathlib import Path

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.selectors import PriceList, tiers
from cabinet.formats import money
from cabinet.permissions import SEND, cabinet_view
from messaging import compose, compose_views
from messaging.models import Campaign, SenderName
from messaging.senders import InvalidSenderName
from messaging.services import LaunchError

from . import audio as audio_lib
from . import selectors, services
from .channels import FEDERAL
from .forms import IVR_KEYS, CallerNumberForm, CallPasswordTestForm, VoiceSendForm
from .models import AudioFile

QUOTE_KEY = "voice"


def _form_kwargs(request) -> dict:
    return {
        "groups": compose.compose_groups(account_id=request.account.pk),
        "voices": audio_lib.voices(),
        "callers": selectors.approved_callers(account_id=request.account.pk),
    }


def _audio(request, audio_id) -> AudioFile | None:
    if not audio_id:
        return None
    try:
        return selectors.audio_get(
            account_id=request.account.pk, audio_id=int(audio_id)
        )
    except (AudioFile.DoesNotExist, TypeError, ValueError):
        return None


def _context(request, form, audio=None, **extra) -> dict:
    return {
        "form": form,
        "audio": audio,
        "ivr_keys": IVR_KEYS,
        "recent": selectors.audio_list(account_id=request.account.pk, limit=8),
        "tts_price": selectors.tts_price(account=request.account, audio=audio)
        if audio
        else None,
        **extra,
    }


def _initial_from_campaign(request, pk) -> dict:
    try:
        campaign = Campaign.objects.get(
            account=request.account, pk=int(pk), channel="voice"
        )
    except (Campaign.DoesNotExist, TypeError, ValueError):
        return {}
    initial = compose.form_initial(compose.payload_from_campaign(campaign))
    content = campaign.content or {}
    audio = _audio(request, content.get("audio_id"))
    initial["text"] = audio.text if audio and audio.text else ""
    initial["audio_id"] = content.get("audio_id")
    if campaign.sender != FEDERAL:
        initial["caller"] = campaign.sender
    ivr = content.get("ivr") or {}
    if ivr:
        initial["ivr"] = True
        for key, item in ivr.items():
            initial[f"ivr_{key}"] = item.get("action")
            initial[f"ivr_{key}_url"] = item.get("url", "")
    if content.get("redial_count"):
        initial.update(
            redial=True,
            redial_count=content["redial_count"],
            redial_interval=content.get("redial_interval"),
        )
    return initial


@cabinet_view(SEND)
def send(request):
    kwargs = _form_kwargs(request)
    if request.method != "POST":
        initial = compose_views.blank_initial(voice="espeak:ru")
        if request.GET.get("repeat"):
            initial.update(_initial_from_campaign(request, request.GET["repeat"]))
        if request.GET.get("audio"):
            chosen = _audio(request, request.GET["audio"])
            if chosen:
                initial["audio_id"] = chosen.pk
                initial["text"] = chosen.text
        form = VoiceSendForm(initial=initial, **kwargs)
        return render(
            request,
            "voice/send.html",
            _context(request, form, _audio(request, initial.get("audio_id"))),
        )
    action = request.POST.get("action") or "send"
    if action in ("upload", "synthesize"):
        return _make_audio(request, action, kwargs)
    form = VoiceSendForm(request.POST, request.FILES, **kwargs)
    audio = _audio(request, request.POST.get("audio_id"))
    if form.is_valid():
        try:
            campaign = _launch(request, form)
        except LaunchError as exc:
            compose_views.refuse_on_form(
                form, exc, {"audio_id": None, "sender": "caller"}
            )
        else:
            _flash_launched(request, campaign)
            if form.cleaned_data.get("clear_form"):
                return redirect("voice:send")
            return redirect("reports:campaign", campaign.pk)
    return render(request, "voice/send.html", _context(request, form, audio))


def _make_audio(request, action, kwargs):
    """«Загрузить» / «Озвучить»: make the audio, then show the form again with
    it selected and playable (nothing is sent)."""
    data = request.POST.copy()
    error = ""
    audio = None
    try:
        if action == "upload":
            upload = request.FILES.get("upload")
            if upload is None:
                raise services.VoiceError(_("Выберите файл mp3, wav или ogg."))
            audio = services.audio_upload(account=request.account, upload=upload)
        else:
            audio = services.audio_synthesize(
                account=request.account,
                text=data.get("text", ""),
                voice=data.get("voice") or "espeak:ru",
            )
    except services.VoiceError as exc:
        error = exc.message
    if audio is not None:
        data["audio_id"] = str(audio.pk)
        if audio.status == AudioFile.Status.REJECTED:
            error = _("Эта аудиозапись уже была отклонена модератором: %(why)s") % {
                "why": audio.reason_display
            }
            data["audio_id"] = ""
            audio = None
    else:
        audio = _audio(request, data.get("audio_id"))
    form = VoiceSendForm(initial=_initial_of(data), **kwargs)
    return render(
        request,
        "voice/send.html",
        _context(request, form, audio, audio_error=error),
        status=200,
    )


def _initial_of(data) -> dict:
    """A POST as the initial data of a fresh (unbound) form: making audio is
    not a send, so no «required» errors yet."""
    initial = {}
    for key in data:
        values = data.getlist(key)
        initial[key] = values if key in ("groups", "window_weekdays") else values[-1]
    for flag in ("ivr", "redial", "send_later", "smooth", "window", "clear_form"):
        initial[flag] = flag in data
    return initial


def _payload(form) -> dict:
    payload = compose.payload_from_form(form)
    payload["options"] = {
        k: v for k, v in payload["options"].items() if k in ("smooth", "window")
    }
    return payload


def _priced(payload: dict, content: dict, caller: str) -> dict:
    """What decides the price, for the signed quote: the audience, the options,
    the call's content and who calls (own number or federal)."""
    return {
        **payload,
        "options": {**payload["options"], QUOTE_KEY: content, "caller": caller},
    }


def _launch(request, form) -> Campaign:
    payload = _payload(form)
    content = form.content()
    caller = form.cleaned_data.get("caller") or ""
    shown = compose.shown_quote(
        account=request.account,
        payload=_priced(payload, content, caller),
        token=request.POST.get("quote_token", ""),
    )
    token = form.cleaned_data.get("submit_token") or ""
    return services.voice_launch(
        account=request.account,
        user=request.user,
        content=content,
        caller=caller,
        group_ids=payload["group_ids"] or None,
        filters=payload["filters"] or None,
        phones=payload["phones"] or None,
        options=payload["options"],
        tags=payload["tags"],
        description=payload["description"],
        send_at=form.cleaned_data.get("send_at"),
        client_id=f"voice-form:{token}" if token else "",
        tier=shown[0] if shown else None,
        quoted_total=shown[1] if shown else None,
    )


def _flash_launched(request, campaign):
    compose_views.flash_launched(
        request,
        campaign,
        moderation=_(
            "Рассылка #%(id)s ждёт модерации аудиозаписи. Мы сообщим о "
            "решении в уведомлениях."
        ),
        accepted=_(
            "Рассылка #%(id)s принята. Удержано %(cost)s ₽ — после звонков "
            "спишется только время разговоров."
        ),
    )


@cabinet_view(SEND)
@require_POST
def estimate(request):
    form = VoiceSendForm(request.POST, **_form_kwargs(request))
    ctx = {"quote": None, "errors": []}
    if not form.is_valid():
        ctx["errors"] = [e for errs in form.errors.values() for e in errs][:4]
        return render(request, "voice/_estimate.html", ctx)
    payload = _payload(form)
    content = form.content()
    caller = form.cleaned_data.get("caller") or ""
    try:
        quote = services.voice_quote(
            account=request.account,
            content=content,
            caller=caller,
            group_ids=payload["group_ids"] or None,
            filters=payload["filters"] or None,
            phones=payload["phones"] or None,
            options=payload["options"],
        )
    except LaunchError as exc:
        ctx["errors"] = [exc.message]
        return render(request, "voice/_estimate.html", ctx)
    ctx["quote"] = quote
    ctx["quote_token"] = compose.quote_token(
        account=request.account,
        payload=_priced(payload, content, caller),
        quote=quote,
    )
    return render(request, "voice/_estimate.html", ctx)


@login_required
def audio_play(request, pk: int):
    """The audio's WAV for the page's player (staff: any audio, for the
    moderation page)."""
    user = request.user
    qs = AudioFile.objects.all()
    if not (user.is_authenticated and user.is_staff):
        if getattr(request, "account", None) is None:
            raise Http404
        qs = qs.filter(account=request.account)
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404
    path = Path(audio_lib.full_path(row.path))
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="audio/wav")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@cabinet_view(SEND)
def numbers(request):
    """«Номера отправителя» (4.4): the federal pool calls come from at random,
    and the client's own numbers — requested here, approved by staff, then
    choosable in the send form's «От:»."""
    form = CallerNumberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.caller_number_request(
                account=request.account, number=form.cleaned_data["number"]
            )
        except InvalidSenderName as exc:
            form.add_error("number", exc.message)
        else:
            flash.success(
                request,
                _(
                    "Номер отправлен модератору. О решении придёт уведомление; "
                    "после одобрения его можно выбрать в поле «От:»."
                ),
            )
            return redirect("voice:numbers")
    return render(
        request,
        "voice/numbers.html",
        {
            "numbers": selectors.federal_numbers(),
            "federal": FEDERAL,
            "form": form,
            "own": list(selectors.own_numbers(account_id=request.account.pk)),
        },
    )


@cabinet_view(SEND)
@require_POST
def number_withdraw(request, pk: int):
    return compose_views.request_withdraw(
        request,
        lambda: services.caller_number_withdraw(account=request.account, number_id=pk),
        missing=SenderName.DoesNotExist,
        refused=InvalidSenderName,
        done="voice:numbers",
    )


@cabinet_view()
def tariffs(request):
    """Manual 4.5: the price by balance (the slider's tiers), own vs federal
    number, the first 20 seconds (their own price) and each second after;
    speech synthesis per 100 characters; CallPassword per call."""
    rows = []
    first_seconds = 0
    for tier in tiers() or [None]:
        number = tier.tier if tier else 0
        own, fed = (
            PriceList(
                account=request.account, channel="voice", tier=number, variant=line
            ).rate("RU")
            for line in ("own", "federal")
        )
        first_seconds = first_seconds or fed.first_units or own.first_units
        tts = PriceList(
            account=request.account, channel="voice", tier=number, variant="tts"
        )
        rows.append(
            {
                "from": tier.min_balance if tier else 0,
                "own_first": own.first_price if own.has_block else None,
                "own_second": own.price,
                "fed_first": fed.first_price if fed.has_block else None,
                "fed_second": fed.price,
                "tts": tts.price("RU"),
                "callpassword": PriceList(
                    account=request.account, channel="callpassword", tier=number
                ).price("RU"),
            }
        )
    return render(
        request,
        "voice/tariffs.html",
        {
            "rows": rows,
            "first_seconds": first_seconds,
            "balance": request.account.balance,
        },
    )


@cabinet_view()
def reports(request):
    return redirect("reports:channel_campaigns", "voice")


@cabinet_view(SEND)
def callpassword(request):
    """Section 11: the price, a test call, the history with status and cost."""
    form = CallPasswordTestForm(request.POST or None)
    result = None
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.callpassword_send(
                    account=request.account,
                    recipient=form.cleaned_data["phone"],
                    source="cabinet",
                    user=request.user,
                )
            except services.VoiceError as exc:
                form.add_error("phone", exc.message)
            else:
                flash.success(
                    request,
                    _("Звонок на %(phone)s: код %(code)s, стоимость %(price)s.")
                    % {
                        "phone": result.request.phone,
                        "code": result.code,
                        "price": money(result.price),
                    },
                )
                return redirect("voice:callpassword")
    price = PriceList(account=request.account, channel="callpassword").price("RU")
    return render(
        request,
        "voice/callpassword.html",
        {
            "form": form,
            "price": price,
            "history": selectors.callpassword_history(account_id=request.account.pk),
        },
    )
