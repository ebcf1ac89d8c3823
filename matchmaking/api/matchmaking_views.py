"""Matchmaking-funnel API: parse → ask access → call one service → serialize.

Services raise ValidationError / PermissionDenied / Http404; the project's
exception handler turns them into 400 / 403 / 404. Elasticsearch outages
become 503 with a clear message.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from maillage.api import JSONParser
from matchmaking import access, funnel_access, funnel_selectors
from matchmaking.api import matchmaking_serializers as s
from matchmaking.models import Consortium, ConsortiumRole, IntroductionRequest, Opportunity
from matchmaking.services import consortia as consortium_services
from matchmaking.services import introductions as introduction_services
from matchmaking.services import recommendations as recommendation_services
from matchmaking.services import saved_searches as saved_search_services


class SearchServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The search service does not answer right now; try again shortly."
    default_code = "search_unavailable"


def _recommendations(call: Any) -> list[dict[str, Any]]:
    from search import recommend

    try:
        results = call(recommend)
    except recommend.SearchUnavailable as exc:
        raise SearchServiceUnavailable from exc
    return [s.RecommendationSerializer(r).data for r in results]


class JsonAPIView(APIView):
    parser_classes = [JSONParser]


# --- Recommendations ---------------------------------------------------------------------------


class RecommendationsView(JsonAPIView):
    @extend_schema(
        parameters=[s.RecommendationParams],
        responses={200: s.RecommendationSerializer(many=True), 503: OpenApiResponse(description="Search down.")},
        summary="Explained partner recommendations for one of your organizations (or one of its needs)",
    )
    def get(self, request: Request) -> Response:
        params = s.RecommendationParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        org_id = params.validated_data["organization"]
        if not funnel_access.is_member_of(request.user, org_id) and not request.user.is_superuser:
            raise Http404
        org = access.access_organization(request.user, org_id)
        opportunity = None
        if "opportunity" in params.validated_data:
            opportunity = Opportunity.objects.filter(pk=params.validated_data["opportunity"], organization=org).first()
            if opportunity is None:
                raise Http404
        limit = params.validated_data["limit"]
        return Response(
            _recommendations(lambda r: r.recommend(request.user, org, opportunity=opportunity, limit=limit))
        )


class SimilarOrganizationsView(JsonAPIView):
    @extend_schema(responses={200: s.RecommendationSerializer(many=True)}, summary="Organizations similar to this one")
    def get(self, request: Request, pk: int) -> Response:
        org = access.access_organization(request.user, pk)
        return Response(_recommendations(lambda r: r.similar_organizations(request.user, org)))


class PreferenceView(JsonAPIView):
    @extend_schema(responses={200: s.PreferenceSerializer}, summary="Recommendation preferences of an organization")
    def get(self, request: Request, pk: int) -> Response:
        org = access.access_organization(request.user, pk)
        if not funnel_access.is_member_of(request.user, org.pk) and not request.user.is_superuser:
            raise Http404
        return Response(s.PreferenceSerializer(recommendation_services.preferences_for(org.pk)).data)

    @extend_schema(
        request=s.PreferenceSerializer,
        responses={200: s.PreferenceSerializer},
        summary="Change the recommendation preferences of an organization",
    )
    def put(self, request: Request, pk: int) -> Response:
        data = s.PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pref = recommendation_services.save_preferences(request.user, pk, **data.validated_data)
        return Response(s.PreferenceSerializer(pref).data)


# --- Introductions -----------------------------------------------------------------------------


class IntroductionListView(JsonAPIView):
    @extend_schema(responses={200: s.IntroductionSerializer(many=True)}, summary="Introduction requests you may see")
    def get(self, request: Request) -> Response:
        qs = funnel_access.introductions_visible_to(request.user).prefetch_related("events").order_by("-created_at")
        box = request.query_params.get("box")
        if box == "received":
            qs = funnel_selectors.received(request.user).prefetch_related("events")
        elif box == "sent":
            qs = funnel_selectors.sent(request.user).prefetch_related("events")
        return Response(s.IntroductionSerializer(qs[:200], many=True, context={"request": request}).data)

    @extend_schema(
        request=s.IntroductionCreateSerializer,
        responses={201: s.IntroductionSerializer},
        summary="Ask for an introduction to another organization",
    )
    def post(self, request: Request) -> Response:
        data = s.IntroductionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        intro = introduction_services.request_introduction(
            request.user,
            requester_id=v["requester"],
            target_id=v["target"],
            opportunity_id=v.get("opportunity"),
            purpose=v["purpose"],
            message=v["message"],
            anonymous=v["anonymous"],
        )
        return Response(s.IntroductionSerializer(intro, context={"request": request}).data, status=201)


class IntroductionDetailView(JsonAPIView):
    @extend_schema(responses={200: s.IntroductionSerializer}, summary="One introduction request with its history")
    def get(self, request: Request, pk: int) -> Response:
        intro = funnel_access.access_introduction(request.user, pk)
        return Response(s.IntroductionSerializer(intro, context={"request": request}).data)


ACTIONS = {
    "accept": lambda user, pk, v: introduction_services.accept(user, pk, note=v["note"]),
    "decline": lambda user, pk, v: introduction_services.decline(user, pk, reason=v["reason"]),
    "withdraw": lambda user, pk, v: introduction_services.withdraw(user, pk),
    "approve": lambda user, pk, v: introduction_services.approve(user, pk, note=v["note"]),
    "annotate": lambda user, pk, v: introduction_services.annotate(user, pk, note=v["note"]),
    "broker-decline": lambda user, pk, v: introduction_services.broker_decline(user, pk, reason=v["reason"]),
}


class IntroductionActionView(JsonAPIView):
    @extend_schema(
        operation_id="introductions_action",
        request=s.IntroductionActionSerializer,
        responses={200: s.IntroductionSerializer},
        summary="accept | decline (reason) | withdraw | approve (note) | annotate (note) | broker-decline (reason)",
    )
    def post(self, request: Request, pk: int, action: str) -> Response:
        if action not in ACTIONS:
            raise Http404
        data = s.IntroductionActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        intro: IntroductionRequest = ACTIONS[action](request.user, pk, data.validated_data)
        return Response(s.IntroductionSerializer(intro, context={"request": request}).data)


class BrokerQueueView(JsonAPIView):
    @extend_schema(responses={200: s.IntroductionSerializer(many=True)}, summary="Requests waiting for a broker")
    def get(self, request: Request) -> Response:
        if not funnel_access.is_staff_anywhere(request.user):
            raise Http404
        queue = funnel_access.broker_queue(request.user).prefetch_related("events")[:200]
        return Response(s.IntroductionSerializer(queue, many=True, context={"request": request}).data)


# --- Consortia -----------------------------------------------------------------------------------


class ConsortiumListView(JsonAPIView):
    @extend_schema(responses={200: s.ConsortiumSerializer(many=True)}, summary="Consortia of your organizations")
    def get(self, request: Request) -> Response:
        qs = funnel_selectors.my_consortia(request.user).prefetch_related("partners__organization", "roles")[:100]
        return Response(s.ConsortiumSerializer(qs, many=True).data)

    @extend_schema(
        request=s.ConsortiumCreateSerializer, responses={201: s.ConsortiumSerializer}, summary="Start a consortium"
    )
    def post(self, request: Request) -> Response:
        data = s.ConsortiumCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        consortium = consortium_services.create_consortium(
            request.user,
            call_id=v["call"],
            coordinator_id=v["coordinator"],
            name=v["name"],
            acronym=v["acronym"],
            description=v["description"],
        )
        return Response(s.ConsortiumSerializer(consortium).data, status=201)


class ConsortiumDetailView(JsonAPIView):
    @extend_schema(responses={200: s.ConsortiumSerializer}, summary="A consortium with its live eligibility")
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ConsortiumSerializer(funnel_access.access_consortium(request.user, pk)).data)


class ConsortiumRolesView(JsonAPIView):
    @extend_schema(
        request=s.ConsortiumRoleSerializer, responses={201: s.ConsortiumRoleSerializer}, summary="Add a role to fill"
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.ConsortiumRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = consortium_services.add_role(request.user, pk, **data.validated_data)
        return Response(s.ConsortiumRoleSerializer(role).data, status=201)


class RoleSuggestionsView(JsonAPIView):
    @extend_schema(responses={200: s.RecommendationSerializer(many=True)}, summary="Partners that fill an open role")
    def get(self, request: Request, pk: int, role_pk: int) -> Response:
        consortium = funnel_access.access_consortium_for_coordination(request.user, pk)
        role = ConsortiumRole.objects.filter(pk=role_pk, consortium=consortium).first()
        if role is None:
            raise Http404
        return Response(_recommendations(lambda r: r.suggest_for_role(request.user, consortium, role)))


class ConsortiumInvitationsView(JsonAPIView):
    @extend_schema(
        request=s.InvitationCreateSerializer,
        responses={201: s.ConsortiumPartnerSerializer},
        summary="Invite an organization into the consortium",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        partner = consortium_services.invite_partner(
            request.user, pk, organization_id=v["organization"], role_id=v.get("role"), role_title=v["role_title"]
        )
        return Response(s.ConsortiumPartnerSerializer(partner).data, status=201)


class InvitationAnswerView(JsonAPIView):
    @extend_schema(
        request=s.InvitationAnswerSerializer,
        responses={200: s.ConsortiumPartnerSerializer},
        summary="Accept or decline an invitation into a consortium",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.InvitationAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = consortium_services.respond(request.user, pk, accept=data.validated_data["accept"])
        return Response(s.ConsortiumPartnerSerializer(partner).data)


class ConsortiumEligibilityView(JsonAPIView):
    @extend_schema(responses={200: s.EligibilitySerializer}, summary="Does the consortium meet the call's rules?")
    def get(self, request: Request, pk: int) -> Response:
        consortium: Consortium = funnel_access.access_consortium(request.user, pk)
        return Response(consortium_services.eligibility_report(consortium).as_dict())


# --- Saved searches ------------------------------------------------------------------------------


class SavedSearchListView(JsonAPIView):
    @extend_schema(responses={200: s.SavedSearchSerializer(many=True)}, summary="Your saved searches")
    def get(self, request: Request) -> Response:
        return Response(s.SavedSearchSerializer(saved_search_services.list_for(request.user), many=True).data)

    @extend_schema(
        request=s.SavedSearchCreateSerializer, responses={201: s.SavedSearchSerializer}, summary="Save a search"
    )
    def post(self, request: Request) -> Response:
        data = s.SavedSearchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = saved_search_services.create(request.user, **data.validated_data)
        return Response(s.SavedSearchSerializer(saved).data, status=201)


class SavedSearchDetailView(JsonAPIView):
    @extend_schema(responses={204: None}, summary="Delete a saved search")
    def delete(self, request: Request, pk: int) -> Response:
        saved_search_services.delete(request.user, pk)
        return Response(status=204)
