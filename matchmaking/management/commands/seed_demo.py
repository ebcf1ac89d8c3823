"""Load the fictional demo: taxonomy, three clusters, ~490 members, people, calls, agreements, ImaginLab.

Deterministic (seeded) and idempotent: when the demo is already loaded the
command says so and prints the logins again, so `make demo` can run it every
time; `--reset` deletes the demo data (fictional organizations, demo users,
demo calls) and loads it afresh. Real data (non-fictional organizations,
other users) is never touched.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from matchmaking.demo import DEMO_COUNTS, generate_organizations
from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    FeeTier,
    IntroductionRequest,
    LabelDecision,
    Membership,
    MembershipStatus,
    Opportunity,
    Organization,
    OrganizationMember,
    OrganizationRole,
    ProfileStatus,
    Programme,
    ProjectLabel,
    SharedResource,
    StaffRole,
    Theme,
    User,
)
from matchmaking.signals import calls_changed, organizations_changed
from matchmaking.taxonomy import ensure_cluster_themes, ensure_taxonomy

DEMO_SEED = 20101124  # MNC's founding month; any constant works, it just must not change
DEMO_PASSWORD = "maillage-demo-2026"  # noqa: S105 - printed on purpose: fictional demo accounts only
DEMO_DOMAIN = "demo.maillage.example"

CLUSTERS: list[dict[str, Any]] = [
    {
        "code": "MNC",
        "name": "Maroc Numeric Cluster",
        "country": "MA",
        "region": "Casablanca-Settat",
        "website": "https://www.maroc-numeric-cluster.example",
        "description": "Cluster des technologies de l'information et de la communication fondé en novembre 2010 "
        "à Casablanca : startups, PME, grands comptes et universités. Services mobiles, multimédia, progiciels, "
        "paiement électronique et sécurité des systèmes d'information. Les admissions sont validées par le "
        "conseil d'administration ; le cluster labellise les projets innovants de ses membres.",
        "brokered_introductions": True,
    },
    {
        "code": "SYSTEMATIC",
        "name": "Systematic Paris-Region",
        "country": "FR",
        "region": "Île-de-France",
        "website": "https://systematic-paris-region.example",
        "description": "Pôle de compétitivité deep tech de la région parisienne : confiance numérique, IA et "
        "données, open source, optique et photonique, ville et mobilité durables, santé numérique, quantique. "
        "Accord de coopération avec MNC depuis juillet 2011.",
        "brokered_introductions": False,
    },
    {
        "code": "IMAGES-RESEAUX",
        "name": "Images & Réseaux",
        "country": "FR",
        "region": "Bretagne",
        "website": "https://www.images-et-reseaux.example",
        "description": "Pôle de compétitivité du numérique en Bretagne et Pays de la Loire : réseaux, 4G/5G, "
        "multimédia, internet des objets, cybersécurité. Anime la plateforme ImaginLab et l'événement "
        "« Loading the future ». Partenariat avec MNC depuis juin 2013.",
        "brokered_introductions": False,
    },
]

# email, full name, preferred language, cluster code, role
STAFF: list[tuple[str, str, str, str, str]] = [
    ("mnc.broker", "Salma Bennani (fictive)", "fr", "MNC", StaffRole.BROKER),
    ("mnc.admin", "Youssef Alaoui (fictif)", "fr", "MNC", StaffRole.ADMIN),
    ("systematic.broker", "Claire Morel (fictive)", "fr", "SYSTEMATIC", StaffRole.BROKER),
    ("ir.broker", "Erwan Le Gall (fictif)", "fr", "IMAGES-RESEAUX", StaffRole.BROKER),
]
# email, full name, language, [(cluster code, nth organization of that cluster, role)]
MEMBERS: list[tuple[str, str, str, list[tuple[str, int, str]]]] = [
    ("amina", "Amina El Idrissi (fictive)", "fr", [("MNC", 0, "owner"), ("MNC", 1, "owner")]),
    ("karim", "Karim Tazi (fictif)", "en", [("MNC", 2, "owner"), ("MNC", 0, "editor")]),
    ("julie", "Julie Lefèvre (fictive)", "fr", [("SYSTEMATIC", 0, "owner"), ("SYSTEMATIC", 1, "owner")]),
    ("thomas", "Thomas Martin (fictif)", "en", [("SYSTEMATIC", 2, "owner"), ("SYSTEMATIC", 0, "member")]),
    (
        "gwenaelle",
        "Gwenaëlle Kerbrat (fictive)",
        "fr",
        [("IMAGES-RESEAUX", 0, "owner"), ("IMAGES-RESEAUX", 1, "owner")],
    ),
    ("newcomer", "Nadia Chraibi (fictive)", "fr", [("MNC", -1, "owner")]),
]
AGREEMENTS = [
    ("MNC", "SYSTEMATIC", date(2011, 7, 1), "Accord de coopération MNC – Systematic Paris-Region (juillet 2011)."),
    ("MNC", "IMAGES-RESEAUX", date(2013, 6, 1), "Partenariat MNC – Images & Réseaux (juin 2013), dont ImaginLab."),
]

# Horizon Europe: EU member states plus countries associated to the programme.
# Greece appears as GR (ISO) and EL (CORDIS spelling), the UK as GB and UK.
EU_MEMBER_STATES = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "EL", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
]  # fmt: skip
HORIZON_ASSOCIATED = [
    "AL", "AM", "BA", "CA", "CH", "FO", "GB", "UK", "GE", "IL", "IS", "KR", "MD", "ME", "MK", "NO", "NZ",
    "RS", "TN", "TR", "UA", "XK",
]  # fmt: skip
DEMO_CALL_PREFIX = "DEMO-"


class Command(BaseCommand):
    help = "Load the fictional demo data (idempotent; --reset reloads it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Delete the demo data first, then load it again.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        parser.add_argument(
            "--no-track-records",
            action="store_true",
            help="Skip giving some demo organizations real CORDIS PICs and EU project records (faster).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["reset"]:
            self._reset()
        if Organization.objects.filter(is_fictional=True).exists():
            self.stdout.write("Demo data is already loaded (use --reset to reload it).")
        else:
            counts = self._load(track_records=not options["no_track_records"])
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo loaded in {time.monotonic() - started:.1f}s: "
                    + ", ".join(f"{n} {what}" for what, n in counts.items())
                )
            )
        self._conversations()
        if not options["quiet_logins"]:
            self._print_logins()

    # --- reset ---------------------------------------------------------------

    @transaction.atomic
    def _reset(self) -> None:
        ids = list(Organization.objects.filter(is_fictional=True).values_list("pk", flat=True))
        call_ids = list(Call.objects.filter(topic_code__startswith=DEMO_CALL_PREFIX).values_list("pk", flat=True))
        if ids:
            organizations_changed.send(sender=Organization, organization_ids=ids)
        if call_ids:
            calls_changed.send(sender=Call, call_ids=call_ids)
        # The demo conversations were opened by the demo introductions: drop them with
        # the organizations so that they are re-created, not left without participants.
        from messaging.models import Conversation

        introduction_ids = list(IntroductionRequest.objects.filter(requester_id__in=ids).values_list("pk", flat=True))
        Conversation.objects.filter(opened_by_kind="introduction", opened_by_id__in=introduction_ids).delete()
        Organization.objects.filter(pk__in=ids).delete()
        Call.objects.filter(pk__in=call_ids).delete()
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()
        SharedResource.objects.filter(name__startswith="ImaginLab").delete()
        ProjectLabel.objects.filter(project_title__endswith="(fictif)").delete()
        self.stdout.write(f"Removed {len(ids)} demo organizations and {len(call_ids)} demo calls.")

    # --- load ----------------------------------------------------------------

    @transaction.atomic
    def _load(self, *, track_records: bool) -> dict[str, int]:
        ensure_taxonomy()
        themes = {theme.code: theme.pk for theme in Theme.objects.all()}
        clusters: dict[str, Cluster] = {}
        for spec in CLUSTERS:
            cluster, _created = Cluster.objects.update_or_create(code=spec["code"], defaults=spec)
            clusters[spec["code"]] = cluster
            ensure_cluster_themes(spec["code"])
        for a, b, since, text in AGREEMENTS:
            ClusterAgreement.objects.update_or_create(
                cluster_a=clusters[a],
                cluster_b=clusters[b],
                defaults={"since": since, "a_members_see_b": True, "b_members_see_a": True, "description": text},
            )

        orgs_by_cluster: dict[str, list[Organization]] = {}
        opportunity_rows: list[Opportunity] = []
        membership_rows: list[Membership] = []
        theme_links: list[Any] = []
        now = timezone.now()
        real_pics = _real_pics() if track_records else {}
        for salt, (code, count) in enumerate(DEMO_COUNTS.items()):
            rows = list(generate_organizations(count, DEMO_SEED + salt, clusters=[code], salt=salt))
            # The first members (the demo users' organizations among them) carry real PICs,
            # so their profiles show a real EU track record (CORDIS data has no names).
            for row, pic in zip(rows, real_pics.get(code, []), strict=False):
                row["pic"] = pic
            orgs = Organization.objects.bulk_create(
                [
                    Organization(
                        **{k: v for k, v in row.items() if k not in _NOT_FIELDS},
                        profile_status=row["profile_status"],
                        validated_at=now if row["profile_status"] == ProfileStatus.VALIDATED else None,
                        is_fictional=True,
                    )
                    for row in rows
                ]
            )
            if not all(org.pk for org in orgs):  # backends without RETURNING: fetch ids back by unique name
                by_name = dict(
                    Organization.objects.filter(
                        is_fictional=True, legal_name__in=[o.legal_name for o in orgs]
                    ).values_list("legal_name", "pk")
                )
                for org in orgs:
                    org.pk = by_name[org.legal_name]
            orgs_by_cluster[code] = orgs
            for org, row in zip(orgs, rows, strict=True):
                theme_links += [
                    Organization.themes.through(organization_id=org.pk, theme_id=themes[t]) for t in row["themes"]
                ]
                opportunity_rows += [
                    Opportunity(organization_id=org.pk, **{**opp, "expires_on": opp["expires_on"]})
                    for opp in row["opportunities"]
                ]
                membership_rows.append(_membership(org, clusters[code], row["membership_status"], now))

        # Cross-cluster members: some Systematic members also joined Images & Réseaux,
        # and a few Moroccan members applied to Systematic (the admission queue has work).
        for org in orgs_by_cluster["SYSTEMATIC"][10:22]:
            membership_rows.append(_membership(org, clusters["IMAGES-RESEAUX"], MembershipStatus.ADMITTED, now))
        for org in orgs_by_cluster["MNC"][3:6]:
            membership_rows.append(_membership(org, clusters["SYSTEMATIC"], MembershipStatus.APPLIED, now))
        Organization.themes.through.objects.bulk_create(theme_links)
        Opportunity.objects.bulk_create(opportunity_rows)
        Membership.objects.bulk_create(membership_rows)

        users = self._people(clusters, orgs_by_cluster)
        eu_projects = self._track_records(real_pics) if real_pics else 0
        calls = self._calls(clusters)
        self._resources_and_labels(clusters, orgs_by_cluster)

        all_ids = [org.pk for orgs in orgs_by_cluster.values() for org in orgs]
        organizations_changed.send(sender=Organization, organization_ids=all_ids)
        calls_changed.send(sender=Call, call_ids=[call.pk for call in calls])
        return {
            "clusters": len(clusters),
            "organizations": len(all_ids),
            "offers and needs": len(opportunity_rows),
            "memberships": len(membership_rows),
            "users": users,
            "calls": len(calls),
            "EU projects": eu_projects,
        }

    def _track_records(self, real_pics: dict[str, list[str]]) -> int:
        from matchmaking import cordis
        from matchmaking.services.cordis import import_cordis

        base = cordis.data_dir()
        pics = [pic for values in real_pics.values() for pic in values]
        batch = cordis.read_h2020(base / cordis.H2020_PARTICIPATIONS, base / cordis.H2020_PROGRAMME_PARTS)
        return import_cordis(batch.only_projects_of(pics)).projects

    def _conversations(self) -> None:
        try:
            from messaging.demo import seed_conversations
        except ImportError:  # the messaging app is optional for the domain demo
            return
        # The demo introductions go through the real funnel, which emails every state
        # change: fictional people need no mail, and the console would drown the logins.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            created = seed_conversations(stdout=self.stdout)
        if created:
            self.stdout.write(f"{created} demo conversations created.")

    def _people(self, clusters: dict[str, Cluster], orgs: dict[str, list[Organization]]) -> int:
        from allauth.account.models import EmailAddress

        created = 0

        def user(local: str, full_name: str, language: str, **extra: Any) -> User:
            nonlocal created
            email = f"{local}@{DEMO_DOMAIN}"
            account = User.objects.create_user(
                email, DEMO_PASSWORD, full_name=full_name, preferred_language=language, **extra
            )
            EmailAddress.objects.create(user=account, email=email, verified=True, primary=True)
            created += 1
            return account

        user("admin", "Administrateur Maillage (démo)", "fr", is_staff=True, is_superuser=True)
        for local, name, language, code, role in STAFF:
            staff = user(local, name, language)
            ClusterStaff.objects.create(user=staff, cluster=clusters[code], role=role)

        # The newcomer's organization is a draft that applied to MNC: the walkable admission example.
        newcomer_org = orgs["MNC"][-1]
        Organization.objects.filter(pk=newcomer_org.pk).update(
            profile_status=ProfileStatus.SUBMITTED, validated_at=None
        )
        Membership.objects.filter(organization=newcomer_org, cluster=clusters["MNC"]).update(
            status=MembershipStatus.APPLIED, decided_at=None, board_note=""
        )
        for local, name, language, roles in MEMBERS:
            member = user(local, name, language)
            for code, nth, role in roles:
                org = orgs[code][nth]
                OrganizationMember.objects.create(user=member, organization=org, role=role)
                if nth >= 0 and role == OrganizationRole.OWNER:  # walkable profiles are validated and admitted
                    Organization.objects.filter(pk=org.pk).update(profile_status=ProfileStatus.VALIDATED)
                    Membership.objects.filter(organization=org, cluster=clusters[code]).update(
                        status=MembershipStatus.ADMITTED
                    )
        return created

    def _calls(self, clusters: dict[str, Cluster]) -> list[Call]:
        today = timezone.localdate()
        horizon = Call.objects.create(
            programme=Programme.HORIZON_EUROPE,
            topic_code=f"{DEMO_CALL_PREFIX}HORIZON-CL4-2027-DATA-01-05",
            title="Trustworthy edge services over 5G networks for SMEs (fictional demo call)",
            text=(
                "Fictional Horizon Europe-style research and innovation action. Eligibility: at least three "
                "independent legal entities established in three different EU member states or countries "
                "associated to Horizon Europe. Entities from other countries, such as Morocco, may take part "
                "as additional partners of the consortium (they do not count towards the minimum). Expected: "
                "secure edge computing, 5G testbeds, AI for network operations, open source results.\n\n"
                "Appel fictif inspiré d'Horizon Europe : au moins trois entités juridiques indépendantes établies "
                "dans trois États membres de l'UE ou pays associés différents ; les partenaires marocains peuvent "
                "rejoindre le consortium en plus de ce minimum."
            ),
            opens_on=today - timedelta(days=20),
            deadline=timezone.now() + timedelta(days=150),
            published_by=None,
            min_partners=3,
            min_countries=3,
            allowed_countries=EU_MEMBER_STATES + HORIZON_ASSOCIATED,
            required_kinds=[],
        )
        national = Call.objects.create(
            programme=Programme.NATIONAL,
            topic_code=f"{DEMO_CALL_PREFIX}IDEMO-2027-CYBER",
            title="Appel à projets collaboratifs « Cybersécurité des PME » (appel fictif de démonstration)",
            text=(
                "Appel à projets national fictif, inspiré des appels i-Démo : projets collaboratifs portés par "
                "au moins deux partenaires établis en France, dont au moins une PME et un laboratoire de "
                "recherche, sur la cybersécurité des PME et des collectivités.\n\n"
                "Fictional national call for collaborative projects: at least two partners established in "
                "France, including at least one SME and one research lab."
            ),
            opens_on=today - timedelta(days=10),
            deadline=timezone.now() + timedelta(days=90),
            published_by=clusters["SYSTEMATIC"],
            min_partners=2,
            min_countries=1,
            allowed_countries=["FR"],
            required_kinds=["sme", "research_lab"],
        )
        return [horizon, national]

    def _resources_and_labels(self, clusters: dict[str, Cluster], orgs: dict[str, list[Organization]]) -> None:
        SharedResource.objects.create(
            cluster=clusters["IMAGES-RESEAUX"],
            name="ImaginLab",
            description=(
                "Plateforme d'expérimentation ouverte à Brest : réseau de test 4G/LTE et 5G, datacenter et "
                "services cloud pour tester des applications et des objets connectés avant leur mise sur le marché."
            ),
            eligibility_criteria=(
                "Entreprises et laboratoires membres d'Images & Réseaux ou d'un cluster partenaire. Pour les "
                "entreprises marocaines, l'éligibilité est examinée par MNC (projet défini, équipe technique, "
                "calendrier de test)."
            ),
            screened_by=clusters["MNC"],
        )
        for title, org_index, decision, summary in [
            ("Portefeuille mobile interopérable (fictif)", 0, LabelDecision.AWARDED, "Innovation de rupture, marché"),
            ("Assistant vocal en darija (fictif)", 1, LabelDecision.AWARDED, "Équipe solide, preuve de concept."),
            ("Plateforme e-santé rurale (fictif)", 4, LabelDecision.PENDING, "Évaluation en cours."),
        ]:
            label = ProjectLabel.objects.create(
                cluster=clusters["MNC"],
                project_title=title,
                evaluation_summary=summary,
                decision=decision,
                decided_on=date(2026, 3, 15) if decision == LabelDecision.AWARDED else None,
            )
            label.organizations.add(orgs["MNC"][org_index])

    def _print_logins(self) -> None:
        width = max(len(local) for local, *_rest in [*STAFF, *MEMBERS]) + len(DEMO_DOMAIN) + 3
        lines = [
            "",
            f"Demo logins (fictional accounts), password for all: {DEMO_PASSWORD}",
            f"  {'admin@' + DEMO_DOMAIN:<{width}} platform administrator (Django admin)",
            "  Cluster staff - must enrol a TOTP authenticator (two-factor) at first login:",
        ]
        for local, _name, _lang, code, role in STAFF:
            lines.append(f"  {local + '@' + DEMO_DOMAIN:<{width}} {code} {role}")
        lines.append("  Members:")
        for local, _name, _lang, _roles in MEMBERS:
            roles = OrganizationMember.objects.filter(user__email=f"{local}@{DEMO_DOMAIN}").select_related(
                "organization"
            )
            what = "; ".join(f"{m.role} of {m.organization.name}" for m in roles.order_by("pk"))
            lines.append(f"  {local + '@' + DEMO_DOMAIN:<{width}} {what}")
        lines.append(
            "  (newcomer's organization has a pending application: walk the MNC admission queue as mnc.broker)"
        )
        self.stdout.write("\n".join(lines))


# Real PICs per demo cluster: Moroccan ones for MNC, French ones for the French clusters.
REAL_PIC_COUNTS = {"MNC": ("MA", 6), "SYSTEMATIC": ("FR", 25), "IMAGES-RESEAUX": ("FR", 12)}


def _real_pics() -> dict[str, list[str]]:
    from matchmaking import cordis

    french = cordis.sample_pics(sum(n for country, n in REAL_PIC_COUNTS.values() if country == "FR"), "FR")
    moroccan = cordis.sample_pics(REAL_PIC_COUNTS["MNC"][1], "MA")
    if not french and not moroccan:
        return {}
    return {
        "MNC": moroccan,
        "SYSTEMATIC": french[: REAL_PIC_COUNTS["SYSTEMATIC"][1]],
        "IMAGES-RESEAUX": french[REAL_PIC_COUNTS["SYSTEMATIC"][1] :],
    }


_NOT_FIELDS = frozenset({"cluster", "opportunities", "themes", "profile_status", "membership_status"})


def _membership(org: Organization, cluster: Cluster, status: str, now: Any) -> Membership:
    decided = status != MembershipStatus.APPLIED
    tier = {"startup": FeeTier.STARTUP, "large": FeeTier.LARGE, "huge": FeeTier.LARGE}.get(
        org.kind if org.kind == "startup" else org.size_band, FeeTier.SME
    )
    return Membership(
        organization=org,
        cluster=cluster,
        status=status,
        fee_tier=tier,
        motivation="Adhésion de démonstration (fictive).",
        applied_at=now - timedelta(days=400 if decided else 5),
        decided_at=now - timedelta(days=380) if decided else None,
        board_note="Admission validée par le conseil (démo)." if status == MembershipStatus.ADMITTED else "",
    )
