"""The messaging admin pages open for a superuser (read-mostly: writes go through services)."""

from __future__ import annotations

import pytest
from django.test import Client

from matchmaking.models import User
from tests.messaging.conftest import World

pytestmark = pytest.mark.django_db


def test_admin_pages_open(world: World, client: Client) -> None:
    client.force_login(User.objects.create_superuser(email="root@admin.example", password="x-long-passphrase"))
    for url in (
        "/fr/admin/messaging/conversation/",
        f"/fr/admin/messaging/conversation/{world.conversation.pk}/change/",
        "/fr/admin/messaging/message/",
        "/fr/admin/messaging/notification/",
    ):
        assert client.get(url).status_code == 200, url
