from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class BalanceView(APIView):
    @extend_schema(
        summary="Баланс аккаунта",
        description="Текущий баланс в рублях (сумма всех движений по счёту).",
        tags=["balance"],
        responses=inline_serializer(
            "Balance",
            {
                "balance": serializers.DecimalField(max_digits=14, decimal_places=2),
                "currency": serializers.CharField(),
            },
        ),
        examples=[
            OpenApiExample(
                "Баланс",
                value={"balance": "1250.40", "currency": "RUB"},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        from cabinet.models import Account

        balance = Account.objects.values_list("balance", flat=True).get(
            pk=request.user.account_id
        )
        return Response({"balance": str(balance), "currency": "RUB"})
