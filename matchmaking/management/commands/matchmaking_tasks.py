"""Periodic work of the matchmaking funnel, safe to run from cron (e.g. every 15 minutes; digest once a day).

    manage.py matchmaking_tasks               # reminders, expiry, saved-search sweep
    manage.py matchmaking_tasks --digest      # ... and the daily saved-search email digest

Every step is idempotent and safe to run concurrently: reminders are claimed
with a conditional update, expiry re-checks each request under its row lock,
saved-search hits are unique, digests claim their hits before mailing.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from matchmaking.services import introductions, saved_searches


class Command(BaseCommand):
    help = "Introduction reminders and expiry, saved-search alerts and (with --digest) the daily digest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--digest", action="store_true", help="Also send the daily saved-search email digest.")
        parser.add_argument(
            "--since-hours",
            type=float,
            default=26.0,
            help="Sweep organizations updated in the last N hours for saved-search matches (default 26).",
        )
        parser.add_argument("--skip-saved-searches", action="store_true", help="Only reminders and expiry.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        now = timezone.now()
        reminded = introductions.remind_due(now)
        self.stdout.write(f"introductions: {reminded} reminder(s) sent")
        expired = introductions.expire_due(now)
        self.stdout.write(f"introductions: {expired} expired")
        matched = 0
        if not options["skip_saved_searches"]:
            try:
                matched = saved_searches.sweep(since=now - timedelta(hours=options["since_hours"]))
            except Exception as exc:  # search down: the next run sweeps the same window again
                self.stderr.write(f"saved searches: skipped ({type(exc).__name__}: {exc})")
            else:
                self.stdout.write(f"saved searches: {matched} new match(es) notified")
        digests = saved_searches.send_digests(now) if options["digest"] else 0
        if options["digest"]:
            self.stdout.write(f"saved searches: {digests} digest email(s) sent")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Done in {elapsed:.1f}s: {reminded} reminded, {expired} expired, {matched} alerts, {digests} digests."
        )
