"""Messaging pages (namespace "messaging")."""

from django.urls import URLPattern, path

from frontend.views import messaging as views

app_name = "messaging"

urlpatterns: list[URLPattern] = [
    path("", views.inbox, name="inbox"),
    path("<id:pk>/", views.conversation, name="conversation"),
    path("new/", views.brokered_new, name="brokered_new"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
