"""Server-rendered pages."""

from django.urls import URLPattern, URLResolver, path

from frontend import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
]
