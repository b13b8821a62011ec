"""Clicks on the play page reach only the page they were made on: a person who double-clicks a
button does not also click whatever the next page has under the same bid."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from environments.engine import parse_action
from environments.models import Episode
from tests.browser.test_play import STEP_WAIT_MS, nav_link_bid, planned_actions
from tests.conftest import browser_sign_in, wait_for_play
from tests.environments.helpers import solver_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def recorded_actions(episode: Episode) -> list[str]:
    return list(episode.steps.order_by("index").values_list("action", flat=True))


def test_a_double_click_on_sign_in_signs_in_once_and_clicks_nothing_on_the_next_page(
    page, live_server, manager
):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-bank-v1 form[action$='/card_controls/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    states, plan = zip(*planned_actions(episode), strict=True)
    fill_username, fill_password, sign_in = plan[:3]
    for fill in (fill_username, fill_password):
        args = parse_action(fill).args
        page.locator(f'#env-stage [data-bid="{args["bid"]}"]').fill(args["value"])
    page.locator(f'#env-stage [data-bid="{parse_action(sign_in).args["bid"]}"]').dblclick()
    page.wait_for_function(
        "document.getElementById('step-count').textContent === '3'", timeout=STEP_WAIT_MS
    )

    # One more click, on the page the sign-in brought: the next step recorded must be it.
    env = solver_for(episode.task)[0]
    signed_in = env.step(states[2], sign_in)
    cards = nav_link_bid(env, signed_in, "cards")
    page.locator(f'#env-stage [data-bid="{cards}"]').click()
    try:
        page.wait_for_function(
            "document.getElementById('page-url').textContent.endsWith('/cards')",
            timeout=STEP_WAIT_MS,
        )
    except PlaywrightTimeoutError:
        raise AssertionError(f"recorded {recorded_actions(episode)}") from None

    assert recorded_actions(episode) == [fill_username, fill_password, sign_in, f"click('{cards}')"]
    assert page.inner_text("#step-count") == "4"


def test_a_double_click_on_a_button_that_keeps_the_page_presses_it_once(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-bank-v1 form[action$='/card_controls/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    states, plan = zip(*planned_actions(episode), strict=True)
    env = solver_for(episode.task)[0]
    for fill in plan[:2]:
        args = parse_action(fill).args
        page.locator(f'#env-stage [data-bid="{args["bid"]}"]').fill(args["value"])
    page.locator(f'#env-stage [data-bid="{parse_action(plan[2]).args["bid"]}"]').click()
    signed_in = env.step(states[2], plan[2])
    cards = nav_link_bid(env, signed_in, "cards")
    page.locator(f'#env-stage [data-bid="{cards}"]').click()
    page.wait_for_function(
        "document.getElementById('page-url').textContent.endsWith('/cards')", timeout=STEP_WAIT_MS
    )

    save = page.locator('#env-stage button:has-text("Save limits")').first
    saved = f"click('{save.get_attribute('data-bid')}')"
    save.dblclick()
    page.wait_for_function(
        "document.getElementById('step-count').textContent === '5'", timeout=STEP_WAIT_MS
    )
    on_cards = env.step(signed_in, f"click('{cards}')")
    accounts = nav_link_bid(env, on_cards, "accounts")
    page.locator(f'#env-stage [data-bid="{accounts}"]').click()
    try:
        page.wait_for_function(
            "document.getElementById('page-url').textContent.endsWith('/accounts')",
            timeout=STEP_WAIT_MS,
        )
    except PlaywrightTimeoutError:
        raise AssertionError(f"recorded {recorded_actions(episode)}") from None

    assert recorded_actions(episode)[4:] == [saved, f"click('{accounts}')"]
