"""The kinds of background job: which Celery task runs each, and on which queue. One table, so
the web process and every worker agree on where a job goes."""

from dataclasses import dataclass, field


@dataclass
class JobDescription:
    """What a job did, for the people who started it: a sentence once it is done, and links
    to what it made or fed."""

    summary: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class JobKind:
    kind: str
    title: str
    # The Celery task that starts the job, given the job's id.
    task_name: str
    queue: str
    # Called with the job when it is cancelled (a dotted path), for work beyond the job row.
    on_cancel: str = ""
    # Functions (dotted paths) from a job to a JobDescription, each from the app that knows.
    describers: tuple[str, ...] = ()
    # The job's work is rollout items (environments/rollouts.py), each holding a lease of its
    # own: no single attempt runs the job, so it is never sent again as a whole.
    rollout_items: bool = False
    # For rollout-item jobs: called with the job (a dotted path) inside the transaction in which
    # its last item finishes, to store what the job's episodes add up to.
    on_finish: str = ""


JOB_KINDS: dict[str, JobKind] = {
    kind.kind: kind
    for kind in [
        JobKind(
            kind="recompute_statistics",
            title="Recompute platform statistics",
            task_name="rlplatform.tasks.recompute_statistics",
            queue="default",
            describers=("rlplatform.statistics.statistics_description",),
        ),
        JobKind(
            kind="rollout",
            title="Agent rollout",
            task_name="environments.tasks.dispatch_rollout",
            queue="rollouts",
            on_cancel="environments.rollouts.rollout_cancel_items",
            describers=(
                "environments.selectors.rollout_description",
                "labeling.selectors.campaigns_fed_description",
            ),
            rollout_items=True,
        ),
        JobKind(
            kind="evaluation",
            title="Evaluation",
            task_name="environments.tasks.dispatch_rollout",
            queue="rollouts",
            on_cancel="environments.rollouts.rollout_cancel_items",
            describers=(
                "environments.selectors.rollout_description",
                "evaluations.selectors.evaluation_job_description",
            ),
            rollout_items=True,
            on_finish="evaluations.services.evaluation_report_store",
        ),
        JobKind(
            kind="export",
            title="Dataset export",
            task_name="exports.tasks.run_export",
            queue="exports",
            describers=("exports.selectors.export_description",),
        ),
        JobKind(
            kind="import_trajectories",
            title="Import trajectories",
            task_name="environments.tasks.import_trajectories",
            queue="default",
            describers=(
                "environments.selectors.import_description",
                "labeling.selectors.campaigns_fed_description",
            ),
        ),
        JobKind(
            kind="labeling_agreement",
            title="Compute a campaign's agreement",
            task_name="labeling.tasks.compute_agreement",
            queue="default",
            describers=("labeling.selectors.campaign_job_description",),
        ),
        JobKind(
            kind="labeling_generate_items",
            title="Generate a campaign's items from its sources",
            task_name="labeling.tasks.generate_items",
            queue="default",
            describers=("labeling.selectors.campaign_job_description",),
        ),
    ]
}


def get_kind(kind: str) -> JobKind:
    try:
        return JOB_KINDS[kind]
    except KeyError:
        from rlplatform.services import ServiceError

        raise ServiceError(
            f"unknown job kind '{kind}'; known kinds: {', '.join(sorted(JOB_KINDS))}", field="kind"
        ) from None


def rollout_item_kinds() -> list[str]:
    """The kinds of job whose work is rollout items."""
    return [kind.kind for kind in JOB_KINDS.values() if kind.rollout_items]
