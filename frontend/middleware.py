"""Remember the language a signed-in person reads the site in.

Emails (admission decisions, invitations) are rendered in the recipient's
`preferred_language`; the natural source of that preference is the language
they browse in, so it follows the URL prefix they use.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language_from_path

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


class PreferredLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.method == "GET" and user is not None and user.is_authenticated and response.status_code == 200:
            language = get_language_from_path(request.path_info)
            if language in LANGUAGE_CODES and getattr(user, "preferred_language", language) != language:
                # One UPDATE when the reader switches language, never on ordinary page views.
                get_user_model().objects.filter(pk=user.pk).update(preferred_language=language)
                user.preferred_language = language
        return response
