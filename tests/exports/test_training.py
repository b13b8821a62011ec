"""Every trainable export trains as it is, with TRL's defaults: data made through the API
(agents' episodes, contractors' demonstrations and judgments), exported through the API, then
two steps of the matching TRL 1.16 trainer (SFTTrainer; RewardTrainer and DPOTrainer;
KTOTrainer) with its default max_length of 1,024 tokens, and examples/train_prm.py for
`stepwise`. No row may be dropped and no completion cut.

The model is a tiny Qwen3 built here. Its tokenizer is a byte-level BPE trained here on pages of
the environments (other seeds than the exported ones), with GPT-2's pre-tokenization and 3,000
tokens: about 3.2 characters a token on these rows (2.6 on pages dense with amounts), as a chat
model's tokenizer gives, so that a row that fits it fits a real model's context (a tokenizer of
one token per byte would not say).
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import itertools
import json
from pathlib import Path

import datasets
import pytest
import trl
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForTokenClassification,
    PreTrainedTokenizerFast,
    Qwen3ForSequenceClassification,
)
from trl import (
    DPOConfig,
    DPOTrainer,
    KTOConfig,
    KTOTrainer,
    RewardConfig,
    RewardTrainer,
    SFTConfig,
    SFTTrainer,
)

from environments.engine import RandomPolicy, get_environment, page_to_json, run_episode
from exports import services
from exports.kinds import StepRow
from exports.models import Export
from exports.prompts import StepPrompts, budget_of
from rlplatform.models import Role
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.exports.helpers import (
    api_campaign,
    api_demonstrate,
    api_episode,
    api_work_queue,
    solver_actions,
)
from tests.factories import UserFactory
from tests.trainers.test_grpo import SPECIAL_TOKENS, tiny_qwen3

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
    pytest.mark.slow,
]

TWO_STEPS = {
    "max_steps": 2,
    "per_device_train_batch_size": 2,
    "learning_rate": 1e-3,
    "logging_steps": 1,
    "report_to": "none",
    "save_strategy": "no",
    "use_cpu": True,
    "bf16": False,
    "seed": 0,
    "dataloader_num_workers": 0,
}
GRADE_SCHEMA = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
]
# Pages of every environment on which the sites' tables and forms are long.
PLAYED = [
    ("bank-v1", "transfer_funds"),
    ("tickets-v1", "buy_tickets"),
    ("ledger-v1", "match_deposit"),
]


def corpus() -> list[str]:
    """Step-row text of every family, by the solver and a random policy, on seeds the tests do
    not export."""
    texts = []
    for env_id in ("bank-v1", "tickets-v1", "ledger-v1"):
        env = get_environment(env_id)
        for family, seed in itertools.product(env.families, (0, 1)):
            task = env.make_task(family, seed)
            for policy in (env.solver(), RandomPolicy(seed)):
                states, actions, _ = run_episode(env, task, policy)
                steps = [
                    StepRow(0, i, json.dumps(page_to_json(env.render(states[i]))), a, 0, 0, 0, "")
                    for i, a in enumerate(actions)
                ]
                prompts = StepPrompts(task.goal, steps, budget_of({}))
                texts += [f"{prompts.text(i)}\n{step.action}" for i, step in enumerate(steps)]
    return texts


def trained_tokenizer() -> PreTrainedTokenizerFast:
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.train_from_iterator(
        corpus(),
        trainers.BpeTrainer(
            vocab_size=3000,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=SPECIAL_TOKENS,
            show_progress=False,
        ),
    )
    template = Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja"
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=template.read_text(),
    )


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    return trained_tokenizer()


def conversation_tokens(tokenizer, messages: list[dict]) -> int:
    return len(
        tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
    )


def assert_realistic(tokenizer, rows: datasets.Dataset, *columns: str) -> None:
    """The tokenizer is no coarser than a chat model's on these rows."""
    text = "".join(m["content"] for row in rows for c in columns for m in row[c])
    chars_per_token = len(text) / len(tokenizer(text)["input_ids"])
    assert 2.5 < chars_per_token < 3.6


def export_through_api(client, tmp_path: Path, kind: str, filters: dict | None = None):
    response = client.post(
        "/api/v1/exports/", {"kind": kind, "filters": filters or {}}, format="json"
    )
    assert response.status_code == 202, response.json()
    export = Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=export.job_id, handler=services.export_run)
    download = client.get(f"/api/v1/exports/{export.pk}/files/data.jsonl")
    assert download.status_code == 200
    path = tmp_path / f"{kind}.jsonl"
    path.write_bytes(b"".join(download.streaming_content))
    rows = datasets.load_dataset("json", data_files=str(path), split="train")
    return rows, path


@pytest.fixture
def exporter(admin_user):
    return key_client(scopes=["export"])


@pytest.fixture
def agent(admin_user):
    return key_client(scopes=["agent"])


@pytest.fixture
def graders(db):
    return [signed_in(user) for user in UserFactory.create_batch(2, role=Role.CONTRACTOR)]


def test_sft_trains_on_demonstration_rows_with_the_default_context(
    manager, graders, exporter, tokenizer, tmp_path, settings
):
    tasks = [
        signed_in(manager)
        .get(f"/api/v1/datasets/tasks/?environment={env_id}&family={family}&seed_from=3&seed_to=3")
        .json()["results"][0]["task_id"]
        for env_id, family in PLAYED
    ]
    campaign = api_campaign(
        signed_in(manager), kind="demonstrate", schema=[], items=[{"task": t} for t in tasks]
    )
    assert api_demonstrate(graders[0], campaign) == 3
    rows, _ = export_through_api(exporter, tmp_path, "sft")
    assert rows.num_rows >= 20 and set(rows["environment"]) == {e for e, _ in PLAYED}
    assert_realistic(tokenizer, rows, "prompt", "completion")

    trainer = SFTTrainer(
        model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=rows,
        args=SFTConfig(output_dir=str(tmp_path / "sft"), **TWO_STEPS),
    )
    assert trainer.args.max_length == 1024 and trainer.args.completion_only_loss is not False
    kept = trainer.train_dataset
    assert kept.num_rows == rows.num_rows
    for row, tokenized in zip(rows, kept, strict=True):
        full = conversation_tokens(tokenizer, row["prompt"] + row["completion"])
        assert full <= trainer.args.max_length
        assert len(tokenized["input_ids"]) == full
        # The loss is on the action's tokens only (the prompt's labels are ignored).
        assert 0 < sum(label != -100 for label in tokenized["labels"]) < full / 4
    trainer.train()
    assert trainer.state.global_step == 2

    # The manifest counts the same tokens, given the tokenizer's folder.
    settings.TOKENIZERS_DIR = tmp_path / "tokenizers"
    tokenizer.save_pretrained(settings.TOKENIZERS_DIR / "bpe-3000")
    response = exporter.post(
        "/api/v1/exports/", {"kind": "sft", "filters": {"tokenizer": "bpe-3000"}}, format="json"
    )
    export = Export.objects.get(pk=response.json()["id"])
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    lengths = export.manifest["row_lengths"]
    assert lengths["tokenizer"] == "bpe-3000" and lengths["within_1024_tokens"] == 1.0
    assert lengths["tokens"]["max"] == max(len(row["input_ids"]) for row in kept)


def compare_pairs(agent, manager, graders) -> int:
    """Pairs of agents' episodes on one task, the solver's (A) against one that loses its way
    at a step, compared through the API; every grader prefers A."""
    items = []
    for env_id, family in PLAYED:
        solver = solver_actions(env_id, family, 4)
        for part in (1, len(solver) - 2):
            detour = [*solver[:part], "noop()", *solver[part:]]
            items.append(
                {
                    "episode_a": api_episode(
                        agent, env_id=env_id, family=family, seed=4, actions=solver
                    ),
                    "episode_b": api_episode(
                        agent, env_id=env_id, family=family, seed=4, actions=detour
                    ),
                }
            )
    schema = [{"name": "preference", "type": "preference"}]
    campaign = api_campaign(signed_in(manager), kind="compare", schema=schema, items=items)
    for grader in graders:
        api_work_queue(grader, campaign, lambda a: {"preference": {"choice": "A", "strength": 2}})
    return len(items)


def test_reward_and_dpo_trainers_train_on_aligned_pairs_with_the_default_context(
    manager, graders, agent, exporter, tokenizer, tmp_path
):
    pairs = compare_pairs(agent, manager, graders)
    rows, _ = export_through_api(exporter, tmp_path, "preference")
    assert rows.num_rows == pairs and all(rows["aligned"])
    assert_realistic(tokenizer, rows, "prompt", "chosen")
    for row in rows:
        for side in ("chosen", "rejected"):
            assert conversation_tokens(tokenizer, row["prompt"] + row[side]) <= 1024

    config = tiny_qwen3(tokenizer).config
    config.num_labels = 1
    reward = RewardTrainer(
        model=Qwen3ForSequenceClassification(config),
        processing_class=tokenizer,
        train_dataset=rows,
        args=RewardConfig(output_dir=str(tmp_path / "reward"), **TWO_STEPS),
    )
    # RewardTrainer drops rows longer than max_length: none was.
    assert reward.args.max_length == 1024 and reward.train_dataset.num_rows == pairs
    reward.train()
    assert reward.state.global_step == 2

    dpo = DPOTrainer(
        model=tiny_qwen3(tokenizer),
        ref_model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=rows,
        args=DPOConfig(output_dir=str(tmp_path / "dpo"), **TWO_STEPS),
    )
    assert dpo.args.max_length == 1024 and dpo.train_dataset.num_rows == pairs
    for tokenized in dpo.train_dataset:
        # The collator cuts prompt + answer at max_length: nothing reaches it.
        longest = max(len(tokenized["chosen_ids"]), len(tokenized["rejected_ids"]))
        assert len(tokenized["prompt_ids"]) + longest <= 1024
    dpo.train()
    assert dpo.state.global_step == 2


def grade_campaign(agent, manager, graders) -> None:
    """Agents' episodes graded through the API: the solver's good at every step (outcome 5),
    a random policy's bad (outcome 1)."""
    items = []
    for env_id, family in PLAYED:
        env = get_environment(env_id)
        random_actions = run_episode(env, env.make_task(family, 4), RandomPolicy(4))[1]
        for actions in (solver_actions(env_id, family, 4), random_actions[:12]):
            items.append(
                {
                    "episode": api_episode(
                        agent, env_id=env_id, family=family, seed=4, actions=actions
                    )
                }
            )
    campaign = api_campaign(signed_in(manager), kind="grade", schema=GRADE_SCHEMA, items=items)

    solvers = [solver_actions(env_id, family, 4) for env_id, family in PLAYED]

    def grade(assignment: dict) -> dict:
        steps = assignment["trajectory"]["steps"]
        actions = [step["action"] for step in steps]
        # The solver's episodes end as soon as the task is done: a prefix of its actions.
        solved = any(actions == solver[: len(actions)] for solver in solvers)
        return {
            "steps": {"ratings": [1 if solved else -1] * len(steps)},
            "outcome": 5 if solved else 1,
        }

    for grader in graders:
        assert api_work_queue(grader, campaign, grade) == len(items)


def test_kto_trains_on_unpaired_decision_rows_with_the_default_context(
    manager, graders, agent, exporter, tokenizer, tmp_path
):
    grade_campaign(agent, manager, graders)
    rows, _ = export_through_api(exporter, tmp_path, "unpaired")
    assert set(rows["label"]) == {True, False}
    assert_realistic(tokenizer, rows, "prompt", "completion")
    for row in rows:
        assert conversation_tokens(tokenizer, row["prompt"] + row["completion"]) <= 1024

    kto = KTOTrainer(
        model=tiny_qwen3(tokenizer),
        ref_model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=rows,
        args=KTOConfig(output_dir=str(tmp_path / "kto"), **TWO_STEPS),
    )
    assert kto.args.max_length == 1024 and kto.train_dataset.num_rows == rows.num_rows
    kto.train()
    assert kto.state.global_step == 2


def test_the_prm_example_trains_on_stepwise_rows(
    manager, graders, agent, exporter, tokenizer, tmp_path
):
    from examples.train_prm import main

    grade_campaign(agent, manager, graders)
    rows, path = export_through_api(exporter, tmp_path, "stepwise")
    assert set(label for row in rows for label in row["labels"]) == {True, False}
    model_dir = tmp_path / "tiny"
    tiny_qwen3(tokenizer).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)

    trainer = main(
        [
            "--data",
            str(path),
            "--model",
            str(model_dir),
            "--output-dir",
            str(tmp_path / "prm"),
            "--max-steps",
            "2",
            "--batch-size",
            "2",
            "--learning-rate",
            "1e-3",
            "--local-files-only",
        ]
    )
    assert trainer.state.global_step == 2
    train = trainer.train_dataset
    assert train.num_rows == rows.num_rows
    for row, tokenized in zip(rows, train, strict=True):
        assert len(tokenized["input_ids"]) <= 1024
        # Each step's label is on its last token, none cut off.
        labelled = [label for label in tokenized["labels"] if label != -100]
        assert labelled == [int(good) for good in row["labels"]]
    saved = AutoModelForTokenClassification.from_pretrained(tmp_path / "prm")
    assert saved.config.num_labels == 2 and saved.config.id2label[1] == "good"
