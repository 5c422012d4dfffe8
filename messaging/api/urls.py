from django.urls import path

from . import views

urlpatterns = [
    path("sms/send/", views.SmsSendView.as_view(), name="api-sms-send"),
]
