"""Manager pages laid out at common widths: the campaign dashboard's buttons stay on one row
beside its title, the main menu on one line, and no page is wider than a phone's screen."""

import pytest

from tests.conftest import browser_sign_in
from tests.factories import make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOPS = "(nodes) => nodes.map((node) => Math.round(node.getBoundingClientRect().top))"


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_dashboards_buttons_keep_one_row_beside_a_long_title(page, live_server, manager, width):
    campaign = make_campaign(owner=manager, name="Bank: demonstrate everyday tasks")
    page.set_viewport_size({"width": width, "height": 800})
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/label/manage/{campaign.pk}/")

    buttons = page.locator(".dash-head .button-row").locator("button, a.button")
    assert buttons.count() == 4  # Pause, Mark done, Items, Edit
    assert len(set(buttons.evaluate_all(TOPS))) == 1
    title, row = box(page, ".dash-head > :first-child"), box(page, ".dash-head .button-row")
    assert title["x"] + title["width"] <= row["x"]
    assert len(set(page.locator(".mainnav a").evaluate_all(TOPS))) == 1


def test_on_a_phone_the_buttons_go_under_the_title(page, live_server, manager):
    campaign = make_campaign(owner=manager, name="Bank: demonstrate everyday tasks")
    page.set_viewport_size({"width": 390, "height": 844})
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/label/manage/{campaign.pk}/")
    title, row = box(page, ".dash-head h1"), box(page, ".dash-head .button-row")
    assert row["y"] >= title["y"] + title["height"]


def test_no_manager_page_is_wider_than_a_phone(page, live_server, manager):
    campaign = make_campaign(owner=manager, items=3)
    page.set_viewport_size({"width": 390, "height": 844})
    browser_sign_in(page, live_server, manager.username)
    for path in (
        "/label/manage/",
        f"/label/manage/{campaign.pk}/",
        f"/label/manage/{campaign.pk}/items/",
        "/environments/",
        "/rollouts/",
        "/evaluations/",
        "/exports/",
        "/jobs/",
    ):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than the screen"
