from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/", views.group_detail, name="group_detail"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("groups/<int:group_id>/restore/", views.group_restore, name="group_restore"),
    path("groups/<int:group_id>/bulk/", views.contacts_bulk, name="contacts_bulk"),
    path("groups/<int:group_id>/add/", views.contact_add, name="contact_add"),
    path("groups/<int:group_id>/quick/", views.quick_add, name="quick_add"),
    path("groups/<int:group_id>/import/", views.import_upload, name="import_upload"),
    path("groups/<int:group_id>/export/", views.group_export, name="group_export"),
    path("contact/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path(
        "contact/<int:contact_id>/delete/", views.contact_delete, name="contact_delete"
    ),
    path(
        "contact/<int:contact_id>/vcard/",
        views.contact_download,
        name="contact_download",
    ),
    path("imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:job_id>/errors.csv", views.import_errors, name="import_errors"),
    path("search/", views.search, name="search"),
    path("stats/", views.stats, name="stats"),
    path("trash/", views.trash, name="trash"),
    path("cleanup/", views.cleanup, name="cleanup"),
    path("stoplist/", views.stoplist, name="stoplist"),
    path("export/", views.export, name="export"),
    path("fields/", views.fields, name="fields"),
]
