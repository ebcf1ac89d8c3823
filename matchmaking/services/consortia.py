"""Consortia around calls: create, define open roles, invite partners, answer invitations, export.

The coordinator (its owners and editors) steers; invited organizations'
people answer. Eligibility is always recomputed from committed data
(`eligibility_report`), so the live panel reflects every acceptance.
Acceptance fills the role the partner was invited for and adds the
organization to the consortium conversation when one is open.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from matchmaking import access, eligibility, funnel_access, funnel_effects
from matchmaking.models import (
    Call,
    Consortium,
    ConsortiumPartner,
    ConsortiumRole,
    Organization,
    OrganizationKind,
    PartnerState,
    User,
)
from matchmaking.services.common import clean_id, clean_text, require_user
from matchmaking.validators import validate_country_code, validate_string_list

# --- Reads used by pages and the API ---------------------------------------------------


def members(consortium: Consortium) -> list[Organization]:
    """The organizations that count: the coordinator and the partners who accepted."""
    accepted = [
        p.organization
        for p in consortium.partners.filter(state=PartnerState.ACCEPTED).select_related("organization").order_by("pk")
    ]
    return [consortium.coordinator, *accepted]


def eligibility_report(consortium: Consortium) -> eligibility.EligibilityReport:
    return eligibility.check(consortium.call, members(consortium))


def open_roles(consortium: Consortium) -> list[ConsortiumRole]:
    return list(consortium.roles.filter(filled_by__isnull=True))


# --- Coordinator -----------------------------------------------------------------------


def create_consortium(
    user: Any, *, call_id: Any, coordinator_id: Any, name: Any, acronym: Any = "", description: Any = ""
) -> Consortium:
    require_user(user)
    coordinator = access.access_organization(user, clean_id(coordinator_id, "coordinator"))
    if not access.can_edit_organization(user, coordinator):
        raise PermissionDenied(_("Only owners and editors of an organization may start a consortium for it."))
    call = Call.objects.filter(pk=clean_id(call_id, "call")).first()
    if call is None:
        raise ValidationError({"call": ValidationError(_("No such call."), code="invalid")})
    if call.deadline <= timezone.now():
        raise ValidationError({"call": ValidationError(_("The deadline of this call has passed."), code="closed")})
    consortium = Consortium.objects.create(
        call=call,
        coordinator=coordinator,
        created_by=user,
        name=clean_text(name, field="name", limit=200, required=True),
        acronym=clean_text(acronym, field="acronym", limit=40),
        description=clean_text(description, field="description", limit=5000),
    )
    return consortium


def add_role(
    user: Any, consortium_id: Any, *, title: Any, competences: Any = (), kind: Any = "", country: Any = ""
) -> ConsortiumRole:
    consortium = funnel_access.access_consortium_for_coordination(user, consortium_id)
    if isinstance(competences, str):
        competences = [c.strip() for c in competences.split(",") if c.strip()]
    competences = list(competences or [])
    errors: dict[str, Any] = {}
    try:
        validate_string_list(competences)
    except ValidationError as exc:
        errors["competences"] = exc
    kind = (kind or "").strip()
    if kind and kind not in OrganizationKind.values:
        errors["kind"] = ValidationError(_("Unknown kind of organization."), code="invalid")
    country = (country or "").strip().upper()
    if country:
        try:
            validate_country_code(country)
        except ValidationError as exc:
            errors["country"] = exc
    if errors:
        raise ValidationError(errors)
    return ConsortiumRole.objects.create(
        consortium=consortium,
        title=clean_text(title, field="title", limit=200, required=True),
        competences=competences,
        kind=kind,
        country=country,
    )


def delete_role(user: Any, role_id: Any) -> None:
    role = ConsortiumRole.objects.select_related("consortium").filter(pk=clean_id(role_id, "role")).first()
    if role is None:
        raise ValidationError(_("No such role."), code="invalid")
    funnel_access.access_consortium_for_coordination(user, role.consortium_id)
    role.delete()


def invite_partner(
    user: Any, consortium_id: Any, *, organization_id: Any, role_id: Any = None, role_title: Any = ""
) -> ConsortiumPartner:
    """Invite a visible organization, optionally for one of the open roles (its title becomes the partner's role)."""
    consortium = funnel_access.access_consortium_for_coordination(user, consortium_id)
    org = access.access_organization(user, clean_id(organization_id, "organization"))
    if org.pk == consortium.coordinator_id:
        raise ValidationError(_("The coordinator is already part of the consortium."), code="coordinator")
    role = None
    if role_id not in (None, ""):
        role = ConsortiumRole.objects.filter(pk=clean_id(role_id, "role"), consortium=consortium).first()
        if role is None:
            raise ValidationError({"role": ValidationError(_("No such role in this consortium."), code="invalid")})
        if role.filled_by_id is not None:
            raise ValidationError({"role": ValidationError(_("This role is already filled."), code="filled")})
    title = clean_text(role_title, field="role_title", limit=200) or (role.title if role else "")
    with transaction.atomic():
        partner = ConsortiumPartner.objects.select_for_update().filter(consortium=consortium, organization=org).first()
        if partner is not None:
            if partner.state in (PartnerState.INVITED, PartnerState.ACCEPTED):
                raise ValidationError(
                    _("%(org)s is already invited to or part of this consortium.") % {"org": org.name},
                    code="duplicate",
                )
            partner.state, partner.responded_at = PartnerState.INVITED, None
            partner.role_title, partner.role, partner.invited_by = title, role, user
            partner.invited_at = timezone.now()
            partner.save()
        else:
            try:
                with transaction.atomic():
                    partner = ConsortiumPartner.objects.create(
                        consortium=consortium, organization=org, role_title=title, role=role, invited_by=user
                    )
            except IntegrityError as exc:
                raise ValidationError(_("This organization was just invited."), code="duplicate") from exc
        partner_id = partner.pk
        transaction.on_commit(lambda: announce_partner(partner_id, "consortium.invitation"))
    return partner


def remove_partner(user: Any, partner_id: Any) -> ConsortiumPartner:
    """The coordinator withdraws an invitation or removes a partner (kept as `left` for the record)."""
    partner = ConsortiumPartner.objects.select_related("consortium").filter(pk=clean_id(partner_id, "partner")).first()
    if partner is None:
        raise ValidationError(_("No such partner."), code="invalid")
    funnel_access.access_consortium_for_coordination(user, partner.consortium_id)
    return _leave(partner)


# --- Invited organizations --------------------------------------------------------------


def _partner_for_member(user: Any, partner_id: Any) -> ConsortiumPartner:
    require_user(user)
    partner = (
        ConsortiumPartner.objects.select_for_update()
        .select_related("consortium__call", "consortium__coordinator", "organization")
        .filter(pk=clean_id(partner_id, "partner"))
        .first()
    )
    if partner is None or not funnel_access.is_member_of(user, partner.organization_id):
        raise PermissionDenied(_("Only the invited organization's people may answer this invitation."))
    return partner


def respond(user: Any, partner_id: Any, *, accept: bool) -> ConsortiumPartner:
    with transaction.atomic():
        partner = _partner_for_member(user, partner_id)
        if partner.state != PartnerState.INVITED:
            raise ValidationError(_("This invitation was already answered."), code="invalid_state")
        partner.state = PartnerState.ACCEPTED if accept else PartnerState.DECLINED
        partner.responded_at = timezone.now()
        partner.save(update_fields=["state", "responded_at"])
        if accept and partner.role_id:
            ConsortiumRole.objects.filter(pk=partner.role_id, filled_by__isnull=True).update(
                filled_by=partner.organization
            )
        _sync_conversation(partner.consortium)
        partner_id_ = partner.pk
        kind = "consortium.accepted" if accept else "consortium.declined"
        transaction.on_commit(lambda: announce_partner(partner_id_, kind))
    return partner


def leave(user: Any, partner_id: Any) -> ConsortiumPartner:
    with transaction.atomic():
        partner = _partner_for_member(user, partner_id)
        return _leave(partner)


def _leave(partner: ConsortiumPartner) -> ConsortiumPartner:
    with transaction.atomic():
        partner = ConsortiumPartner.objects.select_for_update().select_related("consortium").get(pk=partner.pk)
        if partner.state not in (PartnerState.INVITED, PartnerState.ACCEPTED):
            raise ValidationError(_("This organization is not part of the consortium."), code="invalid_state")
        partner.state, partner.responded_at = PartnerState.LEFT, timezone.now()
        partner.save(update_fields=["state", "responded_at"])
        ConsortiumRole.objects.filter(consortium=partner.consortium, filled_by=partner.organization_id).update(
            filled_by=None
        )
        _sync_conversation(partner.consortium)
        partner_id = partner.pk
        transaction.on_commit(lambda: announce_partner(partner_id, "consortium.left"))
    return partner


# --- Conversation -----------------------------------------------------------------------


def open_conversation(user: Any, consortium_id: Any) -> int:
    """Open (or return) the consortium conversation among the coordinator and the accepted partners."""
    from messaging import services as messaging_services

    require_user(user)
    with transaction.atomic():
        consortium = funnel_access.access_consortium(user, consortium_id)
        if not funnel_access.is_consortium_member(user, consortium):
            raise PermissionDenied(_("Only the consortium's members may open its conversation."))
        consortium = Consortium.objects.select_for_update().select_related("call", "coordinator").get(pk=consortium.pk)
        if consortium.conversation_id:
            return consortium.conversation_id
        conversation = messaging_services.open_consortium_conversation(
            organizations=members(consortium),
            title=str(consortium),
            opened_by_kind="consortium",
            opened_by_id=consortium.pk,
            created_by=user,
        )
        consortium.conversation_id = conversation.pk
        consortium.save(update_fields=["conversation_id"])
    return conversation.pk


def _sync_conversation(consortium: Consortium) -> None:
    if not consortium.conversation_id:
        return
    from messaging import services as messaging_services

    messaging_services.set_conversation_organizations(
        conversation_id=consortium.conversation_id, organizations=members(consortium)
    )


# --- Export ---------------------------------------------------------------------------------


def partner_rows(consortium: Consortium) -> Iterable[list[str]]:
    yield [_("Name"), _("Acronym"), _("Country"), _("Kind"), _("PIC"), _("Role"), _("Status")]
    yield _partner_row(consortium.coordinator, _("Coordinator"), _("Coordinator"))
    for partner in consortium.partners.exclude(state__in=[PartnerState.LEFT, PartnerState.DECLINED]).select_related(
        "organization"
    ):
        yield _partner_row(partner.organization, partner.role_title, str(partner.get_state_display()))


def _partner_row(org: Organization, role: str, status: str) -> list[str]:
    return [org.legal_name, org.acronym, org.country, str(org.get_kind_display()), org.pic or "", role, status]


def _csv_cell(value: str) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ is shown as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def partner_csv(user: Any, consortium_id: Any) -> tuple[Consortium, str]:
    consortium = funnel_access.access_consortium(user, consortium_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in partner_rows(consortium):
        writer.writerow([_csv_cell(cell) for cell in row])
    return consortium, buffer.getvalue()


# --- Announcements --------------------------------------------------------------------------


def announce_partner(partner_id: int, kind: str) -> int:
    partner = (
        ConsortiumPartner.objects.select_related("consortium__call", "consortium__coordinator", "organization")
        .filter(pk=partner_id)
        .first()
    )
    if partner is None:
        return 0
    consortium = partner.consortium
    if kind == "consortium.invitation":
        users = funnel_effects.organization_people([partner.organization_id])
    else:
        users = funnel_effects.organization_people([consortium.coordinator_id])

    def title() -> str:
        names = {"consortium": str(consortium), "org": partner.organization.name, "call": consortium.call.topic_code}
        if kind == "consortium.invitation":
            return _("%(consortium)s invites you to join its consortium for %(call)s") % names
        if kind == "consortium.accepted":
            return _("%(org)s joined the consortium %(consortium)s") % names
        if kind == "consortium.declined":
            return _("%(org)s declined to join the consortium %(consortium)s") % names
        return _("%(org)s left the consortium %(consortium)s") % names

    def payload(user: User) -> dict[str, Any]:
        url = funnel_effects.page_url(
            "matchmaking:consortium_detail", funnel_effects.language_of(user), pk=consortium.pk
        )
        return {"consortium": consortium.pk, "partner": partner.pk, "title": title(), "url": url}

    def email_for(user: User) -> tuple[str, str]:
        return title(), f"{title()}\n\n{payload(user)['url']}\n"

    return funnel_effects.announce(users, kind, payload, email_for)
