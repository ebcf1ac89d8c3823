"""`manage.py serve [--host H] [--port P]`: the ASGI server (pages, API, websockets), search ready first.

With ELASTICSEARCH_URL empty, the local Elasticsearch node is provisioned and
started first (search.node), then `search_index ensure` creates and fills
any missing index and applies pending changes, so the search page works on
the first request. Static files are served by WhiteNoise from STATIC_ROOT
(run `collectstatic` first, as `make demo` does).
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from search import node


class Command(BaseCommand):
    help = "Serve Maillage with uvicorn after making sure Elasticsearch and the search indices are ready."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default %(default)s).")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind (default %(default)s).")
        parser.add_argument(
            "--skip-search-setup",
            action="store_true",
            help="Do not start the local Elasticsearch node nor ensure the search indices.",
        )
        parser.add_argument(
            "--prepare-only",
            action="store_true",
            help="Make Elasticsearch and the search indices ready, then exit without serving "
            "(`make demo` runs it before loading the demo data, so the data is indexed as it is written).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["skip_search_setup"]:
            self._prepare_search()
        if options["prepare_only"]:
            return
        self.stdout.write(f"Serving Maillage on http://{options['host']}:{options['port']}/ (Ctrl+C to stop)")
        # Django's ASGI handler does not implement the lifespan protocol. The sans-I/O
        # websockets implementation reports a send to a vanished client as the ASGI
        # spec's OSError, which the consumer handles, instead of logging a traceback.
        uvicorn.run(
            "maillage.asgi:application",
            host=options["host"],
            port=options["port"],
            lifespan="off",
            ws="websockets-sansio",
        )

    def _prepare_search(self) -> None:
        if settings.ELASTICSEARCH_URL:
            self.stdout.write(f"Using the Elasticsearch cluster at {settings.ELASTICSEARCH_URL}")
        else:
            try:
                node.ensure(log=self.stdout.write)
            except node.NodeError as error:
                raise CommandError(
                    f"{error}\n(Or start without search: `manage.py serve --skip-search-setup`.)"
                ) from error
        if "search_index" not in get_commands():
            raise CommandError(
                "The `search_index` management command is missing, so the search indices cannot be created. "
                "Start with `manage.py serve --skip-search-setup` to serve without search."
            )
        call_command("search_index", "ensure", stdout=self.stdout, stderr=self.stderr)
