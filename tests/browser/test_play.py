"""A person plays an environment in a real browser: every click, fill and selection is sent as
the matching action, recorded exactly as an agent's steps, and the verifier's result is shown."""

import pytest

from environments.engine import parse_action
from environments.models import Episode, EpisodeStatus
from environments.services import episode_state
from tests.conftest import browser_sign_in
from tests.environments.helpers import solver_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav_link_bid(env, state, target_page: str) -> str:
    """The bid of the navigation link that leads to `target_page` (what goto() names)."""
    page = env.render(state)
    for link in page.find_all("link"):
        if env.step(state, f"click('{link.bid}')")["page"] == target_page:
            return link.bid
    raise AssertionError(f"no link leads to {target_page}")


def perform(page, env, state, action: str) -> str | None:
    """Do `action` the way a person would, with the keyboard where a person could; return the
    action the platform should record (a person follows a menu link where an agent may goto)."""
    parsed = parse_action(action)
    args = parsed.args
    if parsed.name == "goto":
        bid = nav_link_bid(env, state, env.resolve_page(args["url"]))
        page.locator(f'#env-stage [data-bid="{bid}"]').click()
        return f"click('{bid}')"
    if parsed.name == "send_msg_to_user":
        page.fill("#answer", args["text"])
        page.click("#send-answer")
        return parsed.to_string()
    if parsed.name == "noop":
        return None
    element = page.locator(f'#env-stage [data-bid="{args["bid"]}"]')
    if parsed.name == "click":
        element.focus()
        page.keyboard.press("Enter")
    elif parsed.name == "fill":
        element.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(args["value"])
        page.keyboard.press("Tab")
    elif parsed.name == "select_option":
        element.select_option(label=args["options"])
    elif parsed.name == "check":
        element.check()
    elif parsed.name == "uncheck":
        element.uncheck()
    return parsed.to_string()


def test_a_manager_completes_a_bank_task_in_the_browser(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.click("nav >> text=Environments")
    page.locator("#env-bank-v1 form[action$='/card_controls/try/'] button").click()
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
    recorded = list(episode.steps.order_by("index").values_list("action", flat=True))
    assert recorded == actions
    assert all(think is not None for think in episode.steps.values_list("think_ms", flat=True))
    assert page.locator("#env-stage").get_attribute("inert") is not None


def test_text_an_actor_wrote_is_shown_escaped_and_never_runs(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-bank-v1 form[action$='/pay_bill/try/'] button").click()
    page.wait_for_selector("#env-stage")
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    field = page.locator("#env-stage input[data-bid='1']")
    field.fill(hostile)
    field.press("Tab")
    page.wait_for_function("document.getElementById('step-count').textContent === '1'")
    assert page.locator("#env-stage input[data-bid='1']").input_value() == hostile
    page.fill("#answer", hostile)
    page.click("#send-answer")
    page.wait_for_selector("#outcome")
    assert hostile in page.inner_text("#outcome")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#outcome img").count() == 0


def test_a_manager_changes_a_flight_on_the_airline_in_the_browser(page, live_server, manager):
    """The airline's tabs, row buttons and confirmation dialog work for a person as for an
    agent: the solver's moves, made with the keyboard, complete the task."""
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-airline-v1 form[action$='/change_flight/try/'] button").click()
    page.wait_for_selector("#env-stage")
    episode = Episode.objects.get(user=manager)
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
    assert list(episode.steps.order_by("index").values_list("action", flat=True)) == actions
