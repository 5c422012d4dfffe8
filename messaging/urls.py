from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("sms/send/", views.sms_send, name="sms_send"),
    path("sms/send/estimate/", views.sms_estimate, name="sms_estimate"),
    path("messages/", views.messages_page, name="messages"),
    path("sms/templates/", views.templates_page, name="templates"),
    path("sms/templates/<int:pk>/", views.template_edit, name="template_edit"),
    path(
        "sms/templates/<int:pk>/delete/", views.template_delete, name="template_delete"
    ),
    path("sms/senders/", views.sender_names, name="sender_names"),
    path(
        "sms/senders/<int:pk>/withdraw/", views.sender_withdraw, name="sender_withdraw"
    ),
    path(
        "sms/moderation-templates/",
        views.moderation_templates,
        name="moderation_templates",
    ),
    path(
        "sms/moderation-templates/<int:pk>/",
        views.moderation_template_edit,
        name="moderation_template_edit",
    ),
    path(
        "sms/moderation-templates/<int:pk>/delete/",
        views.moderation_template_delete,
        name="moderation_template_delete",
    ),
    path("sms/scheduler/", views.scheduler, name="scheduler"),
    path("sms/scheduler/new/", views.schedule_edit, name="schedule_create"),
    path("sms/scheduler/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    path(
        "sms/scheduler/<int:pk>/toggle/", views.schedule_toggle, name="schedule_toggle"
    ),
    path(
        "sms/scheduler/<int:pk>/delete/", views.schedule_delete, name="schedule_delete"
    ),
    path("sms/greetings/", views.greetings_page, name="greetings"),
    path("sms/greetings/new/", views.greeting_edit, name="greeting_create"),
    path("sms/greetings/<int:pk>/", views.greeting_edit, name="greeting_edit"),
    path(
        "sms/greetings/<int:pk>/toggle/", views.greeting_toggle, name="greeting_toggle"
    ),
    path(
        "sms/greetings/<int:pk>/delete/", views.greeting_delete, name="greeting_delete"
    ),
    path("sms/advertising/", views.advertising, name="advertising"),
    path("s/<str:token>", views.short_link, name="short_link"),
]
