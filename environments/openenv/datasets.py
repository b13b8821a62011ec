"""The `tasks` dataset: one row per task (family x seed) of one split for GRPO's
`train_dataset`, with a conversational `prompt`, the columns `reset(**row)` reads (`task_id`,
`seed`, `environment`, `family`) and the row's `split`. The exports app will serve it as an
export kind; until then the API serves it.

Rows are materialised page by page: a page's tasks are created (idempotently, by the engine) when
the page is read, so a range of a million seeds costs nothing until it is paged through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from environments import services as episode_services
from environments.engine.splits import SPLITS, split_families, split_seed_range
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

    def __init__(
        self, *, env_id: str, split: str, families: list[str], seed_from: int, seed_to: int
    ):
        self.env_id = env_id
        self.split = split
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
                    "split": self.split,
                }
            )
        return rows


DEFAULT_SEEDS = 100


def task_rows(
    *,
    env_id: str,
    family: str | None = None,
    split: str = "train",
    seed_from: int | None = None,
    seed_to: int | None = None,
) -> TaskRows:
    """The task rows of an environment's split (its families, or one of them) over a seed
    range inclusive, inside the split's: by default its first 100 seeds."""
    env = episode_services.environment_get(env_id)
    if split not in SPLITS:
        raise ServiceError(
            f"'{split}' is not a split; use one of {', '.join(SPLITS)}", field="split"
        )
    families = split_families(env.id, split)
    if family is not None and family not in env.families:
        raise ServiceError(
            f"{env.id} has no task family '{family}'; families: {', '.join(env.families)}",
            field="family",
            code="not_found",
        )
    if family is not None and family not in families:
        raise ServiceError(
            f"{family} is held out of {split}: it is in the test split only", field="family"
        )
    seeds = split_seed_range(split, env_id=env.id)
    seed_from = seeds.start if seed_from is None else seed_from
    seed_to = min(seed_from + DEFAULT_SEEDS, seeds.stop) - 1 if seed_to is None else seed_to
    if not seeds.start <= seed_from <= seed_to < seeds.stop:
        raise ServiceError(
            f"the {split} split's seeds are {seeds.start} to {seeds.stop - 1}; give "
            f"seed_from <= seed_to in that range",
            field="seed_to" if seeds.start <= seed_from < seeds.stop else "seed_from",
        )
    if seed_to - seed_from + 1 > MAX_SEEDS:
        raise ServiceError(f"at most {MAX_SEEDS:,} seeds in one range", field="seed_to")
    return TaskRows(
        env_id=env.id,
        split=split,
        families=[family] if family else families,
        seed_from=seed_from,
        seed_to=seed_to,
    )
