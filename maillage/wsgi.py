"""WSGI entry point: HTTP in production, served by gunicorn's synchronous workers
(`gunicorn maillage.wsgi`, see deploy/); websockets go to the ASGI server (maillage/asgi.py).

A synchronous worker answers one request at a time and takes the next connection only
when it is free, so requests queue once, in arrival order, for the first free process.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")
application = get_wsgi_application()

# Everything imported so far lives as long as the process: out of the collector's sight.
gc.freeze()
