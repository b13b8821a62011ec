from django.urls import path

from environments import apis, views

api_urlpatterns = [
    path("episodes/", apis.EpisodeListApi.as_view(), name="api_episodes"),
    path(
        "episodes/batch-create/",
        apis.EpisodeBatchCreateApi.as_view(),
        name="api_episodes_create",
    ),
    path("episodes/batch-step/", apis.EpisodeBatchStepApi.as_view(), name="api_episodes_step"),
    path("episodes/<int:episode_id>/", apis.EpisodeDetailApi.as_view(), name="api_episode"),
    path(
        "episodes/<int:episode_id>/step/",
        apis.EpisodeStepApi.as_view(),
        name="api_episode_step",
    ),
    path(
        "episodes/<int:episode_id>/abandon/",
        apis.EpisodeAbandonApi.as_view(),
        name="api_episode_abandon",
    ),
    path("imports/", apis.ImportListApi.as_view(), name="api_imports"),
    path("rollouts/", apis.RolloutListApi.as_view(), name="api_rollouts"),
    path(
        "rollouts/<int:job_id>/items/",
        apis.RolloutItemListApi.as_view(),
        name="api_rollout_items",
    ),
    path("environments/", apis.EnvironmentListApi.as_view(), name="api_environments"),
    path(
        "environments/<str:env_id>/",
        apis.EnvironmentDetailApi.as_view(),
        name="api_environment",
    ),
    path("tasks/", apis.TaskListApi.as_view(), name="api_tasks"),
    path("tasks/<int:task_id>/", apis.TaskDetailApi.as_view(), name="api_task"),
]

urlpatterns = [
    path("environments/", views.catalog, name="catalog"),
    path(
        "environments/<str:env_id>/<str:family>/try/",
        views.try_family,
        name="try_family",
    ),
    path("play/<int:episode_id>/", views.play, name="play"),
    path("rollouts/", views.rollout_list, name="rollouts"),
    path("imports/", views.import_list, name="imports"),
    path("play/<int:episode_id>/outcome/", views.play_outcome, name="play_outcome"),
]
