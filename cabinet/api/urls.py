from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        # The cabinet's bar on top: a way back from the docs to the API page.
        SpectacularSwaggerView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("balance/", views.BalanceView.as_view(), name="api-balance"),
    path("", include("messaging.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("promo.api.urls")),
    path("", include("events.api.urls")),
    path("", include("partners.api.urls")),
]
