from django.urls import path

from . import views

urlpatterns = [
    path("events/types/", views.EventTypesView.as_view(), name="api-event-types"),
    path("events/handlers/", views.HandlersView.as_view(), name="api-event-handlers"),
    path(
        "events/handlers/<int:pk>/",
        views.HandlerView.as_view(),
        name="api-event-handler",
    ),
    path(
        "events/handlers/<int:pk>/enable/",
        views.HandlerSwitchView.as_view(active=True),
        name="api-event-handler-enable",
    ),
    path(
        "events/handlers/<int:pk>/disable/",
        views.HandlerSwitchView.as_view(active=False),
        name="api-event-handler-disable",
    ),
    path(
        "events/handlers/<int:pk>/runs/",
        views.HandlerRunsView.as_view(),
        name="api-event-handler-runs",
    ),
]
