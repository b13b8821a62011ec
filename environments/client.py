"""A gymnasium client for the platform's agent API, for use from an agent's own process.

    import gymnasium as gym
    import environments.client  # registers rlplatform/bank-v1, rlplatform/tickets-v1, ...

    env = gym.make("rlplatform/bank-v1", base_url="http://127.0.0.1:8000", api_key="rlp_...")
    obs, info = env.reset(seed=7, options={"family": "pay_bill"})
    obs, reward, terminated, truncated, info = env.step("click('3')")

Observations are dicts of text: the goal, the page's url and the page itself (the accessibility
tree by default; `observation_mode="json"` or `"html"` for the other renderings). Actions are
the platform's action strings. An action the environment refuses does not raise: like
BrowserGym, the observation is unchanged, the reward 0, and `info["last_action_error"]` says
why. `terminated` is the task's own end, `truncated` the step limit. Every step is recorded on
the platform as an Episode that people can grade.

This module imports no Django: it needs only gymnasium and httpx.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium
import httpx
from gymnasium import spaces

from environments.engine import list_environments

MAX_TEXT = 1_000_000
_MODES = ("axtree", "json", "html")


class PageText(spaces.Text):
    """Any string up to a length: pages carry any Unicode, which spaces.Text's fixed character
    set cannot express. Samples are still drawn from Text's alphanumeric set."""

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length


class PlatformError(RuntimeError):
    """The platform refused a request for a reason other than the action (a bad key, a task
    that does not exist); the message is the platform's."""


class PlatformEnv(gymnasium.Env[dict, str]):
    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        env_id: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        family: str | None = None,
        observation_mode: str = "axtree",
        render_mode: str | None = None,
        timeout: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        if observation_mode not in _MODES:
            raise ValueError(f"observation_mode must be one of {', '.join(_MODES)}")
        self.env_id = env_id
        self.family = family
        self.observation_mode = observation_mode
        self.render_mode = render_mode
        base_url = base_url or os.environ.get("RLPLATFORM_URL", "http://127.0.0.1:8000")
        api_key = api_key or os.environ.get("RLPLATFORM_API_KEY", "")
        self._http = http_client or httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )
        self._families = [
            family["name"] for family in self._call("GET", f"environments/{env_id}/")["families"]
        ]
        self.observation_space = spaces.Dict(
            {"goal": PageText(MAX_TEXT), "url": PageText(MAX_TEXT), "page": PageText(MAX_TEXT)}
        )
        self.action_space = PageText(MAX_TEXT, min_length=1)
        self._episode: dict | None = None
        self._observation: dict | None = None
        self._actions = 0

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise PlatformError(_message(response))
        return response.json()

    def _to_observation(self, observation: dict) -> dict:
        content = observation["content"]
        if not isinstance(content, str):
            import json

            content = json.dumps(content, sort_keys=True)
        return {"goal": observation["goal"], "url": observation["url"], "page": content}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        body: dict[str, Any] = {"observation_mode": self.observation_mode}
        if "task_id" in options:
            body["task"] = int(options["task_id"])
        else:
            family = options.get("family") or self.family
            if family is None:
                family = self._families[int(self.np_random.integers(len(self._families)))]
            body.update(
                environment=self.env_id,
                family=family,
                seed=int(options.get("seed", self.np_random.integers(0, 2**31 - 1))),
            )
        episode = self._call("POST", "episodes/", body)
        self._episode = episode
        self._actions = 0
        self._observation = self._to_observation(episode.pop("observation"))
        return dict(self._observation), {
            **self._info(last_action_error=""),
            "episode_id": self.episode_id,
        }

    def step(self, action: str):
        if self._episode is None:
            raise RuntimeError("call reset() before step()")
        self._actions += 1
        response = self._http.post(
            f"episodes/{self._episode['id']}/step/",
            json={"action": action, "observation_mode": self.observation_mode},
        )
        if response.status_code == 400 and response.json()["error"].get("fields", {}).get("action"):
            truncated = self._actions >= self._episode["task"]["max_steps"]
            return (
                dict(self._observation),
                0.0,
                False,
                truncated,
                self._info(last_action_error=_message(response)),
            )
        if response.status_code >= 400:
            raise PlatformError(_message(response))
        result = response.json()
        self._observation = self._to_observation(result["observation"])
        info = self._info(last_action_error="")
        if result["outcome"] is not None:
            info["outcome"] = result["outcome"]
        return (
            dict(self._observation),
            float(result["reward"]),
            bool(result["terminated"]),
            bool(result["truncated"]),
            info,
        )

    @property
    def episode_id(self) -> int | None:
        """The platform's id of the current episode (also in reset's info)."""
        return self._episode["id"] if self._episode else None

    def _info(self, *, last_action_error: str) -> dict:
        # Step info holds no episode id: gymnasium requires equal info for equal seeds.
        assert self._episode is not None
        return {
            "task_id": self._episode["task"]["id"],
            "family": self._episode["task"]["family"],
            "last_action_error": last_action_error,
        }

    def render(self) -> str | None:
        if self.render_mode == "ansi" and self._observation is not None:
            return self._observation["page"]
        return None

    def close(self) -> None:
        self._http.close()
        super().close()


def _message(response: httpx.Response) -> str:
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def register_environments() -> list[str]:
    """Register `rlplatform/<id>` for every built-in environment; return the ids."""
    ids = []
    for env in list_environments():
        gym_id = f"rlplatform/{env.id}"
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id, entry_point="environments.client:PlatformEnv", kwargs={"env_id": env.id}
            )
        ids.append(gym_id)
    return ids


register_environments()
