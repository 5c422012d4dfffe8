from dataclasses import asdict

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError, error_body
from cabinet.api.pagination import CURSOR_PARAMETERS, ApiCursorPagination
from cabinet.net import client_ip
from promo import selectors, services
from promo.models import PromoAction

from .serializers import (
    PromoActionListSerializer,
    PromoActionSerializer,
    PromoCodeInSerializer,
    PromoCodeResultSerializer,
)

ERROR = OpenApiResponse(description='{"error": {"code", "message", "fields"?}}')


def _result(check: services.CodeCheck) -> dict:
    return PromoCodeResultSerializer(asdict(check)).data


class PromoActionListView(APIView):
    @extend_schema(
        summary="Промо-акции аккаунта",
        operation_id="promo_actions_list",
        parameters=CURSOR_PARAMETERS,
        responses={200: PromoActionListSerializer},
    )
    def get(self, request):
        account_id = request.user.account_id
        paginator = ApiCursorPagination()
        actions = selectors.with_stats(
            account_id=account_id,
            actions=paginator.paginate_queryset(
                selectors.actions(account_id=account_id), request, view=self
            ),
        )
        return paginator.get_paginated_response(
            PromoActionSerializer(actions, many=True).data
        )

    @extend_schema(
        summary="Создать промо-акцию",
        request=PromoActionSerializer,
        responses={201: PromoActionSerializer, 400: ERROR},
        examples=[
            OpenApiExample(
                "Скидка",
                request_only=True,
                value={
                    "name": "Скидка 10% в ноябре",
                    "code_length": 6,
                    "valid_days": 14,
                    "instruction": "Выдайте скидку 10% на весь чек.",
                },
            )
        ],
    )
    def post(self, request):
        ser = PromoActionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = {k: v for k, v in ser.validated_data.items()}
        try:
            action = services.action_create(account_id=request.user.account_id, **data)
        except services.PromoError as exc:
            raise ApiError(
                exc.message,
                code=exc.code,
                fields={exc.field: [exc.message]} if exc.field else None,
            ) from exc
        action.stats = selectors.ActionStats()
        return Response(
            PromoActionSerializer(action).data, status=status.HTTP_201_CREATED
        )


class PromoActionDetailView(APIView):
    @extend_schema(
        summary="Промо-акция и её результаты",
        responses={200: PromoActionSerializer, 404: ERROR},
    )
    def get(self, request, id: int):
        account_id = request.user.account_id
        try:
            action = selectors.action_get(account_id=account_id, action_id=id)
        except PromoAction.DoesNotExist:
            raise ApiError(
                "Промо-акция не найдена.", code="not_found", status_code=404
            ) from None
        selectors.with_stats(account_id=account_id, actions=[action])
        return Response(PromoActionSerializer(action).data)


def _throttled(exc: services.PromoThrottled) -> Response:
    return Response(
        error_body("throttled", exc.message),
        status=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


class PromoCheckView(APIView):
    @extend_schema(
        summary="Проверить промокод",
        description="Тот же сервис, что и страница проверки промокодов. "
        "Неизвестные коды считаются попытками подбора: после лимита — 429.",
        request=PromoCodeInSerializer,
        responses={200: PromoCodeResultSerializer, 429: ERROR},
        examples=[
            OpenApiExample(
                "Действителен",
                response_only=True,
                value={
                    "status": "valid",
                    "code": "7KX9QM",
                    "action_id": 3,
                    "action_name": "Скидка 10%",
                    "instruction": "Выдайте скидку 10%.",
                    "valid_from": "2026-11-01T10:00:00+03:00",
                    "valid_until": "2026-11-15T10:00:00+03:00",
                    "used_at": None,
                    "used_by": "",
                    "redeemed": False,
                },
            )
        ],
    )
    def post(self, request):
        ser = PromoCodeInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            check = services.promo_code_check(
                account_id=request.user.account_id,
                code=ser.validated_data["code"],
                ip=client_ip(request) or "",
            )
        except services.PromoThrottled as exc:
            return _throttled(exc)
        return Response(_result(check))


class PromoRedeemView(APIView):
    @extend_schema(
        summary="Отметить промокод использованным",
        description="200 и status=used, redeemed=true — отмечен сейчас. "
        "Повторная отметка отклоняется: 409 с status=used (когда и кем "
        "использован); истёкший "
        "или ещё не действующий — 409; неизвестный — 404. В отказе есть и "
        "поля результата, и объект error.",
        request=PromoCodeInSerializer,
        responses={
            200: PromoCodeResultSerializer,
            404: PromoCodeResultSerializer,
            409: PromoCodeResultSerializer,
            429: ERROR,
        },
    )
    def post(self, request):
        ser = PromoCodeInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            check = services.promo_code_redeem(
                account_id=request.user.account_id,
                code=ser.validated_data["code"],
                ip=client_ip(request) or "",
                by_name="API",
            )
        except services.PromoThrottled as exc:
            return _throttled(exc)
        body = _result(check)
        if check.redeemed:
            return Response(body)
        if check.status == services.CodeStatus.UNKNOWN:
            body.update(error_body("unknown", "Промокод не найден."))
            return Response(body, status=404)
        body.update(error_body(check.status, str(check.label)))
        return Response(body, status=409)
