"""A contractor grades an agent's trajectory by its first error and takes over the bank task
from just before it, with the keyboard, in a real browser."""

import pytest

from environments.models import Episode, EpisodeStatus
from environments.services import episode_state
from labeling import services
from labeling.models import Judgment, Takeover
from rlplatform.models import Role
from tests.browser.test_play import perform
from tests.conftest import browser_sign_in
from tests.environments.helpers import solver_for
from tests.factories import UserFactory, make_finished_episode, make_labeling_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graded():
    manager = UserFactory(role=Role.MANAGER)
    task = make_labeling_task(family="card_controls", seed=4)
    agent = make_finished_episode(task=task, user=manager, solved=True, policy="solver")
    campaign = services.campaign_create(
        created_by=manager,
        name="First errors",
        kind="grade",
        schema=[{"name": "first_error", "type": "first_error"}],
        allow_takeover=True,
    )
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": agent.pk}])
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return campaign, agent


def test_grading_by_first_error_and_taking_over_by_keyboard(page, live_server, graded):
    campaign, agent = graded
    contractor = UserFactory(role=Role.CONTRACTOR)
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")
    page.keyboard.press("1")
    page.wait_for_selector("#panel[data-assignment]")

    # The two step buttons and the list of what went wrong are apart, not one block.
    no_error = page.locator('[data-first-error="none"]').bounding_box()
    first_category = page.locator("[data-category]").first.bounding_box()
    assert no_error["y"] + no_error["height"] < first_category["y"]

    page.keyboard.press("o")  # nothing marked yet: says what to do, submits nothing
    assert "Mark the first step that went wrong" in page.inner_text("#panel .panel-error")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("x")
    assert "First wrong step: 3" in page.inner_text(".first-error-marked")
    page.keyboard.press("1")
    assert page.get_attribute('[data-category="wrong_element"]', "aria-pressed") == "true"
    page.keyboard.press("o")
    page.wait_for_selector("#takeover-note")

    judgment = Judgment.objects.get(campaign=campaign)
    assert judgment.answers == {
        "first_error": {"step": 2, "category": "wrong_element", "steps": agent.step_count}
    }
    takeover = Takeover.objects.get()
    assert (takeover.agent_episode, takeover.replaced_step) == (agent, 2)
    episode = Episode.objects.get(pk=takeover.episode_id)
    assert page.inner_text("#step-count") == "2"

    # The person finishes the task from there, by keyboard where a person could.
    env = solver_for(episode.task)[0]
    done = 2
    for action in agent.steps.filter(index__gte=2).order_by("index"):
        recorded_as = perform(page, env, episode_state(episode), action.action)
        assert recorded_as is not None
        done += 1
        page.wait_for_function(f"document.getElementById('step-count').textContent === '{done}'")
        episode.refresh_from_db()
    page.wait_for_selector("#outcome")
    assert "Task complete" in page.inner_text("#outcome")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.TERMINATED and episode.success is True

    # Done: the way back to grading is in the outcome, where the person is looking.
    page.locator("#outcome #takeover-back").click()
    page.wait_for_url(f"{live_server.url}/label/campaigns/{campaign.pk}/work/")
