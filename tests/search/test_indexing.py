"""The index follows the database: real services, changes applied after commit, outbox semantics."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from matchmaking.models import (
    ClusterAgreement,
    ClusterStaff,
    Membership,
    MembershipStatus,
    OpportunityKind,
    StaffRole,
    Visibility,
)
from matchmaking.services import calls as call_services
from matchmaking.services import membership as membership_services
from matchmaking.services import organizations as org_services
from matchmaking.signals import organizations_changed
from search import documents, indexing
from search.client import get_client
from search.indexing import ORGANIZATIONS
from search.models import PendingIndexChange
from search.queries import search_calls, search_organizations
from tests.fixtures.search import SearchWorld, make_user

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


def found(viewer: Any, text: str = "") -> set[int]:
    return set(search_organizations(viewer, text=text, size=100).ids)


def mnc_staff(world: SearchWorld) -> Any:
    person = make_user()
    ClusterStaff.objects.create(user=person, cluster=world.mnc, role=StaffRole.ADMIN)
    return person


def test_profile_update_is_searchable_after_commit(
    search_world: SearchWorld, django_capture_on_commit_callbacks: Any
) -> None:
    w = search_world
    # given atlas indexed; when its owner rewrites the description through the service
    with django_capture_on_commit_callbacks(execute=True):
        org_services.update_organization(
            user=w.mnc_member, organization=w.atlas, data={"description_fr": "Hydroliennes et énergie marémotrice."}
        )
    # then the new words find it at once, the old ones no longer do, and the outbox is empty
    assert w.atlas.pk in found(w.sys_member, "hydroliennes")
    assert w.atlas.pk not in found(w.sys_member, "banques")
    assert not PendingIndexChange.objects.exists()
    w.atlas.refresh_from_db()
    assert get_client().get(index=ORGANIZATIONS.alias, id=str(w.atlas.pk))["_version"] == w.atlas.version


def test_nothing_is_sent_before_commit(search_world: SearchWorld, django_capture_on_commit_callbacks: Any) -> None:
    w = search_world
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        org_services.update_organization(user=w.mnc_member, organization=w.atlas, data={"competences": ["houle"]})
        # the change is recorded durably in the same transaction, not yet applied
        assert PendingIndexChange.objects.filter(kind="organization", object_id=w.atlas.pk).count() == 1
        assert w.atlas.pk not in found(w.superuser, "houle")
    assert len(callbacks) == 1
    callbacks[0]()
    assert w.atlas.pk in found(w.superuser, "houle")


def test_new_member_appears_once_admitted(search_world: SearchWorld, django_capture_on_commit_callbacks: Any) -> None:
    w = search_world
    owner = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        org = org_services.create_organization(
            user=owner,
            data={"legal_name": "Marrakech Drones", "kind": "startup", "country": "MA", "description_fr": "Drones."},
        )
    assert org.pk not in found(w.superuser, "drones")  # a draft is not indexed
    with django_capture_on_commit_callbacks(execute=True):
        membership = membership_services.apply_to_cluster(
            user=owner, organization=org, cluster=w.mnc, fee_tier="startup"
        )
    assert org.pk not in found(w.superuser, "drones")  # applied, not admitted
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.decide_membership(user=mnc_staff(w), membership=membership, admit=True, board_note="")
    assert org.pk in found(w.mnc_member, "drones")


def test_profile_made_private_disappears_at_once(
    search_world: SearchWorld, django_capture_on_commit_callbacks: Any
) -> None:
    w = search_world
    assert w.atlas.pk in found(w.sys_member)
    with django_capture_on_commit_callbacks(execute=True):
        org_services.update_organization(
            user=w.mnc_member, organization=w.atlas, data={"visibility": Visibility.CLUSTER}
        )
    # no explicit refresh here: the flush made the change searchable before returning
    assert w.atlas.pk not in found(w.sys_member)
    assert w.atlas.pk in found(w.mnc_member)


def test_lapsed_member_disappears_at_once(search_world: SearchWorld, django_capture_on_commit_callbacks: Any) -> None:
    w = search_world
    membership = Membership.objects.get(organization=w.atlas, cluster=w.mnc)
    with django_capture_on_commit_callbacks(execute=True):
        membership_services.lapse_membership(user=mnc_staff(w), membership=membership)
    assert w.atlas.pk not in found(w.superuser)
    assert not get_client().exists(index=ORGANIZATIONS.alias, id=str(w.atlas.pk))


def test_deleted_organization_leaves_the_index(
    search_world: SearchWorld, django_capture_on_commit_callbacks: Any
) -> None:
    w = search_world
    org_id = w.breizh.pk
    with django_capture_on_commit_callbacks(execute=True):
        org_services.delete_organization(user=w.ir_member, organization=w.breizh)
    assert org_id not in found(w.superuser)
    assert not PendingIndexChange.objects.exists()


def test_offers_and_needs_follow(search_world: SearchWorld, django_capture_on_commit_callbacks: Any) -> None:
    w = search_world
    with django_capture_on_commit_callbacks(execute=True):
        item = org_services.save_opportunity(
            user=w.mnc_member,
            organization=w.atlas,
            data={"kind": OpportunityKind.TECHNOLOGY_REQUEST, "title": "Capteurs LoRaWAN", "trl": 6},
        )
    assert w.atlas.pk in found(w.superuser, "lorawan")
    with django_capture_on_commit_callbacks(execute=True):
        org_services.delete_opportunity(user=w.mnc_member, opportunity=item)
    assert w.atlas.pk not in found(w.superuser, "lorawan")


def test_agreement_change_reindexes_the_affected_organizations(
    search_world: SearchWorld, django_capture_on_commit_callbacks: Any
) -> None:
    w = search_world
    assert w.atlas.pk in found(w.sys_member)
    # when the MNC-Systematic agreement ends and the organizations of both clusters are announced
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ClusterAgreement.objects.filter(cluster_a=w.mnc, cluster_b=w.systematic).delete()
        affected = Membership.objects.filter(cluster__in=[w.mnc, w.systematic]).values_list(
            "organization_id", flat=True
        )
        org_services.mark_organizations_changed(list(affected))
    assert w.atlas.pk not in found(w.sys_member)
    assert w.quantix.pk not in found(w.mnc_member)
    assert w.atlas.pk in found(w.ir_member)


def test_outbox_deduplicates_and_rolls_back_with_the_transaction(search_world: SearchWorld) -> None:
    w = search_world
    with transaction.atomic():
        organizations_changed.send(sender=None, organization_ids=[w.atlas.pk, w.atlas.pk])
        organizations_changed.send(sender=None, organization_ids=[w.atlas.pk])
        assert PendingIndexChange.objects.filter(object_id=w.atlas.pk).count() == 1

    def change_then_fail() -> None:
        with transaction.atomic():
            organizations_changed.send(sender=None, organization_ids=[w.quantix.pk])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert not PendingIndexChange.objects.filter(object_id=w.quantix.pk).exists()


def test_a_late_stale_write_loses(search_world: SearchWorld) -> None:
    w = search_world
    fresh = next(documents.organization_actions([w.atlas.pk]))
    newer = documents.DocumentAction(w.atlas.pk, fresh.version + 5, {**fresh.document, "legal_name": "Newer"})  # type: ignore[dict-item]
    older = documents.DocumentAction(w.atlas.pk, fresh.version + 1, {**fresh.document, "legal_name": "Older"})  # type: ignore[dict-item]
    assert indexing.apply_actions(ORGANIZATIONS, [newer]) == {}
    assert indexing.apply_actions(ORGANIZATIONS, [older]) == {}  # refused quietly: a newer state is there
    assert get_client().get(index=ORGANIZATIONS.alias, id=str(w.atlas.pk))["_source"]["legal_name"] == "Newer"


def test_changed_again_during_flush_stays_pending(search_world: SearchWorld) -> None:
    w = search_world
    # given a pending change, read by a flush that is still talking to Elasticsearch
    indexing.record_changes("organization", [w.atlas.pk])
    seen = [dict(row) for row in PendingIndexChange.objects.values("pk", "object_id", "token")]
    # when the organization changes again before that flush deletes its rows
    indexing.record_changes("organization", [w.atlas.pk])
    indexing._delete_unchanged(seen)
    # then the newer change is still pending, and the next flush applies it
    assert PendingIndexChange.objects.filter(object_id=w.atlas.pk).count() == 1
    assert indexing.flush("organization").applied == 1
    assert not PendingIndexChange.objects.exists()


def test_calls_follow(search_world: SearchWorld, django_capture_on_commit_callbacks: Any) -> None:
    w = search_world
    admin = make_user()
    ClusterStaff.objects.create(user=admin, cluster=w.ir, role=StaffRole.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        call = call_services.update_call(user=admin, call=w.call, data={"title": "Photonique intégrée"})
    assert [hit.id for hit in search_calls(w.outsider, "photonique").hits] == [call.pk]
    with django_capture_on_commit_callbacks(execute=True):
        call_services.delete_call(user=admin, call=call)
    assert search_calls(w.outsider, "photonique").total == 0


def test_lapse_status_is_what_the_index_reads(search_world: SearchWorld) -> None:
    # the index reads the database at flush time, not the signal's payload
    w = search_world
    Membership.objects.filter(organization=w.quantix).update(status=MembershipStatus.LAPSED)
    organizations_changed.send(sender=None, organization_ids=[w.quantix.pk])
    indexing.flush("organization")
    assert w.quantix.pk not in found(w.superuser)


def test_old_pending_changes_ride_along_with_the_next_flush(search_world: SearchWorld) -> None:
    from datetime import timedelta

    from django.utils import timezone

    w = search_world
    # given a change left pending a while ago (Elasticsearch was away, no worker running)
    Membership.objects.filter(organization=w.quantix).update(status=MembershipStatus.LAPSED)
    indexing.record_changes("organization", [w.quantix.pk])
    PendingIndexChange.objects.update(last_attempt_at=timezone.now() - timedelta(minutes=5), attempts=1)
    # when another change is flushed after its commit
    indexing.record_changes("organization", [w.atlas.pk])
    indexing.flush_after_commit("organization", [w.atlas.pk])
    # then the old one was applied too
    assert not PendingIndexChange.objects.exists()
    assert w.quantix.pk not in found(w.superuser)


def test_missing_index_keeps_changes_pending(search_world: SearchWorld) -> None:
    from tests.fixtures.search import drop_indices

    w = search_world
    drop_indices()
    indexing.record_changes("organization", [w.atlas.pk])
    result = indexing.flush("organization")
    # nothing was auto-created under the alias's name; the change waits for `search_index ensure`
    assert result.unavailable
    assert PendingIndexChange.objects.get(object_id=w.atlas.pk).attempts == 1
    assert not get_client().indices.exists(index=ORGANIZATIONS.alias)
