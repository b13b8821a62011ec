"""Reads of evaluations: who sees which, the leaderboards, the episodes behind a report."""

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.urls import reverse

from environments.engine.splits import SPLITS
from environments.models import RolloutItem, RolloutItemStatus
from evaluations.metrics import Attempt
from evaluations.models import Evaluation
from rlplatform.jobs import JobDescription
from rlplatform.models import ApiKey, Job, JobStatus, User


def evaluation_list_for(*, user: User, api_key: ApiKey | None = None) -> QuerySet[Evaluation]:
    """Admins see every evaluation; everyone else, and every API key, the ones they started
    (as with rollouts: a key never borrows its owner's role)."""
    evaluations = Evaluation.objects.select_related("job", "created_by")
    return evaluations if user.is_admin and api_key is None else evaluations.filter(created_by=user)


@dataclass
class Leaderboard:
    env_id: str
    split: str
    evaluations: list[Evaluation]


def leaderboards(*, env_id: str = "", split: str = "") -> list[Leaderboard]:
    """Finished evaluations side by side, one board per environment and split (splits in
    their natural order), best success rate first. Every manager's runs are on them: the
    numbers are what a leaderboard is for."""
    finished = Evaluation.objects.select_related("job", "created_by").filter(
        job__status=JobStatus.SUCCEEDED, report__isnull=False
    )
    if env_id:
        finished = finished.filter(env_id=env_id)
    if split:
        finished = finished.filter(split=split)
    boards: dict[tuple[str, str], list[Evaluation]] = {}
    for evaluation in finished.order_by("env_id", "-created_at"):
        boards.setdefault((evaluation.env_id, evaluation.split), []).append(evaluation)
    order = {name: index for index, name in enumerate(SPLITS)}
    return [
        Leaderboard(
            env_id=board_env,
            split=board_split,
            evaluations=sorted(
                runs,
                key=lambda run: -(run.report["overall"]["success_rate"] or 0.0),
            ),
        )
        for (board_env, board_split), runs in sorted(
            boards.items(), key=lambda item: (item[0][0], order.get(item[0][1], len(order)))
        )
    ]


def evaluation_attempts(*, evaluation: Evaluation) -> list[Attempt]:
    """Every episode of the evaluation that its policy played to the end, as an Attempt."""
    rows = (
        RolloutItem.objects.filter(
            job_id=evaluation.job_id, status=RolloutItemStatus.DONE, episode__isnull=False
        )
        .order_by("index")
        .values_list(
            "family",
            "seed",
            "variant",
            "episode__success",
            "episode__reward",
            "episode__step_count",
        )
    )
    return [
        Attempt(
            family=family,
            seed=seed,
            variant=variant,
            success=bool(success),
            reward=reward or 0.0,
            steps=steps,
        )
        for family, seed, variant, success, reward, steps in rows
    ]


def evaluation_errors(*, evaluation: Evaluation) -> dict[str, int]:
    """Per family, the episodes that could not be played for reasons outside the policy."""
    return dict(
        RolloutItem.objects.filter(job_id=evaluation.job_id, status=RolloutItemStatus.FAILED)
        .values_list("family")
        .annotate(n=Count("id"))
        .order_by()
    )


def evaluation_job_description(job: Job) -> JobDescription:
    """Where an evaluation job's report is."""
    evaluation = Evaluation.objects.filter(job=job).first()
    if evaluation is None:
        return JobDescription()
    return JobDescription(
        links=[
            (
                f"Evaluation #{evaluation.pk}: its report, per family",
                reverse("evaluation_detail", args=[evaluation.pk]),
            )
        ]
    )
