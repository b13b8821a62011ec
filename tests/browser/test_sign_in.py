"""A newcomer signs in as each demo role in a real browser and sees that role's home page."""

import pytest

from rlplatform.demo import seed_demo_people
from tests.conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME_LINES = {
    "admin": "You administer the platform",
    "manager": "You run campaigns",
    "reviewer": "You adjudicate",
    "contractor1": "You label",
}


def test_each_demo_person_signs_in_and_sees_their_home_page(page, live_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    credentials = seed_demo_people()
    for username, line in HOME_LINES.items():
        browser_sign_in(page, live_server, username, credentials[username])
        assert line in page.inner_text("main")
        assert page.inner_text(".whoami .badge").lower() == username.rstrip("1")
        page.click("text=Sign out")
        page.wait_for_url(f"{live_server.url}/accounts/sign-in/")


def test_an_admin_creates_an_api_key_and_copies_it_once(page, live_server, admin_user):
    browser_sign_in(page, live_server, admin_user.username)
    page.click("nav >> text=API keys")
    page.fill("#id_name", "nightly rollouts")
    page.check("input[value=agent]")
    page.click("text=Create key")
    key = page.inner_text("#created-key").strip()
    assert key.startswith("rlp_")
    page.goto(f"{live_server.url}/keys/")
    assert key not in page.content()
    assert "nightly rollouts" in page.inner_text("table")
