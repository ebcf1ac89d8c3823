"""Search API routes, mounted under /api/search/."""

from django.urls import URLPattern, URLResolver, path

from search.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("organizations", views.OrganizationSearchView.as_view(), name="api-search-organizations"),
    path("calls", views.CallSearchView.as_view(), name="api-search-calls"),
    path("suggest", views.SuggestView.as_view(), name="api-search-suggest"),
]
