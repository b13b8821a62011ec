"""GRPO on a live rlplatform, with TRL and no glue.

    .venv/bin/python examples/train_grpo.py --model Qwen/Qwen3-0.6B \\
        --url http://127.0.0.1:8000 --api-key "$RLPLATFORM_API_KEY" \\
        --environment bank-v1 --family pay_bill --seed-from 0 --seed-to 255

The dataset is the platform's `tasks` dataset (a row per task of the train split: family x
seed); each rollout starts the row's task on the platform, the model acts through tools (click,
fill, select_option, ..., send_msg_to_user), and the episode's reward in `--reward-mode` is the
reward. Each tool returns what changed on the page (`--observation-mode diff`) within
`--max-observation-chars`: with the defaults, the longest scripted-solver episode of every
environment fits `--max-completion-length` (README, "Training on it"). Every rollout is
an Episode on the platform: open /api/v1/episodes/?source=openenv&environment=bank-v1 to see
them, grade them, export them. Needs an API key with the `agent` scope, and the model's
weights where transformers can load them (a hub name, or a local folder).
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from trl import GRPOConfig, GRPOTrainer

from environments.trainers import environment_factory, tasks_dataset
from environments.trainers.grpo import (
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    RECOMMENDED_MAX_COMPLETION_LENGTH,
    RECOMMENDED_MAX_TOOL_CALLS,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GRPO on rlplatform environments.")
    parser.add_argument("--model", required=True, help="a model name or a local folder")
    parser.add_argument("--url", required=True, help="the platform, e.g. http://127.0.0.1:8000")
    parser.add_argument("--api-key", default=os.environ.get("RLPLATFORM_API_KEY"))
    parser.add_argument("--environment", default="bank-v1")
    parser.add_argument("--family", default=None, help="one task family (default: all)")
    parser.add_argument("--split", default="train", choices=["train", "validation", "test"])
    parser.add_argument("--seed-from", type=int, default=None, help="default: the split's first")
    parser.add_argument("--seed-to", type=int, default=None, help="default: 99 after seed-from")
    parser.add_argument("--output-dir", default="var/grpo")
    parser.add_argument("--max-steps", type=int, default=-1, help="-1: one epoch")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--per-device-batch-size", type=int, default=8)
    parser.add_argument("--gradient-accumulation-steps", type=int, default=4)
    parser.add_argument(
        "--max-completion-length", type=int, default=RECOMMENDED_MAX_COMPLETION_LENGTH
    )
    parser.add_argument("--max-tool-calls", type=int, default=RECOMMENDED_MAX_TOOL_CALLS)
    parser.add_argument(
        "--reward-mode", default="sparse", choices=["sparse", "partial", "progress"]
    )
    parser.add_argument(
        "--observation-mode", default=DEFAULT_OBSERVATION_MODE, choices=["axtree", "pruned", "diff"]
    )
    parser.add_argument(
        "--max-observation-chars",
        type=int,
        default=DEFAULT_MAX_OBSERVATION_CHARS,
        help="a budget for each tool's page text; 0 for none",
    )
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--use-vllm", action="store_true")
    args = parser.parse_args()
    if not args.api_key:
        parser.error("give --api-key or set RLPLATFORM_API_KEY (a key with the 'agent' scope)")
    return args


def main() -> None:
    args = parse_args()
    dataset = tasks_dataset(
        args.url,
        args.api_key,
        environment=args.environment,
        family=args.family,
        split=args.split,
        seed_from=args.seed_from,
        seed_to=args.seed_to,
    )
    print(f"{len(dataset)} tasks from {args.url} ({args.environment}/{args.family or 'all'})")
    on_gpu = torch.cuda.is_available()
    trainer = GRPOTrainer(
        model=args.model,
        train_dataset=dataset,
        environment_factory=environment_factory(
            args.url,
            args.api_key,
            reward_mode=args.reward_mode,
            observation_mode=args.observation_mode,
            max_observation_chars=args.max_observation_chars,
        ),
        args=GRPOConfig(
            output_dir=args.output_dir,
            max_steps=args.max_steps,
            num_generations=args.num_generations,
            per_device_train_batch_size=args.per_device_batch_size,
            gradient_accumulation_steps=args.gradient_accumulation_steps,
            max_completion_length=args.max_completion_length,
            max_tool_calling_iterations=args.max_tool_calls,
            learning_rate=args.learning_rate,
            use_vllm=args.use_vllm,
            use_cpu=not on_gpu,
            bf16=on_gpu,
            logging_steps=1,
            log_completions=True,
            report_to="none",
            chat_template_kwargs={"enable_thinking": False},
        ),
    )
    trainer.train()
    trainer.save_model(args.output_dir)


if __name__ == "__main__":
    main()
