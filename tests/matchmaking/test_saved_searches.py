"""Saved searches: a changed or newly validated profile that matches alerts the owner once (live and in the digest)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone, translation

from matchmaking.models import Organization, SavedSearch, SavedSearchHit
from matchmaking.services import organizations as organization_services
from matchmaking.services import saved_searches
from messaging.models import Notification
from search import indexing, lifecycle
from tests.fixtures import funnel
from tests.fixtures.search import indices  # noqa: F401

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def rebuild() -> None:
    for spec in indexing.SPECS.values():
        lifecycle.Rebuilder(spec).rebuild(threads=1)


def touch(org: Organization) -> None:
    """A profile change as the services record it: new version, new update time."""
    Organization.objects.filter(pk=org.pk).update(version=org.version + 1, updated_at=timezone.now())
    org.refresh_from_db()


@pytest.fixture
def world(request: pytest.FixtureRequest) -> dict[str, Any]:
    request.getfixturevalue("indices")
    mnc = funnel.cluster("MNC", "MA")
    sys = funnel.cluster("SYS", "FR")
    oth = funnel.cluster("OTH", "FR")
    funnel.agreement(mnc, sys)
    _atlas, people = funnel.organization("Atlas Pay", mnc, country="MA")
    owner = people[0]
    saved = saved_searches.create(owner, name="Fraud in France", query="fraud detection", filters={"country": ["FR"]})
    SavedSearch.objects.filter(pk=saved.pk).update(created_at=timezone.now() - timedelta(hours=1))
    seine, seine_people = funnel.organization("Seine Secure", sys, country="FR", competences=["fraud detection"])
    lyon, _ = funnel.organization("Lyon Bakery", sys, country="FR", competences=["bread"])
    hidden, _ = funnel.organization(
        "Hidden Fraud", oth, country="FR", visibility="cluster", competences=["fraud detection"]
    )
    berlin, _ = funnel.organization("Berlin Fraud", sys, country="DE", competences=["fraud detection"])
    rebuild()
    return {"owner": owner, "saved": saved, "seine": seine, "seine_user": seine_people[0], "lyon": lyon,
            "hidden": hidden, "berlin": berlin}  # fmt: skip


def test_matching_change_alerts_once(world: dict[str, Any]) -> None:
    ids = [world["seine"].pk, world["lyon"].pk, world["hidden"].pk, world["berlin"].pk]
    assert saved_searches.process_changes(ids) == 1
    hit = SavedSearchHit.objects.get()
    assert hit.organization == world["seine"]
    assert hit.version == world["seine"].version
    note = Notification.objects.get(user=world["owner"], kind="saved_search.match")
    assert "Seine Secure" in note.payload["title"]
    # The same change processed again (cron sweep after the on-commit hook), then a later change: no new alert
    assert saved_searches.process_changes(ids) == 0
    touch(world["seine"])
    rebuild()
    assert saved_searches.process_changes([world["seine"].pk]) == 0
    assert Notification.objects.filter(user=world["owner"]).count() == 1


def test_changes_before_the_search_was_saved_do_not_alert(world: dict[str, Any]) -> None:
    SavedSearch.objects.filter(pk=world["saved"].pk).update(created_at=timezone.now() + timedelta(minutes=1))
    assert saved_searches.process_changes([world["seine"].pk]) == 0


def test_daily_digest_lists_each_hit_once(world: dict[str, Any]) -> None:
    saved_searches.process_changes([world["seine"].pk])
    mail.outbox.clear()
    assert saved_searches.send_digests() == 1
    assert "Seine Secure" in mail.outbox[0].body
    assert "Fraud in France" in mail.outbox[0].body
    assert mail.outbox[0].to == [world["owner"].email]
    assert saved_searches.send_digests() == 0


def test_profile_update_through_the_service_alerts_after_commit(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # Given Lyon (no match yet); when its owner adds the competence through the profile service
    lyon_owner = funnel.user()
    from matchmaking.models import OrganizationMember, OrganizationRole

    OrganizationMember.objects.create(user=lyon_owner, organization=world["lyon"], role=OrganizationRole.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        organization_services.update_organization(
            user=lyon_owner, organization=world["lyon"], data={"competences": ["fraud detection", "bread"]}
        )
    # Then the index flush and the match ran after commit: one alert
    assert SavedSearchHit.objects.filter(organization=world["lyon"]).exists()
    assert Notification.objects.filter(user=world["owner"], kind="saved_search.match").count() == 1


def test_cron_command_sweeps_and_digests(world: dict[str, Any]) -> None:
    touch(world["seine"])
    out = io.StringIO()
    call_command("matchmaking_tasks", "--digest", stdout=out)
    assert "1 alerts, 1 digests" in out.getvalue()
    assert SavedSearchHit.objects.filter(organization=world["seine"]).count() == 1
    assert len(mail.outbox) == 1


def test_saving_needs_a_query_or_a_filter_and_valid_values(world: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        saved_searches.create(world["owner"], name="x", query="", filters={})
    with pytest.raises(ValidationError):
        saved_searches.create(world["owner"], name="x", query="a", filters={"kind": ["pirate"]})
    saved = saved_searches.create_from_querystring(
        world["owner"], name="", querystring="?q=cyber&country=FR&page=3&sort=name"
    )
    assert saved.filters == {"country": ["FR"]}
    assert saved.name == "cyber"
