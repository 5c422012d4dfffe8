from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.events_page, name="list"),
    path("new/<slug:kind>/", views.handler_edit, name="create"),
    path("<int:pk>/", views.handler_page, name="handler"),
    path("<int:pk>/edit/", views.handler_edit, name="edit"),
    path("<int:pk>/toggle/", views.handler_toggle, name="toggle"),
    path("<int:pk>/delete/", views.handler_delete, name="delete"),
]
