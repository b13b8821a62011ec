"""A person plays an environment in a real browser: every click, fill and selection is sent as
the matching action, recorded exactly as an agent's steps, and the verifier's result is shown."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from environments.engine import Task, parse_action
from environments.models import Episode, EpisodeStatus
from environments.services import episode_state
from tests.conftest import browser_sign_in, wait_for_play
from tests.environments.helpers import solver_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav_link_bid(env, state, target_page: str) -> str:
    """The bid of the navigation link that leads to `target_page` (what goto() names)."""
    page = env.render(state)
    for link in page.find_all("link"):
        if env.step(state, f"click('{link.bid}')")["page"] == target_page:
            return link.bid
    raise AssertionError(f"no link leads to {target_page}")


# A step's answer can take seconds on a loaded two-core machine (the server, PostgreSQL and
# Chromium share it); the context's 10 s default has run out there.
STEP_WAIT_MS = 30_000


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


def demonstrate(page, episode: Episode) -> tuple[Task, list[str]]:
    """Play `episode`, open on `page`, to its end with the scripted solver's moves made as a
    person makes them; return its task and the actions the platform should have recorded."""
    env, solver, task = solver_for(episode.task)
    actions = []
    while episode.status == EpisodeStatus.RUNNING:
        action = solver.act(task, env.render(episode_state(episode)))
        recorded_as = perform(page, env, episode_state(episode), action)
        if recorded_as is not None:
            actions.append(recorded_as)
            page.wait_for_function(
                f"document.getElementById('step-count').textContent === '{len(actions)}'",
                timeout=STEP_WAIT_MS,
            )
        episode.refresh_from_db()
    return task, actions


@pytest.mark.parametrize(
    ("env_id", "family"), [("bank-v1", "card_controls"), ("hr-v1", "review_time_off")]
)
def test_a_manager_completes_a_task_in_the_browser(page, live_server, manager, env_id, family):
    browser_sign_in(page, live_server, manager.username)
    page.click("nav >> text=Environments")
    page.locator(f"#env-{env_id} form[action$='/{family}/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    assert page.inner_text("#goal") == episode.task.goal

    _, actions = demonstrate(page, episode)

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
    wait_for_play(page)
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


def planned_actions(episode) -> list[tuple[dict, str]]:
    """The scripted solver's whole trajectory for the episode's task, worked out in process:
    each action with the state it is taken in."""
    env, solver, task = solver_for(episode.task)
    state, plan = episode_state(episode), []
    while not state["finished"]:
        action = solver.act(task, env.render(state))
        plan.append((state, action))
        state = env.step(state, action)
    return plan


def wait_for_steps(page, episode, actions: list[str]) -> None:
    """Wait until the page shows that `actions` were all taken; fail with what was recorded."""
    try:
        page.wait_for_function(
            f"document.getElementById('step-count').textContent === '{len(actions)}'"
        )
    except PlaywrightTimeoutError:
        recorded = list(episode.steps.order_by("index").values_list("action", flat=True))
        raise AssertionError(f"recorded {recorded}, expected {actions}") from None


def test_a_demonstration_typed_at_a_persons_speed_records_exactly_what_was_typed(
    page, live_server, manager
):
    """A person types 50 ms a key and moves on without waiting for the server: each field is
    recorded as one fill of exactly what was typed, and the sign-in and transfer succeed."""
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-bank-v1 form[action$='/transfer_funds/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    env = solver_for(episode.task)[0]
    states, plan = zip(*planned_actions(episode), strict=True)
    username, password = (parse_action(a).args["value"] for a in plan[:2])
    sign_in_button = parse_action(plan[2]).args["bid"]

    # Username, Tab, password, Enter, typed on without waiting for any reply.
    page.locator(f'#env-stage [data-bid="{parse_action(plan[0]).args["bid"]}"]').focus()
    page.keyboard.type(username, delay=50)
    page.keyboard.press("Tab")
    page.keyboard.type(password, delay=50)
    page.keyboard.press("Enter")
    actions = [*plan[:2], f"click('{sign_in_button}')"]
    wait_for_steps(page, episode, actions)

    previous = None
    for state, action in zip(states[3:], plan[3:], strict=True):
        if previous is not None and parse_action(previous).name != "fill":
            # What follows a click or a selection is on the page it brings: a person waits for it.
            wait_for_steps(page, episode, actions)
        if page.locator("#play-controls").count() == 0:
            break  # the task was done: the episode ended with its last step
        if parse_action(action).name == "fill":
            element = page.locator(f'#env-stage [data-bid="{parse_action(action).args["bid"]}"]')
            element.focus()
            page.keyboard.press("Control+A")
            page.keyboard.type(parse_action(action).args["value"], delay=50)
            page.keyboard.press("Tab")
            actions.append(action)
        else:
            actions.append(perform(page, env, state, action))
        previous = action

    page.wait_for_selector("#outcome")
    episode.refresh_from_db()
    recorded = list(episode.steps.order_by("index").values_list("action", flat=True))
    assert recorded == actions
    assert episode.success is True, page.inner_text("#outcome")
    assert "Task complete" in page.inner_text("#outcome")


def test_a_pause_sends_the_field_and_typing_on_is_kept(page, live_server, manager):
    """A pause in typing sends the field as it is; what the person types while that fill is on
    its way stays in the field and is sent, whole, when they leave it."""
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-bank-v1 form[action$='/pay_bill/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    field = page.locator("#env-stage input[data-bid='1']")
    field.focus()
    page.keyboard.type("mchen", delay=50)
    wait_for_steps(page, episode, ["fill('1', 'mchen')"])
    page.keyboard.type("42-and-more", delay=50)
    page.keyboard.press("Tab")
    wait_for_steps(page, episode, ["fill('1', 'mchen')", "fill('1', 'mchen42-and-more')"])
    recorded = list(episode.steps.order_by("index").values_list("action", flat=True))
    assert recorded == ["fill('1', 'mchen')", "fill('1', 'mchen42-and-more')"]
    assert page.locator("#env-stage input[data-bid='1']").input_value() == "mchen42-and-more"
    assert page.evaluate("document.activeElement.dataset.bid") == "2"


def test_a_manager_changes_a_flight_on_the_airline_in_the_browser(page, live_server, manager):
    """The airline's tabs, row buttons and confirmation dialog work for a person as for an
    agent: the solver's moves, made with the keyboard, complete the task."""
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/environments/")
    page.locator("#env-airline-v1 form[action$='/change_flight/try/'] button").click()
    wait_for_play(page)
    episode = Episode.objects.get(user=manager)
    _, actions = demonstrate(page, episode)

    page.wait_for_selector("#outcome")
    assert "Task complete" in page.inner_text("#outcome")
    assert episode.success is True
    assert list(episode.steps.order_by("index").values_list("action", flat=True)) == actions
