"""The rollout form: environments and their families ticked (no names to type), the model's
fields only for the chat policy, and the number of episodes shown before starting."""

import pytest

from environments.models import RolloutItem
from rlplatform.models import Job
from tests.conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_plans_a_rollout_by_ticking_families(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/rollouts/")
    preview = page.locator("#rollout-preview")
    assert page.is_hidden("#chat-fields")
    assert preview.inner_text() == "Tick at least one environment."

    bank = page.locator('.env-group[data-env="bank-v1"]')
    bank.locator('input[value="bank-v1:pay_bill"]').check()  # ticks the bank as well
    bank.locator('input[value="bank-v1:transfer_funds"]').check()
    page.fill("#id_count", "3")
    page.locator('.env-group[data-env="tickets-v1"] .env-check input').check()
    families_of_tickets = page.locator('.env-group[data-env="tickets-v1"] .family-checks input')
    planned = 3 * (2 + families_of_tickets.count())
    assert preview.inner_text().startswith(f"{planned} episodes (bank-v1: 2 families;")

    page.locator('input[name="policy"][value="chat"]').check()
    assert page.is_visible("#chat-fields")
    page.click("#rollout-form button[type=submit]")  # a chat model needs its server and name
    assert "a chat model needs this" in page.inner_text("#chat-fields")
    page.locator('input[name="policy"][value="scripted"]').check()
    assert page.is_hidden("#chat-fields")
    page.click("#rollout-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/jobs/*/")

    job = Job.objects.get(kind="rollout")
    assert job.params["policy"] == {"kind": "scripted"}
    assert job.params["environments"] == ["bank-v1", "tickets-v1"]
    assert job.params["families"][:2] == ["pay_bill", "transfer_funds"]
    assert RolloutItem.objects.filter(job=job).count() == planned
    assert f"0 of {planned}" in page.inner_text(".progress-caption")
    assert page.locator("#job-links a", has_text="Its episodes").count() == 1


def test_a_family_of_an_environment_left_unticked_is_refused(client, manager):
    client.force_login(manager)
    response = client.post(
        "/rollouts/",
        {
            "environments": ["bank-v1"],
            "families": ["ledger-v1:record_bill"],
            "count": 1,
            "seed_start": 0,
            "policy": "scripted",
            "concurrency": 1,
        },
    )
    assert response.status_code == 400
    assert "tick the environment of each family you chose: ledger-v1" in response.content.decode()
    assert not Job.objects.exists()
