"""A manager compares runs on the Evaluations page in a real browser and takes a run's results
away as a file."""

from pathlib import Path

import pytest

from environments.models import RolloutItem
from environments.rollouts import rollout_item_run
from evaluations import services
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
