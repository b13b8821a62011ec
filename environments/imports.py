"""Importing trajectories produced elsewhere, for grading.

A JSONL file, one trajectory a line:

    {"environment": "bank-v1", "family": "pay_bill", "seed": 7,
     "actions": ["fill('1', 'mchen42')", ...],
     "observations": ["<axtree text or page JSON the actor saw before each action>", ...],
     "actor": "agent", "metadata": {"model": "..."}}

(`"task": <id>` may stand for family and seed.) Every line is replayed in the environment: each
action must apply, observations (when given) must be what the environment shows, and no action
may come after the episode ended. A file with any bad line is rejected whole, with the reason
for each bad line, and nothing of it is stored.
"""

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from environments.engine import ActionError, get_environment, page_to_axtree, page_to_json
from environments.engine.text import json_parse
from environments.models import ActorKind, EpisodeStatus, Task
from environments.services import (
    StepRequest,
    episode_abandon,
    episode_create,
    episodes_step,
    task_get_or_create,
)
from rlplatform.models import Job, User
from rlplatform.services import JobFailed, ServiceError, job_create

logger = logging.getLogger(__name__)

MAX_LINES = 10_000
MAX_ACTIONS = 500
MAX_BYTES = 100 * 1024 * 1024


@dataclass
class Trajectory:
    line: int
    env_id: str
    family: str
    seed: int
    actions: list[str]
    actor: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class LineError:
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


class ImportRejected(Exception):
    def __init__(self, errors: list[LineError]):
        super().__init__(f"{len(errors)} bad line(s)")
        self.errors = errors


def _parse_line(number: int, text: str | bytes) -> tuple[Trajectory, list]:
    data = json_parse(text)  # BadJSON, a ValueError, says what is wrong and where
    if not isinstance(data, dict):
        raise ValueError("a line must be a JSON object")
    env_id = data.get("environment")
    if not isinstance(env_id, str):
        raise ValueError("environment: required, a string such as 'bank-v1'")
    try:
        env = get_environment(env_id)
    except KeyError as error:
        raise ValueError(f"environment: {error.args[0]}") from None
    if "task" in data:
        if not isinstance(data["task"], int) or isinstance(data["task"], bool):
            raise ValueError("task: a task id, an integer")
        task = Task.objects.filter(pk=data["task"], env_id=env.id).first()
        if task is None:
            raise ValueError(f"task: no task {data['task']!r} of {env.id}")
        family, seed = task.family, task.seed
    else:
        family, seed = data.get("family"), data.get("seed")
        if family is None:
            raise ValueError("family: required unless task is given")
        if not isinstance(family, str):
            raise ValueError("family: a task family's name, a string")
        if family not in env.families:
            raise ValueError(f"family: {env.id} has no task family {family!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
            raise ValueError("seed: required, an integer from 0 to 2147483647")
    actions = data.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str | dict) for a in actions):
        raise ValueError("actions: required, a list of action strings or objects")
    if len(actions) > MAX_ACTIONS:
        raise ValueError(f"actions: {len(actions)} actions; at most {MAX_ACTIONS}")
    observations = data.get("observations")
    if observations is not None and (
        not isinstance(observations, list) or len(observations) != len(actions)
    ):
        raise ValueError("observations: when given, a list with one entry per action")
    actor = data.get("actor", ActorKind.AGENT)
    if actor not in ActorKind.values:
        raise ValueError(f"actor: one of {', '.join(ActorKind.values)}")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError("metadata: an object")
    trajectory = Trajectory(
        line=number,
        env_id=env.id,
        family=family,
        seed=seed,
        actions=[a if isinstance(a, str) else json.dumps(a) for a in actions],
        actor=actor,
        metadata=metadata,
    )
    return trajectory, observations or []


def _replay(trajectory: Trajectory, observations: list) -> None:
    """Raise ValueError naming the first step the environment does not accept."""
    env = get_environment(trajectory.env_id)
    task = env.make_task(trajectory.family, trajectory.seed)
    state = env.reset(task.seed, task)
    ended_at = None
    for index, action in enumerate(trajectory.actions):
        if ended_at is not None:
            raise ValueError(f"step {index}: comes after the episode ended at step {ended_at}")
        if index >= task.max_steps:
            raise ValueError(f"step {index}: the task allows at most {task.max_steps} steps")
        page = env.render(state)
        if observations:
            seen = observations[index]
            shown = page_to_axtree(page) if isinstance(seen, str) else page_to_json(page)
            if seen != shown:
                raise ValueError(
                    f"step {index}: the observation is not the page the environment shows "
                    "in that state"
                )
        try:
            state = env.step(state, action)
        except ActionError as error:
            raise ValueError(f"step {index}: {error.code}: {error.message}") from None
        if state["finished"] or env.evaluate(state, task).success:
            ended_at = index


def import_validate(lines: list[str] | list[bytes], progress=None) -> list[Trajectory]:
    """Parse and replay every line; raise ImportRejected listing each bad line and why."""
    if len(lines) > MAX_LINES:
        raise ImportRejected([LineError(0, f"{len(lines)} lines; at most {MAX_LINES} a file")])
    trajectories, errors = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            trajectory, observations = _parse_line(number, text)
            _replay(trajectory, observations)
        except ValueError as error:
            errors.append(LineError(number, str(error)))
        except Exception as error:
            # Whatever else is wrong with a line is reported as its own, never as the job's.
            logger.exception("import line %s could not be checked", number)
            errors.append(LineError(number, f"could not be read ({type(error).__name__})"))
        else:
            trajectories.append(trajectory)
        if progress is not None and number % 100 == 0:
            progress(number, len(lines), f"Checked {number} of {len(lines)} lines")
    if errors:
        raise ImportRejected(errors)
    if not trajectories:
        raise ImportRejected([LineError(0, "the file has no trajectories")])
    return trajectories


def import_trajectories(
    *,
    lines: list[str] | list[bytes],
    user: User,
    import_id: str,
    agents_only: bool = False,
    progress=None,
) -> list:
    """Validate every line, then store each trajectory as an episode stepped through the
    stepping service; all or nothing. Returns the new episodes' ids. With `agents_only` (an
    upload by a program), every trajectory is an agent's, whatever its lines say."""
    # Checked before the write transaction opens: progress reports stay visible meanwhile.
    trajectories = import_validate(lines, progress)
    if agents_only:
        for trajectory in trajectories:
            trajectory.actor = ActorKind.AGENT
    return _store(trajectories, user=user, import_id=import_id)


@transaction.atomic
def _store(trajectories: list[Trajectory], *, user: User, import_id: str) -> list[int]:
    episode_ids = []
    for trajectory in trajectories:
        task = task_get_or_create(
            env_id=trajectory.env_id, family=trajectory.family, seed=trajectory.seed
        )
        episode = episode_create(
            task=task,
            user=user,
            actor_kind=trajectory.actor,
            source="import",
            metadata={**trajectory.metadata, "import": import_id, "line": trajectory.line},
        )
        results = episodes_step(
            requests=[
                StepRequest(
                    episode_id=episode.pk,
                    action=action,
                    idempotency_key=f"import-{import_id}-{trajectory.line}-{index}",
                )
                for index, action in enumerate(trajectory.actions)
            ]
        )
        for index, result in enumerate(results):
            if isinstance(result, ServiceError):
                # The replay above accepted it: the environment changed between the two.
                raise ImportRejected([LineError(trajectory.line, f"step {index}: {result}")])
        episode.refresh_from_db()
        if episode.status == EpisodeStatus.RUNNING:
            episode_abandon(episode=episode)
        episode_ids.append(episode.pk)
    return episode_ids


@transaction.atomic
def import_start(*, file: File, user: User, by_program: bool = False) -> Job:
    """Keep the uploaded file and start the job that checks and imports it. A program's upload
    (an API key) may bring only agent trajectories: it cannot pass off as people's."""
    if file.size > MAX_BYTES:
        raise ServiceError(f"the file is {file.size} bytes; at most {MAX_BYTES}", field="file")
    job = job_create(kind="import_trajectories", created_by=user)
    path = default_storage.save(f"imports/{job.pk}.jsonl", file)
    job.params = {
        "path": path,
        "filename": (file.name or "")[:200],
        "bytes": file.size,
        "agents_only": by_program,
    }
    job.save(update_fields=["params"])
    return job


def import_job_run(job: Job, progress) -> dict[str, Any]:
    """The import job's handler: a rejected file fails the job with its line report."""
    # Lines of bytes: each is decoded on its own, so a line that is not UTF-8 is reported as
    # such, and a line break is only ever \n or \r (str.splitlines also breaks at U+2028,
    # which JSON strings may hold).
    with default_storage.open(job.params["path"], "rb") as uploaded:
        lines = uploaded.read().splitlines()
    progress(0, len(lines), "Checking every line")
    try:
        episode_ids = import_trajectories(
            lines=lines,
            user=job.created_by,
            import_id=str(job.pk),
            agents_only=job.params.get("agents_only", False),
            progress=progress,
        )
    except ImportRejected as rejected:
        raise JobFailed(
            f"rejected: {len(rejected.errors)} bad line(s); nothing was imported",
            {"errors": [error.to_dict() for error in rejected.errors]},
        ) from None
    progress(len(lines), len(lines), f"Imported {len(episode_ids)} episodes")
    return {"episodes": episode_ids, "count": len(episode_ids)}
