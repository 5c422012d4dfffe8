from django.urls import path

from . import views

urlpatterns = [
    path("scenarios/", views.ScenariosView.as_view(), name="api-scenarios"),
    path(
        "scenarios/runs/<int:pk>/",
        views.RunDetailView.as_view(),
        name="api-scenario-run",
    ),
    path(
        "scenarios/<int:pk>/", views.ScenarioDetailView.as_view(), name="api-scenario"
    ),
    path(
        "scenarios/<int:pk>/launch/",
        views.ScenarioLaunchView.as_view(),
        name="api-scenario-launch",
    ),
]
