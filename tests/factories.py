"""Factories for test data. Rows that carry business rules are made through the services."""

import factory

from rlplatform import services
from rlplatform.models import ApiKey, Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    role = Role.CONTRACTOR
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


def make_api_key(*, scopes: list[str], owner: User | None = None, **fields) -> tuple[ApiKey, str]:
    admin = User.objects.filter(role=Role.ADMIN).first() or UserFactory(role=Role.ADMIN)
    return services.api_key_create(
        name=fields.pop("name", "test key"),
        scopes=scopes,
        created_by=admin,
        owner=owner or admin,
        **fields,
    )


# --- labeling: campaigns, items, episodes to label ------------------------------------------

LABEL_SCHEMAS = {
    "grade": [
        {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
        {
            "name": "checks",
            "type": "rubric",
            "checks": [{"name": "goal_met"}, {"name": "no_collateral"}],
        },
        {"name": "comment", "type": "text", "required": False},
    ],
    "compare": [{"name": "preference", "type": "preference"}],
    "demonstrate": [],
}


def make_labeling_task(*, family: str = "card_controls", seed: int = 1):
    from environments.services import task_get_or_create

    return task_get_or_create(env_id="bank-v1", family=family, seed=seed)


def make_finished_episode(*, task=None, user=None, solved: bool = False, policy: str = "test"):
    """A finished agent episode of `task`, stepped through the platform's services: solved by
    the bank's scripted solver, or (cheaper) abandoned before any step."""
    from environments import services as environment_services

    task = task or make_labeling_task()
    user = user or User.objects.filter(role=Role.MANAGER).first() or UserFactory(role=Role.MANAGER)
    episode = environment_services.episode_create(
        task=task, user=user, actor_kind="agent", source="test", metadata={"policy": policy}
    )
    if not solved:
        return environment_services.episode_abandon(episode=episode)
    env = environment_services.environment_get(task.env_id)
    engine_task = environment_services.engine_task(task)
    solver = env.solver()
    solver.reset(engine_task)
    page = env.render(environment_services.episode_state(episode))
    while not episode.is_finished:
        result = environment_services.episode_step(
            episode_id=episode.pk, action=solver.act(engine_task, page)
        )
        episode, page = result.episode, result.page
    return episode


def _item_entries(kind: str, count: int, user) -> list[dict]:
    if kind == "demonstrate":
        return [{"task": make_labeling_task(seed=seed).pk} for seed in range(1, count + 1)]
    task = make_labeling_task()
    if kind == "grade":
        return [{"episode": make_finished_episode(task=task, user=user).pk} for _ in range(count)]
    return [
        {
            "episode_a": make_finished_episode(task=task, user=user, policy="first").pk,
            "episode_b": make_finished_episode(task=task, user=user, policy="second").pk,
        }
        for _ in range(count)
    ]


def make_campaign(
    *,
    kind: str = "grade",
    owner: User | None = None,
    items: int = 3,
    status: str = "active",
    schema: list | None = None,
    **settings,
):
    """A campaign made through the labeling services, with `items` items, active by default."""
    from labeling import services as labeling_services

    owner = owner or UserFactory(role=Role.MANAGER)
    settings.setdefault("overlap", 2)
    campaign = labeling_services.campaign_create(
        created_by=owner,
        name=settings.pop("name", f"{kind} campaign"),
        kind=kind,
        schema=LABEL_SCHEMAS[kind] if schema is None else schema,
        **settings,
    )
    if items:
        labeling_services.items_add(
            campaign=campaign, added_by=owner, entries=_item_entries(kind, items, owner)
        )
    if status != "draft":
        campaign = labeling_services.campaign_set_status(
            campaign=campaign, status=status, changed_by=owner
        )
    return campaign


def make_gold_item(campaign, *, answer: dict, qualification: bool = False):
    from labeling import services as labeling_services

    entry = _item_entries(campaign.kind, 1, campaign.owner)[0]
    entry.update(is_gold=True, is_qualification=qualification, gold_answer=answer)
    return labeling_services.items_add(campaign=campaign, added_by=campaign.owner, entries=[entry])[
        0
    ]


GOOD_ANSWERS = {
    "grade": {"outcome": 4, "checks": {"goal_met": True, "no_collateral": True}},
    "compare": {"preference": {"choice": "A", "strength": 2}},
    "demonstrate": {},
}


def play_episode(*, user, env_id: str, family: str, seed: int, policy: str = "solver", **create):
    """An episode played to its end through episodes_step by the scripted solver or randomly
    (a random one is abandoned after 60 steps)."""
    from environments.engine import RandomPolicy, get_environment
    from environments.services import (
        StepRequest,
        episode_abandon,
        episode_create,
        episode_state,
        episodes_step,
        task_get_or_create,
    )

    env = get_environment(env_id)
    task = task_get_or_create(env_id=env_id, family=family, seed=seed)
    episode = episode_create(task=task, user=user, **create)
    engine_task = env.make_task(family, seed)
    actor = env.solver() if policy == "solver" else RandomPolicy(seed)
    actor.reset(engine_task)
    error = None
    while not episode.is_finished:
        action = actor.act(engine_task, env.render(episode_state(episode)), {"error": error})
        (result,) = episodes_step(requests=[StepRequest(episode.pk, action, record_refusal=True)])
        episode = result.episode
        error = result.step.error or None
        if episode.step_count >= 60:
            return episode_abandon(episode=episode)
    return episode
