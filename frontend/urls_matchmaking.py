"""Pages of the matchmaking funnel (namespace "matchmaking"): recommendations, introductions, calls, consortia."""

from django.urls import URLPattern, URLResolver, path

from frontend.views import matchmaking as views

app_name = "matchmaking"

urlpatterns: list[URLPattern | URLResolver] = [
    path("recommendations/", views.recommendations, name="recommendations"),
    path("recommendations/<id:org_pk>/preferences/", views.preferences_save, name="preferences_save"),
    path("introductions/", views.introduction_list, name="introduction_list"),
    path("introductions/new/<id:target_pk>/", views.introduction_new, name="introduction_new"),
    path("introductions/<id:pk>/", views.introduction_detail, name="introduction_detail"),
    path("introductions/<id:pk>/<slug:action>/", views.introduction_action, name="introduction_action"),
    path("broker/", views.broker_queue, name="broker_queue"),
    path("funnel/", views.funnel_dashboard, name="dashboard"),
    path("calls/", views.call_search, name="call_search"),
    path("calls/<id:pk>/", views.call_detail, name="call_detail"),
    path("consortia/", views.consortium_list, name="consortium_list"),
    path("consortia/<id:pk>/", views.consortium_detail, name="consortium_detail"),
    path("consortia/<id:pk>/eligibility.json", views.consortium_eligibility, name="consortium_eligibility"),
    path("consortia/<id:pk>/partners.csv", views.consortium_csv, name="consortium_csv"),
    path("consortia/<id:pk>/<slug:action>/", views.consortium_action, name="consortium_action"),
    path("organizations/<id:org_pk>/invite/", views.invite_from_profile, name="invite_from_profile"),
    path("saved-searches/", views.saved_search_list, name="saved_search_list"),
    path("saved-searches/new/", views.saved_search_create, name="saved_search_create"),
    path("saved-searches/<id:pk>/delete/", views.saved_search_delete, name="saved_search_delete"),
]
