"""Server-rendered pages: each area of the site adds its own urls module here."""

from django.urls import URLPattern, URLResolver, path

from frontend.views import home

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.home, name="home"),
]
