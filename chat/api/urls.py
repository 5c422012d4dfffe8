from django.urls import path

from . import views

urlpatterns = [
    path("conversations/", views.ConversationsView.as_view(), name="chat-api-list"),
    path(
        "conversations/<int:pk>/",
        views.ConversationDetailView.as_view(),
        name="chat-api-detail",
    ),
    path(
        "conversations/<int:pk>/messages/",
        views.MessagesView.as_view(),
        name="chat-api-messages",
    ),
]
