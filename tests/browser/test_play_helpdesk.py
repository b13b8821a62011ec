"""A person works the service desk (helpdesk-v1) in a real browser: filters the queue, opens a
ticket and applies a macro with the keyboard and the mouse; each step is recorded as the
matching action and the verifier's result is shown."""

import pytest

from environments.models import Episode
from environments.services import episode_state
from tests.browser.test_play import demonstrate
from tests.conftest import browser_sign_in, wait_for_play

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_applies_a_macro_at_the_service_desk(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.click("nav >> text=Environments")
    page.locator("#env-helpdesk-v1 form[action$='/apply_macro/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    assert page.inner_text("#goal") == episode.task.goal

    task, actions = demonstrate(page, episode)

    page.wait_for_selector("#outcome")
    assert "Task complete" in page.inner_text("#outcome")
    assert episode.success is True
    assert list(episode.steps.order_by("index").values_list("action", flat=True)) == actions
    ticket = next(t for t in episode_state(episode)["tickets"] if t["id"] == task.params["id"])
    assert ticket["comments"][-1]["kind"] == "reply"
