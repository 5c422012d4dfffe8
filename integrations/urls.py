"""Mounted at the site root: cabinet pages under ``api-settings/`` and the
provider-compatible paths ``/json/v1.0/…``, ``/lcabApi/…`` and ``/API/XML/…``."""

from django.urls import path, re_path

from . import compat_views, views

app_name = "integrations"

urlpatterns = [
    path("api-settings/tokens/", views.tokens, name="tokens"),
    path("api-settings/tokens/create/", views.token_create, name="token_create"),
    path(
        "api-settings/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"
    ),
    path("api-settings/webhooks/", views.webhooks, name="webhooks"),
    path("api-settings/webhooks/secret/", views.webhook_secret, name="webhook_secret"),
    path("api-settings/webhooks/test/", views.webhook_test, name="webhook_test"),
    path("api-settings/protocol/", views.protocol, name="protocol"),
    path(
        "api-settings/protocol/delete/", views.protocol_delete, name="protocol_delete"
    ),
    path("api-settings/json-api/", views.compat_docs, name="compat_docs"),
    # Clients differ on a trailing slash; both are served.
    re_path(
        r"^json/v1\.0/sms/send/text/?$", compat_views.sms_send_text, name="compat_send"
    ),
    re_path(
        r"^json/v1\.0/sms/status/?$", compat_views.sms_status, name="compat_status"
    ),
    re_path(
        r"^json/v1\.0/callpassword/send/?$",
        compat_views.callpassword_send,
        name="compat_callpassword",
    ),
    re_path(r"^lcabApi/info\.php$", compat_views.lcab_info, name="lcab_info"),
    re_path(r"^lcabApi/sendSms\.php$", compat_views.lcab_send, name="lcab_send"),
    re_path(r"^lcabApi/getGroups\.php$", compat_views.lcab_groups, name="lcab_groups"),
    # The XML API: send.php, balance.php, report.php (others answer an error).
    re_path(
        r"^API/XML/(?P<method>[A-Za-z_]{1,40})\.php$",
        compat_views.xml_api,
        name="xml_api",
    ),
]
