"""The `tasks` dataset: a row per task for GRPO's train_dataset."""

import pytest

from environments.engine import get_environment
from environments.engine.splits import split_seed_range
from environments.models import Task
from environments.openenv.datasets import SYSTEM_PROMPT
from tests.conftest import key_client, signed_in

pytestmark = pytest.mark.django_db


def test_rows_name_the_task_and_carry_a_conversational_prompt(admin_user):
    response = key_client(scopes=["agent"]).get(
        "/api/v1/datasets/tasks/",
        {"environment": "bank-v1", "family": "pay_bill", "seed_from": 10, "seed_to": 12},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    rows = body["results"]
    assert [(r["environment"], r["family"], r["seed"]) for r in rows] == [
        ("bank-v1", "pay_bill", 10),
        ("bank-v1", "pay_bill", 11),
        ("bank-v1", "pay_bill", 12),
    ]
    for row in rows:
        assert set(row) == {"prompt", "task_id", "seed", "environment", "family", "split"}
        assert row["split"] == "train"
        assert row["prompt"][0] == {"role": "system", "content": SYSTEM_PROMPT}
        assert row["prompt"][-1]["role"] == "user"
        task = Task.objects.get(pk=row["task_id"])
        assert (task.env_id, task.family, task.seed) == ("bank-v1", "pay_bill", row["seed"])


def test_every_family_is_interleaved_and_pages_create_only_their_tasks(admin_user):
    client = key_client(scopes=["export"])
    body = client.get(
        "/api/v1/datasets/tasks/",
        {"environment": "tickets", "seed_from": 0, "seed_to": 999, "page_size": 14},
    ).json()
    # Train: the held-out family (buy_accessible) is not there.
    assert body["count"] == 6 * 1000
    families = [row["family"] for row in body["results"]]
    assert len(set(families)) == 6 and [row["seed"] for row in body["results"][:7]] == [0] * 6 + [1]
    assert "buy_accessible" not in families
    assert Task.objects.filter(env_id="tickets-v1").count() == 14
    again = client.get(
        "/api/v1/datasets/tasks/",
        {"environment": "tickets", "seed_from": 0, "seed_to": 999, "page_size": 14},
    ).json()
    assert again["results"] == body["results"]
    assert Task.objects.filter(env_id="tickets-v1").count() == 14


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"environment": "casino"}, 404, "environment"),
        ({"environment": "bank-v1", "family": "nope"}, 404, "family"),
        ({"environment": "bank-v1", "seed_from": 5, "seed_to": 4}, 400, "seed_to"),
        ({"environment": "bank-v1", "seed_from": 0, "seed_to": 2_000_000}, 400, "seed_to"),
        ({"environment": "bank-v1", "split": "dev"}, 400, "split"),
        ({"environment": "bank-v1", "split": "test", "seed_from": 5}, 400, "seed_from"),
        ({"environment": "bank-v1", "split": "validation", "seed_to": 3}, 400, "seed_to"),
        ({"environment": "bank-v1", "family": "dispute_charge"}, 400, "family"),
        ({}, 400, "environment"),
    ],
)
def test_bad_filters_say_what_is_wrong(admin_user, query, status, field):
    response = key_client(scopes=["agent"]).get("/api/v1/datasets/tasks/", query)
    assert response.status_code == status
    assert (
        field in response.json()["error"].get("fields", {})
        or field in response.json()["error"]["message"]
    )


def test_contractors_may_read_the_dataset_too(contractor):
    response = signed_in(contractor).get("/api/v1/datasets/tasks/", {"environment": "bank-v1"})
    # The train split's first 100 seeds of its six families.
    assert response.status_code == 200 and response.json()["count"] == 600


@pytest.mark.parametrize("split", ["validation", "test"])
def test_a_split_lists_its_own_families_and_seeds(admin_user, split):
    client = key_client(scopes=["agent"])
    query = {"environment": "bank-v1", "split": split}
    first = split_seed_range(split).start
    body = client.get(
        "/api/v1/datasets/tasks/", {**query, "seed_to": first + 9, "page_size": 500}
    ).json()
    env = get_environment("bank")
    families = {row["family"] for row in body["results"]}
    assert {row["seed"] for row in body["results"]} == set(range(first, first + 10))
    assert {row["split"] for row in body["results"]} == {split}
    expected = set(env.families)
    if split != "test":
        expected -= set(env.heldout_families)
    assert families == expected and body["count"] == 10 * len(expected)
    # By default, the split's first 100 seeds.
    assert client.get("/api/v1/datasets/tasks/", query).json()["count"] == 100 * len(expected)
