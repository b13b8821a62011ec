"""Training on the platform from a trainer's process, with no Django: TRL's
`GRPOTrainer(environment_factory=...)` and the `tasks` dataset.

    from trl import GRPOConfig, GRPOTrainer
    from environments.trainers import PlatformToolEnv, environment_factory, tasks_dataset

    dataset = tasks_dataset("http://127.0.0.1:8000", api_key, environment="bank-v1",
                            family="pay_bill", seed_from=0, seed_to=255)
    trainer = GRPOTrainer(
        model="Qwen/Qwen3-0.6B",
        train_dataset=dataset,
        environment_factory=environment_factory("http://127.0.0.1:8000", api_key),
        args=GRPOConfig(chat_template_kwargs={"enable_thinking": False}),
    )

Needs httpx (and `datasets` for `tasks_dataset`). Every rollout is an Episode on the platform.
"""

from environments.trainers.grpo import PlatformToolEnv, environment_factory
from environments.trainers.tasks import tasks_dataset, tasks_rows

__all__ = ["PlatformToolEnv", "environment_factory", "tasks_dataset", "tasks_rows"]
