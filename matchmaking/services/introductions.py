"""The brokered introduction funnel: request → (broker) → target → accepted / declined / expired.

State machine (every move is an `IntroductionEvent`, announced live and by
email after commit)::

    request ──► pending_broker ──approve──► pending_target ──accept──► accepted (direct conversation opened)
                   │    └─decline─► broker_declined      ├─decline─► declined
                   │                                      │
                   └──── withdraw (requester) / expire (deadline passed) ───► withdrawn / expired

A request starts at `pending_broker` when the requester or the target is
admitted in a cluster whose `brokered_introductions` policy is on, else at
`pending_target`. One organization may send `settings.INTRODUCTIONS_PER_DAY`
requests per rolling 24 hours. Unanswered requests expire after
`settings.INTRODUCTION_EXPIRY_DAYS`, with one reminder
`settings.INTRODUCTION_REMINDER_DAYS_BEFORE` days before.

Public functions are `check + do` in one: they authorize, validate, change
the database in one transaction (locking the request row so two answers
cannot both win), and schedule side effects with `transaction.on_commit`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from matchmaking import access, funnel_access, funnel_effects
from matchmaking.models import (
    OPEN_INTRODUCTION_STATES,
    IntroductionEvent,
    IntroductionPurpose,
    IntroductionRequest,
    IntroductionState,
    Opportunity,
    Organization,
    User,
)
from matchmaking.services.common import clean_id, clean_text, require_user

MAX_MESSAGE_LENGTH = 4000
MAX_NOTE_LENGTH = 2000
S = IntroductionState


def _record(request: IntroductionRequest, actor: Any, from_state: str, note: str = "") -> IntroductionEvent:
    event = IntroductionEvent.objects.create(
        request=request,
        actor=actor if getattr(actor, "pk", None) else None,
        from_state=from_state,
        to_state=request.state,
        note=note,
    )
    transaction.on_commit(lambda: announce_event(event.pk))
    return event


def _locked(request_id: Any) -> IntroductionRequest:
    return IntroductionRequest.objects.select_for_update().select_related("requester", "target").get(pk=request_id)


# --- Requesting -----------------------------------------------------------------


def sent_in_last_day(organization_id: int, now: Any = None) -> int:
    since = (now or timezone.now()) - timedelta(days=1)
    return IntroductionRequest.objects.filter(requester_id=organization_id, created_at__gte=since).count()


def request_introduction(
    user: Any,
    *,
    requester_id: Any,
    target_id: Any,
    purpose: Any,
    message: Any,
    opportunity_id: Any = None,
    anonymous: bool = False,
) -> IntroductionRequest:
    """Ask to be introduced to `target` on behalf of `requester` (an organization the user acts for)."""
    require_user(user)
    requester_pk, target_pk = clean_id(requester_id, "requester"), clean_id(target_id, "target")
    if not funnel_access.is_member_of(user, requester_pk):
        raise PermissionDenied(_("You may only request introductions for your own organization."))
    target = access.access_organization(user, target_pk)  # 404 when not visible to the user
    if target.pk == requester_pk:
        raise ValidationError({"target": ValidationError(_("An organization cannot ask to meet itself."))})
    if purpose not in IntroductionPurpose.values:
        raise ValidationError({"purpose": ValidationError(_("Choose one of the listed purposes."), code="invalid")})
    text = clean_text(message, field="message", limit=MAX_MESSAGE_LENGTH, required=True)
    opportunity = None
    if opportunity_id not in (None, ""):
        opportunity = Opportunity.objects.filter(
            pk=clean_id(opportunity_id, "opportunity"), organization_id__in=[requester_pk, target.pk]
        ).first()
        if opportunity is None:
            raise ValidationError(
                {"opportunity": ValidationError(_("Choose an offer or need of one of the two organizations."))}
            )

    with transaction.atomic():
        # Serializes concurrent requests of one organization so the daily limit holds.
        requester = Organization.objects.select_for_update().get(pk=requester_pk)
        now = timezone.now()
        limit = int(settings.INTRODUCTIONS_PER_DAY)
        if sent_in_last_day(requester.pk, now) >= limit:
            oldest = (
                IntroductionRequest.objects.filter(requester=requester, created_at__gte=now - timedelta(days=1))
                .order_by("created_at")
                .values_list("created_at", flat=True)
                .first()
            )
            again = (
                formats.date_format(timezone.localtime(oldest + timedelta(days=1)), "DATETIME_FORMAT") if oldest else ""
            )
            raise ValidationError(
                _(
                    "%(org)s has already sent %(limit)d introduction requests in the last 24 hours, the daily "
                    "limit. You can send the next one after %(again)s."
                )
                % {"org": requester.name, "limit": limit, "again": again},
                code="daily_limit",
            )
        if IntroductionRequest.objects.filter(
            requester=requester, target=target, state__in=OPEN_INTRODUCTION_STATES
        ).exists():
            raise ValidationError(
                _("A request from %(org)s to %(target)s is already waiting for an answer.")
                % {"org": requester.name, "target": target.name},
                code="duplicate",
            )
        request = IntroductionRequest(
            requester=requester,
            requested_by=user,
            target=target,
            opportunity=opportunity,
            purpose=purpose,
            message=text,
            anonymous=bool(anonymous),
            created_at=now,
            expires_at=now + timedelta(days=int(settings.INTRODUCTION_EXPIRY_DAYS)),
            state=S.PENDING_TARGET,
        )
        if funnel_access.brokering_cluster_ids(request):
            request.state = S.PENDING_BROKER
        request.save()
        _record(request, user, "")
    return request


# --- Brokers ----------------------------------------------------------------------


def _broker_request(user: Any, request_id: Any) -> IntroductionRequest:
    require_user(user)
    request = funnel_access.access_introduction(user, request_id)
    if not funnel_access.can_broker(user, request):
        raise PermissionDenied(_("Only a broker of the clusters involved may do this."))
    return _locked(request.pk)


def approve(user: Any, request_id: Any, *, note: Any = "") -> IntroductionRequest:
    """A broker forwards the request to the target, optionally with a note for the target."""
    with transaction.atomic():
        request = _broker_request(user, request_id)
        if request.state != S.PENDING_BROKER:
            raise ValidationError(_("This request is not waiting for a broker."), code="invalid_state")
        text = clean_text(note, field="note", limit=MAX_NOTE_LENGTH, required=False)
        request.state, request.broker = S.PENDING_TARGET, user
        if text:
            request.broker_note = text
        # The target's answer time starts now, not when the requester wrote.
        request.expires_at = timezone.now() + timedelta(days=int(settings.INTRODUCTION_EXPIRY_DAYS))
        request.reminded_at = None
        request.save(update_fields=["state", "broker", "broker_note", "expires_at", "reminded_at"])
        _record(request, user, S.PENDING_BROKER, text)
    return request


def annotate(user: Any, request_id: Any, *, note: Any) -> IntroductionRequest:
    """A broker adds a note (kept on the request, shown to the target once forwarded)."""
    with transaction.atomic():
        request = _broker_request(user, request_id)
        text = clean_text(note, field="note", limit=MAX_NOTE_LENGTH, required=True)
        request.broker_note = f"{request.broker_note}\n{text}".strip() if request.broker_note else text
        request.broker = request.broker or user
        request.save(update_fields=["broker_note", "broker"])
        IntroductionEvent.objects.create(
            request=request, actor=user, from_state=request.state, to_state=request.state, note=text
        )
    return request


def broker_decline(user: Any, request_id: Any, *, reason: Any) -> IntroductionRequest:
    with transaction.atomic():
        request = _broker_request(user, request_id)
        if request.state != S.PENDING_BROKER:
            raise ValidationError(_("This request is not waiting for a broker."), code="invalid_state")
        text = clean_text(reason, field="reason", limit=MAX_NOTE_LENGTH, required=True)
        request.state, request.broker, request.decline_reason = S.BROKER_DECLINED, user, text
        request.decided_at = timezone.now()
        request.save(update_fields=["state", "broker", "decline_reason", "decided_at"])
        _record(request, user, S.PENDING_BROKER, text)
    return request


# --- Target -----------------------------------------------------------------------


def _target_request(user: Any, request_id: Any) -> IntroductionRequest:
    require_user(user)
    request = funnel_access.access_introduction(user, request_id)
    if not funnel_access.is_member_of(user, request.target_id):
        raise PermissionDenied(_("Only the people of the requested organization may answer."))
    request = _locked(request.pk)
    if request.state != S.PENDING_TARGET:
        raise ValidationError(_("This request is no longer waiting for an answer."), code="invalid_state")
    return request


def accept(user: Any, request_id: Any, *, note: Any = "") -> IntroductionRequest:
    """The target accepts: the requester is revealed and a direct conversation opens between the two."""
    from messaging import services as messaging_services

    with transaction.atomic():
        request = _target_request(user, request_id)
        text = clean_text(note, field="note", limit=MAX_NOTE_LENGTH, required=False)
        request.state, request.decided_at = S.ACCEPTED, timezone.now()
        # Same transaction: an accepted request always has its conversation (and vice versa).
        conversation = messaging_services.open_direct_conversation(
            organizations=[request.requester, request.target],
            opened_by_kind="introduction",
            opened_by_id=request.pk,
            title=f"{request.requester.name} ↔ {request.target.name}",
            created_by=user,
        )
        request.conversation_id = conversation.pk
        request.save(update_fields=["state", "decided_at", "conversation_id"])
        _record(request, user, S.PENDING_TARGET, text)
    return request


def decline(user: Any, request_id: Any, *, reason: Any) -> IntroductionRequest:
    with transaction.atomic():
        request = _target_request(user, request_id)
        text = clean_text(reason, field="reason", limit=MAX_NOTE_LENGTH, required=True)
        request.state, request.decline_reason, request.decided_at = S.DECLINED, text, timezone.now()
        request.save(update_fields=["state", "decline_reason", "decided_at"])
        _record(request, user, S.PENDING_TARGET, text)
    return request


# --- Requester ----------------------------------------------------------------------


def withdraw(user: Any, request_id: Any) -> IntroductionRequest:
    require_user(user)
    with transaction.atomic():
        request = funnel_access.access_introduction(user, request_id)
        if not funnel_access.is_member_of(user, request.requester_id):
            raise PermissionDenied(_("Only the requesting organization may withdraw its request."))
        request = _locked(request.pk)
        if request.state not in OPEN_INTRODUCTION_STATES:
            raise ValidationError(_("Only a request still waiting can be withdrawn."), code="invalid_state")
        previous = request.state
        request.state, request.decided_at = S.WITHDRAWN, timezone.now()
        request.save(update_fields=["state", "decided_at"])
        _record(request, user, previous)
    return request


# --- Time: expiry and reminders (run by `manage.py matchmaking_tasks`) -------------------


def expire_due(now: Any = None) -> int:
    """Expire every open request whose deadline has passed. Safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    expired = 0
    ids = list(
        IntroductionRequest.objects.filter(state__in=OPEN_INTRODUCTION_STATES, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        with transaction.atomic():
            request = _locked(pk)
            if request.state not in OPEN_INTRODUCTION_STATES or request.expires_at > now:
                continue  # answered meanwhile
            previous = request.state
            request.state, request.decided_at = S.EXPIRED, now
            request.save(update_fields=["state", "decided_at"])
            _record(request, None, previous, _("No answer before the deadline."))
            expired += 1
    return expired


def remind_due(now: Any = None) -> int:
    """Send one reminder for open requests entering their last days; returns how many were reminded."""
    now = now or timezone.now()
    horizon = now + timedelta(days=int(settings.INTRODUCTION_REMINDER_DAYS_BEFORE))
    reminded = 0
    ids = list(
        IntroductionRequest.objects.filter(
            state__in=OPEN_INTRODUCTION_STATES, reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=horizon
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            # The conditional update claims the reminder, so two cron runs never both send it.
            claimed = IntroductionRequest.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now)
            if claimed:
                transaction.on_commit(lambda pk=pk: announce_reminder(pk))  # type: ignore[misc]
                reminded += 1
    return reminded


# --- Announcements (after commit) ------------------------------------------------------


def _payload(request: IntroductionRequest, user: User, state: str) -> dict[str, Any]:
    requester = funnel_access.requester_public(request, user)
    url = funnel_effects.page_url("matchmaking:introduction_detail", funnel_effects.language_of(user), pk=request.pk)
    return {
        "introduction": request.pk,
        "state": state,
        "requester": requester["name"],
        "target": request.target.name,
        "title": _title(request, user, state),
        "url": url,
    }


def _title(request: IntroductionRequest, user: User, state: str) -> str:
    who = funnel_access.requester_label(request, user)
    target = request.target.name
    if state == S.PENDING_TARGET and funnel_access.is_member_of(user, request.requester_id):
        # The requester hears that a broker forwarded its request, not its own request read back.
        return _("A broker forwarded your introduction request to %(target)s") % {"target": target}
    titles = {
        S.PENDING_BROKER: _("Introduction request to screen: %(who)s → %(target)s"),
        S.PENDING_TARGET: _("%(who)s would like an introduction to %(target)s"),
        S.ACCEPTED: _("%(target)s accepted the introduction with %(who)s"),
        S.DECLINED: _("%(target)s declined the introduction request of %(who)s"),
        S.BROKER_DECLINED: _("A broker declined the introduction request of %(who)s to %(target)s"),
        S.EXPIRED: _("The introduction request of %(who)s to %(target)s expired"),
        S.WITHDRAWN: _("%(who)s withdrew its introduction request to %(target)s"),
    }
    return titles[IntroductionState(state)] % {"who": who, "target": target}


def _recipients(request: IntroductionRequest, from_state: str) -> list[User]:
    requester_people = funnel_effects.organization_people([request.requester_id])
    target_people = funnel_effects.organization_people([request.target_id])
    brokers = funnel_effects.cluster_staff(funnel_access.brokering_cluster_ids(request))
    state = request.state
    if state == S.PENDING_BROKER:
        return brokers
    if state == S.PENDING_TARGET:
        # Forwarded by a broker: the requester learns it moved on.
        return target_people + (requester_people if from_state == S.PENDING_BROKER else [])
    if state in (S.ACCEPTED, S.DECLINED, S.BROKER_DECLINED):
        return requester_people + (brokers if request.broker_id else [])
    if state in (S.EXPIRED, S.WITHDRAWN):
        waiting = brokers if from_state == S.PENDING_BROKER else target_people
        return (requester_people if state == S.EXPIRED else []) + waiting
    return []


def announce_event(event_id: int) -> int:
    event = (
        IntroductionEvent.objects.select_related("request__requester", "request__target").filter(pk=event_id).first()
    )
    if event is None:
        return 0
    request = event.request
    state = event.to_state
    # Announce the state as of the event, even if the request moved on since.
    request.state = state

    def email_for(user: User) -> tuple[str, str]:
        lines = [_title(request, user, state), ""]
        if state == S.PENDING_TARGET or state == S.PENDING_BROKER:
            lines += [request.message, ""]
        if event.note:
            lines += [_("Note: %(note)s") % {"note": event.note}, ""]
        lines.append(
            funnel_effects.page_url("matchmaking:introduction_detail", funnel_effects.language_of(user), pk=request.pk)
        )
        return _title(request, user, state), "\n".join(lines)

    return funnel_effects.announce(
        _recipients(request, event.from_state),
        f"introduction.{state}",
        lambda user: _payload(request, user, state),
        email_for,
    )


def announce_reminder(request_id: int) -> int:
    request = IntroductionRequest.objects.select_related("requester", "target").filter(pk=request_id).first()
    if request is None or not request.is_open:
        return 0
    if request.state == S.PENDING_BROKER:
        users = funnel_effects.cluster_staff(funnel_access.brokering_cluster_ids(request))
    else:
        users = funnel_effects.organization_people([request.target_id])

    def email_for(user: User) -> tuple[str, str]:
        deadline = formats.date_format(timezone.localtime(request.expires_at), "DATETIME_FORMAT")
        subject = _("Reminder: an introduction request expires on %(deadline)s") % {"deadline": deadline}
        body = "\n".join(
            [
                _title(request, user, request.state),
                "",
                subject,
                funnel_effects.page_url(
                    "matchmaking:introduction_detail", funnel_effects.language_of(user), pk=request.pk
                ),
            ]
        )
        return subject, body

    return funnel_effects.announce(
        users, "introduction.reminder", lambda user: _payload(request, user, request.state), email_for
    )
