"""A contractor grades a trajectory and submits a comparison in a real browser with the
keyboard alone; the next item arrives without a page load."""

import pytest

from labeling import services
from labeling.models import Judgment
from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import UserFactory, make_finished_episode, make_labeling_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRADE_SCHEMA = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
    {"name": "checks", "type": "rubric", "checks": ["goal_met", "no_collateral"]},
    {"name": "comment", "type": "text", "required": False},
]


@pytest.fixture
def campaigns():
    manager = UserFactory(role=Role.MANAGER)
    task = make_labeling_task(family="card_controls", seed=4)
    solved = make_finished_episode(task=task, user=manager, solved=True, policy="solver")
    gave_up = make_finished_episode(task=task, user=manager, policy="quitter")
    grade = services.campaign_create(
        created_by=manager, name="Grade", kind="grade", schema=GRADE_SCHEMA, priority=2
    )
    services.items_add(campaign=grade, added_by=manager, entries=[{"episode": solved.pk}])
    compare = services.campaign_create(
        created_by=manager,
        name="Compare",
        kind="compare",
        schema=[{"name": "preference", "type": "preference"}],
        priority=1,
    )
    services.items_add(
        campaign=compare,
        added_by=manager,
        entries=[{"episode_a": gave_up.pk, "episode_b": solved.pk}],
    )
    for campaign in (grade, compare):
        services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return grade, compare, solved


def shown_position(page, side: str) -> str:
    return page.get_attribute(
        f'#panel .trajectory[data-side="{side}"] .replay-step:not([hidden])', "data-position"
    )


def test_grading_and_comparing_with_the_keyboard_alone(page, live_server, campaigns):
    grade, compare, solved = campaigns
    contractor = UserFactory(role=Role.CONTRACTOR)
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")

    # Grade: 1 opens the first campaign; rate every step good, the outcome 4, tick both checks.
    page.keyboard.press("1")
    page.wait_for_selector("#panel[data-assignment]")
    page.evaluate("window.__noReload = true")
    steps = solved.step_count
    assert page.inner_text(".step-caption").startswith("Step 1")
    page.keyboard.press("?")
    assert page.is_visible("#wb-help")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")  # too early: names what is missing, submits nothing
    assert "not rated yet" in page.inner_text("#panel .panel-error")
    for _ in range(steps):
        page.keyboard.press("=")
    assert page.get_attribute("#panel .chip[aria-current]", "data-goto") == str(steps)
    page.keyboard.press("Home")
    page.keyboard.press("-")  # the first step, rated again: bad
    page.keyboard.press("4")
    page.keyboard.press("1")  # the rubric's first check: yes, then its second
    page.keyboard.press("1")
    page.keyboard.press("c")
    page.keyboard.type("Signed in twice?")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-empty]")
    judgment = Judgment.objects.get(campaign=grade)
    assert judgment.answers == {
        "steps": {"ratings": [-1] + [1] * (steps - 1)},
        "outcome": 4,
        "checks": {"goal_met": True, "no_collateral": True},
        "comment": "Signed in twice?",
    }
    assert judgment.time_spent_ms > 0

    # Back to the queue (Esc), then 2 opens the comparison.
    page.keyboard.press("Escape")
    page.wait_for_url(f"{live_server.url}/label/queue/")
    page.keyboard.press("2")
    page.wait_for_selector("#panel[data-assignment]")
    page.evaluate("window.__noReload = true")
    assert (shown_position(page, "A"), shown_position(page, "B")) == ("end", "0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Synchronised: B shows its third step; A, which has none, stays on its final page.
    assert (shown_position(page, "A"), shown_position(page, "B")) == ("end", "2")
    page.keyboard.press("End")
    assert shown_position(page, "B") == "end"
    page.keyboard.press("b")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-empty]")
    assert page.evaluate("window.__noReload") is True  # no page load between items
    assert Judgment.objects.get(campaign=compare).answers == {
        "preference": {"choice": "B", "strength": 3}
    }
    assert page.inner_text("#wb-today") == "2"


def frame_scroll(page) -> dict:
    return page.evaluate(
        """() => {
            const frame = document.querySelector('#panel .replay-step:not([hidden]) .replay-stage');
            return {top: frame.scrollTop, height: frame.clientHeight, full: frame.scrollHeight,
                    focused: document.activeElement === frame};
        }"""
    )


def test_the_replay_frame_scrolls_and_zooms_by_keyboard(page, live_server, campaigns):
    contractor = UserFactory(role=Role.CONTRACTOR)
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")
    page.keyboard.press("1")
    page.wait_for_selector("#panel[data-assignment]")
    page.keyboard.press("End")  # the final page: the Cards page, taller than its frame
    start = frame_scroll(page)
    assert start["top"] == 0 and start["full"] > start["height"] + 100

    # From the workbench: PageDown and Space scroll the page shown; PageUp and Shift+Space back.
    page.keyboard.press("PageDown")
    after_page_down = frame_scroll(page)["top"]
    assert after_page_down > 0
    page.keyboard.press("PageUp")
    assert frame_scroll(page)["top"] == 0
    page.keyboard.press(" ")
    assert frame_scroll(page)["top"] == after_page_down
    page.keyboard.press("Shift+ ")
    assert frame_scroll(page)["top"] == 0

    # F moves into the page: arrows, Home and End scroll it, + and - zoom it, Esc leaves it.
    page.keyboard.press("f")
    assert frame_scroll(page)["focused"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert 0 < frame_scroll(page)["top"] < after_page_down
    page.keyboard.press("End")
    end = frame_scroll(page)
    assert end["top"] + end["height"] >= end["full"] - 1
    page.keyboard.press("Home")
    assert frame_scroll(page)["top"] == 0
    zoom_label = "#panel .replay-step:not([hidden]) .zoom-level"
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.inner_text(zoom_label) == "125%"
    assert frame_scroll(page)["full"] > start["full"]
    page.keyboard.press("-")
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert page.inner_text(zoom_label) == "90%"
    page.keyboard.press("Escape")
    assert not frame_scroll(page)["focused"]
    # Out of the page the keys are the workbench's again: Home is the first step.
    page.keyboard.press("Home")
    assert page.get_attribute("#panel .chip[aria-current]", "data-goto") == "0"
    # The zoom stays as the person set it on every step.
    assert page.inner_text(zoom_label) == "90%"


def test_the_workbench_keeps_its_messages_current_and_undoes_a_submission(
    page, live_server, campaigns
):
    grade, _, solved = campaigns
    contractor = UserFactory(role=Role.CONTRACTOR)
    page.set_viewport_size({"width": 1280, "height": 620})
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")
    page.keyboard.press("1")
    page.wait_for_selector("#panel[data-assignment]")
    error = page.locator("#panel .panel-error")

    # Too early: the message names what is missing, in full view above the key bar.
    page.keyboard.press("Enter")
    assert "not rated yet" in error.inner_text()
    box, bar = error.bounding_box(), page.locator(".keybar").bounding_box()
    assert box["y"] + box["height"] <= bar["y"]
    # Each answer updates the message; the last one clears it.
    for _ in range(solved.step_count):
        page.keyboard.press("=")
    assert "not rated yet" not in error.inner_text() and "Outcome" in error.inner_text()
    page.keyboard.press("4")
    assert "Outcome" not in error.inner_text()

    # The rubric shows its keys on every check; 1 and 2 answer the current one and move on.
    checks = page.locator('#panel fieldset[data-type="rubric"] li')
    assert checks.nth(0).inner_text().split() == ["goal", "met", "1", "Yes", "2", "No"]
    assert "is-current" in checks.nth(0).get_attribute("class")
    page.keyboard.press("1")
    assert "is-current" in checks.nth(1).get_attribute("class")
    page.keyboard.press("2")
    assert error.is_hidden()
    comment = page.locator('#panel fieldset[data-name="comment"]')
    assert "is-active" in comment.get_attribute("class")

    # Submitted, then undone with U while the lease lasts: the answers come back to change.
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-empty]")
    assert page.inner_text("#wb-today") == "1" and page.is_visible("#wb-undo")
    page.keyboard.press("u")
    page.wait_for_selector("#panel[data-assignment]")
    assert not Judgment.objects.exists()
    assert page.inner_text("#wb-today") == "0" and page.is_hidden("#wb-undo")
    pressed = '#panel fieldset[data-name="outcome"] [aria-pressed="true"]'
    assert page.inner_text(pressed).split() == ["4", "4"]
    assert checks.nth(1).locator('[aria-pressed="true"]').inner_text().split() == ["2", "No"]
    page.keyboard.press("ArrowUp")  # from the comment back to the rubric's last check
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel[data-empty]")
    judgment = Judgment.objects.get(campaign=grade)
    assert judgment.answers == {
        "steps": {"ratings": [1] * solved.step_count},
        "outcome": 4,
        "checks": {"goal_met": True, "no_collateral": True},
    }
