from django.conf import settings
from django.urls import path

from environments.openenv import apis, views

api_urlpatterns = [
    path("openenv/sessions/", apis.SessionUrlListApi.as_view(), name="api_openenv_sessions"),
    path(
        "openenv/sessions/<int:session_url_id>/revoke/",
        apis.SessionUrlRevokeApi.as_view(),
        name="api_openenv_session_revoke",
    ),
    path("datasets/tasks/", apis.TasksDatasetApi.as_view(), name="api_dataset_tasks"),
    path(
        "environments/<str:env_id>/families/<str:family>/rubric/",
        apis.FamilyRubricApi.as_view(),
        name="api_family_rubric",
    ),
    path(
        "episodes/<int:episode_id>/reward/",
        apis.EpisodeRewardApi.as_view(),
        name="api_episode_reward",
    ),
]

# OpenEnv's HTTP surface for each environment, under /openenv/<env-id>/ (a Bearer header) and
# under a session URL, /openenv/<env-id>/s/<token>/. The WebSocket `ws` is in routing.py.
_ENDPOINTS = {
    "health": views.health,
    "schema": views.schema,
    "metadata": views.metadata,
    "reset": views.reset,
    "step": views.step,
    "state": views.state,
    "openapi.json": views.openapi,
    "mcp": views.mcp,
}

urlpatterns = [path("openenv/", views.index, name="openenv_index")]
for _name, _view in _ENDPOINTS.items():
    urlpatterns += [
        path(f"openenv/<str:env_id>/{_name}", _view, name=f"openenv_{_name.split('.')[0]}"),
        path(
            f"openenv/<str:env_id>/s/<str:token>/{_name}",
            _view,
            name=f"openenv_{_name.split('.')[0]}_session",
        ),
    ]

# A deployment that serves one environment (an OpenEnv Space) also serves it at the root, where
# stock clients look: base_url "https://host" or "https://host/s/<token>".
if settings.OPENENV_ROOT_ENVIRONMENT:
    _root = {"env_id": settings.OPENENV_ROOT_ENVIRONMENT}
    for _name, _view in _ENDPOINTS.items():
        urlpatterns += [
            path(_name, _view, _root),
            path(f"s/<str:token>/{_name}", _view, _root),
        ]
