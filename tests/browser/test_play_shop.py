"""A person plays the shop (`shop-v1`) in a real browser: searching the catalogue, opening a
product and posting a review, each keystroke and selection recorded as the agent's actions."""

import pytest

from environments.models import Episode
from environments.services import episode_state
from tests.browser.test_play import demonstrate
from tests.conftest import browser_sign_in, wait_for_play

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reviews_a_purchase_in_the_shop_in_the_browser(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-shop-v1 form[action$='/write_review/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    assert page.inner_text("#goal") == episode.task.goal

    task, actions = demonstrate(page, episode)

    page.wait_for_selector("#outcome")
    assert "Task complete" in page.inner_text("#outcome")
    assert episode.success is True
    assert list(episode.steps.order_by("index").values_list("action", flat=True)) == actions
    review = episode_state(episode)["reviews"][-1]
    assert (review["title"], review["text"]) == (task.params["title"], task.params["text"])
