"""Writes of evaluations: start one (a rollout job of kind "evaluation" over a split) and
store its report when its last episode ends."""

from typing import Any

from django.db import transaction

from environments import rollouts
from environments.engine.splits import SPLITS, split_families, split_seed_range
from environments.services import ServiceError, environment_get
from evaluations import selectors
from evaluations.metrics import summarize
from evaluations.models import Evaluation
from rlplatform.models import ApiKey, Job, User

MAX_TASKS_PER_FAMILY = 1000


def _check_plan(
    *, env_id: str, split: str, families: list[str], tasks_per_family: int, attempts: int
) -> tuple[str, list[str], list[int]]:
    """The environment's id, the families and the seeds to play, or a ServiceError naming
    the field at fault."""
    try:
        env = environment_get(env_id)
    except ServiceError as error:
        raise ServiceError(error.message, field="environment") from None
    if split not in SPLITS:
        raise ServiceError(f"split must be one of {', '.join(SPLITS)}", field="split")
    split_family_names = split_families(env.id, split)
    unknown = [family for family in families if family not in split_family_names]
    if unknown:
        raise ServiceError(
            f"{', '.join(unknown)}: not a family of {env.id}'s {split} split "
            f"(its families: {', '.join(split_family_names)})",
            field="families",
        )
    seed_range = split_seed_range(split, env_id=env.id)
    most = min(MAX_TASKS_PER_FAMILY, len(seed_range))
    if not 1 <= tasks_per_family <= most:
        raise ServiceError(
            f"tasks_per_family must be between 1 and {most}", field="tasks_per_family"
        )
    if not 1 <= attempts <= rollouts.MAX_ATTEMPTS:
        raise ServiceError(
            f"attempts must be between 1 and {rollouts.MAX_ATTEMPTS}", field="attempts"
        )
    # The first seeds of the split: every run of an evaluation plays the same tasks.
    return env.id, families or split_family_names, list(seed_range[:tasks_per_family])


@transaction.atomic
def evaluation_start(
    *,
    environment: str,
    split: str,
    policy: dict[str, Any],
    user: User,
    api_key: ApiKey | None = None,
    families: list[str] | None = None,
    tasks_per_family: int = 10,
    attempts: int = 1,
    concurrency: int = 8,
    reward_mode: str | None = None,
    observation_mode: str | None = None,
    max_observation_chars: int | None = None,
    name: str = "",
) -> Evaluation:
    """Start an evaluation: `tasks_per_family` tasks of each family of the split (all of them
    unless `families` names some), `attempts` episodes of each, played by `policy` as a job on
    the rollouts queue, its episodes in `reward_mode` (sparse by default) and, for a chat
    policy, shown pages in `observation_mode` within `max_observation_chars`. A chat policy's
    `api_key` travels with the job and is never stored."""
    env_id, families, seeds = _check_plan(
        env_id=environment,
        split=split,
        families=list(families or []),
        tasks_per_family=tasks_per_family,
        attempts=attempts,
    )
    job = rollouts.rollout_start(
        spec={
            "environments": [env_id],
            "families": families,
            "seeds": seeds,
            "attempts": attempts,
            "policy": policy,
            "concurrency": concurrency,
            "reward_mode": reward_mode,
            "observation_mode": observation_mode,
            "max_observation_chars": max_observation_chars,
        },
        user=user,
        api_key=api_key,
        kind="evaluation",
    )
    return Evaluation.objects.create(
        job=job,
        name=name,
        env_id=env_id,
        split=split,
        families=families,
        seeds=seeds,
        tasks_per_family=tasks_per_family,
        attempts=attempts,
        policy=job.params["policy"],
        reward_mode=job.params["reward_mode"],
        observation_mode=job.params["observation_mode"],
        max_observation_chars=job.params["max_observation_chars"],
        created_by=user,
    )


def evaluation_report(evaluation: Evaluation) -> dict[str, Any]:
    """The report's figures, overall and per family, from the episodes the evaluation's job
    played to their end. Episodes lost to errors outside the policy (a model server that never
    answered) are counted as `errors`, not as failures."""
    attempts = selectors.evaluation_attempts(evaluation=evaluation)
    errors = selectors.evaluation_errors(evaluation=evaluation)
    k = evaluation.attempts
    return {
        "attempts": k,
        "overall": {**summarize(attempts, k=k), "errors": sum(errors.values())},
        "families": [
            {
                "family": family,
                **summarize((a for a in attempts if a.family == family), k=k),
                "errors": errors.get(family, 0),
            }
            for family in evaluation.families
        ],
    }


def evaluation_report_store(job: Job) -> None:
    """Store the report of the evaluation whose job has just finished (called by the rollout
    machinery in the transaction that finishes the job)."""
    evaluation = Evaluation.objects.filter(job=job).first()
    if evaluation is None:
        return
    evaluation.report = evaluation_report(evaluation)
    evaluation.finished_at = job.finished_at
    evaluation.save(update_fields=["report", "finished_at"])
