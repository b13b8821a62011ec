"""Demo labeling content: one campaign of each kind over real bank trajectories.

The trajectories are produced the way agents' are, through `environments.services`: the bank's
scripted solver, a hasty variant that gives up halfway with a vague answer, and the engine's
RandomPolicy, on a few tasks. Idempotent: what exists is left as it is.
"""

from typing import Any

from django.db import transaction

from environments import services as environment_services
from environments.engine import RandomPolicy
from environments.models import ActorKind, Episode, Task
from labeling import services
from labeling.examples import EXAMPLE_SCHEMAS
from labeling.models import Campaign, CampaignKind, CampaignStatus, WorkItem
from rlplatform.models import Role, User
from rlplatform.services import ServiceError

ENV = "bank-v1"
TASKS = [("card_controls", 1), ("transfer_funds", 2), ("cancel_payment", 3), ("pay_bill", 4)]
POLICIES = ("scripted-solver", "hasty-solver", "random")
DEMO_SOURCE = "demo"

GRADE_INSTRUCTIONS = """\
You replay what an agent did in a simulated bank, one step at a time, and judge it.

- **Each step**: was this action a good move towards the task? `+` good, `0` neutral (harmless,
  not helpful), `-` bad (wrong, or harmful).
- **Outcome**: how well the task was done, from 1 (failed) to 5 (perfect), judged on the final
  page and the answer the agent sent.
- **Checks**: did it do what was asked, and nothing else?

The highlighted element on each page is the one the action used.
"""
COMPARE_INSTRUCTIONS = """\
Two runs of the same bank task, side by side. Step through both with the arrow keys, then say
which run did the task better (`A`, `B` or `T` for a tie) and by how much (`1` to `3`).

Prefer the run that **completes the task correctly**; between two correct runs, the one that
changes nothing it should not and takes fewer detours.
"""
DEMONSTRATE_INSTRUCTIONS = """\
Do the task in the simulated bank as a careful customer would. Sign in with the credentials in
the task, do exactly what it asks, then **send your answer** (or a short note that you are done).
Your actions are recorded as a demonstration for training agents.
"""


def _run(task: Task, user: User, policy_name: str) -> Episode:
    """Play one episode of `task` with a policy, every step through the stepping service."""
    episode = environment_services.episode_create(
        task=task,
        user=user,
        actor_kind=ActorKind.AGENT,
        source=DEMO_SOURCE,
        metadata={"policy": policy_name},
    )
    env = environment_services.environment_get(task.env_id)
    engine_task = environment_services.engine_task(task)
    policy: Any = RandomPolicy(seed=7) if policy_name == "random" else env.solver()
    policy.reset(engine_task)
    budget = task.max_steps
    if policy_name == "hasty-solver":
        budget = max(2, len(_solver_actions(env, engine_task)) // 2)
    error = None
    page = environment_services.episode_page(episode)
    for attempt in range(task.max_steps * 2):
        if episode.is_finished:
            break
        if attempt >= budget and policy_name == "hasty-solver":
            action = "send_msg_to_user('done')"
        else:
            try:
                action = policy.act(engine_task, page, {"step": attempt, "error": error})
            except (RuntimeError, LookupError):
                action = "send_msg_to_user('done')"
        try:
            result = environment_services.episode_step(episode_id=episode.pk, action=action)
        except ServiceError as refused:
            error = refused.message
            continue
        error = None
        episode, page = result.episode, result.page
    if not episode.is_finished:
        episode = environment_services.episode_abandon(episode=episode)
    return episode


def _solver_actions(env, engine_task) -> list[str]:
    from environments.engine import run_episode

    _, actions, _ = run_episode(env, engine_task, env.solver())
    return actions


def _episodes(user: User) -> dict[tuple[int, str], Episode]:
    episodes: dict[tuple[int, str], Episode] = {}
    for family, seed in TASKS:
        task = environment_services.task_get_or_create(env_id=ENV, family=family, seed=seed)
        for policy_name in POLICIES:
            existing = Episode.objects.filter(
                task=task, source=DEMO_SOURCE, metadata__policy=policy_name
            ).first()
            episodes[(task.pk, policy_name)] = existing or _run(task, user, policy_name)
    return episodes


def _campaign(name: str, manager: User, reviewer: User | None, **settings: Any) -> Campaign:
    existing = Campaign.objects.filter(name=name).first()
    if existing is not None:
        return existing
    return services.campaign_create(
        created_by=manager,
        name=name,
        reviewers=[reviewer] if reviewer else [],
        **settings,
    )


def _activate(campaign: Campaign, manager: User) -> None:
    if not campaign.items.exists():
        services.items_generate(campaign=campaign, requested_by=manager)
    if campaign.status == CampaignStatus.DRAFT:
        services.campaign_set_status(
            campaign=campaign, status=CampaignStatus.ACTIVE, changed_by=manager
        )


@transaction.atomic
def seed_demo_labeling() -> dict[str, int]:
    """Create the demo episodes and campaigns (and the contractors' skills) that do not exist
    yet; return {campaign name: item count}. Needs the demo people (rlplatform.demo)."""
    manager = User.objects.filter(username="manager", role=Role.MANAGER).first()
    if manager is None:
        return {}
    reviewer = User.objects.filter(username="reviewer", role=Role.REVIEWER).first()
    for contractor in User.objects.filter(username__in=["contractor1", "contractor2"]):
        services.contractor_profile_set(
            user=contractor, changed_by=manager, groups=["demo"], skills=["bank"]
        )
    episodes = _episodes(manager)

    demonstrate = _campaign(
        "Bank: demonstrate everyday tasks",
        manager,
        None,
        kind=CampaignKind.DEMONSTRATE,
        schema=EXAMPLE_SCHEMAS[CampaignKind.DEMONSTRATE],
        instructions=DEMONSTRATE_INSTRUCTIONS,
        sources={
            "environment": ENV,
            "families": ["card_controls", "transfer_funds", "pay_bill"],
            "seeds": {"start": 100, "count": 4},
        },
        overlap=1,
        eligible_skills=["bank"],
        priority=5,
    )
    _activate(demonstrate, manager)

    grade = _campaign(
        "Bank: grade agent runs",
        manager,
        reviewer,
        kind=CampaignKind.GRADE,
        schema=EXAMPLE_SCHEMAS[CampaignKind.GRADE],
        instructions=GRADE_INSTRUCTIONS,
        sources={"environment": ENV, "episode_sources": [DEMO_SOURCE]},
        overlap=2,
        gold_rate=0.15,
        gold_accuracy_threshold=0.5,
        gold_min_judged=3,
        review_threshold=0.7,
        priority=10,
    )
    if not grade.items.exists():
        # Two runs with answers beyond doubt serve as gold: a solved one and a random one.
        solved = episodes[(Task.objects.get(env_id=ENV, family="card_controls", seed=1).pk,
                           "scripted-solver")]  # fmt: skip
        flailing = episodes[(Task.objects.get(env_id=ENV, family="cancel_payment", seed=3).pk,
                             "random")]  # fmt: skip
        services.items_add(
            campaign=grade,
            added_by=manager,
            entries=[
                {
                    "episode": solved.pk,
                    "is_gold": True,
                    "gold_answer": {"outcome": 5, "checks": {"goal_met": True}},
                },
                {
                    "episode": flailing.pk,
                    "is_gold": True,
                    "gold_answer": {"outcome": 1, "checks": {"goal_met": False}},
                },
            ],
        )
        services.items_generate(campaign=grade, requested_by=manager)
    _activate(grade, manager)

    compare = _campaign(
        "Bank: which run did better?",
        manager,
        reviewer,
        kind=CampaignKind.COMPARE,
        schema=EXAMPLE_SCHEMAS[CampaignKind.COMPARE],
        instructions=COMPARE_INSTRUCTIONS,
        sources={"environment": ENV, "episode_sources": [DEMO_SOURCE], "pairs_per_task": 2},
        overlap=3,
        review_threshold=0.7,
        priority=8,
    )
    _activate(compare, manager)
    return {
        campaign.name: WorkItem.objects.filter(campaign=campaign).count()
        for campaign in (demonstrate, grade, compare)
    }
