"""ASGI entry point: websockets through Channels, and HTTP through Django (in a pool of threads,
see maillage/http_threads.py) where this one server answers both, as in `make demo`. In
production, HTTP goes to gunicorn (maillage/wsgi.py) and only /ws/ comes here (deploy/).
`HTTP_THREADS` bounds the requests one process serves at once (keep the database pool at
least as big)."""

import gc
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from maillage.http_threads import ThreadedWSGI

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")
# Django must be set up before the routing imports consumers and models.
django_http_app = ThreadedWSGI(get_wsgi_application(), threads=settings.HTTP_THREADS)

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
