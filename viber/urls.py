from django.urls import path

from . import views

app_name = "viber"

urlpatterns = [
    path("send/", views.send, name="send"),
    path("send/estimate/", views.estimate, name="estimate"),
    path("images/", views.image_upload_view, name="image_upload"),
    path("images/<str:public_id>/", views.image, name="image"),
    path("images/<str:public_id>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("reports/", views.reports, name="reports"),
    path("senders/", views.sender_names, name="sender_names"),
    path("senders/<int:pk>/withdraw/", views.sender_withdraw, name="sender_withdraw"),
    path("senders/<int:pk>/pay/", views.package_pay, name="package_pay"),
    path(
        "moderation-templates/",
        views.moderation_templates,
        name="moderation_templates",
    ),
    path(
        "moderation-templates/<int:pk>/",
        views.moderation_template_edit,
        name="moderation_template_edit",
    ),
    path(
        "moderation-templates/<int:pk>/delete/",
        views.moderation_template_delete,
        name="moderation_template_delete",
    ),
    path("tariffs/", views.tariffs, name="tariffs"),
]
