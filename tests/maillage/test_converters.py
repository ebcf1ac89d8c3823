"""Ids in URLs: beyond 64-bit integers they are plain 404s, never a database error (500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.fixtures.people import make_user

HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [
        f"/fr/matchmaking/introductions/{HUGE}/",
        f"/fr/matchmaking/consortia/{HUGE}/",
        f"/fr/matchmaking/calls/{HUGE}/",
        f"/fr/messages/{HUGE}/",
        f"/api/messaging/conversations/{HUGE}/",
        f"/api/messaging/conversations/{HUGE}/messages/",
        f"/api/introductions/{HUGE}/",
        f"/api/consortia/{HUGE}/eligibility/",
        f"/api/organizations/{HUGE}/similar/",
    ],
)
def test_an_id_beyond_64_bits_is_a_404(db: Any, path: str) -> None:
    # Given a signed-in user
    client = Client()
    client.force_login(make_user("someone@example.org"))

    # When they ask for an object by an absurdly large id
    response = client.get(path)

    # Then the answer is "not found", not a server error
    assert response.status_code == 404
