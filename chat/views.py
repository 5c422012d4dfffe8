"""«Мои сайты», the operator console and the widget's public endpoints
(manual section 3).  Views are thin: a form, one service or selector."""

from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages as flash
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from cabinet.permissions import BILLING, SETTINGS, cabinet_view

from . import selectors, services
from .forms import AppearanceForm, CannedForm, OperatorForm, SiteForm
from .models import CannedReply, Conversation, Operator, Site

FREE_FEATURES = [
    "Online-чат на сайте",
    "Windows & Mac OS",
    "Смартфоны и планшеты",
    "Генератор лидов",
    "До 3 операторов",
    "Собственный дизайн",
    "Выгрузка чата на Email",
    "Интеграция: Метрика и Аналитика",
    "API",
]
FULL_FEATURES = [
    "Аватар оператора",
    "Наблюдение за печатью",
    "Разделение на отделы",
    "Информация о посетителях",
    "Совместный браузеринг",
    "Приём отзывов",
    "Блокировка клиента",
    "Перевод чата",
    "Указка",
    "Скрытые операторы",
    "Автоприветствие",
    "Целевые посетители",
    "Дополнительные вкладки",
    "Шаблонные ответы",
    "Шифрование сообщений",
    "Форма подписки",
    "Проверка орфографии",
    "Передача файлов",
    "Форма «Заказать звонок»",
    "Ограничение прав оператора",
]


def snippet(site: Site) -> str:
    return (
        f'<script src="{settings.SITE_URL}{reverse("chat:widget_js")}" '
        f'data-site="{site.key}" async></script>'
    )


def ws_base(request) -> str:
    if settings.CHAT_WS_URL:
        return settings.CHAT_WS_URL
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}"


def _sites_context(request, **extra) -> dict:
    account_id = request.account.pk
    plan = selectors.plan_of(account_id=account_id)
    return {
        "sites": selectors.sites_of(account_id=account_id),
        "operators": selectors.operators_of(account_id=account_id),
        "operator_form": extra.pop(
            "operator_form",
            OperatorForm(
                candidates=selectors.operator_candidates(account_id=account_id)
            ),
        ),
        "form": extra.pop("form", SiteForm()),
        "plan": plan,
        "plan_full": plan.is_full(),
        "price": Decimal(settings.CHAT_FULL_PLAN_PRICE),
        "free_features": FREE_FEATURES,
        "full_features": FULL_FEATURES,
        "operator_limit": services.FULL_OPERATORS
        if plan.is_full()
        else services.FREE_OPERATORS,
        "requisites": selectors.requisites(account_id=account_id),
        **extra,
    }


@cabinet_view(SETTINGS)
def sites(request):
    """«Мои сайты»: sites, operators, the plan."""
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_add(
                account=request.account,
                address=form.cleaned_data["address"],
                language=form.cleaned_data["language"],
                user=request.user,
            )
        except services.ChatError as exc:
            form.add_error("address", exc.message)
        else:
            flash.success(request, _("Сайт %(a)s подключён.") % {"a": site.address})
            return redirect("chat:site", site.pk)
    return render(
        request,
        "chat/sites.html",
        _sites_context(request, form=form, open_dialog=request.method == "POST"),
    )


def _site(request, pk) -> Site:
    try:
        return selectors.site_get(account_id=request.account.pk, site_id=pk)
    except Site.DoesNotExist:
        raise Http404 from None


@cabinet_view(SETTINGS)
def site(request, pk):
    """A site: its widget on the site, «Внешний вид» with a live preview, the
    code to embed, the requisites."""
    site = _site(request, pk)
    form = AppearanceForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        services.site_appearance_save(site=site, data=form.cleaned_data)
        flash.success(request, _("Внешний вид сохранён."))
        return redirect("chat:site", site.pk)
    return render(
        request,
        "chat/site.html",
        {
            "site": site,
            "form": form,
            "snippet": snippet(site),
            "requisites": selectors.requisites(account_id=request.account.pk),
        },
    )


@require_POST
@cabinet_view(SETTINGS)
def site_delete(request, pk):
    site = _site(request, pk)
    services.site_delete(site=site)
    flash.success(request, _("Сайт %(a)s отключён.") % {"a": site.address})
    return redirect("chat:sites")


@require_POST
@cabinet_view(SETTINGS)
def operator_add(request):
    account_id = request.account.pk
    form = OperatorForm(
        request.POST, candidates=selectors.operator_candidates(account_id=account_id)
    )
    if form.is_valid():
        try:
            op = services.operator_add(
                account=request.account,
                user_id=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
            )
        except services.ChatError as exc:
            form.add_error(None, exc.message)
        else:
            flash.success(request, _("Оператор %(n)s добавлен.") % {"n": op.name})
            return redirect("chat:sites")
    return render(
        request,
        "chat/sites.html",
        _sites_context(request, operator_form=form, open_operator=True),
        status=400,
    )


@require_POST
@cabinet_view(SETTINGS)
def operator_remove(request, pk):
    op = Operator.objects.filter(account_id=request.account.pk, pk=pk).first()
    if op is None:
        raise Http404
    services.operator_remove(operator=op)
    flash.success(request, _("Оператор %(n)s удалён.") % {"n": op.name})
    return redirect("chat:sites")


@require_POST
@cabinet_view(BILLING)
def plan_buy(request):
    try:
        plan = services.plan_buy(account=request.account, user=request.user)
    except services.ChatError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(
            request,
            _("Полная версия подключена до %(d)s.")
            % {"d": plan.full_until.strftime("%d.%m.%Y")},
        )
    return redirect("chat:sites")


# --- the operator console -------------------------------------------------------------


def _operator(request):
    return selectors.operator_for(request.user)


@cabinet_view()
def console(request):
    account_id = request.account.pk
    return render(
        request,
        "chat/console.html",
        {
            "operator": _operator(request),
            "operators": selectors.operators_of(account_id=account_id),
            "canned": selectors.canned_of(account_id=account_id),
            "canned_form": CannedForm(),
            "ws_url": ws_base(request) + "/ws/chat/operator/",
            "has_sites": selectors.sites_of(account_id=account_id).exists(),
        },
    )


def _row(c: Conversation) -> dict:
    last = c.messages.order_by("-id").first()
    return {
        "id": c.pk,
        "visitor": c.visitor.label(),
        "status": c.status,
        "status_label": c.get_status_display(),
        "channel": c.channel,
        "unread": c.unread,
        "site": c.site.address if c.site_id else "",
        "campaign": c.campaign_id,
        "operator": c.operator.name if c.operator_id else "",
        "blocked": bool(c.visitor.blocked_at),
        "left_message": c.left_message,
        "last": last.text[:120] if last else "",
        "at": c.last_message_at.isoformat(),
    }


@require_GET
@cabinet_view()
def conversations(request):
    account_id = request.account.pk
    rows = selectors.conversations_of(account_id=account_id)
    return JsonResponse(
        {
            "conversations": [_row(c) for c in rows],
            "last_id": selectors.last_message_id(account_id=account_id),
        }
    )


def _conversation(request, pk) -> Conversation:
    try:
        return selectors.conversation_get(
            account_id=request.account.pk, conversation_id=pk
        )
    except Conversation.DoesNotExist:
        raise Http404 from None


@require_GET
@cabinet_view()
def conversation(request, pk):
    conv = _conversation(request, pk)
    v = conv.visitor
    campaign = None
    if conv.campaign_id:
        campaign = {
            "id": conv.campaign_id,
            "channel": conv.campaign.channel,
            "text": conv.campaign.text[:300],
            "sender": conv.campaign.sender,
            "url": reverse("reports:campaign", args=[conv.campaign_id]),
        }
    return JsonResponse(
        {
            "conversation": _row(conv),
            "visitor": {
                "label": v.label(),
                "name": v.name,
                "email": v.email,
                "phone": v.phone,
                "page": v.page,
                "referrer": v.referrer,
                "browser": selectors.browser_of(v.user_agent),
                "ip": v.ip or "",
                "blocked": bool(v.blocked_at),
                "earlier": [
                    {
                        "id": e.pk,
                        "at": e.created_at.strftime("%d.%m.%Y %H:%M"),
                        "messages": e.n,
                        "status": e.get_status_display(),
                    }
                    for e in selectors.earlier_conversations(conversation=conv)
                ],
            },
            "campaign": campaign,
            "messages": [
                services.message_json(m)
                for m in selectors.messages_of(conversation_id=conv.pk)
            ],
        }
    )


ACTIONS = ("transfer", "block", "unblock", "close", "read", "transcript")


@require_POST
@cabinet_view()
def conversation_action(request, pk, action):
    conv = _conversation(request, pk)
    operator = _operator(request)
    if operator is None:
        return JsonResponse({"error": _("Вы не оператор Online-чата.")}, status=403)
    try:
        if action == "transfer":
            services.transfer(
                conversation=conv, operator_id=request.POST.get("operator"), by=operator
            )
        elif action == "block":
            services.block(conversation=conv)
        elif action == "unblock":
            services.unblock(conversation=conv)
        elif action == "close":
            services.close(conversation=conv)
        elif action == "read":
            services.mark_read(conversation=conv)
        else:
            services.transcript_send(
                conversation=conv, email=request.POST.get("email", "")
            )
    except services.ChatError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"ok": True})


@require_POST
@cabinet_view()
def canned_add(request):
    form = CannedForm(request.POST)
    if form.is_valid():
        try:
            services.canned_add(account=request.account, **form.cleaned_data)
        except services.ChatError as exc:
            flash.error(request, exc.message)
    else:
        flash.error(request, _("Введите название и текст ответа."))
    return redirect("chat:console")


@require_POST
@cabinet_view()
def canned_delete(request, pk):
    deleted, _n = CannedReply.objects.filter(
        account_id=request.account.pk, pk=pk
    ).delete()
    if not deleted:
        raise Http404
    return redirect("chat:console")


# --- the widget (public) --------------------------------------------------------------

WIDGET = Path(__file__).resolve().parent / "static" / "chat" / "widget.js"


@cache
def _widget_source() -> bytes:
    return WIDGET.read_bytes()


@require_GET
@cache_control(public=True, max_age=300)
def widget_js(request):
    return HttpResponse(_widget_source(), content_type="text/javascript")


@require_GET
def widget_config(request, key):
    """What the widget needs before it opens its socket.  Answered to the
    registered site's pages only (CORS); an unknown site is a clear 404."""
    origin = request.headers.get("Origin", "").lower()
    site = selectors.site_by_key(key)
    if site is None:
        response = JsonResponse(
            {"error": "Сайт не зарегистрирован в Online-чате."}, status=404
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response
    if origin != site.origin:
        response = JsonResponse(
            {"error": "Виджет этого сайта работает только на " + site.origin},
            status=403,
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response
    response = JsonResponse(
        {
            "site": site.key,
            "language": site.language,
            "color": site.color,
            "font": site.font,
            "size": site.size,
            "position": site.position,
            "greeting": site.greeting,
            "online": selectors.operators_online(account_id=site.account_id),
            "ws": ws_base(request) + "/ws/chat/visitor/",
            "max": services.MAX_TEXT,
        }
    )
    response["Access-Control-Allow-Origin"] = site.origin
    response["Vary"] = "Origin"
    return response
