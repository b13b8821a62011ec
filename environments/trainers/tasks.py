"""The `tasks` dataset from a trainer's process: rows for GRPO's `train_dataset`, one per task
(a family and a seed) of a split, with a conversational `prompt`, the `task_id`, `seed`,
`environment` and `family` that `PlatformToolEnv.reset(**row)` starts the episode from, and the
row's `split`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

PAGE_SIZE = 500


def tasks_rows(
    base_url: str,
    api_key: str,
    *,
    environment: str,
    family: str | None = None,
    split: str = "train",
    seed_from: int | None = None,
    seed_to: int | None = None,
    timeout: float = 60.0,
) -> Iterator[dict[str, Any]]:
    """The rows of `GET /api/v1/datasets/tasks/`, page by page (seeds inclusive, inside the
    split's range; by default its first 100)."""
    params: dict[str, Any] = {"environment": environment, "split": split, "page_size": PAGE_SIZE}
    if family:
        params["family"] = family
    if seed_from is not None:
        params["seed_from"] = seed_from
    if seed_to is not None:
        params["seed_to"] = seed_to
    with httpx.Client(
        base_url=base_url.rstrip("/") + "/api/v1/",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=timeout,
    ) as http:
        page = 1
        while True:
            response = http.get("datasets/tasks/", params={**params, "page": page})
            if response.status_code >= 400:
                try:
                    message = response.json()["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    message = f"HTTP {response.status_code}"
                raise RuntimeError(f"the platform refused the tasks dataset: {message}")
            body = response.json()
            yield from body["results"]
            if not body.get("next"):
                return
            page += 1


def tasks_dataset(
    base_url: str,
    api_key: str,
    *,
    environment: str,
    family: str | None = None,
    split: str = "train",
    seed_from: int | None = None,
    seed_to: int | None = None,
):
    """The rows as a Hugging Face `datasets.Dataset`, ready for `GRPOTrainer(train_dataset=)`."""
    from datasets import Dataset

    rows = list(
        tasks_rows(
            base_url,
            api_key,
            environment=environment,
            family=family,
            split=split,
            seed_from=seed_from,
            seed_to=seed_to,
        )
    )
    return Dataset.from_list(rows)
