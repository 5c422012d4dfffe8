"""Cabinet pages: API tokens (A1), webhooks and their delivery log (A4), the
XML/JSON protocol credentials and the JSON API v1.0 documentation page."""

from django.conf import settings
from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cabinet.models import ApiToken, TokenScope
from cabinet.permissions import API_TOKENS, cabinet_view, can

from . import selectors, services
from .compat import ERROR_CODES, STATUS_WORDS
from .forms import ProtocolForm, TokenForm, WebhookForm

NEW_TOKEN_SESSION_KEY = "integrations:new_token"

SCOPE_DOCS = {
    TokenScope.MESSAGING: ("api-docs", "integrations:compat_docs"),
    TokenScope.CHAT: ("api-docs", None),
    TokenScope.CABINET: ("api-docs", None),
}


@cabinet_view(API_TOKENS)
def tokens(request):
    grouped = selectors.tokens_by_scope(account_id=request.account.pk)
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    open_scope = request.GET.get("create")
    blocks = []
    for scope, label in TokenScope.choices:
        docs, old_docs = SCOPE_DOCS[scope]
        blocks.append(
            {
                "scope": scope,
                "label": label,
                "tokens": grouped[scope],
                "docs": docs,
                "old_docs": old_docs,
                "form": TokenForm(initial={"scope": scope}, prefix=scope),
                "open": open_scope == scope,
            }
        )
    return render(
        request,
        "integrations/tokens.html",
        {
            "blocks": blocks,
            "new_token": new_token,
            "can_manage": can(request.user, API_TOKENS),
        },
    )


@require_POST
@cabinet_view(API_TOKENS)
def token_create(request):
    scope = request.POST.get("scope", "")
    form = TokenForm(request.POST, prefix=scope if scope in TokenScope.values else None)
    if not form.is_valid():
        flash.error(request, _("Токен не создан: проверьте описание и IP-адреса."))
        return redirect("integrations:tokens")
    d = form.cleaned_data
    try:
        created = services.api_token_issue(
            account=request.account,
            scope=d["scope"],
            description=d["description"],
            allowed_ips=d["allowed_ips"],
            created_by=request.user,
        )
    except services.IntegrationError as exc:
        flash.error(request, _("Токен не создан: %(reason)s") % {"reason": exc})
        return redirect(f"{reverse('integrations:tokens')}?create={d['scope']}")
    request.session[NEW_TOKEN_SESSION_KEY] = {
        "id": created.token.pk,
        "key": created.key,
        "scope": d["scope"],
        "description": created.token.description,
    }
    return redirect("integrations:tokens")


@require_POST
@cabinet_view(API_TOKENS)
def token_revoke(request, pk: int):
    try:
        token = services.api_token_revoke(account=request.account, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    flash.success(
        request,
        _("Токен %(prefix)s… отозван: запросы с ним больше не принимаются.")
        % {"prefix": token.prefix},
    )
    return redirect("integrations:tokens")


@cabinet_view(API_TOKENS)
def webhooks(request):
    endpoint = selectors.webhook_endpoint(account_id=request.account.pk)
    initial = (
        {
            "url": endpoint.url,
            "is_active": endpoint.is_active,
            "send_statuses": endpoint.send_statuses,
            "send_incoming": endpoint.send_incoming,
        }
        if endpoint
        else None
    )
    form = WebhookForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_save(account=request.account, **form.cleaned_data)
        except services.IntegrationError as exc:
            form.add_error("url", str(exc))
        else:
            flash.success(request, _("Настройки вебхука сохранены."))
            return redirect("integrations:webhooks")
    page = Paginator(
        selectors.webhook_deliveries(account_id=request.account.pk), 30
    ).get_page(request.GET.get("page"))
    template = "integrations/webhooks.html"
    if request.htmx and not request.htmx.boosted:
        template += "#log"
    return render(
        request,
        template,
        {
            "form": form,
            "endpoint": endpoint,
            "page": page,
            "can_manage": can(request.user, API_TOKENS),
            "timeout": settings.WEBHOOK_TIMEOUT,
            "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS,
        },
    )


@require_POST
@cabinet_view(API_TOKENS)
def webhook_secret(request):
    try:
        services.webhook_secret_rotate(account=request.account)
    except services.WebhookEndpoint.DoesNotExist:
        flash.error(request, _("Сначала сохраните адрес вебхука."))
    else:
        flash.success(
            request, _("Создан новый секрет подписи. Обновите его на своём сервере.")
        )
    return redirect("integrations:webhooks")


@require_POST
@cabinet_view(API_TOKENS)
def webhook_test(request):
    event = services.webhook_test(account=request.account)
    if event is None:
        flash.error(request, _("Вебхук не настроен или выключен."))
    else:
        flash.success(
            request,
            _(
                "Тестовое событие поставлено в очередь; результат "
                "появится в журнале доставки."
            ),
        )
    return redirect("integrations:webhooks")


@cabinet_view(API_TOKENS)
def protocol(request):
    creds = selectors.protocol_credentials(account_id=request.account.pk)
    initial = (
        {
            "login": creds.login,
            "ip_restricted": creds.ip_restricted,
            "allowed_ips": creds.allowed_ips,
        }
        if creds
        else None
    )
    form = ProtocolForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.protocol_credentials_save(
                account=request.account, **form.cleaned_data
            )
        except services.IntegrationError as exc:
            form.add_error(None, str(exc))
        else:
            flash.success(request, _("Настройки XML и JSON протокола сохранены."))
            return redirect("integrations:protocol")
    return render(
        request,
        "integrations/protocol.html",
        {
            "form": form,
            "creds": creds,
            "can_manage": can(request.user, API_TOKENS),
        },
    )


@require_POST
@cabinet_view(API_TOKENS)
def protocol_delete(request):
    services.protocol_credentials_delete(account=request.account)
    flash.success(request, _("Доступ по XML и JSON протоколу отключён."))
    return redirect("integrations:protocol")


@cabinet_view()
def compat_docs(request):
    words = {}
    for status, word in STATUS_WORDS.items():
        words.setdefault(word, []).append(status.label)
    return render(
        request,
        "integrations/compat_docs.html",
        {
            "status_words": sorted(words.items()),
            "codes": ERROR_CODES,
            "site_url": settings.SITE_URL,
            "max_messages": settings.COMPAT_MAX_MESSAGES,
        },
    )
