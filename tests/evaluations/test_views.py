"""The Evaluations pages through Django's test client: leaderboards with their SVG chart, a
run's page, its results as CSV and JSON, and the form that starts one."""

import csv
import io
import json

import pytest

from evaluations import views
from evaluations.models import Evaluation
from rlplatform.models import Role
from tests.evaluations.helpers import evaluated
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_finished_runs_stand_side_by_side_on_a_leaderboard_with_a_chart(client, manager):
    scripted = evaluated(user=manager)
    random = evaluated(user=manager, policy={"kind": "random", "seed": 3}, name="monkey")
    evaluated(user=manager, split="validation", families=["pay_bill"])
    client.force_login(manager)
    page = client.get("/evaluations/").content.decode()

    board = page.split('id="board-bank-v1-test"')[1].split("</section>")[0]
    chart = board.split('<svg class="chart rate-chart"')[1].split("</svg>")[0]
    assert chart.count('<rect class="bar"') == 2
    assert "<script" not in chart
    rate = scripted.report["overall"]["success_rate"]
    assert f"<title>scripted: {rate * 100:.1f}%" in chart
    # Best success rate first.
    rows = board.split("<tbody>")[1]
    assert rows.index(">scripted<") < rows.index(">monkey<")
    assert f"{rate * 100:.1f}%" in rows
    assert f"{random.report['overall']['success_rate'] * 100:.1f}%" in rows
    assert 'id="board-bank-v1-validation"' in page
    assert page.index('id="board-bank-v1-test"') > page.index('id="board-bank-v1-validation"')
    assert "Finished" in page


def test_a_managers_runs_are_on_the_leaderboard_for_all_but_their_pages_are_theirs(client, manager):
    theirs = evaluated(user=manager, name="their-run")
    other = UserFactory(role=Role.MANAGER)
    client.force_login(other)
    page = client.get("/evaluations/").content.decode()
    assert ">their-run<" in page
    assert f'href="/evaluations/{theirs.pk}/"' not in page
    assert client.get(f"/evaluations/{theirs.pk}/").status_code == 404
    assert client.get(f"/evaluations/{theirs.pk}/results.csv").status_code == 404


def test_a_runs_page_shows_each_family_and_links_its_episodes_and_files(client, manager):
    evaluation = evaluated(user=manager)
    client.force_login(manager)
    page = client.get(f"/evaluations/{evaluation.pk}/").content.decode()
    table = page.split('id="families"')[1].split("</table>")[0]
    for family in ("pay_bill", "statement_balance", "All families"):
        assert family in table
    assert f"/api/v1/rollouts/{evaluation.job_id}/items/" in page
    assert f"/jobs/{evaluation.job_id}/" in page
    assert f"/evaluations/{evaluation.pk}/results.csv" in page
    assert "pass@2" in page and "pass^2" in page
    assert page.count('<rect class="bar"') == 2
    job_page = client.get(f"/jobs/{evaluation.job_id}/").content.decode()
    assert f'href="/evaluations/{evaluation.pk}/"' in job_page


def test_the_results_download_as_csv_and_json_with_the_reports_numbers(client, manager):
    evaluation = evaluated(user=manager, name="=cmd|' /C calc'!A0")
    client.force_login(manager)
    response = client.get(f"/evaluations/{evaluation.pk}/results.csv")
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["family"] for row in rows] == ["pay_bill", "statement_balance", "(all)"]
    overall = evaluation.report["overall"]
    assert float(rows[-1]["success_rate"]) == pytest.approx(overall["success_rate"])
    assert float(rows[-1]["pass_hat_k"]) == pytest.approx(overall["pass_hat_k"]["2"])
    assert int(rows[-1]["episodes"]) == overall["episodes"] == 4
    assert float(rows[-1]["seen_success_rate"]) == pytest.approx(overall["seen"]["success_rate"])
    assert rows[-1]["unseen_success_rate"] == ""  # no held-out variant was played
    # A name a spreadsheet would run as a formula is written as text.
    assert rows[0]["policy"].startswith("'=")

    response = client.get(f"/evaluations/{evaluation.pk}/results.json")
    body = json.loads(response.content)
    assert body["report"] == evaluation.report
    assert body["id"] == evaluation.pk and body["status"] == "succeeded"


def board_of(page: str, board: str) -> str:
    return page.split(f'id="board-{board}"')[1].split("</section>")[0]


def test_each_leaderboard_pages_its_runs_and_keeps_the_others_page(client, manager, monkeypatch):
    monkeypatch.setattr(views, "BOARD_PAGE_SIZE", 1)
    evaluated(user=manager, name="solver")
    evaluated(user=manager, policy={"kind": "random", "seed": 3}, name="monkey")
    evaluated(user=manager, split="validation", families=["pay_bill"], name="held")
    client.force_login(manager)

    first = board_of(client.get("/evaluations/").content.decode(), "bank-v1-test")
    assert ">solver<" in first and ">monkey<" not in first
    assert "Page 1 of 2" in first
    assert 'href="?page-bank-v1-test=2#board-bank-v1-test"' in first
    assert first.count('<rect class="bar"') == 1

    page = client.get("/evaluations/?page-bank-v1-validation=1&page-bank-v1-test=2")
    second = board_of(page.content.decode(), "bank-v1-test")
    assert ">monkey<" in second and ">solver<" not in second
    assert "Page 2 of 2" in second
    back = 'href="?page-bank-v1-validation=1&page-bank-v1-test=1#board-bank-v1-test"'
    assert back in second
    assert ">held<" in board_of(page.content.decode(), "bank-v1-validation")
    # A page past the last, or no number at all, shows the nearest page.
    for junk in ("9", "x", "%D9%A1"):
        page = client.get(f"/evaluations/?page-bank-v1-test={junk}").content.decode()
        assert "Page " in board_of(page, "bank-v1-test")


def test_the_form_starts_an_evaluation_or_says_what_was_wrong(client, manager):
    client.force_login(manager)
    form = {
        "environment": "bank-v1",
        "split": "test",
        "families": ["bank-v1:pay_bill", "bank-v1:fly_to_mars"],
        "tasks_per_family": 2,
        "attempts": 3,
        "policy": "random",
        "reward_mode": "sparse",
        "observation_mode": "axtree",
        "concurrency": 4,
    }
    response = client.post("/evaluations/", form)
    assert response.status_code == 400
    assert "unknown family bank-v1:fly_to_mars" in response.content.decode()
    # A family ticked under another environment than the one chosen is not played.
    response = client.post("/evaluations/", {**form, "families": ["ledger-v1:record_bill"]})
    assert response.status_code == 400
    assert "tick the environment of each family you chose: ledger-v1" in response.content.decode()
    held_out = {**form, "split": "validation", "families": ["bank-v1:statement_balance"]}
    response = client.post("/evaluations/", held_out)
    assert response.status_code == 400
    assert "statement_balance: not a family of bank-v1&#x27;s validation split" in (
        response.content.decode()
    )
    assert not Evaluation.objects.exists()

    response = client.post("/evaluations/", {**form, "families": ["bank-v1:pay_bill"]})
    evaluation = Evaluation.objects.get()
    assert response["Location"] == f"/evaluations/{evaluation.pk}/"
    assert (evaluation.families, evaluation.tasks_per_family, evaluation.attempts) == (
        ["pay_bill"],
        2,
        3,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in page
    assert "The results appear here when the last episode has ended." in page


def test_the_form_evaluates_a_chat_model_with_the_prompt_and_history_chosen(client, manager):
    client.force_login(manager)
    response = client.post(
        "/evaluations/",
        {
            "environment": "bank-v1",
            "split": "test",
            "tasks_per_family": 1,
            "attempts": 1,
            "policy": "chat",
            "base_url": "https://models.example/v1",
            "model": "general",
            "prompt": "reasoning",
            "history": "last_pages:1",
            "reward_mode": "sparse",
            "observation_mode": "",
            "concurrency": 1,
        },
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert evaluation.policy == {
        "kind": "chat",
        "base_url": "https://models.example/v1",
        "model": "general",
        "prompt": "reasoning",
        "history": "last_pages:1",
    }
    assert (evaluation.observation_mode, evaluation.max_observation_chars) == ("pruned", 1800)
    page = client.get(response["Location"]).content.decode()
    assert "general at https://models.example/v1, reasoning prompt" in page


def test_only_managers_and_admins_have_the_evaluations_page(client, contractor, admin_user):
    client.force_login(contractor)
    assert client.get("/evaluations/").status_code == 403
    assert 'href="/evaluations/"' not in client.get("/").content.decode()
    client.force_login(admin_user)
    assert 'href="/evaluations/"' in client.get("/").content.decode()
