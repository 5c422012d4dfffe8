from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import selectors, services
from billing.models import Invoice
from cabinet.api.errors import ApiError
from cabinet.api.pagination import ApiCursorPagination
from cabinet.api.permissions import HasRestScope
from cabinet.permissions import BILLING, HasCapability

from .serializers import (
    InvoiceCreateSerializer,
    InvoiceSerializer,
    LedgerEntrySerializer,
    LedgerFilterSerializer,
)


class LedgerPagination(ApiCursorPagination):
    ordering = ("-created_at", "-id")


class LedgerView(generics.ListAPIView):
    """Money movement: every credit and debit of the account."""

    serializer_class = LedgerEntrySerializer
    pagination_class = LedgerPagination

    def get_queryset(self):
        params = self.request.query_params
        data: dict = {k: params[k] for k in ("date_from", "date_to") if params.get(k)}
        kinds = [k for k in params.getlist("kind") if k]
        if kinds:
            data["kind"] = kinds
        f = LedgerFilterSerializer(data=data)
        f.is_valid(raise_exception=True)
        d = f.validated_data
        return selectors.ledger_filtered(
            account_id=self.request.user.account_id,
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            kinds=list(d.get("kind") or []) or None,
        )

    @extend_schema(
        summary="Движение денежных средств",
        description="Операции по счёту, новые первыми; сумма всех операций равна "
        "балансу "
        "(`GET /api/v1/balance/`). Курсорная пагинация.",
        parameters=[
            OpenApiParameter("date_from", str, description="ГГГГ-ММ-ДД, включительно"),
            OpenApiParameter("date_to", str, description="ГГГГ-ММ-ДД, включительно"),
            OpenApiParameter(
                "kind",
                str,
                many=True,
                description="topup, payment, charge, refund, adjustment, bonus, "
                "payment_refund",
            ),
        ],
        examples=[
            OpenApiExample(
                "Списание",
                response_only=True,
                value={
                    "id": 42,
                    "created_at": "2026-11-25T12:00:00+03:00",
                    "amount": "-27.70",
                    "kind": "charge",
                    "kind_display": "Списание",
                    "service": "sms",
                    "reason": "Рассылка СМС #12",
                    "balance_after": "972.30",
                },
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InvoiceListView(generics.ListCreateAPIView):
    serializer_class = InvoiceSerializer
    pagination_class = ApiCursorPagination
    permission_classes = [IsAuthenticated, HasRestScope, HasCapability.of(BILLING)]

    def get_queryset(self):
        return selectors.invoices(account_id=self.request.user.account_id)

    @extend_schema(summary="Счета на оплату")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Выставить счёт",
        request=InvoiceCreateSerializer,
        responses={201: InvoiceSerializer},
        examples=[
            OpenApiExample("Счёт", request_only=True, value={"amount": "20000.00"})
        ],
    )
    def post(self, request, *args, **kwargs):
        ser = InvoiceCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            invoice = services.invoice_create(
                account=request.user.account, amount=ser.validated_data["amount"]
            )
        except services.BillingError as exc:
            raise ApiError(
                str(exc),
                code="requisites_required" if "реквизиты" in str(exc) else "invalid",
            ) from exc
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class InvoiceDetailView(generics.RetrieveAPIView):
    serializer_class = InvoiceSerializer

    def get_object(self):
        return get_object_or_404(
            Invoice, account_id=self.request.user.account_id, pk=self.kwargs["pk"]
        )

    @extend_schema(summary="Счёт")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
