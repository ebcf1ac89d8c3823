"""`manage.py seed_conversations`: the demo conversations alone (seed_demo calls them too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from messaging.demo import seed_conversations


class Command(BaseCommand):
    help = "Create a few demo conversations between members of different clusters (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_conversations(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo conversations: {created} created."))
