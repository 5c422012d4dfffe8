from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("sms/send/", views.sms_send, name="sms_send"),
    path("messages/", views.messages_page, name="messages"),
]
