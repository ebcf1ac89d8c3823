"""The websocket protocol of `/ws/`, documented once.

One websocket per browser session multiplexes all of a user's conversations
and live notifications. Every frame, in both directions, is one JSON object
with a ``type``. Any client frame may carry ``ref`` (a short string); the
server echoes it in the ``error`` that frame causes, so the client can tell
which request failed.

Client → server
===============

==================  ====================================================  =========================
type                fields                                                server answers with
==================  ====================================================  =========================
``message.send``    ``conversation`` int, ``text`` str (≤ 16 KB UTF-8),    ``message.ack`` to the
                    ``client_key`` str (1–64 chars, idempotency key)       sender, ``message.new`` to
                                                                           every participant
``message.edit``    ``conversation`` int, ``id`` int, ``text`` str         ``message.updated``
``message.delete``  ``conversation`` int, ``id`` int                       ``message.updated``
``read.update``     ``conversation`` int, ``order`` int                    ``read.update`` to the
                                                                           reader's connections
``sync``            ``conversations`` {"<id>": last_seen_order, ...}       missed ``message.new`` in
                                                                           order, then ``sync.done``
``typing``          ``conversation`` int                                   ``typing`` to the others
==================  ====================================================  =========================

Server → client
===============

=====================  ==============================================================================
type                   fields
=====================  ==============================================================================
``hello``              ``user`` int, ``conversations`` {"<id>": last_order}: sent once after connect
``message.ack``        ``client_key``, ``id``, ``conversation``, ``order``, ``created_at`` (ISO 8601),
                       ``duplicate`` (true when the key had already been stored)
``message.new``        ``message``: see `MessagePayload`
``message.updated``    ``message``: see `MessagePayload` (``edited_at`` or ``deleted`` set)
``read.update``        ``conversation``, ``order``, ``unread`` (this conversation), ``unread_total``
``sync.done``          ``conversations`` {"<id>": last_order}, ``more`` (true: sync again from there)
``typing``             ``conversation``, ``user``, ``name``
``conversation.joined`` ``conversation`` int: the user was added (subscribe, fetch history)
``conversation.left``  ``conversation`` int: the user no longer takes part
``notification``       ``id``, ``kind``, ``payload`` {...}, ``created_at``
``error``              ``code``, ``detail`` (human readable), ``ref`` (echoed from the frame, or null)
=====================  ==============================================================================

Guarantees, per conversation and per connection: live ``message.new``
events continue from the conversation's order given in ``hello`` (or when
joining), in increasing ``order``, with no gap and no duplicate. Everything
up to that order is history: ``sync`` with the last order the client saw
sends exactly the missing ones, in increasing order (they may follow live
messages above that order: clients place messages by ``order``); with
``more`` true, sync again from the last order now held. Nothing is sent
twice on a connection. The sender gets ``message.ack`` before the
``message.new`` of its own message. Sending the same ``client_key`` twice
stores one message and acks it twice (``duplicate``).

Error codes (the connection stays open): ``bad_json``, ``bad_frame`` (not
an object, missing or wrongly typed field), ``unknown_type``,
``too_long`` (text over 16 KB), ``invalid`` (empty text, control
characters...), ``not_found`` (no such conversation, or not a participant:
the two are indistinguishable on purpose), ``forbidden`` (e.g. editing
someone else's message or after the edit window), ``rate_limited``.

Close codes: ``4001`` not signed in; ``4008`` too many bad frames
(`ABUSE_MAX_ERRORS` errors within `ABUSE_WINDOW_SECONDS`). A handshake
from a foreign ``Origin`` is refused before the websocket opens (HTTP 403).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

MAX_TEXT_BYTES = 16 * 1024
MAX_CLIENT_KEY_LENGTH = 64
SYNC_BATCH = 500

CLOSE_UNAUTHENTICATED = 4001
CLOSE_ABUSE = 4008
ABUSE_MAX_ERRORS = 20
ABUSE_WINDOW_SECONDS = 60.0

# Per user, across all of the user's connections and processes.
RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW_SECONDS = 10.0

ErrorCode = Literal[
    "bad_json", "bad_frame", "unknown_type", "too_long", "invalid", "not_found", "forbidden", "rate_limited"
]


# --- Client → server ----------------------------------------------------------


class SendFrame(TypedDict):
    type: Literal["message.send"]
    conversation: int
    text: str
    client_key: str
    ref: NotRequired[str]


class EditFrame(TypedDict):
    type: Literal["message.edit"]
    conversation: int
    id: int
    text: str
    ref: NotRequired[str]


class DeleteFrame(TypedDict):
    type: Literal["message.delete"]
    conversation: int
    id: int
    ref: NotRequired[str]


class ReadFrame(TypedDict):
    type: Literal["read.update"]
    conversation: int
    order: int
    ref: NotRequired[str]


class SyncFrame(TypedDict):
    type: Literal["sync"]
    conversations: dict[str, int]
    ref: NotRequired[str]


class TypingFrame(TypedDict):
    type: Literal["typing"]
    conversation: int
    ref: NotRequired[str]


# --- Server → client ----------------------------------------------------------


class AuthorPayload(TypedDict):
    id: int | None
    name: str
    organization: str | None


class MessagePayload(TypedDict):
    id: int
    conversation: int
    order: int
    author: AuthorPayload
    text: str  # "" once deleted
    created_at: str
    edited_at: str | None
    deleted: bool


class HelloEvent(TypedDict):
    type: Literal["hello"]
    user: int
    conversations: dict[str, int]


class AckEvent(TypedDict):
    type: Literal["message.ack"]
    client_key: str
    id: int
    conversation: int
    order: int
    created_at: str
    duplicate: bool


class MessageNewEvent(TypedDict):
    type: Literal["message.new"]
    message: MessagePayload


class MessageUpdatedEvent(TypedDict):
    type: Literal["message.updated"]
    message: MessagePayload


class ReadUpdateEvent(TypedDict):
    type: Literal["read.update"]
    conversation: int
    order: int
    unread: int
    unread_total: int


class SyncDoneEvent(TypedDict):
    type: Literal["sync.done"]
    conversations: dict[str, int]
    more: bool


class TypingEvent(TypedDict):
    type: Literal["typing"]
    conversation: int
    user: int
    name: str


class MembershipEvent(TypedDict):
    type: Literal["conversation.joined", "conversation.left"]
    conversation: int


class NotificationEvent(TypedDict):
    type: Literal["notification"]
    id: int
    kind: str
    payload: dict[str, object]
    created_at: str


class ErrorEvent(TypedDict):
    type: Literal["error"]
    code: ErrorCode
    detail: str
    ref: str | None


# --- Channel-layer envelopes (server internal, never sent to a client) --------
# Channels dispatches on "type" with dots turned into underscores, so these
# name consumer methods; `event` is the client-facing event to forward.

LAYER_MESSAGE = "layer.message"  # to a conversation group: a new message
LAYER_FORWARD = "layer.forward"  # to a user or conversation group: forward `event` as is
LAYER_MEMBERSHIP = "layer.membership"  # to a user group: joined/left a conversation
