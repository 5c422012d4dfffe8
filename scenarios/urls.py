from django.urls import path

from . import views

app_name = "scenarios"

urlpatterns = [
    path("", views.scenario_list, name="list"),
    path("new/", views.scenario_new, name="create"),
    path("new/build/", views.scenario_edit, name="build"),
    path("<int:pk>/", views.scenario_edit, name="edit"),
    path("<int:pk>/copy/", views.scenario_copy, name="copy"),
    path("<int:pk>/delete/", views.scenario_delete, name="delete"),
    path("<int:pk>/launch/", views.scenario_launch, name="launch"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
]
