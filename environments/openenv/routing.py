"""WebSocket routes (Channels): OpenEnv's `ws` for each environment."""

from django.conf import settings
from django.urls import path, re_path

from environments.openenv.consumers import NoRouteConsumer, OpenEnvConsumer

websocket_urlpatterns = [
    path("openenv/<str:env_id>/ws", OpenEnvConsumer.as_asgi()),
    path("openenv/<str:env_id>/s/<str:token>/ws", OpenEnvConsumer.as_asgi()),
]
if settings.OPENENV_ROOT_ENVIRONMENT:
    # One environment at the root too (see urls.py).
    _root = {"env_id": settings.OPENENV_ROOT_ENVIRONMENT}
    websocket_urlpatterns += [
        path("ws", OpenEnvConsumer.as_asgi(), _root),
        path("s/<str:token>/ws", OpenEnvConsumer.as_asgi(), _root),
    ]
websocket_urlpatterns.append(re_path(r"", NoRouteConsumer.as_asgi()))
