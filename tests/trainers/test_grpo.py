"""TRL's GRPOTrainer trains on the platform with no glue: a tiny randomly initialised Qwen3 (its
tokenizer built here, with the Qwen3 chat template TRL ships; nothing from a hub), the `tasks`
dataset, and `environment_factory`, against a live server. Every rollout is an episode on the
platform, and the platform's rewards are what the trainer logs."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"

import functools
from pathlib import Path

import pytest
import torch
import trl
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM
from trl import GRPOConfig, GRPOTrainer

from environments.engine.actions import parse_action
from environments.models import Episode
from environments.trainers import PlatformToolEnv, environment_factory, tasks_dataset
from tests.openenv.live import solver_actions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
]


def byte_level_tokenizer() -> PreTrainedTokenizerFast:
    """A tokenizer with one token per byte plus Qwen3's special tokens: it encodes any text,
    and needs no training and no download."""
    vocab = {char: index for index, char in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(SPECIAL_TOKENS)
    template = Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        chat_template=template.read_text(),
    )
    tokenizer.padding_side = "left"
    return tokenizer


def tiny_qwen3(tokenizer) -> Qwen3ForCausalLM:
    torch.manual_seed(0)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=32768,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return Qwen3ForCausalLM(config)


def two_steps(asgi_server, agent_key, tmp_path, factory, dataset) -> GRPOTrainer:
    tokenizer = byte_level_tokenizer()
    trainer = GRPOTrainer(
        model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=dataset,
        environment_factory=factory,
        args=GRPOConfig(
            output_dir=str(tmp_path),
            max_steps=2,
            per_device_train_batch_size=2,
            num_generations=2,
            max_completion_length=8,
            learning_rate=1e-3,
            logging_steps=1,
            report_to="none",
            save_strategy="no",
            use_cpu=True,
            bf16=False,
            seed=0,
            dataloader_num_workers=0,
            chat_template_kwargs={"enable_thinking": False},
        ),
    )
    trainer.train()
    return trainer


def logged_rewards(trainer, name: str) -> list[float]:
    key = f"rewards/{name}/mean"
    return [entry[key] for entry in trainer.state.log_history if key in entry]


def test_grpo_trains_two_steps_on_platform_episodes(asgi_server, agent_key, tmp_path):
    dataset = tasks_dataset(
        asgi_server.url, agent_key, environment="bank-v1", family="cancel_payment", seed_to=1
    )
    factory = environment_factory(asgi_server.url, agent_key)
    trainer = two_steps(asgi_server, agent_key, tmp_path, factory, dataset)

    # Two steps of one prompt x two generations: four rollouts, four episodes, all ended.
    episodes = Episode.objects.filter(source="openenv", task__family="cancel_payment")
    assert episodes.count() == 4
    assert not episodes.filter(status="running").exists()
    assert {episode.task_id for episode in episodes} <= set(dataset["task_id"])
    # The trainer scored each rollout with the platform's reward (get_reward).
    logged = logged_rewards(trainer, "PlatformToolEnv")
    assert len(logged) == 2
    platform_mean = sum(episode.reward for episode in episodes) / 4
    assert sum(logged) / 2 == pytest.approx(platform_mean)
    assert trainer.state.global_step == 2


class SolvesSeedZero(PlatformToolEnv):
    """A stand-in for a competent model on one task: before its reward is read, a rollout of
    seed 0 plays the scripted solver's actions through the tools (a random model never would)."""

    def reset(self, **row):
        self._row = row
        return super().reset(**row)

    def get_reward(self) -> float:
        if self._row["seed"] == 0:
            for action in solver_actions("bank-v1", self._row["family"], 0):
                parsed = parse_action(action)
                getattr(self, parsed.name)(**parsed.args)
        return super().get_reward()


def test_the_platforms_reward_is_what_the_trainer_optimises(asgi_server, agent_key, tmp_path):
    dataset = tasks_dataset(
        asgi_server.url, agent_key, environment="bank-v1", family="card_controls", seed_to=1
    )
    factory = functools.partial(SolvesSeedZero, asgi_server.url, agent_key)
    trainer = two_steps(asgi_server, agent_key, tmp_path, factory, dataset)
    # One step's group played seed 0 (solved: 1.0 each), the other seed 1 (not: 0.0).
    assert sorted(logged_rewards(trainer, "SolvesSeedZero")) == [0.0, 1.0]
    rewards = dict(
        Episode.objects.filter(task__family="card_controls").values_list("seed", "reward")
    )
    assert rewards == {0: 1.0, 1: 0.0}
    assert Episode.objects.filter(task__family="card_controls", reward=1.0).count() == 2


def test_trl_accepts_the_factory_and_finds_its_tools(asgi_server, agent_key, tmp_path):
    tokenizer = byte_level_tokenizer()
    trainer = GRPOTrainer(
        model=tiny_qwen3(tokenizer),
        processing_class=tokenizer,
        train_dataset=tasks_dataset(
            asgi_server.url, agent_key, environment="bank-v1", family="pay_bill", seed_to=1
        ),
        environment_factory=environment_factory(asgi_server.url, agent_key),
        args=GRPOConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, max_steps=1),
    )
    assert sorted(tool.__name__ for tool in trainer.tools) == [
        "check",
        "click",
        "fill",
        "goto",
        "noop",
        "select_option",
        "send_msg_to_user",
        "uncheck",
    ]
    assert trainer.reward_func_names == [PlatformToolEnv.__name__]
