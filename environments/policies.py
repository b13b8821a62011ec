"""Policies that act in rollouts: each environment's scripted solver, a random policy, and a
chat-completions policy that asks any OpenAI-compatible server (vLLM, an inference gateway)
for the next action.

A policy maps (task, page, what happened last) to the text of its next action. The rollout
service records that text through the stepping service; an action the environment refuses is
recorded as a failed step, part of the policy's trajectory.
"""

import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from environments.engine import Page, RandomPolicy, Task, get_environment
from environments.engine.prompts import (
    DEFAULT_HISTORY,
    DEFAULT_MAX_OBSERVATION_CHARS,
    DEFAULT_OBSERVATION_MODE,
    DEFAULT_PROMPT,
    Budget,
    PlayPrompts,
    parse_history,
)
from rlplatform import outbound

ACTION_NAMES = (
    "click",
    "fill",
    "select_option",
    "check",
    "uncheck",
    "goto",
    "send_msg_to_user",
    "noop",
)
_ACTION_START = re.compile(r"\b(" + "|".join(ACTION_NAMES) + r")\s*\(")


class PolicyUnavailable(Exception):
    """The policy could not answer for a reason outside the episode (its server is down or
    keeps timing out). The rollout retries the episode later; nothing is recorded."""


@dataclass(frozen=True)
class Turn:
    """One recorded step, as a policy resuming an episode sees it."""

    page: Page
    action: str
    error: str


class RolloutPolicy(Protocol):
    def reset(self, task: Task) -> None: ...

    def act(self, task: Task, page: Page, last_error: str) -> str: ...

    def resume(self, task: Task, turns: list[Turn]) -> None:
        """Catch up with steps recorded before a restart, without acting again."""


class EnginePolicy:
    """A policy of the engine's (a scripted solver or RandomPolicy). Both are deterministic, so
    resuming replays their decisions on the recorded pages."""

    def __init__(self, policy: Any):
        self.policy = policy

    def reset(self, task: Task) -> None:
        self.policy.reset(task)

    def act(self, task: Task, page: Page, last_error: str) -> str:
        return self.policy.act(task, page, {"step": None, "error": last_error or None})

    def resume(self, task: Task, turns: list[Turn]) -> None:
        last_error = ""
        for turn in turns:
            self.act(task, turn.page, last_error)
            last_error = turn.error


def extract_action(reply: str) -> str | None:
    """The last action call in a model's reply, or None. The caller's parser validates it."""
    starts = list(_ACTION_START.finditer(reply))
    if not starts:
        return None
    text = reply[starts[-1].start() :]
    line = text.splitlines()[0] if text else ""
    return line.strip().rstrip("`.;").strip() or None


class ChatPolicy:
    """Asks an OpenAI-compatible chat-completions endpoint for each action.

    Its prompt is the decision prompt of environments/engine/prompts.py: with the `step` prompt
    (the default), exactly what a step row exported from the episode has at that step (the
    rules and the goal; the steps so far, each with what it did; the current page in
    `observation_mode` within `max_observation_chars`), so a model fine-tuned on step rows is
    evaluated on what it was trained on; `reasoning` swaps the rules for ones that invite a
    general model to think first. Timeouts, connection errors, 429 and 5xx answers are retried
    with exponential backoff; after `retries` tries the policy is unavailable.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        temperature: float = 0.0,
        max_tokens: int = 256,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        prompt: str = DEFAULT_PROMPT,
        history: str = DEFAULT_HISTORY,
        observation_mode: str = DEFAULT_OBSERVATION_MODE,
        max_observation_chars: int | None = DEFAULT_MAX_OBSERVATION_CHARS,
        http: httpx.Client | None = None,
    ):
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.retries = retries
        self.backoff = backoff
        self.prompt = prompt
        history, last_pages = parse_history(history)
        self.budget = Budget(
            observation_mode=observation_mode,
            max_observation_chars=max_observation_chars,
            history=history,
            last_pages=last_pages,
        )
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Guarded: the URL is a user's choice, and the workers must not reach internal addresses.
        self.http = http or outbound.client(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout
        )
        self.prompts: PlayPrompts | None = None

    def reset(self, task: Task) -> None:
        self.prompts = PlayPrompts(task.goal, self.budget, prompt=self.prompt)

    def resume(self, task: Task, turns: list[Turn]) -> None:
        prompts = self._episode(task)
        last_error = ""
        for turn in turns:
            prompts.see(turn.page, last_error)
            prompts.took(turn.action)
            last_error = turn.error

    def act(self, task: Task, page: Page, last_error: str) -> str:
        prompts = self._episode(task)
        index = prompts.see(page, last_error)
        reply = self._complete(prompts.messages(index))
        action = extract_action(reply) or reply.strip()[:500] or "(empty reply)"
        prompts.took(action)
        return action

    def _episode(self, task: Task) -> PlayPrompts:
        """The prompts of the episode under way (a policy used without `reset` starts one)."""
        if self.prompts is None:
            self.reset(task)
        return self.prompts

    def _complete(self, messages: list[dict[str, str]]) -> str:
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        problem = ""
        for attempt in range(self.retries):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.http.post("chat/completions", json=body)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                # Its status only: the body is whatever the server at a user's URL says.
                raise PolicyUnavailable(
                    f"the model server refused the request: {outbound.status_line(response)}"
                )
            try:
                return response.json()["choices"][0]["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError):
                problem = "the reply is not a chat completion"
        raise PolicyUnavailable(f"no answer after {self.retries} tries ({problem})")


POLICY_KINDS = ("scripted", "random", "chat")


def build_policy(
    spec: dict,
    *,
    env_id: str,
    api_key: str = "",
    attempt: int = 0,
    observation_mode: str = DEFAULT_OBSERVATION_MODE,
    max_observation_chars: int | None = DEFAULT_MAX_OBSERVATION_CHARS,
) -> RolloutPolicy:
    """The policy a rollout's spec names, for one environment; a chat policy asks with its
    `prompt` (`step` or `reasoning`) and `history` (`actions`, `none`, `last_pages:K`, as
    exports take it), showing pages in `observation_mode` within
    `max_observation_chars` (the engine's policies read pages). The random policy draws other
    actions on each attempt at a task; the scripted solver is the same every time."""
    kind = spec["kind"]
    if kind == "scripted":
        return EnginePolicy(get_environment(env_id).solver())
    if kind == "random":
        return EnginePolicy(RandomPolicy(int(spec.get("seed", 0)) + attempt))
    return ChatPolicy(
        base_url=spec["base_url"],
        model=spec["model"],
        api_key=api_key,
        temperature=float(spec.get("temperature", 0.0)),
        max_tokens=int(spec.get("max_tokens", 256)),
        timeout=float(spec.get("timeout", 60.0)),
        prompt=spec.get("prompt", DEFAULT_PROMPT),
        history=spec.get("history", DEFAULT_HISTORY),
        observation_mode=observation_mode,
        max_observation_chars=max_observation_chars,
    )
