"""Messaging REST API: thin views over `messaging.services` and `messaging.selectors`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matchmaking.models import Organization
from messaging import access, events, ratelimit, selectors, services
from messaging.api import serializers as s
from messaging.models import Participant


def _uid(request: Request) -> int:
    # IsAuthenticated (the API default) guarantees a signed-in user here.
    return int(request.user.pk)  # type: ignore[arg-type]


class ConversationListView(generics.ListAPIView[Participant]):
    """The signed-in user's conversations, newest activity first, with unread counts."""

    serializer_class = s.ConversationSerializer

    def get_queryset(self) -> Any:
        return selectors.inbox(_uid(self.request))

    @extend_schema(
        request=s.OpenBrokeredSerializer,
        responses={201: s.ConversationDetailSerializer},
        summary="Open a brokered conversation (cluster staff)",
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.OpenBrokeredSerializer, request.data)
        ids = data["organizations"]
        organizations = list(Organization.objects.filter(pk__in=ids))
        if len(organizations) != len(set(ids)):
            raise exceptions.ValidationError({"organizations": ["Unknown organization."]})
        conversation = services.open_brokered_conversation(
            staff_user=request.user, organizations=organizations, title=data["title"]
        )
        return Response(_detail(request.user, conversation.pk), status=status.HTTP_201_CREATED)


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(user: Any, conversation_id: int) -> dict[str, Any]:
    access.access_conversation(user, conversation_id)
    participant = selectors.inbox(user.pk).get(conversation_id=conversation_id)
    participant.participants = list(selectors.participants(conversation_id))  # type: ignore[attr-defined]
    return dict(s.ConversationDetailSerializer(participant).data)


class ConversationDetailView(APIView):
    @extend_schema(responses=s.ConversationDetailSerializer, summary="One conversation and its participants")
    def get(self, request: Request, conversation_id: int) -> Response:
        return Response(_detail(request.user, conversation_id))


class MessageListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", int, description="Newest messages below this order."),
            OpenApiParameter("after", int, description="Oldest messages above this order (forward paging)."),
            OpenApiParameter("limit", int, description="1 to 200, default 50."),
        ],
        responses=s.HistorySerializer,
        summary="A page of a conversation's history, in increasing order",
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = access.access_conversation(request.user, conversation_id)
        query = _valid(s.HistoryQuerySerializer, request.query_params)
        before, after, limit = query.get("before"), query.get("after"), query["limit"]
        messages = selectors.history(conversation_id, before=before, after=after, limit=limit)
        if messages:
            has_before = messages[0].order > 1
            has_after = messages[-1].order < conversation.last_order
        else:
            has_before = after is not None and after > 0 and conversation.last_order > 0
            has_after = before is None and after is not None and after < conversation.last_order
        return Response(
            {
                "results": [selectors.message_payload(m) for m in messages],
                "has_more_before": has_before,
                "has_more_after": has_after,
                "last_order": conversation.last_order,
            }
        )

    @extend_schema(
        request=s.PostMessageSerializer,
        responses={201: s.MessageSerializer, 200: s.MessageSerializer},
        summary="Post a message (idempotent by client key: 201 when stored, 200 when already stored)",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = _valid(s.PostMessageSerializer, request.data)
        if not ratelimit.allow_message(_uid(request)):
            raise exceptions.Throttled(wait=events.RATE_LIMIT_WINDOW_SECONDS)
        message, created = services.post_message(
            user=request.user, conversation_id=conversation_id, text=data["text"], client_key=data["client_key"]
        )
        return Response(
            selectors.message_payload(message), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MessageDetailView(APIView):
    @extend_schema(request=s.EditMessageSerializer, responses=s.MessageSerializer, summary="Edit one's own message")
    def patch(self, request: Request, conversation_id: int, message_id: int) -> Response:
        data = _valid(s.EditMessageSerializer, request.data)
        message = services.edit_message(
            user=request.user, conversation_id=conversation_id, message_id=message_id, text=data["text"]
        )
        return Response(selectors.message_payload(message))

    @extend_schema(request=None, responses=s.MessageSerializer, summary="Delete one's own message")
    def delete(self, request: Request, conversation_id: int, message_id: int) -> Response:
        message = services.delete_message(user=request.user, conversation_id=conversation_id, message_id=message_id)
        return Response(selectors.message_payload(message))


class MarkReadView(APIView):
    @extend_schema(request=s.MarkReadSerializer, responses=s.ReadStateSerializer, summary="Move the read marker")
    def post(self, request: Request, conversation_id: int) -> Response:
        data = _valid(s.MarkReadSerializer, request.data)
        return Response(
            services.mark_read(user=request.user, conversation_id=conversation_id, up_to_order=data["order"])
        )


class UnreadView(APIView):
    @extend_schema(responses=s.UnreadSerializer, summary="Unread messages per conversation and in total")
    def get(self, request: Request) -> Response:
        counts = selectors.unread_counts(_uid(request))
        return Response(
            {
                "total": sum(counts.values()),
                "conversations": {str(k): v for k, v in counts.items()},
                "notifications": selectors.unread_notification_count(_uid(request)),
            }
        )


class NotificationListView(generics.ListAPIView[Any]):
    """The signed-in user's notifications, newest first."""

    serializer_class = s.NotificationSerializer

    def get_queryset(self) -> Any:
        return selectors.notifications(_uid(self.request))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([selectors.notification_payload(n) for n in page or []])


class MarkNotificationsReadView(APIView):
    @extend_schema(
        request=s.MarkNotificationsReadSerializer, responses=s.CountSerializer, summary="Mark notifications read"
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.MarkNotificationsReadSerializer, request.data)
        return Response({"updated": services.mark_notifications_read(user=request.user, ids=data.get("ids"))})
