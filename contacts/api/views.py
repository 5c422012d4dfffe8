"""REST API of the phonebook: groups, contacts, imports, export, custom
fields, stop-list.  Everything is scoped to the token's account; a foreign id
is a 404."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cabinet.api.errors import ApiError
from cabinet.api.negotiation import FileFormatNegotiation
from cabinet.api.pagination import ApiCursorPagination
from contacts import importer, selectors, services
from contacts.models import Contact, CustomField, Group, ImportJob, StopNumber

from .serializers import (
    ContactSerializer,
    ContactUpdateSerializer,
    CustomFieldSerializer,
    GroupSerializer,
    ImportAcceptedSerializer,
    ImportJobSerializer,
    ImportStartSerializer,
    StopNumberSerializer,
)

FILTER_PARAMS = [
    OpenApiParameter("q", str, description="Текст в любом поле (номер, ФИО, email…)"),
    OpenApiParameter("phone", str, description="Часть номера"),
    OpenApiParameter("operator", str, description="Оператор (можно несколько через ,)"),
    OpenApiParameter("region", str, description="Регион (можно несколько через ,)"),
    OpenApiParameter("gender", str, enum=["m", "f", "none"]),
    OpenApiParameter("age_min", int),
    OpenApiParameter("age_max", int),
    OpenApiParameter("birth_month", int, description="1–12"),
    OpenApiParameter("consent", bool),
    OpenApiParameter("extra.<key>", str, description="Значение доп. поля (часть)"),
]


def _account_id(request) -> int:
    return request.user.account_id


def _group(request, pk) -> Group:
    try:
        return selectors.group_get(account_id=_account_id(request), group_id=pk)
    except Group.DoesNotExist:
        raise Http404 from None


def _contact(request, pk) -> Contact:
    try:
        return selectors.contact_get(account_id=_account_id(request), contact_id=pk)
    except Contact.DoesNotExist:
        raise Http404 from None


def _custom_keys(request) -> set[str]:
    return {f.key for f in selectors.custom_fields(account_id=_account_id(request))}


def filters_from_query(params) -> dict:
    """Query parameters → the filter dict of docs/CONTACTS.md."""
    out: dict = {}
    for name in (
        "q",
        "phone",
        "last_name",
        "first_name",
        "middle_name",
        "email",
        "link",
        "gender",
    ):
        if params.get(name):
            out[name] = params[name][:200]
    for name in ("operator", "region", "timezone"):
        if params.get(name):
            out[name] = [v.strip() for v in params[name].split(",") if v.strip()]
    for name, low, high in (
        ("age_min", 0, 150),
        ("age_max", 0, 150),
        ("birth_month", 1, 12),
    ):
        if params.get(name) not in (None, ""):
            try:
                value = int(params[name])
            except ValueError:
                raise ApiError(
                    f"{name}: нужно целое число.", code="validation_error"
                ) from None
            if not low <= value <= high:
                raise ApiError(f"{name}: от {low} до {high}.", code="validation_error")
            out[name] = value
    if params.get("consent") not in (None, ""):
        out["consent"] = params["consent"].lower() in ("1", "true", "yes")
    extra = {k[6:]: v for k, v in params.items() if k.startswith("extra.") and v}
    if extra:
        out["extra"] = extra
    return out


class GroupsView(ListAPIView):
    serializer_class = GroupSerializer

    @extend_schema(
        summary="Список групп",
        parameters=[
            OpenApiParameter("hidden", bool, description="Включить скрытые группы")
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.group_list(
            account_id=_account_id(self.request),
            show_hidden=self.request.query_params.get("hidden") in ("1", "true"),
        )

    @extend_schema(
        summary="Создать группу",
        request=GroupSerializer,
        responses={201: GroupSerializer},
        examples=[
            OpenApiExample(
                "Группа",
                request_only=True,
                value={"name": "Клиенты", "is_hidden": False, "is_stoplist": False},
            )
        ],
    )
    def post(self, request):
        ser = GroupSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        group = services.group_create(
            account=request.user.account,
            name=d["name"],
            is_hidden=d.get("is_hidden", False),
            is_stoplist=d.get("is_stoplist", False),
        )
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    @extend_schema(summary="Группа", responses={200: GroupSerializer})
    def get(self, request, pk):
        return Response(GroupSerializer(_group(request, pk)).data)

    @extend_schema(
        summary="Изменить группу",
        request=GroupSerializer,
        responses={200: GroupSerializer},
    )
    def patch(self, request, pk):
        group = _group(request, pk)
        ser = GroupSerializer(group, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            services.group_update(
                group=group,
                name=d.get("name", group.name),
                is_hidden=d.get("is_hidden", group.is_hidden),
                is_stoplist=d.get("is_stoplist", group.is_stoplist),
            )
        except services.ContactError as exc:
            raise ApiError(exc.message, code="validation_error") from exc
        return Response(GroupSerializer(group).data)

    @extend_schema(
        summary="Изменить группу",
        request=GroupSerializer,
        responses={200: GroupSerializer},
    )
    def put(self, request, pk):
        return self.patch(request, pk)

    @extend_schema(summary="Удалить группу (в корзину)", responses={204: None})
    def delete(self, request, pk):
        group = _group(request, pk)
        services.groups_delete(account_id=_account_id(request), group_ids=[group.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupContactsView(ListAPIView):
    serializer_class = ContactSerializer

    @extend_schema(summary="Контакты группы (с фильтрами)", parameters=FILTER_PARAMS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        group = _group(self.request, self.kwargs["pk"])
        return selectors.group_contacts(
            account_id=_account_id(self.request),
            group=group,
            filters=filters_from_query(self.request.query_params),
        )

    @extend_schema(
        summary="Добавить контакт в группу",
        request=ContactSerializer,
        responses={201: ContactSerializer},
        examples=[
            OpenApiExample(
                "Контакт",
                request_only=True,
                value={
                    "phone": "8 (916) 123-45-67",
                    "first_name": "Анна",
                    "last_name": "Иванова",
                    "gender": "f",
                    "birth_date": "1990-05-17",
                    "extra": {"card": "A-100"},
                },
            )
        ],
    )
    def post(self, request, pk):
        group = _group(request, pk)
        ser = ContactSerializer(
            data=request.data, context={"custom_keys": _custom_keys(request)}
        )
        ser.is_valid(raise_exception=True)
        try:
            contact = services.contact_create(
                account=request.user.account,
                group=group,
                data=ser.validated_data,
                source="api",
            )
        except services.ContactError as exc:
            raise ApiError(
                exc.message,
                code=exc.code,
                status_code=409 if exc.code == "duplicate" else 400,
            ) from exc
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    @extend_schema(summary="Контакт", responses={200: ContactSerializer})
    def get(self, request, pk):
        return Response(ContactSerializer(_contact(request, pk)).data)

    @extend_schema(
        summary="Изменить контакт (в этой группе или во всех)",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer},
    )
    def patch(self, request, pk):
        contact = _contact(request, pk)
        ser = ContactUpdateSerializer(
            data=request.data,
            partial=True,
            context={"custom_keys": _custom_keys(request)},
        )
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        everywhere = data.pop("everywhere", False)
        if "extra" in data:
            data["extra"] = {**(contact.extra or {}), **data["extra"]}
        try:
            services.contact_update(
                account=request.user.account,
                contact=contact,
                data=data,
                everywhere=everywhere,
            )
        except services.ContactError as exc:
            raise ApiError(
                exc.message,
                code=exc.code,
                status_code=409 if exc.code == "duplicate" else 400,
            ) from exc
        contact.refresh_from_db()
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        summary="Изменить контакт",
        request=ContactUpdateSerializer,
        responses={200: ContactSerializer},
    )
    def put(self, request, pk):
        return self.patch(request, pk)

    @extend_schema(summary="Удалить контакт", responses={204: None})
    def delete(self, request, pk):
        contact = _contact(request, pk)
        services.contacts_delete(
            account_id=_account_id(request), contact_ids=[contact.pk]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupImportView(APIView):
    @extend_schema(
        summary="Загрузить контакты из файла (в фоне)",
        request={"multipart/form-data": ImportStartSerializer},
        responses={202: ImportAcceptedSerializer},
        examples=[
            OpenApiExample(
                "Принято", response_only=True, status_codes=["202"], value={"id": 17}
            )
        ],
    )
    def post(self, request, pk):
        group = _group(request, pk)
        ser = ImportStartSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            job = services.import_job_create(
                account=request.user.account, group=group, upload=d["file"]
            )
        except importer.ImportFileError as exc:
            raise ApiError(exc.message, code="invalid_file") from exc
        try:
            services.import_job_start(
                job=job,
                mapping=d.get("mapping"),
                policy=d["policy"],
                has_header=d.get("has_header"),
            )
        except importer.ImportFileError as exc:
            services.import_job_discard(job=job, message=exc.message)
            raise ApiError(exc.message, code="invalid_mapping") from exc
        return Response({"id": job.pk}, status=status.HTTP_202_ACCEPTED)


class ImportJobsView(ListAPIView):
    serializer_class = ImportJobSerializer

    @extend_schema(
        summary="Загрузки контактов",
        description="Загрузки файлов в группы, новые первыми; `group` — только "
        "загрузки в эту группу.",
        parameters=[
            OpenApiParameter("group", OpenApiTypes.INT, description="id группы")
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        raw = self.request.query_params.get("group")
        group_id = None
        if raw not in (None, ""):
            try:
                group_id = int(raw)
            except ValueError:
                raise ApiError(
                    _("group — целое число (id группы)."),
                    code="validation_error",
                    fields={"group": [_("Недопустимое значение.")]},
                ) from None
        return selectors.import_jobs(
            account_id=_account_id(self.request), group_id=group_id
        )


class ImportJobView(APIView):
    @extend_schema(summary="Состояние загрузки", responses={200: ImportJobSerializer})
    def get(self, request, pk):
        try:
            job = selectors.import_job_get(account_id=_account_id(request), job_id=pk)
        except ImportJob.DoesNotExist:
            raise Http404 from None
        return Response(ImportJobSerializer(job).data)


class GroupsExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        summary="Выгрузка групп в .xlsx (или .csv)",
        parameters=[
            OpenApiParameter(
                "ids", str, required=True, description="id групп через запятую"
            ),
            OpenApiParameter("format", str, enum=["xlsx", "csv"]),
        ],
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY
        },
    )
    def get(self, request):
        from contacts.views import export_response

        raw = request.query_params.get("ids", "")
        try:
            ids = [int(x) for x in raw.split(",") if x.strip()]
        except ValueError:
            raise ApiError(
                "ids: id групп через запятую.", code="validation_error"
            ) from None
        if not ids:
            raise ApiError("ids: укажите группы.", code="validation_error")
        try:
            groups = selectors.groups_owned(
                account_id=_account_id(request), group_ids=ids
            )
        except Group.DoesNotExist:
            raise Http404 from None
        fmt = request.query_params.get("format", "xlsx")
        if fmt not in ("xlsx", "csv"):
            raise ApiError("format: xlsx или csv.", code="validation_error")
        return export_response(_account_id(request), groups, fmt)


class CustomFieldsInOrderPagination(ApiCursorPagination):
    ordering = "id"  # in the order they were added, as the cabinet shows them


class CustomFieldsView(ListAPIView):
    serializer_class = CustomFieldSerializer
    pagination_class = CustomFieldsInOrderPagination

    @extend_schema(summary="Дополнительные поля контактов")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return CustomField.objects.filter(account_id=_account_id(self.request))

    @extend_schema(
        summary="Добавить дополнительное поле",
        request=CustomFieldSerializer,
        responses={201: CustomFieldSerializer},
    )
    def post(self, request):
        ser = CustomFieldSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            obj = services.custom_field_create(
                account=request.user.account,
                name=d["name"],
                key=d.get("key", ""),
                kind=d.get("kind", "text"),
            )
        except services.ContactError as exc:
            raise ApiError(
                exc.message,
                code="validation_error",
                fields={exc.field: [exc.message]} if exc.field else None,
            ) from exc
        return Response(CustomFieldSerializer(obj).data, status=status.HTTP_201_CREATED)


class CustomFieldRenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class CustomFieldDetailView(APIView):
    def _field(self, request, pk) -> CustomField:
        try:
            return selectors.custom_field_get(
                account_id=_account_id(request), field_id=pk
            )
        except CustomField.DoesNotExist:
            raise Http404 from None

    @extend_schema(
        summary="Дополнительное поле", responses={200: CustomFieldSerializer}
    )
    def get(self, request, pk):
        return Response(CustomFieldSerializer(self._field(request, pk)).data)

    @extend_schema(
        summary="Переименовать дополнительное поле",
        description="Команда подстановки (`key`) и тип не меняются: на них "
        "ссылаются шаблоны и загруженные значения.",
        request=CustomFieldRenameSerializer,
        responses={200: CustomFieldSerializer},
    )
    def patch(self, request, pk):
        field_obj = self._field(request, pk)
        ser = CustomFieldRenameSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            services.custom_field_update(
                field_obj=field_obj, name=ser.validated_data["name"]
            )
        except services.ContactError as exc:
            raise ApiError(
                exc.message, code="validation_error", fields={"name": [exc.message]}
            ) from exc
        return Response(CustomFieldSerializer(field_obj).data)

    @extend_schema(
        summary="Удалить дополнительное поле",
        description="Значения остаются у контактов, но не показываются; поле с "
        "той же командой подстановки возвращает их.",
        responses={204: None},
    )
    def delete(self, request, pk):
        services.custom_field_delete(field_obj=self._field(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StopListView(ListAPIView):
    serializer_class = StopNumberSerializer

    @extend_schema(summary="Номера в стоп-листе")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return StopNumber.objects.filter(account_id=_account_id(self.request))

    @extend_schema(
        summary="Добавить номер в стоп-лист",
        request=StopNumberSerializer,
        responses={201: StopNumberSerializer},
    )
    def post(self, request):
        ser = StopNumberSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        obj, _created = StopNumber.objects.get_or_create(
            account_id=_account_id(request),
            phone=ser.validated_data["phone"],
            defaults={"comment": ser.validated_data.get("comment", "")},
        )
        return Response(StopNumberSerializer(obj).data, status=status.HTTP_201_CREATED)


class StopNumberView(APIView):
    @extend_schema(summary="Номер в стоп-листе", responses={200: StopNumberSerializer})
    def get(self, request, pk):
        try:
            obj = selectors.stop_number_get(
                account_id=_account_id(request), number_id=pk
            )
        except StopNumber.DoesNotExist:
            raise Http404 from None
        return Response(StopNumberSerializer(obj).data)

    @extend_schema(summary="Убрать номер из стоп-листа", responses={204: None})
    def delete(self, request, pk):
        if not services.stop_numbers_remove(account_id=_account_id(request), ids=[pk]):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)
