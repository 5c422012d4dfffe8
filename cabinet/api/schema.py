"""OpenAPI post-processing: every operation documents the one error shape and
has examples.

The responses every endpoint can give (bad input, no or bad token, a token
without the scope, a foreign or missing id, rate limit, server error) are added
to each operation that does not declare them itself, with the ``Error``
component and an example, so clients — and the schemathesis run in
``tests/api`` — know every status code the API may answer.  An operation whose
view gives no example of its request or success response gets one built from
its schema (hand-written ``OpenApiExample``s always win)."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine code, e.g. "
                    "`validation_error`, `not_found`, `throttled`.",
                },
                "message": {"type": "string", "description": "Human text (Russian)."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Per-field messages of a validation error.",
                },
            },
        }
    },
}

COMMON = {
    "400": ("Неверный запрос", "validation_error", "phone: Это не номер телефона"),
    "401": (
        "Нет токена, токен неверен или отозван, запрос с неразрешённого IP",
        "not_authenticated",
        "Требуется авторизация: передайте заголовок Authorization: Token <ключ>.",
    ),
    "403": (
        "Недостаточно прав (роль или область токена)",
        "permission_denied",
        "Недостаточно прав.",
    ),
    "404": ("Не найдено (в том числе чужой id)", "not_found", "Не найдено."),
    "405": (
        "Метод не поддерживается",
        "method_not_allowed",
        "Метод PUT не поддерживается для этого адреса.",
    ),
    "406": (
        "Формат ответа не поддерживается",
        "not_acceptable",
        "Запрошенный формат ответа не поддерживается; используйте application/json.",
    ),
    "409": (
        "Состояние объекта не позволяет действие (например, пауза завершённой "
        "рассылки)",
        "conflict",
        "Рассылка уже завершена.",
    ),
    "413": (
        "Тело запроса больше допустимого (5 МБ)",
        "request_too_large",
        "Слишком большое тело запроса.",
    ),
    "415": (
        "Тип содержимого не поддерживается",
        "unsupported_media_type",
        "Тип содержимого text/plain не поддерживается; отправляйте application/json.",
    ),
    "429": (
        "Превышен лимит запросов токена (см. Retry-After)",
        "throttled",
        "Слишком много запросов. Повторите через 12 с.",
    ),
    "500": (
        "Внутренняя ошибка",
        "server_error",
        "Внутренняя ошибка сервера. Мы уже разбираемся; повторите запрос позже.",
    ),
}
UNSAFE = {"post", "put", "patch", "delete"}


def _response(description: str, code: str, message: str, status: str) -> dict:
    response = {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "examples": {
                    code: {"value": {"error": {"code": code, "message": message}}}
                },
            }
        },
    }
    if status == "429":
        response["headers"] = {
            "Retry-After": {
                "schema": {"type": "integer"},
                "description": "Секунд до нового окна.",
            }
        }
    return response


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                # An error response a view declared without a body schema gets
                # the one error shape.
                if (
                    status[:1] in ("4", "5")
                    and isinstance(response, dict)
                    and not response.get("content")
                ):
                    response["content"] = {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"}
                        }
                    }
            for status, (description, code, message) in COMMON.items():
                if status in ("409", "413", "415") and method not in UNSAFE:
                    continue
                if status not in responses:
                    responses[status] = _response(description, code, message, status)
    return result


SAMPLE_STRINGS = {
    "date-time": "2026-11-25T10:00:00+03:00",
    "date": "2026-11-25",
    "time": "10:00:00",
    "email": "client@example.com",
    "uri": "https://example.com/",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "decimal": "2.75",
    "binary": "",
}
PHONE_NAMES = {"phone", "recipient", "to"}
# Realistic values by field name, so that a generated example reads like a
# real answer rather than the field's own name.
SAMPLE_BY_NAME = {
    "last_name": "Иванова",
    "first_name": "Анна",
    "middle_name": "Сергеевна",
    "name": "Постоянные клиенты",
    "operator": "МТС",
    "country": "RU",
    "region": "г. Москва и Московская обл.",
    "timezone": "Europe/Moscow",
    "link": "https://example.com/catalog",
    "url": "https://example.com/webhooks/sms",
    "text": "Ваш код 1234",
    "sender": "SMSinfo",
    "source": "api",
    "description": "Ноябрьская акция",
    "comment": "Просьба не беспокоить",
    "reason": "Абонент недоступен",
    "filename": "clients.xlsx",
    "message": "Загружено 1 000 контактов",
    "key": "card",
    "code": "7KX9QM",
    "currency": "RUB",
    "title": "Ноябрьская акция",
    "instruction": "Выдайте скидку 10% на весь чек.",
    "prefix": "a1b2c3",
    "secret": "whsec_3f9a…",
    "action_name": "Скидка 10% в ноябре",
    "channel": "sms",
    "client_id": "order-1842",
    "client_ref": "order-1842",
    "number": "СЧ-2026-000123",
    "payer": "ООО «Ромашка»",
    "pdf_url": "https://example.com/billing/invoices/12/pdf/",
    "reason_text": "Имя отправителя не несет содержательной информации для получателей",
    "reminder_sender": "SMSinfo",
    "reminder_text": "Ваш промокод [couponCode] действует до воскресенья",
    "status": "delivered",
    "status_display": "Доставлено",
    "tags": "акция",
    "used_by": "Кассир Мария",
}


def _resolve(schema: dict, components: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema or {}


def sample(schema: dict, components: dict, name: str = "", depth: int = 0):
    """A plausible value for ``schema`` (first enum value, format samples)."""
    schema = _resolve(schema, components)
    if depth > 6:
        return None
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            options = [_resolve(o, components) for o in schema[key]]
            options = [o for o in options if o.get("type") != "null"] or options
            return sample(options[0], components, name, depth + 1)
    if schema.get("enum"):
        values = [v for v in schema["enum"] if v not in (None, "")]
        return values[0] if values else schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        return {
            prop: sample(sub, components, prop, depth + 1)
            for prop, sub in (schema.get("properties") or {}).items()
            if not sub.get("writeOnly") or depth == 0
        }
    if kind == "array":
        return [sample(schema.get("items", {}), components, name, depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1) if name != "count" else 1
    if kind == "number":
        return 2.75
    if kind == "boolean":
        return True
    fmt = schema.get("format", "")
    if name in PHONE_NAMES:
        return "+79161234567"
    if fmt in SAMPLE_STRINGS:
        return SAMPLE_STRINGS[fmt]
    if name in SAMPLE_BY_NAME:
        return SAMPLE_BY_NAME[name]
    if schema.get("pattern", "").startswith("^-?\\d"):
        return "2.75"
    return "Пример" if not name else name.replace("_", " ")


def _has_examples(content: dict) -> bool:
    return any("examples" in media or "example" in media for media in content.values())


def add_examples(result, generator, request, public):
    components = result.get("components", {}).get("schemas", {})
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            if body and not _has_examples(body):
                for media_type, media in body.items():
                    if "schema" in media and "json" in media_type:
                        media["examples"] = {
                            "request": {
                                "summary": "Пример запроса",
                                "value": sample(media["schema"], components),
                            }
                        }
            for status, response in operation["responses"].items():
                content = (response or {}).get("content", {})
                if not status.startswith("2") or not content or _has_examples(content):
                    continue
                for media_type, media in content.items():
                    if "schema" in media and "json" in media_type:
                        media["examples"] = {
                            "response": {
                                "summary": "Пример ответа",
                                "value": sample(media["schema"], components),
                            }
                        }
    return result
