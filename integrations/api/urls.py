from django.urls import path

from . import views

urlpatterns = [
    path("webhook/", views.WebhookView.as_view(), name="api-webhook"),
    path(
        "webhook/deliveries/",
        views.WebhookDeliveriesView.as_view(),
        name="api-webhook-deliveries",
    ),
]
