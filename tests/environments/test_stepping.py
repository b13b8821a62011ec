"""The stepping service: what each step records, alone or in a batch, is the episode's
committed state."""

import pytest
from django.db import transaction

from environments import services
from environments.engine import get_environment
from environments.engine.page import page_to_json
from environments.models import Episode, Step
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class RolledBack(Exception):
    pass


@pytest.fixture
def episode():
    task = services.task_get_or_create(env_id="bank-v1", family="card_controls", seed=4)
    return services.episode_create(task=task, user=UserFactory())


def current_page_json(episode_id: int) -> dict:
    episode = Episode.objects.select_related("task").get(pk=episode_id)
    env = get_environment(episode.env_id)
    return page_to_json(env.build_page(services.episode_state(episode)))


def textbox(page) -> str:
    return next(bid for bid, element in page.by_bid.items() if element.role == "textbox")


def test_a_rolled_back_step_leaves_no_trace(episode):
    first_page = services.episode_page(episode)
    with pytest.raises(RolledBack), transaction.atomic():
        services.episode_step(
            episode_id=episode.pk, action=f"fill('{textbox(first_page)}', 'rolled back')"
        )
        raise RolledBack

    services.episode_step(episode_id=episode.pk, action="noop()")
    services.episode_step(episode_id=episode.pk, action="noop()")

    recorded = list(
        Step.objects.filter(episode=episode).order_by("index").values_list("observation", flat=True)
    )
    assert recorded == [page_to_json(first_page)] * 2
    assert Episode.objects.get(pk=episode.pk).step_count == 2


def test_each_step_records_the_page_the_previous_step_showed(episode):
    shown = []
    for word in ("one", "two", "three"):
        page = services.episode_page(Episode.objects.get(pk=episode.pk))
        shown.append(page_to_json(page))
        services.episode_step(episode_id=episode.pk, action=f"fill('{textbox(page)}', '{word}')")
    recorded = list(
        Step.objects.filter(episode=episode).order_by("index").values_list("observation", flat=True)
    )
    assert recorded == shown
    assert page_to_json(
        services.episode_page(Episode.objects.get(pk=episode.pk))
    ) == current_page_json(episode.pk)


def test_steps_of_many_episodes_in_one_batch_are_all_written(episode):
    user = episode.user
    others = [
        services.episode_create(
            task=services.task_get_or_create(env_id="ledger-v1", family=family, seed=seed),
            user=user,
        )
        for family in list(get_environment("ledger-v1").families)[:2]
        for seed in (1, 2)
    ]
    everyone = [episode, *others]
    results = services.episodes_step(
        requests=[
            services.StepRequest(episode_id=each.pk, action="noop()", idempotency_key=f"k{i}")
            for i, each in enumerate(everyone)
        ]
        + [services.StepRequest(episode_id=episode.pk, action="noop()")],
        user=user,
    )
    assert all(isinstance(result, services.StepResult) for result in results)
    counts = dict(Episode.objects.filter(user=user).values_list("id", "step_count"))
    assert counts == {each.pk: 2 if each.pk == episode.pk else 1 for each in everyone}
    keys = set(Step.objects.filter(episode__user=user).values_list("idempotency_key", flat=True))
    assert keys == {f"k{i}" for i in range(len(everyone))} | {None}
    for each in everyone:
        stored = Episode.objects.select_related("task").get(pk=each.pk)
        assert stored.updated_at >= stored.created_at
        assert page_to_json(services.episode_page(stored)) == current_page_json(each.pk)


def test_no_requests_step_nothing():
    assert services.episodes_step(requests=[]) == []


def test_a_refused_action_is_recorded_as_written_but_storable(episode):
    (result,) = services.episodes_step(
        requests=[
            services.StepRequest(
                episode_id=episode.pk, action="click('1\x00')", record_refusal=True
            )
        ]
    )
    recorded = Step.objects.get(episode=episode)
    assert recorded.action == "click('1\\x00')"
    assert recorded.error.startswith("malformed_action")
    assert result.step.index == 0


def test_a_kept_page_steps_the_episode_as_rendering_it_would(episode):
    first = services.episode_page(episode)
    (filled,) = services.episodes_step(
        requests=[
            services.StepRequest(episode_id=episode.pk, action=f"fill('{textbox(first)}', 'a')")
        ]
    )
    kept = filled.shown()
    assert (kept.episode_id, kept.step_count) == (episode.pk, 1)

    (noop,) = services.episodes_step(
        requests=[services.StepRequest(episode_id=episode.pk, action="noop()", shown=kept)]
    )

    recorded = Step.objects.get(episode=episode, index=1).observation
    assert recorded == page_to_json(filled.page) == page_to_json(noop.page)
    assert noop.shown().step_count == 2


def test_a_page_kept_from_before_another_step_is_not_used(episode):
    first = services.episode_page(episode)
    (stale,) = services.episodes_step(
        requests=[services.StepRequest(episode_id=episode.pk, action="noop()")]
    )
    # Another writer steps the episode meanwhile, so the kept page no longer shows its state.
    services.episode_step(episode_id=episode.pk, action=f"fill('{textbox(first)}', 'typed')")

    services.episodes_step(
        requests=[services.StepRequest(episode_id=episode.pk, action="noop()", shown=stale.shown())]
    )

    recorded = Step.objects.get(episode=episode, index=2).observation
    assert "typed" in str(recorded)
    assert recorded == current_page_json(episode.pk)
