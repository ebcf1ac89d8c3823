"""Recommendations, similar organizations and role gap filling against the real Elasticsearch node."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

from matchmaking.models import Organization, RecommendationPreference, User
from matchmaking.services import consortia
from search import indexing, lifecycle, recommend
from tests.fixtures import funnel
from tests.fixtures.search import indices  # noqa: F401

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@dataclass
class World:
    atlas: Organization
    atlas_user: User
    seine: Organization
    near_miss: Organization
    sibling: Organization
    hidden: Organization
    uni_fr: Organization
    uni_tn: Organization
    call: Any


def rebuild() -> None:
    for spec in indexing.SPECS.values():
        lifecycle.Rebuilder(spec).rebuild(threads=1)


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    request.getfixturevalue("indices")  # fresh, empty indices behind the session's aliases
    mnc = funnel.cluster("MNC", "MA")
    sys = funnel.cluster("SYS", "FR")
    oth = funnel.cluster("OTH", "FR")
    funnel.agreement(mnc, sys)
    atlas, people = funnel.organization(
        "Atlas Pay", mnc, country="MA", competences=["mobile payment", "information security"]
    )
    funnel.opportunity(atlas, "technology_request", "Fraud detection with machine learning")
    funnel.opportunity(atlas, "technology_offer", "Mobile payment platform", "USSD and NFC wallet for Africa")
    seine, _ = funnel.organization("Seine Secure", sys, country="FR", competences=["information security"])
    funnel.opportunity(seine, "technology_offer", "Machine learning fraud detection for card payments")
    funnel.opportunity(seine, "business_request", "Mobile payment platform partner in Africa")
    near, _ = funnel.organization("Near Miss", sys, country="FR", competences=["translation"])
    funnel.opportunity(near, "technology_offer", "Machine translation software")
    funnel.opportunity(near, "business_request", "Cloud hosting provider")
    sibling, _ = funnel.organization("Casa Fraud", mnc, country="MA")
    funnel.opportunity(sibling, "technology_offer", "Fraud detection with machine learning for banks")
    hidden, _ = funnel.organization("Hidden Match", oth, country="FR", visibility="cluster")
    funnel.opportunity(hidden, "technology_offer", "Fraud detection with machine learning")
    uni_fr, _ = funnel.organization(
        "Université Paris ML", sys, country="FR", kind="university", competences=["machine learning", "statistics"]
    )
    uni_tn, _ = funnel.organization(
        "Tunis ML Lab", sys, country="TN", kind="university", competences=["machine learning"]
    )
    call = funnel.call(
        min_partners=3, min_countries=3, allowed_countries=["FR", "MA", "DE"], required_kinds=["university"]
    )
    rebuild()
    return World(atlas, people[0], seine, near, sibling, hidden, uni_fr, uni_tn, call)


def test_need_meets_offer_ranks_above_a_near_miss(world: World) -> None:
    results = recommend.recommend(world.atlas_user, world.atlas)
    ids = [r.organization_id for r in results]
    assert ids[0] == world.seine.pk
    assert world.near_miss.pk not in ids[:1]
    if world.near_miss.pk in ids:
        assert ids.index(world.seine.pk) < ids.index(world.near_miss.pk)
    assert world.atlas.pk not in ids  # never oneself


def test_explanations_name_the_need_the_offer_and_the_agreement(world: World) -> None:
    top = recommend.recommend(world.atlas_user, world.atlas)[0]
    text = " | ".join(top.reasons)
    assert (
        "Your need “Fraud detection with machine learning” meets their offer "
        "“Machine learning fraud detection for card payments”" in text
    )
    assert "Your offer “Mobile payment platform” meets their need “Mobile payment platform partner in Africa”" in text
    assert "Shared competences: information security" in text
    assert "Visible through the MNC–SYS partnership" in text
    assert any(name.startswith("need:") for name in top.matched)


def test_visibility_is_respected(world: World) -> None:
    ids = {r.organization_id for r in recommend.recommend(world.atlas_user, world.atlas)}
    assert world.hidden.pk not in ids
    assert world.sibling.pk in ids  # same cluster: visible


def test_preferences_filter(world: World) -> None:
    pref = RecommendationPreference(organization=world.atlas, other_clusters_only=True)
    ids = {r.organization_id for r in recommend.recommend(world.atlas_user, world.atlas, preference=pref)}
    assert world.sibling.pk not in ids
    assert world.seine.pk in ids
    pref = RecommendationPreference(organization=world.atlas, countries=["DE"])
    assert recommend.recommend(world.atlas_user, world.atlas, preference=pref) == []
    pref = RecommendationPreference(organization=world.atlas, kinds=["university"])
    assert all(r.kind == "university" for r in recommend.recommend(world.atlas_user, world.atlas, preference=pref))


def test_focus_on_one_need(world: World) -> None:
    need = world.atlas.opportunities.get(kind="technology_request")
    results = recommend.recommend(world.atlas_user, world.atlas, opportunity=need)
    assert results[0].organization_id in {world.seine.pk, world.sibling.pk}
    assert results[0].opportunity_id == need.pk
    assert all(not name.startswith("offer:") for r in results for name in r.matched)


def test_similar_organizations_with_more_like_this(world: World) -> None:
    similar = recommend.similar_organizations(world.atlas_user, world.seine)
    ids = [r.organization_id for r in similar]
    assert world.seine.pk not in ids
    assert world.hidden.pk not in ids
    assert ids  # more_like_this runs on this distribution
    assert set(ids) & {world.sibling.pk, world.atlas.pk, world.near_miss.pk}


def test_role_suggestions_fill_the_gap_and_keep_eligibility(world: World) -> None:
    consortium = consortia.create_consortium(
        world.atlas_user, call_id=world.call.pk, coordinator_id=world.atlas.pk, name="Safe Pay"
    )
    role = consortia.add_role(
        world.atlas_user, consortium.pk, title="Research partner", competences=["machine learning"], kind="university"
    )
    suggestions = recommend.suggest_for_role(world.atlas_user, consortium, role)
    ids = [s.organization_id for s in suggestions]
    assert ids[0] == world.uni_fr.pk
    assert world.uni_tn.pk not in ids  # TN does not count for this call
    assert all(s.country in {"FR", "MA", "DE"} for s in suggestions)
    reasons = " | ".join(suggestions[0].reasons)
    assert "Covers the role's competences: machine learning" in reasons
    assert "adds an eligible country (FR)" in reasons
    assert "brings a missing kind (University)" in reasons
