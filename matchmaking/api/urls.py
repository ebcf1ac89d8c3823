"""Matchmaking API routes (clusters, organizations, memberships, calls, me, tokens)."""

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from matchmaking.api import views


class Router(DefaultRouter):
    # One URL per resource: no ".json" twins in the schema and the docs.
    include_format_suffixes = False


router = Router()
router.register("clusters", views.ClusterViewSet, basename="cluster")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register(
    r"organizations/(?P<organization_pk>[^/]+)/opportunities", views.OpportunityViewSet, basename="opportunity"
)
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("calls", views.CallViewSet, basename="call")

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("", include("matchmaking.api.matchmaking_urls")),
    path("", include(router.urls)),
]
