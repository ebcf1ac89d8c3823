from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # Receivers are connected here, not at import time, so `matchmaking`
        # never imports `search` and the outbox follows every change.
        from matchmaking.signals import calls_changed, organizations_changed
        from search import indexing

        organizations_changed.connect(indexing.on_organizations_changed, dispatch_uid="search.organizations_changed")
        calls_changed.connect(indexing.on_calls_changed, dispatch_uid="search.calls_changed")
