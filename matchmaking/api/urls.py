"""Matchmaking API routes (clusters, organizations, memberships, calls)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
