from django.apps import AppConfig


class MatchmakingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "matchmaking"

    def ready(self) -> None:
        # Saved-search alerts follow profile changes (see matchmaking/services/saved_searches.py).
        from matchmaking.services import saved_searches
        from matchmaking.signals import organizations_changed

        organizations_changed.connect(
            saved_searches.on_organizations_changed, dispatch_uid="matchmaking.saved_searches"
        )
