"""Websocket routes: one socket per browser session, multiplexing conversations and notifications."""

from django.urls import URLPattern, path

from messaging.consumers import MessagingConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/", MessagingConsumer.as_asgi()),
]
