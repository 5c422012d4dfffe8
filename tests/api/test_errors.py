"""REST v1 consistency (SPEC A2): one error shape for every failure, cursor
pagination by default, per-token rate limits."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_error(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in resp.content.decode()
    return body["error"]


def test_401_without_or_with_a_bad_token(user):
    api = APIClient()
    err = assert_error(api.get("/api/v1/balance/"), 401, "not_authenticated")
    assert "Authorization" in err["message"]
    api.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert_error(api.get("/api/v1/balance/"), 401, "authentication_failed")
    api.credentials(HTTP_AUTHORIZATION="Token a b")
    assert_error(api.get("/api/v1/balance/"), 401, "authentication_failed")


def test_403_for_a_chat_only_token(user, api_client_for):
    api = api_client_for(user, scopes=["chat"])
    err = assert_error(api.get("/api/v1/balance/"), 403, "permission_denied")
    assert "Рассылка сообщений" in err["message"]


def test_404_for_unknown_api_urls_and_objects(user, api_client_for):
    api = api_client_for(user)
    assert_error(api.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(api.get("/api/nothing"), 404, "not_found")
    assert_error(api.get("/api/v1/campaigns/999999/"), 404, "not_found")


def test_405_and_415(user, api_client_for):
    api = api_client_for(user)
    resp = api.delete("/api/v1/balance/")
    err = assert_error(resp, 405, "method_not_allowed")
    assert "DELETE" in err["message"] and "GET" in resp["Allow"]
    resp = api.post("/api/v1/sms/send/", "phone=1", content_type="text/plain")
    err = assert_error(resp, 415, "unsupported_media_type")
    assert "text/plain" in err["message"]


def test_400_for_malformed_json(user, api_client_for):
    api = api_client_for(user)
    resp = api.post("/api/v1/sms/send/", "{oops", content_type="application/json")
    assert_error(resp, 400, "parse_error")


def test_413_for_an_oversized_body(user, api_client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api = api_client_for(user)
    body = '{"phone": "+79161234567", "text": "%s"}' % ("x" * 5000)
    resp = api.post("/api/v1/sms/send/", body, content_type="application/json")
    assert_error(resp, 413, "request_too_large")


def test_429_with_retry_after(user, api_client_for, settings):
    settings.API_RATE_LIMIT = "2/m"
    api = api_client_for(user)
    assert api.get("/api/v1/balance/").status_code == 200
    assert api.get("/api/v1/balance/").status_code == 200
    resp = api.get("/api/v1/balance/")
    assert_error(resp, 429, "throttled")
    assert 1 <= int(resp["Retry-After"]) <= 60
    # The limit is per token: another token of the account is not affected.
    assert api_client_for(user).get("/api/v1/balance/").status_code == 200


def test_500_in_an_api_view_is_json_without_internals(
    user, api_client_for, monkeypatch
):
    from cabinet.api import views

    def boom(self, request):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(views.BalanceView, "get", boom)
    resp = api_client_for(user).get("/api/v1/balance/")
    err = assert_error(resp, 500, "server_error")
    assert "hunter2" not in resp.content.decode()
    assert "Внутренняя ошибка" in err["message"]


def test_500_in_the_compatible_api_keeps_its_envelope(user, monkeypatch):
    from cabinet.services import token_create
    from integrations import compat

    key = token_create(account=user.account, scopes=["messaging"]).key

    def boom(**kwargs):
        raise RuntimeError("internals")

    monkeypatch.setattr(compat, "compat_send", boom)
    client = APIClient()
    resp = client.post(
        "/json/v1.0/sms/send/text", {"messages": []}, format="json", HTTP_X_TOKEN=key
    )
    assert resp.status_code == 500
    assert resp.json()["success"] is False and resp.json()["error"]["code"] == 500
    assert "internals" not in resp.content.decode()
    resp = client.post("/json/v1.0/unknown", {}, format="json")
    assert resp.status_code == 404 and resp.json()["success"] is False


def test_list_endpoints_use_cursor_pagination(user, api_client_for):
    from billing.services import account_credit

    for i in range(5):
        account_credit(account_id=user.account_id, amount=1, reason=f"пополнение {i}")
    api = api_client_for(user)
    first = api.get("/api/v1/ledger/?limit=2").json()
    assert set(first) >= {"next", "previous", "results"}
    assert len(first["results"]) == 2 and "cursor=" in first["next"]
    second = api.get(first["next"]).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert_error(api.get("/api/v1/ledger/?cursor=garbage"), 400, "bad_cursor")
    assert_error(api.get("/api/v1/groups/?limit=0"), 400, "validation_error")
    assert_error(api.get("/api/v1/groups/?limit=501"), 400, "validation_error")
    assert_error(api.get("/api/v1/groups/?limit=две"), 400, "validation_error")


def test_default_pagination_class_is_the_cursor_one(settings):
    from rest_framework.settings import api_settings

    from cabinet.api.pagination import ApiCursorPagination

    assert api_settings.DEFAULT_PAGINATION_CLASS is ApiCursorPagination
    assert ApiCursorPagination.ordering == "-id"


def test_every_list_in_the_schema_has_the_one_page_shape():
    """Every GET under /api/v1/ that answers a list answers ``{next, previous,
    results}`` and takes ``cursor`` and ``limit`` — no list is a bare array."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def resolve(node):
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    lists = []
    for path, item in schema["paths"].items():
        get = item.get("get")
        if not path.startswith("/api/v1/") or not get:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        body = content.get("application/json", {}).get("schema")
        if not body:
            continue
        body = resolve(body)
        assert body.get("type") != "array", f"{path} answers a bare array"
        if "results" in body.get("properties", {}):
            lists.append(path)
            assert set(body["properties"]) == {"next", "previous", "results"}, path
            params = {p["name"] for p in get.get("parameters", [])}
            assert {"cursor", "limit"} <= params, path
    assert len(lists) >= 10


def _json_schema(node):
    """OpenAPI 3.0 schema → JSON Schema: ``nullable`` becomes a null type and
    component references point into ``$defs``."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key not in ("nullable", "readOnly", "writeOnly", "example"):
            out[key] = _json_schema(value)
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def test_every_example_in_the_schema_matches_its_schema():
    """The examples a developer copies from /api/v1/docs/ are valid requests
    and answers: each validates against the schema it illustrates."""
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    defs = _json_schema(schema["components"]["schemas"])
    checked, failures = 0, []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            media = [
                ("request", operation.get("requestBody", {}).get("content", {}))
            ] + [
                (status, response.get("content", {}))
                for status, response in operation["responses"].items()
            ]
            for where, content in media:
                body = content.get("application/json")
                if not body or "schema" not in body:
                    continue
                validator = jsonschema.Draft202012Validator(
                    {**_json_schema(body["schema"]), "$defs": defs}
                )
                for name, example in (body.get("examples") or {}).items():
                    checked += 1
                    errors = list(validator.iter_errors(example["value"]))
                    if errors:
                        failures.append(
                            f"{method.upper()} {path} {where} «{name}»: "
                            f"{errors[0].message[:200]}"
                        )
    assert checked >= 50
    assert not failures, "\n".join(failures)
