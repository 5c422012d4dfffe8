from django.urls import path

from . import views

# GET /api/v1/campaigns/ itself is served by the lead's view in messaging/api
# (it calls reports.api.views.campaign_list_response).
urlpatterns = [
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
