"""Server-rendered pages: each area of the site adds its own urls module here."""

from django.urls import URLPattern, URLResolver, include, path

from frontend.views import calls, clusters, home, members, organizations, search, staff

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home.home, name="home"),
    path("search/", search.search_page, name="search"),
    path("matchmaking/", include("frontend.urls_matchmaking", namespace="matchmaking")),
    path("messages/", include("frontend.urls_messaging", namespace="messaging")),
    path("clusters/", clusters.cluster_list, name="cluster_list"),
    path("clusters/<slug:code>/", clusters.cluster_detail, name="cluster_detail"),
    path("calls/", calls.call_list, name="call_list"),
    path("organizations/", organizations.my_organizations, name="my_organizations"),
    path("organizations/new/", organizations.organization_create, name="organization_create"),
    path("organizations/<id:pk>/", organizations.organization_detail, name="organization_detail"),
    path("organizations/<id:pk>/edit/", organizations.organization_edit, name="organization_edit"),
    path("organizations/<id:pk>/submit/", organizations.organization_submit, name="organization_submit"),
    path("organizations/<id:pk>/apply/", organizations.organization_apply, name="organization_apply"),
    path("organizations/<id:pk>/offers-needs/new/", organizations.opportunity_create, name="opportunity_create"),
    path(
        "organizations/<id:pk>/offers-needs/<id:opportunity_pk>/edit/",
        organizations.opportunity_edit,
        name="opportunity_edit",
    ),
    path(
        "organizations/<id:pk>/offers-needs/<id:opportunity_pk>/delete/",
        organizations.opportunity_delete,
        name="opportunity_delete",
    ),
    path("organizations/<id:pk>/people/", members.organization_members, name="organization_members"),
    path("organizations/<id:pk>/people/<id:member_pk>/role/", members.member_role, name="member_role"),
    path("organizations/<id:pk>/people/<id:member_pk>/remove/", members.member_remove, name="member_remove"),
    path("invitations/<str:token>/", members.invitation_accept, name="invitation_accept"),
    path("staff/", staff.staff_queue, name="staff_queue"),
    path("staff/applications/<id:pk>/", staff.staff_membership, name="staff_membership"),
    path("staff/organizations/<id:pk>/validate/", staff.staff_validate_profile, name="staff_validate_profile"),
]
