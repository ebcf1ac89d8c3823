"""Demo conversations: a few direct exchanges between members of different clusters.

Each one starts the way real ones do: an introduction request, approved by a
broker where the cluster's policy asks for one, accepted by the target, which
opens the direct conversation; then a few messages. Deterministic and
idempotent (a pair that already has an accepted introduction is skipped),
called at the end of `seed_demo`. Everything goes through the services, like
real traffic.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from matchmaking import access, funnel_access
from matchmaking.models import (
    Cluster,
    ClusterStaff,
    IntroductionPurpose,
    IntroductionRequest,
    IntroductionState,
    MembershipStatus,
    Organization,
    OrganizationMember,
    User,
)
from matchmaking.services import introductions
from messaging import services

# (cluster of the first party, cluster of the second, the exchange: 0 = first party speaks, 1 = second)
SCRIPTS: list[tuple[str, str, list[tuple[int, str]]]] = [
    (
        "mnc",
        "systematic",
        [
            (0, "Bonjour ! Nous cherchons un partenaire français pour un projet de paiement mobile sécurisé."),
            (
                1,
                "Bonjour, ravis de vous lire. Notre équipe travaille sur la sécurité des SI : "
                "un appel la semaine prochaine ?",
            ),
            (0, "Avec plaisir. Mardi 10h (heure de Casablanca) vous convient-il ?"),
            (1, "Parfait, je vous envoie une invitation. 👍"),
        ],
    ),
    (
        "mnc",
        "images-reseaux",
        [
            (0, "Hello, we would like to test our multimedia streaming service on a 4G/LTE network."),
            (1, "Hi! ImaginLab in Brest could host your tests. Has MNC screened your eligibility yet?"),
            (0, "The request is with MNC staff. مرحبا بكم في الدار البيضاء إن زرتمونا!"),
        ],
    ),
    (
        "systematic",
        "mnc",
        [
            (0, "Nous préparons une réponse à un appel Horizon Europe et cherchons un partenaire marocain."),
            (1, "Intéressant ! Nous avons une offre de progiciel pour l'e-administration (TRL 7)."),
        ],
    ),
]


def _cluster(code: str) -> Cluster | None:
    return (
        Cluster.objects.filter(code__iexact=code).first()
        or Cluster.objects.filter(code__icontains=code.split("-")[0]).first()
    )


def _staffed_members(cluster: Cluster) -> list[Organization]:
    """Admitted members of a cluster that have at least one user, in a stable order."""
    return list(
        Organization.objects.filter(
            memberships__cluster=cluster,
            memberships__status=MembershipStatus.ADMITTED,
            members__isnull=False,
        )
        .distinct()
        .order_by("pk")
    )


def _first_user(org: Organization) -> User | None:
    member = OrganizationMember.objects.filter(organization=org).select_related("user").order_by("pk").first()
    return member.user if member else None


def _introduce(requester: Organization, target: Organization, opening: str) -> int:
    """Request, broker approval when needed, acceptance: returns the conversation it opened."""
    asker, answerer = _first_user(requester), _first_user(target)
    if asker is None or answerer is None:
        raise RuntimeError("demo introductions need a person on each side")
    request = introductions.request_introduction(
        asker,
        requester_id=requester.pk,
        target_id=target.pk,
        purpose=IntroductionPurpose.TECHNOLOGY,
        message=opening,
    )
    if request.state == IntroductionState.PENDING_BROKER:
        staff = (
            ClusterStaff.objects.filter(cluster_id__in=funnel_access.brokering_cluster_ids(request))
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if staff is None:
            raise RuntimeError("a brokering cluster of the demo has no staff")
        introductions.approve(staff.user, request.pk, note="Demo: forwarded by the cluster's broker.")
    accepted = introductions.accept(answerer, request.pk)
    return int(accepted.conversation_id)  # type: ignore[arg-type]  # set by accept(), same transaction


def seed_conversations(*, stdout: Any = None) -> int:
    """Create the demo introductions and their conversations (once); returns how many were created now."""
    created = 0
    used: dict[str, int] = {}
    for number, (first_code, second_code, lines) in enumerate(SCRIPTS, start=1):
        first, second = _cluster(first_code), _cluster(second_code)
        if first is None or second is None:
            continue
        requester_candidates = _staffed_members(first)
        if not requester_candidates:
            continue
        index = used.get(first.code, 0) % len(requester_candidates)
        used[first.code] = index + 1
        requester = requester_candidates[index]
        asker = _first_user(requester)
        # The target must be visible to the requester's people, as in a real request.
        visible = set(access.visible_organizations(asker).values_list("pk", flat=True))
        targets = [org for org in _staffed_members(second) if org.pk in visible and org != requester]
        if not targets:
            continue
        index = used.get(second.code, 0) % len(targets)
        used[second.code] = index + 1
        target = targets[index]
        parties = [requester, target]
        if IntroductionRequest.objects.filter(
            requester=requester, target=target, state=IntroductionState.ACCEPTED
        ).exists():
            continue
        with transaction.atomic():
            conversation_id = _introduce(requester, target, lines[0][1])
            authors = [_first_user(org) for org in parties]
            for line, (speaker, text) in enumerate(lines, start=1):
                author = authors[speaker]
                if author is None:
                    continue
                services.post_message(
                    user=author, conversation_id=conversation_id, text=text, client_key=f"demo-{number}-{line}"
                )
        created += 1
        if stdout is not None:
            stdout.write(
                f"  introduction and conversation {parties[0].name} ↔ {parties[1].name}: {len(lines)} messages"
            )
    return created
