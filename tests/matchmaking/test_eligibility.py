"""Eligibility rules as pure functions: each rule, mixes and edge cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import translation

from matchmaking.eligibility import Participant, check, contribution, is_eligible_country


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@dataclass
class FakeCall:
    min_partners: int = 1
    min_countries: int = 1
    allowed_countries: Any = field(default_factory=list)
    required_kinds: Any = field(default_factory=list)


def org(key: int, country: str, kind: str = "sme", name: str | None = None) -> Participant:
    return Participant(key=key, name=name or f"Org{key}", country=country, kind=kind)


def test_min_partners_unmet_then_met() -> None:
    call = FakeCall(min_partners=3)
    report = check(call, [org(1, "FR"), org(2, "MA")])
    assert not report.eligible
    assert report.rule("min_partners").status == "unmet"
    assert "needs 3 partners, has 2: Org1, Org2" in report.rule("min_partners").explanation
    assert check(call, [org(1, "FR"), org(2, "MA"), org(3, "DE")]).eligible


def test_min_countries_explains_which_countries() -> None:
    # Given a call needing three distinct countries and a French-Moroccan pair
    call = FakeCall(min_countries=3)
    # When checked
    report = check(call, [org(1, "MA"), org(2, "FR"), org(3, "FR")])
    # Then the rule names the countries it counted
    rule = report.rule("min_countries")
    assert rule.status == "unmet"
    assert rule.explanation == "needs 3 distinct eligible countries, has 2: FR, MA"


def test_duplicates_count_once() -> None:
    call = FakeCall(min_partners=2)
    same = org(1, "FR")
    report = check(call, [same, same, org(1, "FR")])
    assert report.partner_count == 1
    assert not report.eligible


def test_empty_allowed_set_means_any_country() -> None:
    call = FakeCall(min_countries=2, allowed_countries=[])
    report = check(call, [org(1, "MA"), org(2, "NZ")])
    assert report.eligible
    assert report.rule("allowed_countries").status == "met"
    assert is_eligible_country(call, "NZ")


def test_countries_outside_allowed_set_do_not_count() -> None:
    # Given a call open to EU countries only, with a Moroccan partner among three
    call = FakeCall(min_partners=3, min_countries=3, allowed_countries=["FR", "DE", "IT"])
    report = check(call, [org(1, "FR"), org(2, "DE"), org(3, "MA")])
    # Then MA takes part (partner count 3) but not in the distinct-countries count
    assert report.rule("min_partners").ok
    assert report.rule("min_countries").status == "unmet"
    assert report.rule("min_countries").explanation.endswith("has 2: DE, FR")
    assert report.rule("allowed_countries").status == "warning"
    assert report.rule("allowed_countries").ok
    assert "MA" in report.rule("allowed_countries").explanation
    assert not is_eligible_country(call, "MA")


def test_allowed_countries_tolerates_sloppy_data() -> None:
    call = FakeCall(min_countries=2, allowed_countries=" fr, ma ")
    assert check(call, [org(1, "FR"), org(2, "MA")]).eligible


def test_required_kinds_lists_the_missing_ones() -> None:
    call = FakeCall(required_kinds=["university", "sme", "sme"])
    report = check(call, [org(1, "FR", "sme"), org(2, "MA", "large")])
    rule = report.rule("required_kinds")
    assert rule.status == "unmet"
    assert rule.missing == ("university",)
    assert "missing: University" in rule.explanation
    assert check(call, [org(1, "FR", "sme"), org(3, "MA", "university")]).eligible


def test_mix_of_rules_reports_each_unmet_rule() -> None:
    call = FakeCall(
        min_partners=3, min_countries=3, allowed_countries=["FR", "DE", "MA"], required_kinds=["university"]
    )
    report = check(call, [org(1, "FR"), org(2, "FR")])
    assert {r.code for r in report.unmet} == {"min_partners", "min_countries", "required_kinds"}
    assert report.as_dict()["eligible"] is False


def test_no_partners_at_all() -> None:
    report = check(FakeCall(min_partners=1), [])
    assert not report.eligible
    assert "has 0" in report.rule("min_partners").explanation


def test_zero_minimums_are_trivially_met() -> None:
    assert check(FakeCall(min_partners=0, min_countries=0), []).eligible


def test_contribution_explains_what_a_candidate_adds() -> None:
    call = FakeCall(min_partners=3, min_countries=3, required_kinds=["university"])
    current = [org(1, "FR", "sme"), org(2, "MA", "sme")]
    reasons = contribution(call, current, org(3, "DE", "university"))
    assert "adds an eligible country (DE)" in reasons
    assert "brings a missing kind (University)" in reasons
    assert "makes the consortium eligible" in reasons
    assert contribution(call, current, org(4, "FR", "sme")) == []
