"""The `tasks` dataset from a trainer's process: rows for GRPO's `train_dataset`, one per task
(a family and a seed), with a conversational `prompt` and the `task_id`, `seed`, `environment`
and `family` that `PlatformToolEnv.reset(**row)` starts the episode from."""

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
    seed_from: int = 0,
    seed_to: int = 99,
    timeout: float = 60.0,
) -> Iterator[dict[str, Any]]:
    """The rows of `GET /api/v1/datasets/tasks/`, page by page (seeds inclusive)."""
    params: dict[str, Any] = {
        "environment": environment,
        "seed_from": seed_from,
        "seed_to": seed_to,
        "page_size": PAGE_SIZE,
    }
    if family:
        params["family"] = family
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
    seed_from: int = 0,
    seed_to: int = 99,
):
    """The rows as a Hugging Face `datasets.Dataset`, ready for `GRPOTrainer(train_dataset=)`."""
    from datasets import Dataset

    rows = list(
        tasks_rows(
            base_url,
            api_key,
            environment=environment,
            family=family,
            seed_from=seed_from,
            seed_to=seed_to,
        )
    )
    return Dataset.from_list(rows)
