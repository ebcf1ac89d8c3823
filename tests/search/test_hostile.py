"""Whatever a user types reaches only match queries: every input gives a result or a clear 400, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from search import queries
from tests.fixtures.search import SearchWorld

pytestmark = [pytest.mark.elasticsearch, pytest.mark.django_db]

HOSTILE = [
    '"',
    '"paiement',
    "(",
    "paiement)",
    ":",
    "name:atlas",
    "*",
    "atl*",
    "?",
    "\\",
    "a\\",
    "/",
    "/regex.*/",
    "AND OR NOT",
    "paiement AND NOT mobile",
    "+paiement -mobile",
    "paiement~2",
    "name:[a TO z]",
    "{}",
    '{"query": {"match_all": {}}}',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "&&||!^~",
    "الدفع عبر الهاتف المحمول",
    "支付",
    "💳 paiement 📱",
    "\u0000",
    "paie\u0000ment",
    "\ue000mark\ue001",
    "x" * 500,
    "x" * 501,
    "paiement " * 600,  # 5,400 characters
    "y" * 5000,
    "   ",
    "\t\n",
    "",
]
IDS = [repr(value[:20]) + (f"…({len(value)})" if len(value) > 20 else "") for value in HOSTILE]


def client(user: Any) -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(user)
    return api


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_api_answers_200_or_400(shared_world: SearchWorld, text: str) -> None:
    api = client(shared_world.mnc_member)
    for url in ("/api/search/organizations", "/api/search/calls", "/api/search/suggest"):
        response = api.get(url, {"q": text})
        assert response.status_code in {200, 400}, (url, response.status_code, response.content[:300])
        if response.status_code == 400:
            assert "q" in response.json() or "detail" in response.json()
    # refused exactly when too long, or when it carries NUL (DRF refuses null characters in text)
    refused = len(" ".join(text.split())) > queries.MAX_QUERY_LENGTH or "\x00" in text
    assert (api.get("/api/search/organizations", {"q": text}).status_code == 400) == refused


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_page_answers_200_or_400(shared_world: SearchWorld, text: str) -> None:
    api = client(shared_world.mnc_member)
    response = api.get("/en/search/", {"q": text})
    assert response.status_code in {200, 400}
    assert b"<script>alert(1)</script>" not in response.content


def test_quotes_and_operators_are_plain_words(shared_world: SearchWorld) -> None:
    w = shared_world
    assert queries.search_organizations(w.superuser, text='"paiement mobile"').ids[0] == w.atlas.pk
    assert queries.search_organizations(w.superuser, text="paiement AND NOT mobile").ids[0] == w.atlas.pk
    queries.search_organizations(w.superuser, text="name:atlas*")  # words, not syntax: no error
    assert queries.search_organizations(w.superuser, text="*").total == 0
    assert queries.search_organizations(w.superuser, text="paie\x00ment").total >= 0  # NUL dropped here


def test_too_long_text_says_why(shared_world: SearchWorld) -> None:
    response = client(shared_world.superuser).get("/api/search/organizations", {"q": "z" * 600})
    assert response.status_code == 400
    assert "at most 500 characters" in str(response.json())
