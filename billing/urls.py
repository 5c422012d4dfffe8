from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("pay/", views.pay, name="pay"),
    path("pay/invoice/", views.invoice_create, name="invoice_create"),
    path("pay/<str:method>/", views.payment_start, name="payment_start"),
    path("payments/<str:token>/", views.payment_return, name="payment_return"),
    path("acquirer/callback/", views.acquirer_callback, name="acquirer_callback"),
    path("acquirer/<str:token>/", views.acquirer_page, name="acquirer_page"),
    path("ledger/", views.ledger, name="ledger"),
    path("services/", views.services_rendered, name="services"),
    path("documents/", views.documents_page, name="documents"),
    path("documents/act/download/", views.act_download, name="act"),
    path("documents/<str:tab>/", views.documents_page, name="documents_tab"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("tariffs/", views.tariffs, name="tariffs"),
    path("tariffs/<str:channel>/", views.tariffs, name="tariffs_channel"),
]
