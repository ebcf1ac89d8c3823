"""Shapes of the matchmaking-funnel API: recommendations, introductions, consortia, saved searches.

Requesters of anonymous introductions are rendered through
`funnel_access.requester_public` (the only place that decides what a viewer
may know about them); the viewing user comes from the serializer context.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matchmaking import funnel_access
from matchmaking.models import (
    Consortium,
    ConsortiumPartner,
    ConsortiumRole,
    IntroductionEvent,
    IntroductionPurpose,
    IntroductionRequest,
    OrganizationKind,
    SavedSearch,
)


class RecommendationSerializer(serializers.Serializer):
    organization_id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()
    kind = serializers.CharField()
    city = serializers.CharField()
    cluster_codes = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why, in words drawn from the data.")
    matched = serializers.ListField(child=serializers.CharField(), help_text="Named query clauses that matched.")
    opportunity_id = serializers.IntegerField(allow_null=True)
    eu_projects = serializers.IntegerField()


class RecommendationParams(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1)
    opportunity = serializers.IntegerField(min_value=1, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)


class PreferenceSerializer(serializers.Serializer):
    countries = serializers.ListField(child=serializers.CharField(max_length=2), max_length=60, default=list)
    other_clusters_only = serializers.BooleanField(default=False)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=OrganizationKind.choices), default=list)


class RequesterSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    country = serializers.CharField()
    kind = serializers.CharField()
    anonymous = serializers.BooleanField()


class IntroductionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntroductionEvent
        fields = ["from_state", "to_state", "note", "at"]


class IntroductionSerializer(serializers.ModelSerializer):
    requester = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    broker_note = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = IntroductionRequest
        fields = [
            "id",
            "requester",
            "target",
            "opportunity",
            "purpose",
            "message",
            "anonymous",
            "state",
            "broker_note",
            "decline_reason",
            "created_at",
            "expires_at",
            "decided_at",
            "conversation_id",
            "events",
        ]
        read_only_fields = fields

    def _user(self) -> Any:
        return self.context["request"].user

    @extend_schema_field(RequesterSerializer)
    def get_requester(self, obj: IntroductionRequest) -> dict[str, Any]:
        return funnel_access.requester_public(obj, self._user())

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_target(self, obj: IntroductionRequest) -> dict[str, Any]:
        return {"id": obj.target_id, "name": str(obj.target), "country": obj.target.country, "kind": obj.target.kind}

    @extend_schema_field(OpenApiTypes.STR)
    def get_broker_note(self, obj: IntroductionRequest) -> str:
        user = self._user()
        if funnel_access.can_broker(user, obj) or funnel_access.is_member_of(user, obj.target_id):
            return obj.broker_note
        return ""

    @extend_schema_field(IntroductionEventSerializer(many=True))
    def get_events(self, obj: IntroductionRequest) -> list[dict[str, Any]]:
        return IntroductionEventSerializer(obj.events.all(), many=True).data  # type: ignore[return-value]


class IntroductionCreateSerializer(serializers.Serializer):
    requester = serializers.IntegerField(min_value=1)
    target = serializers.IntegerField(min_value=1)
    opportunity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    purpose = serializers.ChoiceField(choices=IntroductionPurpose.choices)
    message = serializers.CharField(max_length=4000)
    anonymous = serializers.BooleanField(default=False)


class IntroductionActionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=["met", "unmet", "warning"])
    ok = serializers.BooleanField()
    explanation = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    partner_count = serializers.IntegerField()
    countries = serializers.ListField(child=serializers.CharField())
    ineligible_countries = serializers.ListField(child=serializers.CharField())
    missing_kinds = serializers.ListField(child=serializers.CharField())
    rules = RuleSerializer(many=True)


class ConsortiumPartnerSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    country = serializers.CharField(source="organization.country", read_only=True)
    pic = serializers.CharField(source="organization.pic", read_only=True, allow_null=True)

    class Meta:
        model = ConsortiumPartner
        fields = [
            "id",
            "organization",
            "organization_name",
            "country",
            "pic",
            "role_title",
            "role",
            "state",
            "invited_at",
            "responded_at",
        ]
        read_only_fields = fields


class ConsortiumRoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsortiumRole
        fields = ["id", "title", "competences", "kind", "country", "filled_by"]
        read_only_fields = ["id", "filled_by"]


class ConsortiumSerializer(serializers.ModelSerializer):
    partners = ConsortiumPartnerSerializer(many=True, read_only=True)
    roles = ConsortiumRoleSerializer(many=True, read_only=True)
    eligibility = serializers.SerializerMethodField()

    class Meta:
        model = Consortium
        fields = [
            "id",
            "call",
            "name",
            "acronym",
            "description",
            "coordinator",
            "created_at",
            "conversation_id",
            "partners",
            "roles",
            "eligibility",
        ]
        read_only_fields = fields

    @extend_schema_field(EligibilitySerializer)
    def get_eligibility(self, obj: Consortium) -> dict[str, Any]:
        from matchmaking.services import consortia

        return consortia.eligibility_report(obj).as_dict()


class ConsortiumCreateSerializer(serializers.Serializer):
    call = serializers.IntegerField(min_value=1)
    coordinator = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    acronym = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class InvitationCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1)
    role = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    role_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InvitationAnswerSerializer(serializers.Serializer):
    accept = serializers.BooleanField()


class SavedSearchSerializer(serializers.ModelSerializer):
    hits = serializers.SerializerMethodField()

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "query", "filters", "created_at", "last_notified_at", "hits"]
        read_only_fields = ["id", "created_at", "last_notified_at", "hits"]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_hits(self, obj: SavedSearch) -> list[int]:
        return [hit.organization_id for hit in obj.hits.all()]


class SavedSearchCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    query = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    filters = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField(max_length=64), max_length=20),
        required=False,
        default=dict,
    )
