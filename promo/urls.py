from django.urls import path

from . import views

app_name = "promo"

urlpatterns = [
    path("", views.actions, name="actions"),
    path("<int:action_id>/", views.action_detail, name="action_detail"),
    path("<int:action_id>/toggle/", views.action_toggle, name="action_toggle"),
    path("managers/", views.managers, name="managers"),
    path(
        "managers/<int:manager_id>/password/",
        views.manager_password,
        name="manager_password",
    ),
    path(
        "managers/<int:manager_id>/remove/", views.manager_remove, name="manager_remove"
    ),
    # The check page for managers: its own sign-in and layout.
    path("check/", views.check, name="check"),
    path("check/login/", views.check_login, name="check_login"),
    path("check/logout/", views.check_logout, name="check_logout"),
    path("check/redeem/", views.check_redeem, name="check_redeem"),
]
