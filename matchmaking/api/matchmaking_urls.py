"""Routes of the matchmaking-funnel API (included from matchmaking/api/urls.py)."""

from django.urls import URLPattern, URLResolver, path

from matchmaking.api import matchmaking_views as v

urlpatterns: list[URLPattern | URLResolver] = [
    path("recommendations/", v.RecommendationsView.as_view(), name="api-recommendations"),
    path("organizations/<id:pk>/similar/", v.SimilarOrganizationsView.as_view(), name="api-similar"),
    path(
        "organizations/<id:pk>/recommendation-preferences/",
        v.PreferenceView.as_view(),
        name="api-recommendation-preferences",
    ),
    path("introductions/", v.IntroductionListView.as_view(), name="api-introductions"),
    path("introductions/<id:pk>/", v.IntroductionDetailView.as_view(), name="api-introduction"),
    path("introductions/<id:pk>/<slug:action>/", v.IntroductionActionView.as_view(), name="api-introduction-action"),
    path("broker-queue/", v.BrokerQueueView.as_view(), name="api-broker-queue"),
    path("consortia/", v.ConsortiumListView.as_view(), name="api-consortia"),
    path("consortia/<id:pk>/", v.ConsortiumDetailView.as_view(), name="api-consortium"),
    path("consortia/<id:pk>/eligibility/", v.ConsortiumEligibilityView.as_view(), name="api-consortium-eligibility"),
    path("consortia/<id:pk>/roles/", v.ConsortiumRolesView.as_view(), name="api-consortium-roles"),
    path(
        "consortia/<id:pk>/roles/<id:role_pk>/suggestions/",
        v.RoleSuggestionsView.as_view(),
        name="api-role-suggestions",
    ),
    path("consortia/<id:pk>/invitations/", v.ConsortiumInvitationsView.as_view(), name="api-consortium-invitations"),
    path("consortium-invitations/<id:pk>/answer/", v.InvitationAnswerView.as_view(), name="api-invitation-answer"),
    path("saved-searches/", v.SavedSearchListView.as_view(), name="api-saved-searches"),
    path("saved-searches/<id:pk>/", v.SavedSearchDetailView.as_view(), name="api-saved-search"),
]
