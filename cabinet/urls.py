"""Project URLs.  Each app mounts its own ``urls.py`` (with ``app_name``)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from messaging import registry

from .favicon import favicon
from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("cabinet.api.urls")),
    path("api/v1/", include("scenarios.api.urls")),
    # Every registered channel's own REST API (viber/images/…).
    *[
        path("api/v1/", include(kind.api_urls))
        for kind in registry.all_channels()
        if kind.api_urls
    ],
    path("contacts/", include("contacts.urls")),
    path("reports/", include("reports.urls")),
    path("billing/", include("billing.urls")),
    path("promo/", include("promo.urls")),
    path("scenarios/", include("scenarios.urls")),
    path("events/", include("events.urls")),
    path("chat/", include("chat.urls")),
    path("api/v1/chat/", include("chat.api.urls")),
    # API tokens and webhooks pages, the compatible JSON API v1.0 (/json/v1.0/…,
    # /lcabApi/…) — integrations.urls mounts its own absolute paths.
    path("", include("integrations.urls")),
    path("", include("messaging.urls")),
    # The partnership pages and the referral link (/partners/…, /ref/<code>/).
    path("", include("partners.urls")),
    # The staff console, outside the cabinet.
    path("staff/", include("staff.urls")),
    # Every channel registered with URLs of its own (viber/, voice/, …): adding a
    # channel needs nothing here.
    *[
        path(kind.url_prefix, include(kind.urls))
        for kind in registry.all_channels()
        if kind.urls
    ],
    path("", include("cabinet.shell_urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
