"""The evaluations API without a worker: what it refuses (each refusal naming its field), what
it plans, and who sees which evaluation. Runs through a worker are in test_runs.py."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from environments.engine.splits import split_families, split_seed_range
from environments.engine.variants import VARIANTS
from environments.models import RolloutItem
from evaluations.models import Evaluation
from rlplatform.models import Job, Role
from tests.conftest import key_client, signed_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/evaluations/"
CHAT_URL = "https://models.example/v1"


def start(client, **fields):
    body = {"environment": "bank-v1", "split": "test", "policy": {"kind": "scripted"}, **fields}
    return client.post(URL, body, format="json")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"split": "holdout"}, "split", "train, validation, test"),
        ({"families": ["pay_bill", "fly_to_mars"]}, "families", "fly_to_mars"),
        ({"attempts": 0}, "attempts", "greater than or equal to 1"),
        ({"attempts": 33}, "attempts", "less than or equal to 32"),
        ({"tasks_per_family": 0}, "tasks_per_family", "greater than or equal to 1"),
        ({"environment": "casino-v1"}, "environment", "casino"),
        ({"policy": {"kind": "oracle"}}, "policy.kind", "oracle"),
        ({"policy": {"kind": "chat", "model": "m"}}, "policy.base_url", "base_url"),
        (
            {"policy": {"kind": "chat", "base_url": CHAT_URL, "model": "m", "prompt": "chain"}},
            "policy.prompt",
            "chain",
        ),
        (
            {
                "policy": {
                    "kind": "chat",
                    "base_url": CHAT_URL,
                    "model": "m",
                    "history": "last_pages:\u0663",
                }
            },
            "policy.history",
            "last_pages:K",
        ),
        ({"reward_mode": "dense"}, "reward_mode", "dense"),
        ({"observation_mode": "html"}, "observation_mode", "html"),
        ({"max_observation_chars": 5}, "max_observation_chars", "greater than or equal to"),
    ],
)
def test_a_bad_request_is_refused_with_the_field_named_and_nothing_started(
    manager, fields, field, words
):
    response = start(signed_in(manager), **fields)
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["fields"], error
    assert words in error["message"]
    assert not Evaluation.objects.exists()
    assert not Job.objects.exists()


def test_a_family_held_out_of_a_split_is_refused_there(manager):
    held_out = [
        f for f in split_families("bank-v1", "test") if f not in split_families("bank-v1", "train")
    ]
    if not held_out:
        pytest.fail("bank-v1 holds no family out of its train split")
    response = start(signed_in(manager), split="train", families=held_out[:1])
    assert response.status_code == 400
    assert (
        "not a family of bank-v1's train split" in response.json()["error"]["fields"]["families"][0]
    )


def test_an_evaluation_plans_the_first_seeds_of_the_split_k_times_each(manager):
    response = start(
        signed_in(manager),
        families=["pay_bill", "largest_purchase"],
        tasks_per_family=3,
        attempts=2,
        reward_mode="partial",
        name="solver",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    seeds = list(split_seed_range("test", env_id="bank-v1")[:3])
    assert body["seeds"] == seeds
    assert body["families"] == ["pay_bill", "largest_purchase"]
    assert body["status"] == "queued" and body["status_words"] == "Waiting for a worker"
    assert body["report"] is None
    assert (body["reward_mode"], body["observation_mode"]) == ("partial", "axtree")
    job = Job.objects.get(pk=body["job"])
    assert job.kind == "evaluation"
    # The test split renders every UI variant, held-out ones too: each task in each.
    assert body["variants"] == list(VARIANTS)
    assert job.progress_total == 3 * 2 * 2 * len(VARIANTS)
    planned = list(
        RolloutItem.objects.filter(job=job)
        .order_by("index")
        .values_list("family", "seed", "variant")
    )
    assert planned == [
        (family, seed, variant)
        for family in ("pay_bill", "largest_purchase")
        for seed in seeds
        for variant in VARIANTS
        for _ in "ab"
    ]


def test_every_family_of_the_split_is_evaluated_when_none_is_named(manager):
    body = start(signed_in(manager), split="train", tasks_per_family=1).json()
    assert body["families"] == split_families("bank-v1", "train")


def test_a_chat_model_is_asked_as_step_rows_unless_told_to_reason_first(manager):
    tuned = start(
        signed_in(manager), policy={"kind": "chat", "base_url": CHAT_URL, "model": "tuned"}
    ).json()
    # Its pages as an exported step row shows them, so it is evaluated on what it trained on.
    assert (tuned["observation_mode"], tuned["max_observation_chars"]) == ("pruned", 1800)
    assert tuned["policy"]["prompt"] == "step" and tuned["policy_label"] == "chat: tuned"
    general = start(
        signed_in(manager),
        policy={"kind": "chat", "base_url": CHAT_URL, "model": "general", "prompt": "reasoning"},
        observation_mode="axtree",
        max_observation_chars=4000,
    ).json()
    assert (general["observation_mode"], general["max_observation_chars"]) == ("axtree", 4000)
    assert general["policy_label"] == "chat: general (reasoning)"


def test_a_chat_models_key_is_never_stored(manager):
    response = start(
        signed_in(manager),
        policy={
            "kind": "chat",
            "base_url": "https://models.example/v1",
            "model": "m",
            "api_key": "sk-x",
        },
        tasks_per_family=1,
    )
    assert response.status_code == 202, response.json()
    evaluation = Evaluation.objects.get()
    assert "sk-x" not in str(Evaluation.objects.filter(pk=evaluation.pk).values().get())
    assert "sk-x" not in str(Job.objects.filter(pk=evaluation.job_id).values().get())


def test_people_see_their_own_evaluations_admins_every_one_keys_their_owners(admin_user, manager):
    other = UserFactory(role=Role.MANAGER)
    mine = start(signed_in(manager), tasks_per_family=1).json()["id"]
    theirs = start(signed_in(other), tasks_per_family=1).json()["id"]

    listed = signed_in(manager).get(URL).json()
    assert [row["id"] for row in listed["results"]] == [mine]
    assert signed_in(manager).get(f"{URL}{theirs}/").status_code == 404
    assert signed_in(manager).get(f"{URL}{mine}/").json()["created_by"] == "manager"
    assert {row["id"] for row in signed_in(admin_user).get(URL).json()["results"]} == {mine, theirs}
    agent = key_client(scopes=["agent"], owner=manager)
    assert [row["id"] for row in agent.get(URL).json()["results"]] == [mine]
    # An admin's key acts through its scopes, never its owner's role.
    export_key = key_client(scopes=["export"], owner=admin_user)
    assert export_key.get(URL).status_code == 403


def test_contractors_and_reviewers_may_not_start_evaluations(contractor, reviewer):
    assert start(signed_in(contractor)).status_code == 403
    assert start(signed_in(reviewer)).status_code == 403


def test_the_list_filters_by_environment_and_split(manager):
    client = signed_in(manager)
    start(client, tasks_per_family=1)
    start(client, tasks_per_family=1, split="validation")
    start(client, tasks_per_family=1, environment="tickets-v1")
    rows = client.get(URL, {"environment": "bank-v1", "split": "validation"}).json()["results"]
    assert [(row["environment"], row["split"]) for row in rows] == [("bank-v1", "validation")]


def test_the_evaluate_command_plays_the_variants_it_names(admin_user):
    out = StringIO()
    call_command(
        "evaluate", "bank-v1", "--split", "train", "--variants", "wording, layout", "--no-wait",
        stdout=out, stderr=out,
    )  # fmt: skip
    evaluation = Evaluation.objects.get()
    assert evaluation.variants == ["wording", "layout"]
    assert f"evaluation {evaluation.pk} started" in out.getvalue()
    with pytest.raises(CommandError, match="variants: 'mixed': not a UI variant"):
        call_command("evaluate", "bank-v1", "--split", "train", "--variants", "mixed")
