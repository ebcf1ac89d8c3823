"""Top-level URLs. Each app owns its own `urls.py` / `api/urls.py`."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from maillage.converters import IdConverter

# Before any include(): every URLconf below may use <id:...>.
register_converter(IdConverter, "id")

# Prefixed areas first: resolving a path goes through the patterns in order, and each
# include it falls through records everything it tried (the search API's busiest path
# came after the many patterns of the matchmaking API).
api_patterns: list[URLPattern | URLResolver] = [
    path("search/", include("search.api.urls")),
    path("messaging/", include("messaging.api.urls")),
    path("", include("matchmaking.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="matchmaking/api/redoc.html"),
        name="api-redoc",
    ),
]

# JSON for unknown URLs and crashes under /api/; the site's templates elsewhere.
handler404 = "maillage.api.page_not_found"
handler500 = "maillage.api.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include(api_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("frontend.urls")),
    prefix_default_language=True,
)
