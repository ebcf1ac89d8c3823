"""Matchmaking API views: parse, ask `matchmaking.access`, call one service, serialize.

Every object lookup goes through `access` (404 when the user may not even see
the object, 403 when they see it but may not change it); every write goes
through `matchmaking.services`. Their ValidationError/PermissionDenied become
400/403 in `maillage.api.exception_handler`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from allauth.account.utils import has_verified_email
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth import authenticate
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from maillage.api import JSONParser, Pagination
from maillage.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from matchmaking import access, selectors
from matchmaking.api import serializers as s
from matchmaking.models import (
    Call,
    Cluster,
    ClusterAgreement,
    ClusterStaff,
    Membership,
    MembershipStatus,
    Opportunity,
    Organization,
    User,
)
from matchmaking.services import calls as call_services
from matchmaking.services import membership as membership_services
from matchmaking.services import organizations as organization_services

# Ids in URLs: digits that fit a 64-bit column. Anything else is a 404 here,
# before a database driver can choke on it.
_ID_RE = re.compile(r"[1-9][0-9]{0,17}")

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [messages]}`, `non_field_errors` for the whole body."),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Signed in but not allowed."),
    404: OpenApiResponse(description="No such object, or not visible to you."),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


def signed_in(request: Request) -> User:
    """The request's user, once IsAuthenticated has let it through."""
    return cast(User, request.user)


def require_second_factor(user: Any) -> None:
    """Staff act for a whole cluster: as on the staff pages, a stolen password must not be enough."""
    if access.staff_requires_mfa(user):
        raise exceptions.PermissionDenied(
            _("Cluster staff must protect their account with an authenticator app before acting as staff.")
        )


def parse_id(value: Any) -> int:
    if isinstance(value, str) and _ID_RE.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    raise exceptions.NotFound()


def validated(serializer_class: type[BaseSerializer[Any]], data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ApiViewSet(viewsets.GenericViewSet[Any]):
    """Shared plumbing: JSON bodies only (authentication: the project's default, token first)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    pagination_class = Pagination
    # Any path segment reaches the view, which answers a JSON 404 for a bad id.
    lookup_value_regex = "[^/]+"

    def object_id(self, name: str = "pk") -> int:
        return parse_id(self.kwargs.get(name))

    @property
    def for_schema(self) -> bool:
        """True while drf-spectacular inspects the view with a fake request."""
        return bool(getattr(self, "swagger_fake_view", False))


# --- Clusters --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List clusters", responses={200: s.ClusterSerializer(many=True), **errors(401)}),
    retrieve=extend_schema(
        summary="A cluster, with its themes and agreements", responses={200: s.ClusterSerializer, **errors(401, 404)}
    ),
)
class ClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Clusters are public to every signed-in user."""

    serializer_class = s.ClusterSerializer
    queryset = Cluster.objects.none()

    def get_queryset(self) -> QuerySet[Cluster]:
        if self.for_schema:
            return Cluster.objects.none()
        agreements = ClusterAgreement.objects.select_related("cluster_a", "cluster_b")
        return (
            selectors.clusters_with_counts()
            .prefetch_related(
                Prefetch("agreements_as_a", queryset=agreements), Prefetch("agreements_as_b", queryset=agreements)
            )
            .order_by("code")
        )

    def get_object(self) -> Cluster:
        try:
            return self.get_queryset().get(pk=self.object_id())
        except Cluster.DoesNotExist as exc:
            raise exceptions.NotFound() from exc


# --- Organizations ---------------------------------------------------------------


def _organization_context(user: Any, org: Organization) -> dict[str, Any]:
    return {
        "role": access.organization_role(user, org),
        "can_edit": access.can_edit_organization(user, org),
        "is_staff_viewer": access.can_staff_organization(user, org),
    }


@extend_schema_view(
    list=extend_schema(
        summary="List the organizations you may see",
        parameters=[s.OrganizationFilterSerializer],
        responses={200: s.OrganizationSummarySerializer(many=True), **errors(400, 401)},
    ),
    retrieve=extend_schema(
        summary="An organization's profile, with its offers and needs",
        responses={200: s.OrganizationDetailSerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="Create an organization (you become its owner; the profile starts as a draft)",
        request=s.OrganizationInputSerializer,
        responses={201: s.OrganizationDetailSerializer, **errors(400, 401)},
    ),
    partial_update=extend_schema(
        summary="Change profile fields (owners and editors)",
        request=s.OrganizationInputSerializer(partial=True),
        responses={200: s.OrganizationDetailSerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(summary="Delete an organization (owners)", responses={204: None, **errors(401, 403, 404)}),
)
class OrganizationViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = s.OrganizationSummarySerializer
    queryset = Organization.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Organization]:
        if self.for_schema:
            return Organization.objects.none()
        filters = validated(s.OrganizationFilterSerializer, self.request.query_params)
        orgs = access.visible_organizations(self.request.user)
        if "cluster" in filters:
            orgs = orgs.filter(
                memberships__cluster_id=filters["cluster"], memberships__status=MembershipStatus.ADMITTED
            )
        if "country" in filters:
            orgs = orgs.filter(country=filters["country"].upper())
        if "kind" in filters:
            orgs = orgs.filter(kind=filters["kind"])
        if "profile_status" in filters:
            orgs = orgs.filter(profile_status=filters["profile_status"])
        if filters.get("mine"):
            orgs = orgs.filter(members__user_id=signed_in(self.request).pk)
        return orgs.prefetch_related(
            "themes", Prefetch("memberships", queryset=Membership.objects.select_related("cluster"))
        ).order_by(filters["ordering"], "pk")

    def _detail(self, org_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        org = selectors.organization_detail(user=self.request.user, organization_id=org_id)
        context = {**self.get_serializer_context(), **_organization_context(self.request.user, org)}
        return Response(s.OrganizationDetailSerializer(org, context=context).data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.object_id())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(s.OrganizationInputSerializer, request.data)
        org = organization_services.create_organization(user=request.user, data=data)
        return self._detail(org.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = access.access_organization_for_edit(request.user, self.object_id())
        data = validated(s.OrganizationInputSerializer, request.data, partial=True)
        organization_services.update_organization(user=request.user, organization=org, data=data)
        return self._detail(org.pk)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = access.access_organization(request.user, self.object_id())
        organization_services.delete_organization(user=request.user, organization=org)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Submit a draft profile for validation by cluster staff (owners and editors)",
        request=None,
        responses={200: s.OrganizationDetailSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        org = access.access_organization_for_edit(request.user, self.object_id())
        organization_services.submit_profile(user=request.user, organization=org)
        return self._detail(org.pk)

    @extend_schema(
        summary="Validate a profile (staff of a cluster where the organization applied or is a member)",
        request=None,
        responses={200: s.OrganizationDetailSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, pk: str | None = None) -> Response:
        org = access.access_organization(request.user, self.object_id())
        require_second_factor(request.user)
        organization_services.validate_profile(user=request.user, organization=org)
        return self._detail(org.pk)


ORGANIZATION_ID = OpenApiParameter("organization_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
OPPORTUNITY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        summary="An organization's offers and needs",
        parameters=[ORGANIZATION_ID],
        responses={200: s.OpportunitySerializer(many=True), **errors(401, 404)},
    ),
    retrieve=extend_schema(
        summary="One offer or need",
        parameters=[ORGANIZATION_ID, OPPORTUNITY_ID],
        responses={200: s.OpportunitySerializer, **errors(401, 404)},
    ),
    create=extend_schema(
        summary="Publish an offer or need (owners and editors)",
        parameters=[ORGANIZATION_ID],
        request=s.OpportunityInputSerializer,
        responses={201: s.OpportunitySerializer, **errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="Change an offer or need (owners and editors)",
        parameters=[ORGANIZATION_ID, OPPORTUNITY_ID],
        request=s.OpportunityInputSerializer(partial=True),
        responses={200: s.OpportunitySerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete an offer or need (owners and editors)",
        parameters=[ORGANIZATION_ID, OPPORTUNITY_ID],
        responses={204: None, **errors(401, 403, 404)},
    ),
)
class OpportunityViewSet(mixins.ListModelMixin, ApiViewSet):
    """Offers and needs, nested under their organization."""

    serializer_class = s.OpportunitySerializer
    queryset = Opportunity.objects.none()

    def get_queryset(self) -> QuerySet[Opportunity]:
        if self.for_schema:
            return Opportunity.objects.none()
        org = access.access_organization(self.request.user, self.object_id("organization_pk"))
        return Opportunity.objects.filter(organization=org).order_by("kind", "title", "pk")

    def _opportunity(self, org: Organization) -> Opportunity:
        try:
            return Opportunity.objects.select_related("organization").get(pk=self.object_id(), organization=org)
        except Opportunity.DoesNotExist as exc:
            raise exceptions.NotFound() from exc

    def _editable_org(self) -> Organization:
        return access.access_organization_for_edit(self.request.user, self.object_id("organization_pk"))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = access.access_organization(request.user, self.object_id("organization_pk"))
        return Response(s.OpportunitySerializer(self._opportunity(org)).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self._editable_org()
        data = validated(s.OpportunityInputSerializer, request.data)
        item = organization_services.save_opportunity(user=request.user, organization=org, data=data)
        return Response(s.OpportunitySerializer(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        org = self._editable_org()
        item = self._opportunity(org)
        data = validated(s.OpportunityInputSerializer, request.data, partial=True)
        item = organization_services.save_opportunity(user=request.user, organization=org, data=data, opportunity=item)
        return Response(s.OpportunitySerializer(item).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self._opportunity(self._editable_org())
        organization_services.delete_opportunity(user=request.user, opportunity=item)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Memberships -----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Memberships of your organizations, and (staff) of your clusters",
        parameters=[s.MembershipFilterSerializer],
        responses={200: s.MembershipSerializer(many=True), **errors(400, 401)},
    ),
    retrieve=extend_schema(summary="One membership", responses={200: s.MembershipSerializer, **errors(401, 404)}),
    create=extend_schema(
        summary="Apply to a cluster on behalf of an organization you own or edit",
        request=s.MembershipApplyInputSerializer,
        responses={201: s.MembershipSerializer, **errors(400, 401, 403)},
    ),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.MembershipSerializer
    queryset = Membership.objects.none()

    def get_queryset(self) -> QuerySet[Membership]:
        if self.for_schema:
            return Membership.objects.none()
        filters = validated(s.MembershipFilterSerializer, self.request.query_params)
        memberships = access.visible_memberships(self.request.user)
        if "status" in filters:
            memberships = memberships.filter(status=filters["status"])
        if "cluster" in filters:
            memberships = memberships.filter(cluster_id=filters["cluster"])
        if "organization" in filters:
            memberships = memberships.filter(organization_id=filters["organization"])
        return memberships.select_related("organization", "cluster").order_by("-applied_at", "pk")

    def get_object(self) -> Membership:
        try:
            return (
                access.visible_memberships(self.request.user)
                .select_related("organization", "cluster")
                .get(pk=self.object_id())
            )
        except Membership.DoesNotExist as exc:
            raise exceptions.NotFound() from exc

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated(s.MembershipApplyInputSerializer, request.data)
        try:
            org = access.access_organization(request.user, data["organization"])
        except Http404 as exc:
            raise exceptions.ValidationError({"organization": [_("No such organization.")]}) from exc
        cluster = Cluster.objects.filter(pk=data["cluster"]).first()
        if cluster is None:
            raise exceptions.ValidationError({"cluster": [_("No such cluster.")]})
        membership = membership_services.apply_to_cluster(
            user=request.user,
            organization=org,
            cluster=cluster,
            fee_tier=data["fee_tier"],
            motivation=data["motivation"],
        )
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the board's decision on an application (staff of that cluster)",
        request=s.MembershipDecisionInputSerializer,
        responses={200: s.MembershipSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        membership = access.access_membership_for_decision(request.user, self.object_id())
        require_second_factor(request.user)
        data = validated(s.MembershipDecisionInputSerializer, request.data)
        membership = membership_services.decide_membership(
            user=request.user, membership=membership, admit=data["admit"], board_note=data["board_note"]
        )
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(
        summary="End an admitted membership (staff of that cluster)",
        request=s.MembershipLapseInputSerializer,
        responses={200: s.MembershipSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def lapse(self, request: Request, pk: str | None = None) -> Response:
        membership = access.access_membership_for_decision(request.user, self.object_id())
        require_second_factor(request.user)
        data = validated(s.MembershipLapseInputSerializer, request.data)
        membership = membership_services.lapse_membership(user=request.user, membership=membership, note=data["note"])
        return Response(s.MembershipSerializer(membership).data)


# --- Calls -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Calls for projects and funding",
        parameters=[s.CallFilterSerializer],
        responses={200: s.CallSerializer(many=True), **errors(400, 401)},
    ),
    retrieve=extend_schema(summary="One call", responses={200: s.CallSerializer, **errors(401, 404)}),
    create=extend_schema(
        summary="Publish a call (administrators of the publishing cluster)",
        request=s.CallCreateInputSerializer,
        responses={201: s.CallSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="Change a call (administrators of the publishing cluster)",
        request=s.CallUpdateInputSerializer(partial=True),
        responses={200: s.CallSerializer, **errors(400, 401, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete a call (administrators of the publishing cluster)",
        responses={204: None, **errors(401, 403, 404)},
    ),
)
class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.CallSerializer
    queryset = Call.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Call]:
        if self.for_schema:
            return Call.objects.none()
        filters = validated(s.CallFilterSerializer, self.request.query_params)
        calls = Call.objects.select_related("published_by")
        if "programme" in filters:
            calls = calls.filter(programme=filters["programme"])
        if filters.get("open") is True:
            calls = calls.filter(pk__in=selectors.open_calls().values("pk"))
        elif filters.get("open") is False:
            calls = calls.exclude(pk__in=selectors.open_calls().values("pk"))
        if "cluster" in filters:
            calls = calls.filter(published_by_id=filters["cluster"])
        return calls.order_by(filters["ordering"], "pk")

    def get_object(self) -> Call:
        try:
            return Call.objects.select_related("published_by").get(pk=self.object_id())
        except Call.DoesNotExist as exc:
            raise exceptions.NotFound() from exc

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_second_factor(request.user)
        data = validated(s.CallCreateInputSerializer, request.data)
        call = call_services.create_call(user=request.user, data=data)
        return Response(s.CallSerializer(self._reload(call)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        call = self.get_object()
        require_second_factor(request.user)
        data = validated(s.CallUpdateInputSerializer, request.data, partial=True)
        call = call_services.update_call(user=request.user, call=call, data=data)
        return Response(s.CallSerializer(self._reload(call)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        call = self.get_object()
        require_second_factor(request.user)
        call_services.delete_call(user=request.user, call=call)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _reload(self, call: Call) -> Call:
        return Call.objects.select_related("published_by").get(pk=call.pk)


# --- Me and tokens ---------------------------------------------------------------


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Who am I: my organizations with my roles, my staff clusters",
        responses={200: s.MeSerializer, **errors(401)},
    )
    def get(self, request: Request) -> Response:
        user = signed_in(request)
        roles = selectors.user_organizations(user)
        staff = ClusterStaff.objects.filter(user_id=user.pk).select_related("cluster").order_by("cluster__code")
        data = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "preferred_language": user.preferred_language,
            "is_superuser": user.is_superuser,
            "organizations": [{"organization": row.organization, "role": row.role} for row in roles],
            "staff_clusters": [{"cluster": row.cluster, "role": row.role} for row in staff],
            "requires_mfa": access.staff_requires_mfa(user),
        }
        return Response(s.MeSerializer(data).data)


class TokenView(APIView):
    """Obtain, rotate or revoke your API token.

    Signed in (session or current token): POST returns a *new* token and the
    old one stops working. Not signed in: POST `email` + `password`. Accounts
    with two-factor authentication, and cluster staff, get their token from
    a signed-in session only, so the second factor cannot be bypassed.
    """

    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    # The scoped rate slows password guessing down, per client address or user.
    throttle_classes = [AnonRateThrottle, UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "auth-token"

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method == "DELETE":
            return [IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        summary="Obtain or rotate your API token",
        request=s.TokenInputSerializer,
        responses={
            200: s.TokenSerializer,
            400: ERRORS[400],
            403: OpenApiResponse(description="Account needs two-factor authentication: use a signed-in session."),
            429: OpenApiResponse(description="Too many attempts; retry later."),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(s.TokenInputSerializer, request.data)
        user = request.user
        if not user.is_authenticated:
            user = self._password_user(request, data)
        if access.staff_requires_mfa(user):
            raise exceptions.PermissionDenied(_("Cluster staff must enrol two-factor authentication first."))
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        return Response(s.TokenSerializer({"token": token.key, "created": token.created}).data)

    def _password_user(self, request: Request, data: dict[str, Any]) -> Any:
        missing = {name: [_("This field is required.")] for name in ("email", "password") if not data.get(name)}
        if missing:
            raise exceptions.ValidationError(missing)
        user = authenticate(request._request, email=data["email"].strip(), password=data["password"])
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"non_field_errors": [_("Unable to sign in with these credentials.")]})
        if not has_verified_email(user, user.email):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Confirm your email address first (see the email we sent you).")]}
            )
        if is_mfa_enabled(user):
            raise exceptions.PermissionDenied(
                _("This account uses two-factor authentication: sign in on the website, then request a token there.")
            )
        return user

    @extend_schema(summary="Revoke your API token", request=None, responses={204: None, **errors(401)})
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=signed_in(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
