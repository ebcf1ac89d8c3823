"""Demo conversations: a few direct exchanges between members of different clusters.

Deterministic and idempotent (each demo conversation is keyed by its opener
"demo"/n), called at the end of `seed_demo`. Everything goes through the
services, like real traffic.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from matchmaking.models import Cluster, MembershipStatus, Organization, OrganizationMember
from messaging import services
from messaging.models import Conversation

DEMO_OPENER = "demo"

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


def seed_conversations(*, stdout: Any = None) -> int:
    """Create the demo conversations (once); returns how many were created now."""
    created = 0
    used: dict[str, int] = {}
    for number, (first_code, second_code, lines) in enumerate(SCRIPTS, start=1):
        if Conversation.objects.filter(opened_by_kind=DEMO_OPENER, opened_by_id=number).exists():
            continue
        first, second = _cluster(first_code), _cluster(second_code)
        if first is None or second is None:
            continue
        parties: list[Organization] = []
        for cluster in (first, second):
            candidates = [org for org in _staffed_members(cluster) if org not in parties]
            if not candidates:
                break
            index = used.get(cluster.code, 0) % len(candidates)
            used[cluster.code] = index + 1
            parties.append(candidates[index])
        if len(parties) != 2:
            continue
        with transaction.atomic():
            conversation = services.open_direct_conversation(
                organizations=parties, opened_by_kind=DEMO_OPENER, opened_by_id=number
            )
            authors = [
                OrganizationMember.objects.filter(organization=org).select_related("user").order_by("pk").first()
                for org in parties
            ]
            for line, (speaker, text) in enumerate(lines, start=1):
                author = authors[speaker]
                if author is None:
                    continue
                services.post_message(
                    user=author.user, conversation_id=conversation.pk, text=text, client_key=f"demo-{number}-{line}"
                )
        created += 1
        if stdout is not None:
            stdout.write(f"  conversation {parties[0].name} ↔ {parties[1].name}: {len(lines)} messages")
    return created
