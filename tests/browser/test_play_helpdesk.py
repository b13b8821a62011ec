"""A person works the service desk (helpdesk-v1) in a real browser: filters the queue, opens a
ticket and applies a macro with the keyboard and the mouse; each step is recorded as the
matching action and the verifier's result is shown."""

import pytest

from environments.models import Episode, EpisodeStatus
from environments.services import episode_state
from tests.browser.test_play import perform
from tests.conftest import browser_sign_in
from tests.environments.helpers import solver_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_applies_a_macro_at_the_service_desk(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.click("nav >> text=Environments")
    page.locator("#env-helpdesk-v1 form[action$='/apply_macro/try/'] button").click()
    page.wait_for_selector("#env-stage")
    episode = Episode.objects.get(user=manager)
    assert page.inner_text("#goal") == episode.task.goal

    env, solver, task = solver_for(episode.task)
    actions = []
    while episode.status == EpisodeStatus.RUNNING:
        action = solver.act(task, env.render(episode_state(episode)))
        recorded_as = perform(page, env, episode_state(episode), action)
        if recorded_as is not None:
            actions.append(recorded_as)
            page.wait_for_function(
                f"document.getElementById('step-count').textContent === '{len(actions)}'"
            )
        episode.refresh_from_db()

    page.wait_for_selector("#outcome")
    assert "Task complete" in page.inner_text("#outcome")
    assert episode.success is True
    ticket = next(t for t in episode_state(episode)["tickets"] if t["id"] == task.params["id"])
    assert ticket["comments"][-1]["kind"] == "reply"
