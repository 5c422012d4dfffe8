from django.urls import path

from . import views

urlpatterns = [
    path(
        "promo/actions/", views.PromoActionListView.as_view(), name="api-promo-actions"
    ),
    path(
        "promo/actions/<int:id>/",
        views.PromoActionDetailView.as_view(),
        name="api-promo-action",
    ),
    path("promo/check/", views.PromoCheckView.as_view(), name="api-promo-check"),
    path("promo/redeem/", views.PromoRedeemView.as_view(), name="api-promo-redeem"),
]
