"""Reads of the environments app."""

from django.db.models import QuerySet

from environments.engine import list_environments
from environments.engine.base import Environment
from environments.models import Episode, Step, Task
from rlplatform.models import ApiKey, User


def environment_list() -> list[Environment]:
    return list_environments()


def task_list(*, env_id: str | None = None, family: str | None = None) -> QuerySet[Task]:
    tasks = Task.objects.all()
    if env_id:
        tasks = tasks.filter(env_id=env_id)
    if family:
        tasks = tasks.filter(family=family)
    return tasks


def episode_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Episode]:
    """The episodes a principal may read: a key, its owner's; admins and managers, all;
    everyone else, their own."""
    episodes = Episode.objects.select_related("task", "user")
    if reads_every_episode(user=user, api_key=api_key):
        return episodes
    return episodes.filter(user=user)


def reads_every_episode(*, user: User, api_key: ApiKey | None = None) -> bool:
    return api_key is None and (user.is_admin or user.is_manager)


def episode_steps(*, episode: Episode) -> QuerySet[Step]:
    return episode.steps.order_by("index")
