"""matchmaking/services/calls.py: who publishes calls, which rules are consistent, who is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from matchmaking.models import Call, Cluster, ClusterStaff, StaffRole, User
from matchmaking.services.calls import create_call, delete_call, update_call
from matchmaking.signals import calls_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def mnc() -> Cluster:
    return Cluster.objects.create(code="MNC", name="Maroc Numeric Cluster", country="MA")


def staff(cluster: Cluster, role: str, email: str) -> User:
    user = User.objects.create_user(email=email, password="x-long-password-1")
    ClusterStaff.objects.create(user=user, cluster=cluster, role=role)
    return user


def rules(**overrides: Any) -> dict[str, Any]:
    return {
        "programme": "national",
        "topic_code": "MNC-2027-AI",
        "title": "IA appliquée",
        "opens_on": timezone.localdate(),
        "deadline": timezone.now() + timedelta(days=30),
        "min_partners": 2,
        "min_countries": 2,
        "allowed_countries": ["ma", "FR", "MA "],
        "required_kinds": ["sme", "sme", "university"],
        **overrides,
    }


@pytest.fixture
def told() -> Any:
    """Call ids sent on `calls_changed`, each with whether the service had its own transaction open.

    The test itself runs inside transactions; the service's `atomic()` nests
    one more savepoint, which is what "sent inside the transaction" looks like.
    """
    received: list[tuple[list[int], bool]] = []
    baseline = len(connection.savepoint_ids)

    def receiver(sender: Any, call_ids: list[int], **kwargs: Any) -> None:
        received.append((call_ids, len(connection.savepoint_ids) > baseline))

    calls_changed.connect(receiver)
    yield received
    calls_changed.disconnect(receiver)


def test_admin_publishes_with_normalized_rules_and_followers_are_told_inside_the_transaction(
    mnc: Cluster, told: Any
) -> None:
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")

    call = create_call(user=admin, data={**rules(), "published_by": mnc.pk})

    assert call.allowed_countries == ["MA", "FR"]
    assert call.required_kinds == ["sme", "university"]
    assert call.published_by == mnc
    assert told == [([call.pk], True)]


def test_broker_cannot_publish(mnc: Cluster) -> None:
    broker = staff(mnc, StaffRole.BROKER, "broker@mnc.test")

    with pytest.raises(PermissionDenied):
        create_call(user=broker, data={**rules(), "published_by": mnc})

    assert not Call.objects.exists()


def test_only_superusers_publish_without_a_cluster(mnc: Cluster) -> None:
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")
    root = User.objects.create_superuser(email="root@maillage.test", password="x-long-password-1")

    with pytest.raises(PermissionDenied):
        create_call(user=admin, data=rules())
    call = create_call(user=root, data=rules(topic_code="HORIZON-X"))

    assert call.published_by is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_countries": 3}, "min_countries"),
        ({"allowed_countries": ["MA"], "min_countries": 2}, "min_countries"),
        ({"allowed_countries": ["MAR"]}, "allowed_countries"),
        ({"allowed_countries": [1]}, "allowed_countries"),
        ({"required_kinds": ["ngo"]}, "required_kinds"),
        ({"deadline": timezone.now() - timedelta(days=400)}, "deadline"),
        ({"title": ""}, "title"),
        ({"published_by": 10**30}, "published_by"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_inconsistent_rules_are_validation_errors(mnc: Cluster, told: Any, overrides: Any, field: str) -> None:
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")

    with pytest.raises(ValidationError) as raised:
        create_call(user=admin, data={"published_by": mnc.pk, **rules(**overrides)})

    assert field in raised.value.message_dict
    assert not Call.objects.exists()
    assert told == []


def test_update_keeps_the_publisher_and_checks_the_rules_again(mnc: Cluster, told: Any) -> None:
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")
    call = create_call(user=admin, data={**rules(), "published_by": mnc.pk})

    with pytest.raises(ValidationError) as moved:
        update_call(user=admin, call=call, data={"published_by": None})
    with pytest.raises(ValidationError) as inconsistent:
        update_call(user=admin, call=call, data={"min_partners": 1})
    changed = update_call(user=admin, call=call, data={"min_partners": 4, "title": "IA"})

    assert "published_by" in moved.value.message_dict
    assert "min_countries" in inconsistent.value.message_dict
    assert (changed.min_partners, changed.title, changed.published_by_id) == (4, "IA", mnc.pk)
    assert [ids for ids, _ in told] == [[call.pk], [call.pk]]


def test_admin_of_another_cluster_cannot_change_or_delete(mnc: Cluster) -> None:
    other = Cluster.objects.create(code="IR", name="Images & Réseaux", country="FR")
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")
    stranger = staff(other, StaffRole.ADMIN, "admin@ir.test")
    call = create_call(user=admin, data={**rules(), "published_by": mnc.pk})

    with pytest.raises(PermissionDenied):
        update_call(user=stranger, call=call, data={"title": "Mine now"})
    with pytest.raises(PermissionDenied):
        delete_call(user=stranger, call=call)

    assert Call.objects.get(pk=call.pk).title == "IA appliquée"


def test_delete_tells_followers_before_the_row_goes(mnc: Cluster, told: Any) -> None:
    admin = staff(mnc, StaffRole.ADMIN, "admin@mnc.test")
    call = create_call(user=admin, data={**rules(), "published_by": mnc.pk})
    call_id = call.pk

    delete_call(user=admin, call=call)

    assert told[-1] == ([call_id], True)
    assert not Call.objects.filter(pk=call_id).exists()
