"""A demonstration in the workbench: once the episode ends, the way on is shown where the person
is looking (above the outcome, beside the site they scrolled), not only at the top of the page."""

import pytest

from labeling.models import Judgment
from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import UserFactory, make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIFFICULTY = [
    {"name": "difficulty", "type": "outcome_rating", "min": 1, "max": 5, "required": False}
]


def test_a_finished_demonstration_offers_submit_beside_the_site(page, live_server, manager):
    make_campaign(kind="demonstrate", owner=manager, items=2, overlap=1, schema=DIFFICULTY)
    contractor = UserFactory(role=Role.CONTRACTOR)
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")
    page.keyboard.press("1")
    page.wait_for_selector("#play")
    first_goal = page.inner_text("#goal")
    assert page.locator(".demo-finished").count() == 0

    page.click("#answer")
    page.keyboard.type("I could not finish it", delay=20)
    page.click("#send-answer")
    page.wait_for_selector("#outcome")

    offer = page.locator("#play .demo-finished")
    assert "the questions below the site" in offer.inner_text()
    offer.locator("[data-command=submit]").click()
    page.wait_for_function(
        "document.getElementById('wb-session').textContent === '1'", timeout=30_000
    )
    assert Judgment.objects.filter(contractor=contractor).count() == 1
    page.wait_for_selector("#play[data-status=running]")
    assert page.inner_text("#goal") != first_goal
    assert page.locator(".demo-finished").count() == 0
