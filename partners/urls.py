from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("partners/", views.overview, name="overview"),
    path("partners/withdrawals/", views.withdrawals, name="withdrawals"),
    path("partners/clients/", views.clients, name="clients"),
    path("partners/services/", views.services_view, name="services"),
    path("ref/<str:code>/", views.referral_link, name="link"),
]
