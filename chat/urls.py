from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("sites/", views.sites, name="sites"),
    path("sites/<int:pk>/", views.site, name="site"),
    path("sites/<int:pk>/delete/", views.site_delete, name="site_delete"),
    path("operators/", views.operator_add, name="operator_add"),
    path("operators/<int:pk>/delete/", views.operator_remove, name="operator_remove"),
    path("plan/", views.plan_buy, name="plan_buy"),
    path("console/", views.console, name="console"),
    path("console/conversations/", views.conversations, name="conversations"),
    path("console/conversations/<int:pk>/", views.conversation, name="conversation"),
    *[
        path(
            f"console/conversations/<int:pk>/{action}/",
            views.conversation_action,
            {"action": action},
            name=f"conversation_{action}",
        )
        for action in views.ACTIONS
    ],
    path("console/canned/", views.canned_add, name="canned_add"),
    path("console/canned/<int:pk>/delete/", views.canned_delete, name="canned_delete"),
    # Public: the widget on clients' sites.
    path("widget.js", views.widget_js, name="widget_js"),
    path("widget/<str:key>/config/", views.widget_config, name="widget_config"),
]
