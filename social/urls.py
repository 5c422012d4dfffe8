from django.urls import path

from . import views

app_name = "social"

urlpatterns = [
    path("send/", views.send, name="send"),
    path("send/estimate/", views.estimate, name="estimate"),
    path("reports/", views.reports, name="reports"),
    path("senders/", views.sender_names, name="sender_names"),
    path("senders/blank/", views.letter_blank, name="letter_blank"),
    path("senders/<int:pk>/letter/", views.letter, name="letter"),
    path("senders/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("messengers/", views.messengers_page, name="messengers"),
    path("messengers/<int:pk>/kinds/", views.binding_kinds, name="binding_kinds"),
    path("messengers/<int:pk>/delete/", views.binding_delete, name="binding_delete"),
    # The bots' webhooks (no session: each messenger's secret or signature).
    path("bots/telegram/", views.webhook_telegram, name="webhook_telegram"),
    path("bots/viber/", views.webhook_viber, name="webhook_viber"),
    path("bots/vk/", views.webhook_vk, name="webhook_vk"),
    path("bots/ok/<str:secret>/", views.webhook_ok, name="webhook_ok"),
]
