"""Does a consortium meet a call's eligibility rules? Pure functions, no database.

The rules come from `Call` fields: `min_partners`, `min_countries`,
`allowed_countries` and `required_kinds`. Only the members that count are
passed in (the coordinator and the partners who accepted); the same
organization listed twice counts once. An empty `allowed_countries` means
any country is eligible. Organizations from countries outside the allowed set
may take part (as in Horizon Europe, where third-country partners join
without counting) but do not count toward the distinct-countries minimum.

Each rule says, in words drawn from the data, why it is met or not, e.g.
"needs 3 distinct eligible countries, has 2: FR, MA".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

Status = Literal["met", "unmet", "warning"]


class CallRules(Protocol):
    min_partners: int
    min_countries: int
    allowed_countries: Any
    required_kinds: Any


@dataclass(frozen=True)
class Participant:
    """What eligibility needs to know about one organization."""

    key: Any  # organization id, or any stable identity for de-duplication
    name: str
    country: str
    kind: str

    @classmethod
    def of(cls, org: Any) -> Participant:
        if isinstance(org, Participant):
            return org
        name = getattr(org, "name", None) or getattr(org, "legal_name", "") or str(org)
        return cls(key=getattr(org, "pk", None) or name, name=str(name), country=org.country or "", kind=org.kind or "")


@dataclass(frozen=True)
class RuleResult:
    code: str  # "min_partners", "min_countries", "allowed_countries", "required_kinds"
    status: Status
    explanation: str
    missing: tuple[str, ...] = ()  # for required_kinds: the kinds still missing

    @property
    def ok(self) -> bool:
        return self.status != "unmet"


@dataclass(frozen=True)
class EligibilityReport:
    rules: tuple[RuleResult, ...]
    partner_count: int
    countries: tuple[str, ...]  # distinct eligible countries, sorted
    ineligible_countries: tuple[str, ...] = field(default=())
    missing_kinds: tuple[str, ...] = field(default=())

    @property
    def eligible(self) -> bool:
        return all(rule.ok for rule in self.rules)

    @property
    def unmet(self) -> tuple[RuleResult, ...]:
        return tuple(rule for rule in self.rules if not rule.ok)

    def rule(self, code: str) -> RuleResult:
        return next(rule for rule in self.rules if rule.code == code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "partner_count": self.partner_count,
            "countries": list(self.countries),
            "ineligible_countries": list(self.ineligible_countries),
            "missing_kinds": list(self.missing_kinds),
            "rules": [
                {
                    "code": r.code,
                    "status": r.status,
                    "ok": r.ok,
                    "explanation": r.explanation,
                    "missing": list(r.missing),
                }
                for r in self.rules
            ],
        }


def _codes(values: Any) -> list[str]:
    """Rules are data typed by staff: tolerate None, a string, case and spaces; keep order, drop repeats."""
    if not values:
        return []
    if isinstance(values, str):
        values = values.split(",")
    seen: dict[str, None] = {}
    for value in values:
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _kind_label(kind: str) -> str:
    from matchmaking.models import OrganizationKind

    try:
        return str(OrganizationKind(kind).label)
    except ValueError:
        return kind


def distinct(participants: Iterable[Any]) -> list[Participant]:
    """Participants de-duplicated by identity, first occurrence kept."""
    unique: dict[Any, Participant] = {}
    for item in participants:
        participant = Participant.of(item)
        unique.setdefault(participant.key, participant)
    return list(unique.values())


def check(call: CallRules, partners: Iterable[Any]) -> EligibilityReport:
    """Evaluate every rule of `call` for `partners` (coordinator + accepted partners)."""
    members = distinct(partners)
    allowed = {code.upper() for code in _codes(call.allowed_countries)}
    required = _codes(call.required_kinds)
    min_partners = int(call.min_partners or 0)
    min_countries = int(call.min_countries or 0)

    countries = sorted({p.country.upper() for p in members if p.country})
    eligible_countries = [c for c in countries if not allowed or c in allowed]
    outside = [c for c in countries if allowed and c not in allowed]
    rules: list[RuleResult] = []

    count = len(members)
    names = ", ".join(p.name for p in members)
    if count >= min_partners:
        text = ngettext(
            "needs at least %(min)d partner, has %(count)d: %(names)s",
            "needs at least %(min)d partners, has %(count)d: %(names)s",
            min_partners,
        ) % {"min": min_partners, "count": count, "names": names or "—"}
        rules.append(RuleResult("min_partners", "met", text))
    else:
        text = ngettext(
            "needs %(min)d partner, has %(count)d: %(names)s",
            "needs %(min)d partners, has %(count)d: %(names)s",
            min_partners,
        ) % {"min": min_partners, "count": count, "names": names or "—"}
        rules.append(RuleResult("min_partners", "unmet", text))

    listed = ", ".join(eligible_countries) or "—"
    template = ngettext(
        "needs %(min)d distinct eligible country, has %(count)d: %(countries)s",
        "needs %(min)d distinct eligible countries, has %(count)d: %(countries)s",
        min_countries,
    )
    rules.append(
        RuleResult(
            "min_countries",
            "met" if len(eligible_countries) >= min_countries else "unmet",
            template % {"min": min_countries, "count": len(eligible_countries), "countries": listed},
        )
    )

    if not allowed:
        rules.append(RuleResult("allowed_countries", "met", _("organizations from any country are eligible")))
    elif outside:
        rules.append(
            RuleResult(
                "allowed_countries",
                "warning",
                _("partners from %(outside)s may take part but do not count: eligible countries are %(allowed)s")
                % {"outside": ", ".join(outside), "allowed": ", ".join(sorted(allowed))},
            )
        )
    else:
        rules.append(
            RuleResult(
                "allowed_countries",
                "met",
                _("every partner is from an eligible country (%(allowed)s)") % {"allowed": ", ".join(sorted(allowed))},
            )
        )

    present = {p.kind for p in members}
    missing = tuple(kind for kind in required if kind not in present)
    if not required:
        rules.append(RuleResult("required_kinds", "met", _("no kind of organization is required")))
    elif missing:
        rules.append(
            RuleResult(
                "required_kinds",
                "unmet",
                _("needs at least one of each: %(required)s; missing: %(missing)s")
                % {
                    "required": ", ".join(_kind_label(k) for k in required),
                    "missing": ", ".join(_kind_label(k) for k in missing),
                },
                missing=missing,
            )
        )
    else:
        rules.append(
            RuleResult(
                "required_kinds",
                "met",
                _("has every required kind: %(required)s") % {"required": ", ".join(_kind_label(k) for k in required)},
            )
        )

    return EligibilityReport(
        rules=tuple(rules),
        partner_count=count,
        countries=tuple(eligible_countries),
        ineligible_countries=tuple(outside),
        missing_kinds=missing,
    )


def contribution(call: CallRules, partners: Sequence[Any], candidate: Any) -> list[str]:
    """What adding `candidate` would do to eligibility, in words (empty when it changes nothing).

    Used to explain role suggestions: "adds an eligible country (DE)", "brings a
    missing kind (University)", "makes the consortium eligible".
    """
    before = check(call, partners)
    after = check(call, [*partners, candidate])
    who = Participant.of(candidate)
    reasons: list[str] = []
    if len(after.countries) > len(before.countries):
        reasons.append(_("adds an eligible country (%(country)s)") % {"country": who.country})
    elif who.country and who.country.upper() in after.ineligible_countries:
        reasons.append(_("its country (%(country)s) does not count for eligibility") % {"country": who.country})
    if len(after.missing_kinds) < len(before.missing_kinds):
        reasons.append(_("brings a missing kind (%(kind)s)") % {"kind": _kind_label(who.kind)})
    if after.eligible and not before.eligible:
        reasons.append(_("makes the consortium eligible"))
    return reasons


def is_eligible_country(call: CallRules, country: str) -> bool:
    """Whether an organization from `country` counts toward the call's country minimum."""
    allowed = {code.upper() for code in _codes(call.allowed_countries)}
    return not allowed or (country or "").upper() in allowed
