from django.urls import path

from . import campaigns, views

urlpatterns = [
    path("sms/send/", views.SmsSendView.as_view(), name="api-sms-send"),
    path("campaigns/", campaigns.CampaignsView.as_view(), name="api-campaigns"),
    path("campaigns/<int:pk>/", campaigns.CampaignDetailView.as_view(),
         name="api-campaign"),
    path("campaigns/<int:pk>/cancel/",
         campaigns.CampaignActionView.as_view(action="cancel"), name="api-campaign-cancel"),
    path("campaigns/<int:pk>/pause/",
         campaigns.CampaignActionView.as_view(action="pause"), name="api-campaign-pause"),
    path("campaigns/<int:pk>/resume/",
         campaigns.CampaignActionView.as_view(action="resume"), name="api-campaign-resume"),
    path("messages/", campaigns.MessagesView.as_view(), name="api-messages"),
]
