"""The `tasks` dataset: one row per task (family x seed) for GRPO's `train_dataset`, with a
conversational `prompt` and the columns `reset(**row)` reads (`task_id`, `seed`, `environment`,
`family`). The exports app will serve it as an export kind; until then the API serves it.

Rows are materialised page by page: a page's tasks are created (idempotently, by the engine) when
the page is read, so a range of a million seeds costs nothing until it is paged through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from environments import services as episode_services
from environments.models import Task
from rlplatform.services import ServiceError

MAX_SEEDS = 1_000_000

SYSTEM_PROMPT = (
    "You operate a simulated web application through tools, one action per call. The page is "
    "shown as an accessibility tree: one element per line, and each element you can act on "
    "starts with its bid in brackets, e.g. \"[12] button 'Transfer'\" has bid '12'. After each "
    "call you see the new page, or an error saying why the action was refused. When the task "
    "asks for information, answer with send_msg_to_user; that ends the episode. A task that "
    "changes something ends as soon as it is done."
)
USER_PROMPT = "Complete this task in the web application."


def prompt_messages() -> list[dict[str, str]]:
    """The conversational prompt of every row; `reset` appends the goal and the first page."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_PROMPT},
    ]


class TaskRows(Sequence):
    """The rows of (families x seeds), seed-major so that any page mixes families; slicing
    creates the slice's tasks. Django's paginator counts and slices it like a queryset."""

    def __init__(self, *, env_id: str, families: list[str], seed_from: int, seed_to: int):
        self.env_id = env_id
        self.families = families
        self.seed_from = seed_from
        self.seeds = seed_to - seed_from + 1

    def __len__(self) -> int:
        return self.seeds * len(self.families)

    def _key(self, index: int) -> tuple[str, int]:
        seed, family = divmod(index, len(self.families))
        return self.families[family], self.seed_from + seed

    def __getitem__(self, index):
        if isinstance(index, slice):
            keys = [self._key(i) for i in range(*index.indices(len(self)))]
            return self._rows(keys)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._rows([self._key(index)])[0]

    def _rows(self, keys: list[tuple[str, int]]) -> list[dict[str, Any]]:
        existing = {
            (task.family, task.seed): task
            for task in Task.objects.filter(
                env_id=self.env_id,
                family__in={family for family, _ in keys},
                seed__in={seed for _, seed in keys},
            )
        }
        rows = []
        for family, seed in keys:
            task = existing.get((family, seed)) or episode_services.task_get_or_create(
                env_id=self.env_id, family=family, seed=seed
            )
            rows.append(
                {
                    "prompt": prompt_messages(),
                    "task_id": task.pk,
                    "seed": seed,
                    "environment": self.env_id,
                    "family": family,
                }
            )
        return rows


def task_rows(
    *, env_id: str, family: str | None = None, seed_from: int = 0, seed_to: int = 99
) -> TaskRows:
    """The task rows of an environment (one family, or all) over a seed range, inclusive."""
    env = episode_services.environment_get(env_id)
    if family is not None and family not in env.families:
        raise ServiceError(
            f"{env.id} has no task family '{family}'; families: {', '.join(env.families)}",
            field="family",
            code="not_found",
        )
    if not 0 <= seed_from <= seed_to <= episode_services.MAX_SEED:
        raise ServiceError(
            f"give 0 <= seed_from <= seed_to <= {episode_services.MAX_SEED}", field="seed_to"
        )
    if seed_to - seed_from + 1 > MAX_SEEDS:
        raise ServiceError(f"at most {MAX_SEEDS:,} seeds in one range", field="seed_to")
    families = [family] if family else list(env.families)
    return TaskRows(env_id=env.id, families=families, seed_from=seed_from, seed_to=seed_to)
