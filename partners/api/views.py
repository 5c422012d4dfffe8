"""The partnership in the REST API v1: the overview, and withdrawals."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from cabinet.api.pagination import ApiCursorPagination
from cabinet.api.permissions import HasRestScope
from cabinet.permissions import BILLING, HasCapability
from partners import selectors, services
from partners.models import MIN_WITHDRAWAL

from .serializers import (
    OverviewSerializer,
    WithdrawalCreateSerializer,
    WithdrawalSerializer,
)


class OverviewView(APIView):
    @extend_schema(summary="Партнерство: обзор", responses={200: OverviewSerializer})
    def get(self, request):
        account = request.user.account
        partner = services.partner_for(account=account)
        data = {
            "code": partner.code,
            "link": request.build_absolute_uri(
                reverse("partners:link", args=[partner.code])
            ),
            "balance": services.reward_balance(account_id=account.pk),
            "earned": selectors.earned_total(account_id=account.pk).quantize(
                Decimal("0.01")
            ),
            "clients": selectors.clients_count(account_id=account.pk),
            "min_withdrawal": MIN_WITHDRAWAL,
            "rates": selectors.rates(),
        }
        return Response(OverviewSerializer(data).data)


class WithdrawalListView(generics.ListCreateAPIView):
    serializer_class = WithdrawalSerializer
    pagination_class = ApiCursorPagination
    permission_classes = [IsAuthenticated, HasRestScope, HasCapability.of(BILLING)]

    def get_queryset(self):
        return selectors.withdrawals(account_id=self.request.user.account_id)

    @extend_schema(summary="Заявки на вывод вознаграждений")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Вывести вознаграждение",
        request=WithdrawalCreateSerializer,
        responses={201: WithdrawalSerializer},
        examples=[
            OpenApiExample(
                "Ручной вывод",
                request_only=True,
                value={
                    "amount": "300.00",
                    "method": "manual",
                    "details": "Карта 2200…",
                },
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        ser = WithdrawalCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            row = services.withdrawal_request(
                account=request.user.account,
                # An API caller is a token, not a person (TokenUser).
                user=None,
                amount=d["amount"],
                method=d["method"],
                details=d["details"],
            )
        except services.PartnerError as exc:
            raise ApiError(str(exc)) from exc
        return Response(WithdrawalSerializer(row).data, status=status.HTTP_201_CREATED)
