from django.urls import path

from . import views

urlpatterns = [
    # GET: the report's list (here); POST: create, messaging's view, which
    # CampaignsView extends (the higher app composes, the core stays below).
    path("campaigns/", views.CampaignsView.as_view(), name="api-campaigns"),
    path(
        "campaigns/export/",
        views.CampaignExportView.as_view(),
        name="api-campaigns-export",
    ),
    path(
        "campaigns/<int:pk>/messages/",
        views.CampaignMessagesView.as_view(),
        name="api-campaign-messages",
    ),
    path(
        "campaigns/<int:pk>/messages/export/",
        views.CampaignMessagesExportView.as_view(),
        name="api-campaign-messages-export",
    ),
]
