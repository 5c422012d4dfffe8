from django.urls import path

from . import views

urlpatterns = [
    path("ledger/", views.LedgerView.as_view(), name="api-ledger"),
    path("invoices/", views.InvoiceListView.as_view(), name="api-invoices"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="api-invoice"),
]
