from django.urls import path

from . import views

urlpatterns = [
    path("callpassword/", views.CallPasswordView.as_view(), name="api-callpassword"),
    path(
        "callpassword/<int:pk>/",
        views.CallPasswordDetailView.as_view(),
        name="api-callpassword-detail",
    ),
]
