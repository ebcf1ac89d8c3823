"""ASGI entry point: HTTP through Django, websockets through Channels.

Django answers HTTP as a WSGI application run in a pool of threads (a2wsgi), one
hop from the event loop per request. Django's own ASGI handler made a new thread
for every request and crossed between the event loop and threads three times per
request (around the middleware that are synchronous): a third of the API's Python
time, for no gain, since no view of ours is asynchronous. `HTTP_THREADS` bounds
the requests one process serves at once (keep the database pool at least as big).
"""

import gc
import os
from typing import Any

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")
# Django must be set up before the routing imports consumers and models.
django_wsgi_app = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_THREADS)  # type: ignore[arg-type]

LENGTH_REQUIRED = b'{"detail": "Send the request body with a Content-Length header (chunked bodies are not accepted)."}'


async def django_http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Django over WSGI reads exactly Content-Length bytes of a body: a chunked body (no
    length) would arrive empty, so it is refused with 411 instead. Browsers and HTTP
    libraries send a length; the nginx of deploy/ adds one to what it forwards."""
    names = {name.lower() for name, _value in scope.get("headers", [])}
    if b"transfer-encoding" in names and b"content-length" not in names:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(LENGTH_REQUIRED)).encode())]
        await send({"type": "http.response.start", "status": 411, "headers": headers})
        await send({"type": "http.response.body", "body": LENGTH_REQUIRED})
        return
    await django_wsgi_app(scope, receive, send)  # type: ignore[arg-type]


from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from messaging.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything imported so far lives as long as the process: moving it out of
# the collector's sight makes each full collection much cheaper, which the
# websocket server feels as fewer latency spikes (tests/benchmarks/bench_messaging.py).
gc.freeze()
