"""A trajectory replays exactly what the actor saw: each step's stored observation rendered as
it was, the action taken on it, and what the action changed."""

import pytest
from django.template.loader import render_to_string

from environments.engine import page_to_html
from environments.engine.page import page_from_json
from labeling.trajectories import page_changes, trajectory_of
from rlplatform.models import Role
from tests.factories import UserFactory, make_finished_episode, make_labeling_task

pytestmark = pytest.mark.django_db


def test_each_step_shows_the_stored_observation_the_action_and_the_page_after():
    episode = make_finished_episode(task=make_labeling_task(family="card_controls"), solved=True)
    trajectory = trajectory_of(episode)
    stored = list(episode.steps.order_by("index"))
    assert trajectory.length == len(stored) == episode.step_count
    for step, row in zip(trajectory.steps, stored, strict=True):
        assert step.action == row.action
        assert step.html == page_to_html(page_from_json(row.observation))
    assert trajectory.steps[0].bid == "1"  # fill('1', ...) on the sign-in page
    assert trajectory.steps[0].changes  # the username field got its value
    assert any(step.left_page for step in trajectory.steps)  # signing in opens another page
    assert trajectory.answer is None or isinstance(trajectory.answer, str)
    assert trajectory.final_page.url.startswith("/bank/")


def test_an_episode_without_steps_replays_as_its_first_page():
    trajectory = trajectory_of(make_finished_episode())
    assert trajectory.steps == []
    assert trajectory.final_page.url == "/bank/signin"


def test_changes_list_lines_added_and_removed_without_bids():
    episode = make_finished_episode(solved=True)
    first, second = (page_from_json(step.observation) for step in episode.steps.all()[:2])
    changes, more = page_changes(first, second)
    assert more == 0
    assert {change.sign for change in changes} == {"+", "-"}
    assert all("[" not in change.text.split()[0] for change in changes)


def test_a_refused_action_is_shown_with_the_reason_the_environment_gave():
    from environments.services import StepRequest, episode_create, episodes_step

    task = make_labeling_task(family="card_controls")
    episode = episode_create(task=task, user=UserFactory(role=Role.MANAGER), source="api")
    episodes_step(requests=[StepRequest(episode.pk, "click('no-such-bid')", record_refusal=True)])
    (step,) = trajectory_of(episode).steps
    assert step.error == episode.steps.get().error != ""
    html = render_to_string("labeling/_trajectory.html", {"trajectory": trajectory_of(episode)})
    assert "The environment refused this action" in html
