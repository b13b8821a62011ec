"""The contractor's screens at a person's window sizes: nothing runs off a phone's screen or sits
over the controls a person needs, and every number shown on the queue is a key that works."""

import pytest

from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import UserFactory, make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def covered(page, selector: str) -> bool:
    """Whether something else is drawn over the middle of the element `selector` names."""
    return page.evaluate(
        """(selector) => {
            const element = document.querySelector(selector);
            const box = element.getBoundingClientRect();
            const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return !element.contains(top);
        }""",
        selector,
    )


def test_on_a_phone_the_menu_fits_the_screen_and_the_key_bar_covers_no_answer(
    page, live_server, manager
):
    make_campaign(kind="compare", owner=manager, items=1, overlap=1, name="Phone compare")
    contractor = UserFactory(role=Role.CONTRACTOR)
    page.set_viewport_size(PHONE)
    browser_sign_in(page, live_server, contractor.username)

    page.goto(f"{live_server.url}/label/queue/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    sign_out = page.locator(".whoami button").bounding_box()
    assert sign_out["x"] + sign_out["width"] <= PHONE["width"]

    page.keyboard.press("1")
    page.wait_for_selector("#panel .questions")
    # The top of the item is shown: the bottom of the screen shows the item, not the key bar.
    bottom_of_screen = page.evaluate(
        "document.elementFromPoint(innerWidth / 2, innerHeight - 5).closest('.keybar') === null"
    )
    assert bottom_of_screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_saved_message_leaves_the_undo_button_it_speaks_of_uncovered(
    page, live_server, manager
):
    make_campaign(kind="compare", owner=manager, items=2, overlap=1, name="Undo compare")
    contractor = UserFactory(role=Role.CONTRACTOR)
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/queue/")
    page.keyboard.press("1")
    page.wait_for_selector("#panel .questions")

    page.keyboard.press("a")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_selector("#wb-flash:not([hidden])")
    page.wait_for_selector("#wb-undo:not([hidden])")

    assert "U undoes it" in page.inner_text("#wb-flash")
    assert not covered(page, "#wb-undo")


def test_only_the_first_nine_campaigns_show_a_number_key(page, live_server, manager):
    for number in range(10):
        make_campaign(kind="compare", owner=manager, items=1, overlap=1, name=f"Queue {number}")
    contractor = UserFactory(role=Role.CONTRACTOR)
    browser_sign_in(page, live_server, contractor.username)

    page.goto(f"{live_server.url}/label/queue/")

    entries = page.locator(".queue-entry")
    assert entries.count() == 10
    assert entries.nth(8).locator("h2 kbd").inner_text() == "9"
    assert entries.nth(9).locator("h2 kbd").count() == 0
    assert entries.nth(9).locator("a.button").count() == 1
