"""What first-error judgments and takeovers give the exports, made through the API and
exported through it, each file loaded with `datasets`: `stepwise` rows up to the first error
(PRM800K's labels), a `preference` pair at the takeover step (the person's action chosen, the
agent's rejected), `sft` rows from the person's steps only; the category on every row it
applies to."""

import pytest
from transformers import Qwen3ForSequenceClassification
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer, SFTConfig, SFTTrainer

from environments.models import Episode
from exports import services as export_services
from exports.models import Export
from labeling import services as labeling_services
from labeling.models import Takeover
from rlplatform.models import Role
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.exports.helpers import api_episode, solver_actions
from tests.exports.test_training import TWO_STEPS, export_through_api, trained_tokenizer
from tests.factories import UserFactory
from tests.trainers.test_grpo import tiny_qwen3

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]
TASK = {"env_id": "bank-v1", "family": "card_controls", "seed": 4}
WRONG_AT = 2


@pytest.fixture
def corrected(admin_user, manager):
    """An agent that wastes a step (a noop) at step 2 and then does as the solver does; a
    grader marks step 2 as its first error and takes over there, doing the solver's action."""
    solver = solver_actions(**TASK)
    actions = [*solver[:WRONG_AT], "noop()", *solver[WRONG_AT:]]
    agent_episode = api_episode(key_client(scopes=["agent"]), **TASK, actions=actions)
    campaign = labeling_services.campaign_create(
        created_by=manager,
        name="First errors",
        kind="grade",
        schema=[{"name": "first_error", "type": "first_error"}],
        allow_takeover=True,
    )
    labeling_services.items_add(
        campaign=campaign, added_by=manager, entries=[{"episode": agent_episode}]
    )
    labeling_services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    grader = signed_in(UserFactory(role=Role.CONTRACTOR))
    assignment = grader.post("/api/v1/queue/next/", {}, format="json").json()["id"]
    answers = {"first_error": {"step": WRONG_AT, "category": "needless_action"}}
    submitted = grader.post(
        f"/api/v1/assignments/{assignment}/submit/",
        {"answers": answers, "idempotency_key": "k"},
        format="json",
    )
    assert submitted.status_code == 201
    taken = grader.post(
        f"/api/v1/assignments/{assignment}/takeover/",
        {"step": WRONG_AT, "category": "needless_action"},
        format="json",
    )
    episode = taken.json()["episode"]
    for action in solver[WRONG_AT:]:
        stepped = grader.post(
            f"/api/v1/episodes/{episode}/step/", {"action": action}, format="json"
        )
        assert stepped.status_code == 200, stepped.json()
        if stepped.json()["status"] != "running":
            break
    assert Episode.objects.get(pk=episode).success is True
    return campaign, agent_episode, solver, Takeover.objects.get()


def test_stepwise_rows_stop_at_the_first_error_with_its_category(corrected, tmp_path):
    campaign, agent_episode, _, _ = corrected
    exporter = key_client(scopes=["export"])
    rows, _ = export_through_api(exporter, tmp_path, "stepwise", {"campaigns": [campaign.pk]})
    assert [row["step"] for row in rows] == [0, 1, 2]
    assert [row["labels"] for row in rows] == [[True], [True], [False]]
    assert [row["error_category"] for row in rows] == [None, None, "needless_action"]
    assert {row["source"] for row in rows} == {"first_error"}
    assert rows[2]["completions"] == ["noop()"] and rows[0]["episode_id"] == agent_episode


def test_a_takeover_gives_a_preference_pair_at_the_replaced_step(corrected, tmp_path):
    campaign, agent_episode, solver, takeover = corrected
    exporter = key_client(scopes=["export"])
    rows, _ = export_through_api(exporter, tmp_path, "preference", {"campaigns": [campaign.pk]})
    (row,) = list(rows)
    assert row["source"] == "takeover" and row["error_category"] == "needless_action"
    assert row["chosen"] == [{"role": "assistant", "content": solver[WRONG_AT]}]
    assert row["rejected"] == [{"role": "assistant", "content": "noop()"}]
    assert (row["chosen_episode_id"], row["rejected_episode_id"]) == (
        takeover.episode_id,
        agent_episode,
    )
    assert row["step"] == WRONG_AT and row["prompt"][0]["role"] == "system"
    assert all(turn["role"] != "assistant" for turn in row["prompt"])


def test_sft_rows_come_from_the_persons_steps_after_the_takeover(corrected, tmp_path):
    _, _, solver, takeover = corrected
    exporter = key_client(scopes=["export"])
    rows, _ = export_through_api(exporter, tmp_path, "sft")
    mine = [row for row in rows if row["episode_id"] == takeover.episode_id]
    person = list(takeover.episode.steps.order_by("index").values_list("action", flat=True))
    assert [row["step"] for row in mine] == list(range(WRONG_AT, len(person)))
    assert [row["completion"][0]["content"] for row in mine] == person[WRONG_AT:]
    assert person[WRONG_AT:] == solver[WRONG_AT : len(person)]
    assert {(row["source"], row["error_category"]) for row in mine} == {
        ("takeover", "needless_action")
    }
    # Whole conversations would put the agent's first steps in the person's mouth: none.
    body = {"kind": "sft", "filters": {"granularity": "trajectory"}}
    response = exporter.post("/api/v1/exports/", body, format="json")
    export = Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=export.job_id, handler=export_services.export_run)
    export.refresh_from_db()
    assert export.manifest["rows"] == 0


@pytest.mark.slow
def test_takeover_pairs_and_rows_train_with_trls_defaults(corrected, tmp_path):
    tokenizer = trained_tokenizer()
    campaign, *_ = corrected
    exporter = key_client(scopes=["export"])
    pairs, _ = export_through_api(exporter, tmp_path, "preference", {"campaigns": [campaign.pk]})
    config = tiny_qwen3(tokenizer).config
    config.num_labels = 1
    reward = RewardTrainer(
        model=Qwen3ForSequenceClassification(config),
        processing_class=tokenizer,
        train_dataset=pairs,
        args=RewardConfig(output_dir=str(tmp_path / "reward"), **TWO_STEPS),
    )
    assert reward.args.max_length == 1024 and reward.train_dataset.num_rows == 1
    reward.train()
    assert reward.state.global_step == 2
    dpo = DPOTrainer(
        model=tiny_qwen3(tokenizer),
        ref_model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=pairs,
        args=DPOConfig(output_dir=str(tmp_path / "dpo"), **TWO_STEPS),
    )
    dpo.train()
    assert dpo.state.global_step == 2

    rows, _ = export_through_api(exporter, tmp_path, "sft")
    sft = SFTTrainer(
        model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=rows,
        args=SFTConfig(output_dir=str(tmp_path / "sft"), **TWO_STEPS),
    )
    assert sft.args.max_length == 1024 and sft.train_dataset.num_rows == rows.num_rows
    sft.train()
    assert sft.state.global_step == 2
