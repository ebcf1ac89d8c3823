from django.apps import AppConfig


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        # Receivers are connected here, not at import time, so `matchmaking`
        # never imports `search` and the outbox follows every change.
        from django.db.models.signals import post_delete, post_save

        from matchmaking.models import Cluster, Theme
        from matchmaking.signals import calls_changed, organizations_changed
        from search import indexing, queries

        organizations_changed.connect(indexing.on_organizations_changed, dispatch_uid="search.organizations_changed")
        calls_changed.connect(indexing.on_calls_changed, dispatch_uid="search.calls_changed")
        for model in (Cluster, Theme):
            for signal in (post_save, post_delete):
                signal.connect(
                    queries.forget_reference_labels, sender=model, dispatch_uid=f"search.labels.{model.__name__}"
                )
