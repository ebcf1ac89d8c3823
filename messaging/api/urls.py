"""Messaging API, mounted under /api/messaging/."""

from django.urls import URLPattern, path

from messaging.api import views

app_name = "messaging-api"

urlpatterns: list[URLPattern] = [
    path("conversations/", views.ConversationListView.as_view(), name="conversations"),
    path("conversations/<id:conversation_id>/", views.ConversationDetailView.as_view(), name="conversation"),
    path("conversations/<id:conversation_id>/messages/", views.MessageListView.as_view(), name="messages"),
    path(
        "conversations/<id:conversation_id>/messages/<id:message_id>/",
        views.MessageDetailView.as_view(),
        name="message",
    ),
    path("conversations/<id:conversation_id>/read/", views.MarkReadView.as_view(), name="read"),
    path("unread/", views.UnreadView.as_view(), name="unread"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.MarkNotificationsReadView.as_view(), name="notifications-read"),
]
