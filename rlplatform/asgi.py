"""The ASGI application: Django for HTTP (pages, API, static files through whitenoise) and
Channels for WebSockets (OpenEnv sessions under /openenv/), on one port."""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rlplatform.settings")
# Whitenoise streams static files from a file object, which Django's ASGI handler serves
# correctly but warns about on every file; production serves static files under gunicorn.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")
# Set Django up before importing anything that touches models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.signals import request_finished  # noqa: E402
from django.db import connections  # noqa: E402

from environments.openenv.routing import websocket_urlpatterns  # noqa: E402
from rlplatform import startup  # noqa: E402


def close_request_connections(**kwargs) -> None:
    """Django's ASGI handler runs each request's synchronous code on a thread of its own, so a
    connection kept for reuse (DB_CONN_MAX_AGE) is never reused: it stayed open until the
    garbage collector found it, and under load the process ran PostgreSQL out of connections.
    (OpenEnv's worker threads live as long as the process and keep theirs.)"""
    connections.close_all()


request_finished.connect(close_request_connections)

application = ProtocolTypeRouter(
    {"http": django_application, "websocket": URLRouter(websocket_urlpatterns)}
)

startup.settle()
