"""A manager compares runs on the Evaluations page in a real browser and takes a run's results
away as a file."""

from pathlib import Path

import pytest

from environments.models import RolloutItem
from environments.rollouts import rollout_item_run
from evaluations import services
from evaluations.models import Evaluation
from tests.conftest import browser_sign_in
from tests.evaluations.helpers import evaluated

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_the_leaderboard_opens_a_run_and_downloads_its_results(
    page, live_server, manager
):
    evaluated(user=manager, name="solver")
    run = evaluated(user=manager, policy={"kind": "random"}, name="monkey")
    browser_sign_in(page, live_server, manager.username)
    page.click("nav >> text=Evaluations")
    board = page.locator("#board-bank-v1-test")
    assert board.locator("svg.rate-chart rect.bar").count() == 2
    assert board.locator("svg.rate-chart").bounding_box()["width"] > 300
    assert board.locator("tbody tr").first.locator("td").nth(1).inner_text() == "solver"

    board.locator(f"a[href='/evaluations/{run.pk}/']").click()
    page.wait_for_url(f"{live_server.url}/evaluations/{run.pk}/")
    assert page.locator("h1").inner_text().startswith(f"Evaluation #{run.pk}: monkey")
    assert page.locator("#families tbody tr").count() == 3
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename == f"evaluation-{run.pk}-bank-v1-test.csv"
    assert "pay_bill" in Path(download.value.path()).read_text()


def test_a_runs_page_shows_the_results_once_its_last_episode_ends(page, live_server, manager):
    evaluation = services.evaluation_start(
        environment="ledger-v1",
        split="validation",
        families=["record_bill"],
        tasks_per_family=1,
        attempts=2,
        policy={"kind": "scripted"},
        user=manager,
    )
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/evaluations/{evaluation.pk}/")
    assert page.locator("#status-words").inner_text() == "Waiting for a worker"
    page.get_by_text("The results appear here when the last episode has ended.").wait_for()
    for item in RolloutItem.objects.filter(job=evaluation.job):
        rollout_item_run(item_id=item.pk)
    page.locator("#families").wait_for()
    assert page.locator("#status-words").inner_text() == "Finished"
    assert (
        page.locator("#families tbody tr").first.locator("td").first.inner_text() == "record_bill"
    )


def test_a_manager_chooses_an_environment_and_ticks_its_families(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/evaluations/")
    ledger = page.locator('.env-group[data-env="ledger-v1"]')
    ledger.locator('input[value="ledger-v1:record_bill"]').check()  # chooses the ledger too
    assert ledger.locator(".env-check input").is_checked()

    bank = page.locator('.env-group[data-env="bank-v1"]')
    bank.locator('input[value="bank-v1:pay_bill"]').check()  # the ledger's family is let go
    assert bank.locator(".env-check input").is_checked()
    assert not ledger.locator(".env-check input").is_checked()
    assert not ledger.locator('input[value="ledger-v1:record_bill"]').is_checked()
    bank.locator('input[value="bank-v1:transfer_funds"]').check()
    page.fill("#id_tasks_per_family", "2")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{live_server.url}/evaluations/*/")

    evaluation = Evaluation.objects.get()
    assert (evaluation.env_id, evaluation.families) == ("bank-v1", ["pay_bill", "transfer_funds"])
