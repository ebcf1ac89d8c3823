"""`manage.py search_node start|stop|status|ensure|build-plugin`: the local Elasticsearch node."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search import node


class Command(BaseCommand):
    help = (
        "Manage the local single-node Elasticsearch used when ELASTICSEARCH_URL is empty "
        "(start/ensure: provision and start it if needed; stop; status), or build the "
        "maillage-analysis plugin zip for your own cluster (build-plugin --output FILE)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        subcommands = parser.add_subparsers(dest="action", required=True)
        subcommands.add_parser("start", help="Provision and start the local node (no-op when it already runs).")
        subcommands.add_parser("ensure", help="Same as start: make sure the local node runs and is healthy.")
        subcommands.add_parser("stop", help="Stop the local node cleanly.")
        subcommands.add_parser("status", help="Say whether the local node runs, where, and its health.")
        build = subcommands.add_parser("build-plugin", help="Build the analysis plugin zip for another cluster.")
        build.add_argument("--output", required=True, type=Path, help="Where to write the plugin zip.")
        build.add_argument(
            "--elasticsearch-version",
            default=node.ES_VERSION,
            help="Elasticsearch version written in the plugin descriptor (default %(default)s). A stable plugin "
            "installs on clusters of the same major version that are not older than this.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action in {"start", "ensure"}:
                self._ensure()
            elif action == "stop":
                self._stop()
            elif action == "status":
                self._status()
            elif action == "build-plugin":
                self._build_plugin(options["output"], options["elasticsearch_version"])
        except node.NodeError as error:
            raise CommandError(str(error)) from error

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _warn_external(self) -> None:
        if settings.ELASTICSEARCH_URL:
            self.stderr.write(
                "Note: ELASTICSEARCH_URL is set, so the application uses that cluster, not the local node."
            )

    def _ensure(self) -> None:
        self._warn_external()
        started = time.monotonic()
        state = node.ensure(log=self._log)
        self.stdout.write(
            self.style.SUCCESS(
                f"Elasticsearch {state.version} is running at {state.url} (pid {state.pid}); "
                f"checked in {time.monotonic() - started:.1f} s."
            )
        )

    def _stop(self) -> None:
        if node.stop(log=self._log):
            self.stdout.write(self.style.SUCCESS("The local Elasticsearch node is stopped."))
        else:
            self.stdout.write("The local Elasticsearch node was not running.")

    def _status(self) -> None:
        self._warn_external()
        status = node.status()
        style = self.style.SUCCESS if status.health is not None else self.style.WARNING
        self.stdout.write(style(status.summary))
        self.stdout.write(f"Cache directory: {node.cache_dir()}  (state file: {node.state_path()})")
        runtime = node.runtime_dir()
        self.stdout.write(f"Node directory: {runtime}  (logs: {runtime / 'logs'})")

    def _build_plugin(self, output: Path, elasticsearch_version: str) -> None:
        path = node.plugin_zip_for(output.expanduser().resolve(), elasticsearch_version, log=self._log)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {path} ({node.PLUGIN_NAME} {node.plugin_version()}, for Elasticsearch "
                f"{elasticsearch_version} and later {elasticsearch_version.split('.')[0]}.x). "
                f"Install it on every node: bin/elasticsearch-plugin install --batch file://{path} ; "
                "restart the nodes, then check that GET _nodes/plugins lists it on every node."
            )
        )
