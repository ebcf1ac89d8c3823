"""Serializers of the matchmaking API.

Two kinds, kept apart on purpose:

* output serializers (`*Serializer`) turn model instances into JSON;
* input serializers (`*InputSerializer`, `*FilterSerializer`) check *types
  and shapes* only, strictly (no coercion of 123 into "123"), and refuse
  unknown fields. Business rules (identifier check digits, uniqueness,
  eligibility consistency, who may do what) live in the services, which
  raise Django's ValidationError/PermissionDenied; `maillage.api` turns
  those into 400/403 with the same field-keyed shape.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maillage.api import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    id_field,
)
from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    ClusterTheme,
    FeeTier,
    Membership,
    MembershipStatus,
    Opportunity,
    OpportunityKind,
    Organization,
    OrganizationKind,
    OrganizationRole,
    ProfileStatus,
    Programme,
    SizeBand,
    StaffRole,
    Theme,
    Visibility,
)
from matchmaking.validators import MAX_ITEM_LENGTH, MAX_LIST_ITEMS

# Free texts have no length limit in the database; the API bounds them so a
# single request cannot store megabytes of prose.
MAX_TEXT_LENGTH = 20_000
MAX_NOTE_LENGTH = 5_000


def text_list(*, max_item_length: int = MAX_ITEM_LENGTH, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(max_length=max_item_length, allow_blank=False),
        max_length=MAX_LIST_ITEMS,
        **kwargs,
    )


# --- Output: shared references -------------------------------------------------


class ClusterRefSerializer(serializers.ModelSerializer[Cluster]):
    class Meta:
        model = Cluster
        fields = ["id", "code", "name"]
        read_only_fields = fields


class OrganizationRefSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "legal_name", "acronym", "name"]
        read_only_fields = fields


class ThemeSerializer(serializers.ModelSerializer[Theme]):
    class Meta:
        model = Theme
        fields = ["code", "label_fr", "label_en"]
        read_only_fields = fields


# --- Clusters --------------------------------------------------------------------


class ClusterThemeSerializer(serializers.ModelSerializer[ClusterTheme]):
    shared_theme = ThemeSerializer(read_only=True)

    class Meta:
        model = ClusterTheme
        fields = ["code", "label", "shared_theme"]
        read_only_fields = fields


class AgreementSerializer(serializers.Serializer[Any]):
    """One agreement seen from the cluster that lists it."""

    partner = ClusterRefSerializer(read_only=True)
    since = serializers.DateField(read_only=True)
    until = serializers.DateField(read_only=True, allow_null=True)
    active = serializers.BooleanField(read_only=True)
    our_members_see_partner = serializers.BooleanField(
        read_only=True, help_text="Members of this cluster see the partner's partner-visible members."
    )
    partner_members_see_ours = serializers.BooleanField(
        read_only=True, help_text="Members of the partner see this cluster's partner-visible members."
    )
    description = serializers.CharField(read_only=True)


def agreements_of(cluster: Cluster) -> list[dict[str, Any]]:
    """The cluster's agreements, from its own point of view (uses the prefetched relations)."""
    today = timezone.localdate()
    rows: list[dict[str, Any]] = []
    as_a: list[ClusterAgreement] = list(cluster.agreements_as_a.all())
    as_b: list[ClusterAgreement] = list(cluster.agreements_as_b.all())
    for agreement, ours_first in [(a, True) for a in as_a] + [(b, False) for b in as_b]:
        rows.append(
            {
                "partner": agreement.cluster_b if ours_first else agreement.cluster_a,
                "since": agreement.since,
                "until": agreement.until,
                "active": agreement.since <= today and (agreement.until is None or agreement.until >= today),
                "our_members_see_partner": agreement.a_members_see_b if ours_first else agreement.b_members_see_a,
                "partner_members_see_ours": agreement.b_members_see_a if ours_first else agreement.a_members_see_b,
                "description": agreement.description,
            }
        )
    return sorted(rows, key=lambda row: (row["since"], row["partner"].code))


class ClusterSerializer(serializers.ModelSerializer[Cluster]):
    themes = ClusterThemeSerializer(many=True, read_only=True)
    agreements = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True, help_text="Admitted member organizations.")

    class Meta:
        model = Cluster
        fields = [
            "id",
            "code",
            "name",
            "country",
            "region",
            "website",
            "description",
            "brokered_introductions",
            "member_count",
            "themes",
            "agreements",
        ]
        read_only_fields = fields

    @extend_schema_field(AgreementSerializer(many=True))
    def get_agreements(self, cluster: Cluster) -> Any:
        return AgreementSerializer(agreements_of(cluster), many=True).data


# --- Organizations ---------------------------------------------------------------


class OpportunitySerializer(serializers.ModelSerializer[Opportunity]):
    is_offer = serializers.BooleanField(read_only=True, help_text="True for offers, false for needs.")
    is_expired = serializers.BooleanField(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "organization",
            "kind",
            "is_offer",
            "title",
            "text",
            "trl",
            "tags",
            "expires_on",
            "is_expired",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MembershipBriefSerializer(serializers.ModelSerializer[Membership]):
    cluster = ClusterRefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "cluster", "status", "fee_tier", "applied_at", "decided_at"]
        read_only_fields = fields


def _theme_codes(org: Organization) -> list[str]:
    return sorted(theme.code for theme in org.themes.all())


def _admitted_clusters(org: Organization) -> list[Cluster]:
    memberships: list[Membership] = list(org.memberships.all())
    return sorted((m.cluster for m in memberships if m.status == MembershipStatus.ADMITTED), key=lambda c: c.code)


class OrganizationSummarySerializer(serializers.ModelSerializer[Organization]):
    """What a directory listing shows. Identifiers and offers/needs are on the detail."""

    themes = serializers.SerializerMethodField()
    clusters = serializers.SerializerMethodField()
    competences = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "legal_name",
            "acronym",
            "name",
            "kind",
            "size_band",
            "country",
            "city",
            "website",
            "themes",
            "competences",
            "languages",
            "visibility",
            "profile_status",
            "clusters",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_themes(self, org: Organization) -> list[str]:
        return _theme_codes(org)

    @extend_schema_field(ClusterRefSerializer(many=True))
    def get_clusters(self, org: Organization) -> Any:
        return ClusterRefSerializer(_admitted_clusters(org), many=True).data


IDENTIFIER_FIELDS = ("siren", "siret", "ice", "pic")
ONLY_PRIVILEGED = "Present only for the organization's editors and its clusters' staff."


class OrganizationDetailSerializer(OrganizationSummarySerializer):
    """The full profile.

    Context (set by the view from `matchmaking.access`): `role` (the viewer's
    role or None), `can_edit`, `is_staff_viewer`. Identifiers and pending or
    refused applications are shown only to editors and cluster staff.
    """

    opportunities = OpportunitySerializer(many=True, read_only=True)
    memberships = serializers.SerializerMethodField()
    # Not read-only on purpose: the schema then marks them optional, which they
    # are (omitted for viewers who are neither editors nor staff). This
    # serializer is never used for input.
    my_role = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()
    siren = serializers.CharField(required=False, allow_null=True, help_text=ONLY_PRIVILEGED)
    siret = serializers.CharField(required=False, allow_null=True, help_text=ONLY_PRIVILEGED)
    ice = serializers.CharField(required=False, allow_null=True, help_text=ONLY_PRIVILEGED)
    pic = serializers.CharField(required=False, allow_null=True, help_text=ONLY_PRIVILEGED)

    class Meta(OrganizationSummarySerializer.Meta):
        fields = [
            *OrganizationSummarySerializer.Meta.fields,
            "latitude",
            "longitude",
            "description_fr",
            "description_en",
            *IDENTIFIER_FIELDS,
            "validated_at",
            "created_at",
            "opportunities",
            "memberships",
            "my_role",
            "can_edit",
        ]
        read_only_fields = fields

    def _privileged(self) -> bool:
        return bool(self.context.get("can_edit") or self.context.get("is_staff_viewer"))

    @extend_schema_field(MembershipBriefSerializer(many=True))
    def get_memberships(self, org: Organization) -> Any:
        memberships: list[Membership] = list(org.memberships.all())
        if not self._privileged():
            memberships = [m for m in memberships if m.status == MembershipStatus.ADMITTED]
        return MembershipBriefSerializer(memberships, many=True).data

    @extend_schema_field(serializers.ChoiceField(choices=OrganizationRole.choices, allow_null=True))
    def get_my_role(self, org: Organization) -> str | None:
        role = self.context.get("role")
        return str(role) if role else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_edit(self, org: Organization) -> bool:
        return bool(self.context.get("can_edit"))

    def to_representation(self, instance: Organization) -> Any:
        data = super().to_representation(instance)
        if not self._privileged():
            for name in IDENTIFIER_FIELDS:
                data.pop(name, None)
        return data


class OrganizationInputSerializer(StrictSerializer):
    """Profile fields an owner or editor sets. On create, `legal_name`, `kind` and `country` are required."""

    read_only_names = frozenset(OrganizationDetailSerializer.Meta.fields)

    legal_name = StrictCharField(max_length=300)
    acronym = StrictCharField(max_length=60, allow_blank=True, required=False)
    kind = StrictChoiceField(choices=OrganizationKind.choices)
    size_band = StrictChoiceField(choices=SizeBand.choices, allow_blank=True, required=False)
    country = StrictCharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. FR or MA.")
    city = StrictCharField(max_length=120, allow_blank=True, required=False)
    latitude = StrictFloatField(min_value=-90, max_value=90, allow_null=True, required=False)
    longitude = StrictFloatField(min_value=-180, max_value=180, allow_null=True, required=False)
    website = StrictCharField(max_length=200, allow_blank=True, required=False, help_text="An http(s) URL.")
    siren = StrictCharField(
        max_length=32, allow_null=True, allow_blank=True, required=False, help_text="9 digits, Luhn-checked (France)."
    )
    siret = StrictCharField(
        max_length=32, allow_null=True, allow_blank=True, required=False, help_text="14 digits, Luhn-checked (France)."
    )
    ice = StrictCharField(
        max_length=32, allow_null=True, allow_blank=True, required=False, help_text="15 digits (Morocco)."
    )
    pic = StrictCharField(
        max_length=32,
        allow_null=True,
        allow_blank=True,
        required=False,
        help_text="EU Participant Identification Code, 9 digits.",
    )
    description_fr = StrictCharField(
        max_length=MAX_TEXT_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )
    description_en = StrictCharField(
        max_length=MAX_TEXT_LENGTH, allow_blank=True, required=False, trim_whitespace=False
    )
    competences = text_list(required=False, help_text="Keywords.")
    themes = text_list(
        max_item_length=64, required=False, help_text="Codes of shared themes (see the clusters' themes)."
    )
    languages = serializers.ListField(
        child=StrictCharField(min_length=2, max_length=2),
        max_length=MAX_LIST_ITEMS,
        required=False,
        help_text="ISO 639-1 codes, e.g. fr, en, ar.",
    )
    visibility = StrictChoiceField(choices=Visibility.choices, required=False)


class OpportunityInputSerializer(StrictSerializer):
    read_only_names = frozenset(OpportunitySerializer.Meta.fields)

    kind = StrictChoiceField(choices=OpportunityKind.choices)
    title = StrictCharField(max_length=200)
    text = StrictCharField(max_length=MAX_TEXT_LENGTH, allow_blank=True, required=False, trim_whitespace=False)
    trl = StrictIntegerField(min_value=1, max_value=9, allow_null=True, required=False)
    tags = text_list(required=False)
    expires_on = serializers.DateField(allow_null=True, required=False, help_text="YYYY-MM-DD.")


ORGANIZATION_ORDERINGS = ["legal_name", "-legal_name", "created_at", "-created_at", "updated_at", "-updated_at"]


class OrganizationFilterSerializer(serializers.Serializer[Any]):
    """Query parameters of the organization list (all optional)."""

    cluster = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Id of a cluster the organization is admitted in."
    )
    country = serializers.CharField(min_length=2, max_length=2, required=False, help_text="e.g. FR, MA.")
    kind = serializers.ChoiceField(choices=OrganizationKind.choices, required=False)
    profile_status = serializers.ChoiceField(
        choices=ProfileStatus.choices,
        required=False,
        help_text="Others' profiles are listed only once validated; useful for your own and, for staff, applicants.",
    )
    mine = serializers.BooleanField(required=False, default=False, help_text="Only organizations you belong to.")
    ordering = serializers.ChoiceField(choices=ORGANIZATION_ORDERINGS, required=False, default="legal_name")


# --- Memberships -----------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    organization = OrganizationRefSerializer(read_only=True)
    cluster = ClusterRefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "organization",
            "cluster",
            "status",
            "fee_tier",
            "motivation",
            "applied_at",
            "decided_at",
            "board_note",
        ]
        read_only_fields = fields


class MembershipApplyInputSerializer(StrictSerializer):
    read_only_names = frozenset(MembershipSerializer.Meta.fields)

    organization = id_field(help_text="Id of an organization you own or edit.")
    cluster = id_field(help_text="Id of the cluster to join.")
    fee_tier = StrictChoiceField(choices=FeeTier.choices)
    motivation = StrictCharField(max_length=MAX_NOTE_LENGTH, allow_blank=True, required=False, default="")


class MembershipDecisionInputSerializer(StrictSerializer):
    admit = StrictBooleanField(help_text="true to admit, false to reject.")
    board_note = StrictCharField(
        max_length=MAX_NOTE_LENGTH,
        allow_blank=True,
        required=False,
        default="",
        help_text="The board's decision note; required when rejecting.",
    )


class MembershipLapseInputSerializer(StrictSerializer):
    note = StrictCharField(max_length=MAX_NOTE_LENGTH, allow_blank=True, required=False, default="")


class MembershipFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=MembershipStatus.choices, required=False)
    cluster = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    organization = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


# --- Calls -----------------------------------------------------------------------


class CallSerializer(serializers.ModelSerializer[Call]):
    published_by = ClusterRefSerializer(read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True)
    allowed_countries = serializers.ListField(child=serializers.CharField(), read_only=True)
    required_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=OrganizationKind.choices), read_only=True
    )

    class Meta:
        model = Call
        fields = [
            "id",
            "programme",
            "topic_code",
            "title",
            "text",
            "opens_on",
            "deadline",
            "is_open",
            "published_by",
            "min_partners",
            "min_countries",
            "allowed_countries",
            "required_kinds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CallUpdateInputSerializer(StrictSerializer):
    read_only_names = frozenset(CallSerializer.Meta.fields)

    programme = StrictChoiceField(choices=Programme.choices)
    topic_code = StrictCharField(max_length=120)
    title = StrictCharField(max_length=300)
    text = StrictCharField(max_length=MAX_TEXT_LENGTH, allow_blank=True, required=False, trim_whitespace=False)
    opens_on = serializers.DateField(help_text="YYYY-MM-DD.")
    deadline = serializers.DateTimeField(help_text="ISO 8601 date and time, e.g. 2026-04-15T17:00:00+02:00.")
    min_partners = StrictIntegerField(min_value=1, max_value=1000, required=False)
    min_countries = StrictIntegerField(min_value=1, max_value=300, required=False)
    allowed_countries = serializers.ListField(
        child=StrictCharField(min_length=2, max_length=2),
        max_length=300,
        required=False,
        help_text="ISO 3166-1 alpha-2 codes; empty means any country.",
    )
    required_kinds = serializers.ListField(
        child=StrictChoiceField(choices=OrganizationKind.choices),
        max_length=len(OrganizationKind.choices),
        required=False,
        help_text="Kinds each present at least once in the consortium.",
    )


class CallCreateInputSerializer(CallUpdateInputSerializer):
    published_by = id_field(
        allow_null=True,
        required=False,
        help_text="Id of the publishing cluster, which you administer (only superusers may leave it empty).",
    )


CALL_ORDERINGS = ["deadline", "-deadline", "opens_on", "-opens_on", "topic_code", "-topic_code"]


class CallFilterSerializer(serializers.Serializer[Any]):
    programme = serializers.ChoiceField(choices=Programme.choices, required=False)
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: open now; false: not open now."
    )
    cluster = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Id of the publishing cluster."
    )
    ordering = serializers.ChoiceField(choices=CALL_ORDERINGS, required=False, default="deadline")


# --- Me and tokens ---------------------------------------------------------------


class MyOrganizationSerializer(serializers.Serializer[Any]):
    organization = OrganizationRefSerializer(read_only=True)
    role = serializers.ChoiceField(choices=OrganizationRole.choices, read_only=True)


class MyStaffRoleSerializer(serializers.Serializer[Any]):
    cluster = ClusterRefSerializer(read_only=True)
    role = serializers.ChoiceField(choices=StaffRole.choices, read_only=True)


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    preferred_language = serializers.ChoiceField(choices=settings.LANGUAGES, read_only=True)
    is_superuser = serializers.BooleanField(read_only=True)
    organizations = MyOrganizationSerializer(many=True, read_only=True)
    staff_clusters = MyStaffRoleSerializer(many=True, read_only=True)
    requires_mfa = serializers.BooleanField(
        read_only=True, help_text="Cluster staff must enrol two-factor authentication before acting as staff."
    )


class TokenInputSerializer(StrictSerializer):
    email = StrictCharField(max_length=254, required=False, help_text="Omit when already signed in (session or token).")
    password = StrictCharField(max_length=4096, required=False, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(read_only=True, help_text="Send as `Authorization: Token <token>`.")
    created = serializers.DateTimeField(read_only=True)
