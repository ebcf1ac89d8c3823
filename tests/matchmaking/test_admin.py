"""Admin: every list page renders, and the membership actions go through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client
from django.urls import reverse

from matchmaking import models as m
from tests.matchmaking.conftest import World


@pytest.fixture
def admin_client_for(world: World) -> Client:
    client = Client()
    client.force_login(world.users["superuser"])
    return client


def test_every_matchmaking_model_has_a_working_changelist_and_form(world: World, admin_client_for: Client) -> None:
    for model in admin.site._registry:
        if model._meta.app_label != "matchmaking":
            continue
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client_for.get(changelist).status_code == 200, changelist
        assert admin_client_for.get(changelist, {"q": "atlas"}).status_code == 200, changelist
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert admin_client_for.get(add).status_code == 200, add
    change = reverse("admin:matchmaking_organization_change", args=[world.orgs["A"].pk])
    assert admin_client_for.get(change).status_code == 200


def test_admit_action_calls_the_service(
    world: World, admin_client_for: Client, django_capture_on_commit_callbacks: Any, org_signals: Any
) -> None:
    m.OrganizationMember.objects.create(user=world.users["owner"], organization=world.orgs["E"], role="owner")
    application = m.Membership.objects.get(organization=world.orgs["E"])
    url = reverse("admin:matchmaking_membership_changelist")
    # first the action asks for the board's note, changing nothing yet
    page = admin_client_for.post(url, {"action": "admit", "_selected_action": [application.pk]})
    assert page.status_code == 200
    assert "board_note" in page.content.decode()
    application.refresh_from_db()
    assert application.status == "applied"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_for.post(
            url, {"action": "admit", "_selected_action": [application.pk], "confirm": "1", "board_note": "Bienvenue"}
        )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "admitted"
    assert application.decided_by == world.users["superuser"]
    assert application.board_note == "Bienvenue"
    assert [message.to for message in mail.outbox] == [[world.users["owner"].email]]
    assert world.orgs["E"].pk in org_signals.ids


def test_reject_action_refuses_non_pending_memberships(world: World, admin_client_for: Client) -> None:
    admitted = m.Membership.objects.get(organization=world.orgs["A"])
    response = admin_client_for.post(
        reverse("admin:matchmaking_membership_changelist"),
        {"action": "reject", "_selected_action": [admitted.pk], "confirm": "1", "board_note": "Non"},
        follow=True,
    )
    from django.contrib.messages import ERROR

    assert [message.level for message in response.context["messages"]] == [ERROR]
    admitted.refresh_from_db()
    assert admitted.status == "admitted"


def test_editing_an_organization_in_the_admin_bumps_its_version(world: World, org_signals: Any) -> None:
    from matchmaking.admin import OrganizationAdmin

    org = world.orgs["B"]
    model_admin = OrganizationAdmin(m.Organization, admin.site)
    form = type("F", (), {"instance": org, "save_m2m": lambda self: None})()
    model_admin.save_related(None, form, [], True)  # type: ignore[arg-type]
    org.refresh_from_db()
    assert org.version == 2
    assert org_signals.ids == {org.pk}
