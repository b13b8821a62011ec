"""An `environment_factory` for TRL's GRPOTrainer: one instance per rollout, whose public
methods are the tools the model calls (one per action of the platform's grammar), whose
`reset(**row)` starts an episode from a dataset row and whose `get_reward()` returns the
episode's reward in its reward mode.

It speaks OpenEnv's HTTP endpoints (`/openenv/<env-id>/reset` and `step`), so each rollout is an
Episode on the platform, stepped through the same service as every other actor, and a refused
action is recorded as a failed step of the trajectory, as it counts towards the step limit.

TRL introspects the class: every public method but `reset` and `get_reward` becomes a tool, its
JSON schema built from the type hints and the `Args:` docstring. So everything else here is
private. No Django: this module needs only httpx.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any

import httpx

# Defaults that fit a whole episode in examples/train_grpo.py's completion length: each tool
# returns what changed on the page (the first page goes in the prompt), and no page of the
# built-in sites is cut in any UI variant (the longest pruned one: 3,903 characters in the
# default variant, 4,610 with the layouts and distractors of the others). The longest
# scripted-solver episode (tickets buy_adjacent, 37 steps) then makes about 10,500 tokens of
# completion. The arithmetic is in the README ("Training on it");
# tests/trainers/test_observation_budget.py checks it.
DEFAULT_OBSERVATION_MODE = "diff"
DEFAULT_MAX_OBSERVATION_CHARS = 5000
RECOMMENDED_MAX_COMPLETION_LENGTH = 12288
RECOMMENDED_MAX_TOOL_CALLS = 40
# Characters of this text per token of a BPE tokenizer such as Qwen3's, taken low (digits are
# single tokens, quotes and brackets short ones).
CHARS_PER_TOKEN = 3


class PlatformError(RuntimeError):
    """The platform refused a request for a reason other than the action (a bad key, a task
    that does not exist, the server down); the message is the platform's."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e.get('msg')}" for e in detail)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return error["message"]
    return f"HTTP {response.status_code}"


class PlatformToolEnv:
    """A rollout on an rlplatform environment, driven by a model through tools.

    Configure it with arguments or with the variables RLPLATFORM_URL, RLPLATFORM_API_KEY (a key
    with the `agent` scope), RLPLATFORM_ENVIRONMENT (used when a row names no environment),
    RLPLATFORM_REWARD_MODE (sparse, partial or progress; default sparse),
    RLPLATFORM_OBSERVATION_MODE (axtree, pruned or diff; default diff) and
    RLPLATFORM_MAX_OBSERVATION_CHARS (default 5000; 0 for no budget) and RLPLATFORM_VARIANT
    (how pages look: default, wording, layout, distractors or mixed; default default). A
    dataset row's own `reward_mode`, `observation_mode`, `max_observation_chars` or `variant`
    wins over both.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        environment: str | None = None,
        *,
        reward_mode: str | None = None,
        observation_mode: str | None = None,
        max_observation_chars: int | None = None,
        variant: str | None = None,
        timeout: float = 60.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        base_url = base_url or os.environ.get("RLPLATFORM_URL", "http://127.0.0.1:8000")
        api_key = api_key or os.environ.get("RLPLATFORM_API_KEY", "")
        self._environment = environment or os.environ.get("RLPLATFORM_ENVIRONMENT") or None
        self._options: dict[str, Any] = {
            "reward_mode": reward_mode or os.environ.get("RLPLATFORM_REWARD_MODE") or "sparse",
            "observation_mode": observation_mode
            or os.environ.get("RLPLATFORM_OBSERVATION_MODE")
            or DEFAULT_OBSERVATION_MODE,
            "max_observation_chars": _budget(
                max_observation_chars
                if max_observation_chars is not None
                else os.environ.get(
                    "RLPLATFORM_MAX_OBSERVATION_CHARS", DEFAULT_MAX_OBSERVATION_CHARS
                )
            ),
            "variant": variant or os.environ.get("RLPLATFORM_VARIANT") or None,
        }
        self._http = http_client or httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )
        self._env_id: str | None = None
        self._episode: str | None = None
        self._platform_episode: int | None = None
        self._done = False
        self._reward = 0.0
        self._last: dict[str, Any] = {}

    # --- what TRL calls besides the tools -------------------------------------------------

    def reset(self, **row: Any) -> str:
        """Start an episode for a dataset row: its `task_id`, or its `family` (or `task_name`)
        and `seed`, in its `environment` (a family with no seed: the platform draws one from
        the train split). Returns the goal and the first page, which TRL appends to the row's
        prompt."""
        self._end_unfinished()
        env_id = row.get("environment") or self._environment
        task_id = row.get("task_id")
        if env_id is None and task_id is not None:
            env_id = self._call("GET", f"api/v1/tasks/{int(task_id)}/")["environment"]
        if env_id is None:
            raise ValueError("the row names no environment; give RLPLATFORM_ENVIRONMENT")
        body: dict[str, Any] = {}
        for name, default in self._options.items():
            value = row.get(name)
            value = default if value is None else value
            if name == "max_observation_chars":
                value = _budget(value)
            if value is not None:
                body[name] = value
        if task_id is not None:
            body["task_id"] = int(task_id)
        family = row.get("family") or row.get("task_name")
        if family is not None:
            body["task_name"] = family
        if row.get("seed") is not None:
            body["seed"] = int(row["seed"])
        payload = self._call("POST", f"openenv/{env_id}/reset", body)
        self._env_id = env_id
        self._take(payload)
        observation = payload["observation"]
        return f"\n\nGoal: {observation['goal']}\n\n{self._page_text(observation)}"

    def get_reward(self) -> float:
        """The episode's reward in its reward mode (its return: the sum of its steps' rewards).
        An episode the model left unfinished is ended here (abandoned), so the platform records
        its outcome too."""
        if self._platform_episode is not None and not self._done:
            episode = self._call("POST", f"api/v1/episodes/{self._platform_episode}/abandon/")
            self._done = True
            self._reward = float(episode.get("reward") or 0.0)
        return float(self._reward)

    # --- the tools --------------------------------------------------------------------------

    def click(self, bid: str) -> str:
        """Click an element: follow a link, press a button, or toggle a checkbox.

        Args:
            bid: The bid of the element, the number in brackets before it on the page.

        Returns:
            The page after the click.
        """
        return self._act(f"click({str(bid)!r})")

    def fill(self, bid: str, value: str) -> str:
        """Type a value into a text or number field, replacing what it held.

        Args:
            bid: The bid of the field.
            value: The text to put in the field, e.g. '250.00'.

        Returns:
            The page after filling the field.
        """
        return self._act(f"fill({str(bid)!r}, {str(value)!r})")

    def select_option(self, bid: str, options: str) -> str:
        """Choose an option of a select (a drop-down list) by its label.

        Args:
            bid: The bid of the select.
            options: The label of the option to choose, as the page lists it.

        Returns:
            The page after choosing the option.
        """
        return self._act(f"select_option({str(bid)!r}, {str(options)!r})")

    def check(self, bid: str) -> str:
        """Tick a checkbox (nothing happens if it is ticked already).

        Args:
            bid: The bid of the checkbox.

        Returns:
            The page after ticking it.
        """
        return self._act(f"check({str(bid)!r})")

    def uncheck(self, bid: str) -> str:
        """Clear a checkbox (nothing happens if it is clear already).

        Args:
            bid: The bid of the checkbox.

        Returns:
            The page after clearing it.
        """
        return self._act(f"uncheck({str(bid)!r})")

    def goto(self, url: str) -> str:
        """Open a page of the site's main menu, by its name or its url.

        Args:
            url: The page's name (e.g. 'transfers') or url (e.g. '/bank/transfers').

        Returns:
            The page that opens.
        """
        return self._act(f"goto({str(url)!r})")

    def send_msg_to_user(self, text: str) -> str:
        """Send the answer to the user. This ends the episode.

        Args:
            text: The answer, e.g. 'The largest purchase was $84.12.'

        Returns:
            The page after answering, and how the episode ended.
        """
        return self._act(f"send_msg_to_user({str(text)!r})")

    def noop(self) -> str:
        """Do nothing and look at the page again.

        Returns:
            The current page.
        """
        return self._act("noop()")

    # --- internals ------------------------------------------------------------------------

    def _act(self, action: str) -> str:
        if self._episode is None:
            raise ValueError("no episode: reset() has not been called")
        if self._done:
            raise ValueError(
                f"the episode has ended; no more actions are accepted (reward {self._reward:g})"
            )
        payload = self._call(
            "POST",
            f"openenv/{self._env_id}/step",
            {"action": {"action_str": action}, "episode_id": self._episode},
            refusal=ValueError,
        )
        self._take(payload)
        observation = payload["observation"]
        if observation["last_action_error"]:
            ended = " The episode has ended at its step limit." if self._done else ""
            raise ValueError(observation["error"] + ended)
        text = self._page_text(observation)
        if self._done:
            how = "the step limit was reached" if observation["truncated"] else "it is over"
            text += f"\n\nThe episode has ended ({how}): reward {self._reward:g}."
        return text

    def _take(self, payload: dict[str, Any]) -> None:
        observation = payload["observation"]
        fresh = observation["platform_episode_id"] != self._platform_episode
        self._last = observation
        self._episode = observation["episode_id"]
        self._platform_episode = observation["platform_episode_id"]
        self._done = bool(payload["done"])
        # The return so far: progress rewards come step by step.
        self._reward = (0.0 if fresh else self._reward) + float(payload.get("reward") or 0.0)

    def _page_text(self, observation: dict[str, Any]) -> str:
        return f"Page:\n{observation['text']}"

    def _end_unfinished(self) -> None:
        if self._platform_episode is not None and not self._done:
            # A server blip must not stop the next rollout; the episode then stays running.
            with contextlib.suppress(PlatformError):
                self._call("POST", f"api/v1/episodes/{self._platform_episode}/abandon/")
        self._episode = self._platform_episode = None
        self._done, self._reward, self._last = False, 0.0, {}

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        refusal: type[Exception] = PlatformError,
    ) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise PlatformError(f"{method} {path}: {error}") from error
        if response.status_code == 409:
            raise refusal(_detail(response))
        if response.status_code >= 400:
            raise PlatformError(f"{method} {path}: {_detail(response)}")
        return response.json()

    def __del__(self) -> None:
        http = getattr(self, "_http", None)
        if http is not None:
            with contextlib.suppress(Exception):  # at interpreter shutdown
                http.close()


def _budget(value: Any) -> int | None:
    """A character budget from an argument, a variable or a row; 0 or empty means none."""
    if value is None or value == "":
        return None
    return int(value) or None


def environment_factory(
    base_url: str | None = None,
    api_key: str | None = None,
    environment: str | None = None,
    **options: Any,
) -> functools.partial[PlatformToolEnv]:
    """The zero-argument callable `GRPOTrainer(environment_factory=...)` takes."""
    return functools.partial(
        PlatformToolEnv, base_url=base_url, api_key=api_key, environment=environment, **options
    )
