from django.urls import path

from . import views

urlpatterns = [
    path("viber/images/", views.ImagesView.as_view(), name="api-viber-images"),
    path(
        "viber/images/<str:public_id>/",
        views.ImageDetailView.as_view(),
        name="api-viber-image",
    ),
    path("viber/senders/", views.SendersView.as_view(), name="api-viber-senders"),
]
