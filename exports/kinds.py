"""Export kinds: what a row is, its columns (a pyarrow schema, which Parquet files carry and
Hugging Face `datasets` reads), and the rows themselves, streamed in a stable order from a
database alias (the export's snapshot).

Column names follow what TRL's trainers read: `messages` (SFT), `prompt`/`chosen`/`rejected`
(preference), `prompt`/`completions`/`labels` (stepwise), `prompt`/`completion`/`label`
(unpaired).
"""

import json
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import pyarrow as pa
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from environments.engine.page import page_from_json
from environments.models import ActorKind, Episode, EpisodeStatus, Step
from environments.observations import render_page
from environments.policies import SYSTEM_PROMPT

# Episodes read at a time: with their steps, this bounds an export's memory.
CHUNK = 50
SCHEMA_VERSION = 1

NAMED_VALUE = pa.struct([("name", pa.string()), ("value", pa.float64())])
CHECK = pa.struct([("name", pa.string()), ("passed", pa.bool_()), ("detail", pa.string())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
STEP = pa.struct(
    [
        ("index", pa.int32()),
        ("observation", pa.string()),
        ("action", pa.string()),
        ("reward", pa.float64()),
        ("terminated", pa.bool_()),
        ("truncated", pa.bool_()),
        ("error", pa.string()),
    ]
)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def finished_episodes(filters: dict[str, Any], using: str) -> QuerySet[Episode]:
    """Finished episodes matching the filters, in id order."""
    episodes = (
        Episode.objects.using(using)
        .exclude(status=EpisodeStatus.RUNNING)
        .select_related("task")
        .order_by("pk")
    )
    if filters.get("environments"):
        episodes = episodes.filter(env_id__in=filters["environments"])
    if filters.get("families"):
        episodes = episodes.filter(task__family__in=filters["families"])
    if filters.get("actor_kind"):
        episodes = episodes.filter(actor_kind=filters["actor_kind"])
    if filters.get("success") is not None:
        episodes = episodes.filter(success=filters["success"])
    if filters.get("finished_after"):
        episodes = episodes.filter(finished_at__gte=filters["finished_after"])
    if filters.get("finished_before"):
        episodes = episodes.filter(finished_at__lt=filters["finished_before"])
    return episodes


class StepRow(NamedTuple):
    """A step as exports read it: plain values, its observation still JSON text."""

    episode_id: int
    index: int
    observation: str
    action: str
    reward: float
    terminated: bool
    truncated: bool
    error: str


def episodes_with_steps(
    episodes: QuerySet[Episode], using: str
) -> Iterator[tuple[Episode, list[StepRow]]]:
    """Each episode with its steps, a chunk of episodes at a time (flat memory)."""
    chunk: list[Episode] = []
    for episode in episodes.iterator(chunk_size=CHUNK):
        chunk.append(episode)
        if len(chunk) == CHUNK:
            yield from _with_steps(chunk, using)
            chunk = []
    if chunk:
        yield from _with_steps(chunk, using)


def _with_steps(chunk: list[Episode], using: str) -> Iterator[tuple[Episode, list[StepRow]]]:
    steps: dict[int, list[StepRow]] = {episode.pk: [] for episode in chunk}
    rows = (
        Step.objects.using(using)
        .filter(episode_id__in=steps)
        .order_by("episode_id", "index")
        .annotate(observation_text=Cast("observation", TextField()))
        .values_list(
            "episode_id",
            "index",
            "observation_text",
            "action",
            "reward",
            "terminated",
            "truncated",
            "error",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        steps[row[0]].append(StepRow(*row))
    for episode in chunk:
        yield episode, steps[episode.pk]


@lru_cache(maxsize=4096)
def observation_text(observation: str, mode: str) -> str:
    """A stored observation (page JSON text) rendered in `mode`. Trajectories revisit the same
    pages often (every episode of a task starts on the same one), so renderings are kept."""
    rendered = render_page(page_from_json(json.loads(observation)), mode)
    return rendered if isinstance(rendered, str) else json.dumps(rendered, sort_keys=True)


def system_prompt(goal: str) -> str:
    """The system turn of a conversation: the rules the chat policy is given, and the goal."""
    return f"{SYSTEM_PROMPT}\n\nTask: {goal}"


class ExportKind:
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    schema: ClassVar[pa.Schema]
    # Filters this kind applies unless the export says otherwise.
    default_filters: ClassVar[dict[str, Any]] = {}

    def rows(self, filters: dict[str, Any], using: str) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def count(self, filters: dict[str, Any], using: str) -> int:
        """How many rows `rows` will yield (for progress)."""
        raise NotImplementedError


class Trajectories(ExportKind):
    name = "trajectories"
    title = "Trajectories (one episode a row)"
    description = (
        "Every finished episode with its steps: the observation the actor saw, its action, "
        "reward, terminated and truncated; the outcome with each verifier check and reward "
        "components."
    )
    schema = pa.schema(
        [
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("version", pa.int32()),
            ("task_id", pa.int64()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("goal", pa.string()),
            ("actor_kind", pa.string()),
            ("source", pa.string()),
            ("status", pa.string()),
            ("success", pa.bool_()),
            ("reward", pa.float64()),
            ("reward_components", pa.list_(NAMED_VALUE)),
            ("checks", pa.list_(CHECK)),
            ("steps", pa.list_(STEP)),
            ("created_at", pa.string()),
            ("finished_at", pa.string()),
        ]
    )

    def count(self, filters, using):
        return finished_episodes(filters, using).count()

    def rows(self, filters, using):
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            yield self.row(episode, steps, filters)

    def row(
        self, episode: Episode, steps: list[StepRow], filters: dict[str, Any]
    ) -> dict[str, Any]:
        mode = filters.get("observation_mode") or "axtree"
        outcome = episode.outcome or {}
        return {
            "episode_id": episode.pk,
            "environment": episode.env_id,
            "version": int(episode.env_id.rsplit("-v", 1)[1]),
            "task_id": episode.task_id,
            "family": episode.task.family,
            "seed": episode.seed,
            "goal": episode.task.goal,
            "actor_kind": episode.actor_kind,
            "source": episode.source,
            "status": episode.status,
            "success": episode.success,
            "reward": episode.reward,
            "reward_components": [
                {"name": name, "value": value}
                for name, value in sorted(outcome.get("reward_components", {}).items())
            ],
            "checks": outcome.get("checks", []),
            "steps": [
                {
                    "index": step.index,
                    "observation": observation_text(step.observation, mode),
                    "action": step.action,
                    "reward": step.reward,
                    "terminated": step.terminated,
                    "truncated": step.truncated,
                    "error": step.error,
                }
                for step in steps
            ],
            "created_at": iso(episode.created_at),
            "finished_at": iso(episode.finished_at),
        }


class TrajectorySteps(ExportKind):
    name = "trajectory_steps"
    title = "Trajectory steps (one step a row)"
    description = (
        "One row per step, for RL pipelines: observation, action, reward, terminated, "
        "truncated, with the episode's task and outcome."
    )
    schema = pa.schema(
        [
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("goal", pa.string()),
            ("actor_kind", pa.string()),
            ("step", pa.int32()),
            ("observation", pa.string()),
            ("action", pa.string()),
            ("reward", pa.float64()),
            ("terminated", pa.bool_()),
            ("truncated", pa.bool_()),
            ("error", pa.string()),
            ("episode_success", pa.bool_()),
        ]
    )

    def count(self, filters, using):
        return (
            Step.objects.using(using)
            .filter(episode__in=finished_episodes(filters, using).values("pk"))
            .count()
        )

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            for step in steps:
                yield {
                    "episode_id": episode.pk,
                    "environment": episode.env_id,
                    "family": episode.task.family,
                    "seed": episode.seed,
                    "goal": episode.task.goal,
                    "actor_kind": episode.actor_kind,
                    "step": step.index,
                    "observation": observation_text(step.observation, mode),
                    "action": step.action,
                    "reward": step.reward,
                    "terminated": step.terminated,
                    "truncated": step.truncated,
                    "error": step.error,
                    "episode_success": episode.success,
                }


class Sft(ExportKind):
    name = "sft"
    title = "SFT conversations (human demonstrations)"
    description = (
        "Demonstrations as conversational `messages`: the system turn holds the rules and the "
        "goal, each user turn an observation, each assistant turn the action taken. Successful "
        "human demonstrations by default."
    )
    schema = pa.schema(
        [
            ("messages", pa.list_(MESSAGE)),
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
        ]
    )
    default_filters = {"actor_kind": ActorKind.CONTRACTOR, "success": True}

    def count(self, filters, using):
        return finished_episodes(filters, using).count()

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            messages = [{"role": "system", "content": system_prompt(episode.task.goal)}]
            for step in steps:
                if step.error:
                    continue
                messages.append(
                    {"role": "user", "content": observation_text(step.observation, mode)}
                )
                messages.append({"role": "assistant", "content": step.action})
            yield {
                "messages": messages,
                "episode_id": episode.pk,
                "environment": episode.env_id,
                "family": episode.task.family,
                "seed": episode.seed,
            }


KINDS: dict[str, ExportKind] = {
    kind.name: kind for kind in (Trajectories(), TrajectorySteps(), Sft())
}
KIND_NAMES = tuple(sorted(KINDS))
