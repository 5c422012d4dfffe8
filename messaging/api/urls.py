from django.urls import path

from . import campaigns, compose, views

urlpatterns = [
    path("sms/send/", views.SmsSendView.as_view(), name="api-sms-send"),
    # "campaigns/" (GET list, POST create) is mounted by reports/api/urls.py.
    path(
        "campaigns/<int:pk>/",
        campaigns.CampaignDetailView.as_view(),
        name="api-campaign",
    ),
    path(
        "campaigns/<int:pk>/cancel/",
        campaigns.CampaignActionView.as_view(action="cancel"),
        name="api-campaign-cancel",
    ),
    path(
        "campaigns/<int:pk>/pause/",
        campaigns.CampaignActionView.as_view(action="pause"),
        name="api-campaign-pause",
    ),
    path(
        "campaigns/<int:pk>/resume/",
        campaigns.CampaignActionView.as_view(action="resume"),
        name="api-campaign-resume",
    ),
    path("messages/", campaigns.MessagesView.as_view(), name="api-messages"),
    # Composing (messaging/api/compose.py)
    path("sms/count/", compose.SmsCountView.as_view(), name="api-sms-count"),
    path("sms/templates/", compose.TemplatesView.as_view(), name="api-sms-templates"),
    path(
        "sms/templates/<int:pk>/",
        compose.TemplateDetailView.as_view(),
        name="api-sms-template",
    ),
    path("sms/senders/", compose.SenderNamesView.as_view(), name="api-sms-senders"),
    path(
        "sms/senders/<int:pk>/",
        compose.SenderNameDetailView.as_view(),
        name="api-sms-sender",
    ),
    path(
        "sms/moderation-templates/",
        compose.ModerationTemplatesView.as_view(),
        name="api-sms-moderation-templates",
    ),
    path(
        "sms/moderation-templates/<int:pk>/",
        compose.ModerationTemplateDetailView.as_view(),
        name="api-sms-moderation-template",
    ),
]
