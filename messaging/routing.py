"""Websocket routes. The consumer is added by the messaging capability."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
