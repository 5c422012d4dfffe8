from django.urls import path

from . import views

urlpatterns = [
    path("partners/", views.OverviewView.as_view(), name="api-partners"),
    path(
        "partners/withdrawals/",
        views.WithdrawalListView.as_view(),
        name="api-partners-withdrawals",
    ),
]
