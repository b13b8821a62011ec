"""Reads of the environments app."""

from django.db.models import QuerySet
from django.urls import reverse

from environments.engine import list_environments
from environments.engine.base import Environment
from environments.models import Episode, Step, Task
from rlplatform.jobs import JobDescription
from rlplatform.models import ApiKey, Job, User


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


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def rollout_description(job: Job) -> JobDescription:
    """A rollout's figures in words, and where its episodes are listed."""
    result = job.result or {}
    summary = ""
    if "episodes" in result:
        played = result["episodes"]
        summary = f"{_plural(played, 'episode')} played"
        if played:
            summary += f", {result['successes']:,} solved ({result['success_rate']:.0%})"
            summary += f"; {result['mean_steps']:.1f} steps and reward {result['mean_reward']:.2f}"
            summary += " on average"
        failed = (result.get("items") or {}).get("failed", 0)
        summary += f"; {_plural(failed, 'episode')} could not be played." if failed else "."
    return JobDescription(
        summary=summary,
        links=[("Its episodes, as JSON", reverse("api_rollout_items", args=[job.pk]))],
    )


def import_description(job: Job) -> JobDescription:
    count = (job.result or {}).get("count")
    return JobDescription(summary=f"Imported {_plural(count, 'episode')}." if count else "")
