from django.urls import path

from . import views

urlpatterns = [
    path("groups/", views.GroupsView.as_view(), name="api-groups"),
    path("groups/export/", views.GroupsExportView.as_view(), name="api-groups-export"),
    path("groups/<int:pk>/", views.GroupDetailView.as_view(), name="api-group"),
    path(
        "groups/<int:pk>/contacts/",
        views.GroupContactsView.as_view(),
        name="api-group-contacts",
    ),
    path(
        "groups/<int:pk>/import/",
        views.GroupImportView.as_view(),
        name="api-group-import",
    ),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="api-contact"),
    path("imports/", views.ImportJobsView.as_view(), name="api-imports"),
    path("imports/<int:pk>/", views.ImportJobView.as_view(), name="api-import"),
    path(
        "contact-fields/", views.CustomFieldsView.as_view(), name="api-contact-fields"
    ),
    path(
        "contact-fields/<int:pk>/",
        views.CustomFieldDetailView.as_view(),
        name="api-contact-field",
    ),
    path("stoplist/", views.StopListView.as_view(), name="api-stoplist"),
    path(
        "stoplist/<int:pk>/", views.StopNumberView.as_view(), name="api-stoplist-item"
    ),
]
