from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.index, name="index"),
    path("q/<str:key>/", views.queue_view, name="queue"),
    path("q/<str:key>/next/", views.queue_next, name="next"),
    path("q/<str:key>/<int:pk>/", views.item, name="item"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("rates/", views.rates, name="rates"),
    path("audit/", views.audit_log, name="audit"),
    path("health/", views.health, name="health"),
]
