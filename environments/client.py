"""gymnasium clients for the platform's agent API, for use from an agent's own process.

    import gymnasium as gym
    import environments.client  # registers rlplatform/bank-v1, rlplatform/tickets-v1, ...

    env = gym.make("rlplatform/bank-v1", base_url="http://127.0.0.1:8000", api_key="rlp_...")
    obs, info = env.reset(seed=7, options={"family": "pay_bill"})
    obs, reward, terminated, truncated, info = env.step("click('3')")

    envs = gym.make_vec("rlplatform/bank-v1", num_envs=16, base_url=..., api_key=...)
    obs, infos = envs.reset(seed=0)  # sixteen episodes, one batch-create request
    obs, rewards, terminated, truncated, infos = envs.step(actions)  # one batch-step request

`seed` is the platform's task seed, as in every other interface: `reset(seed=7, options=
{"family": "pay_bill"})` starts task pay_bill#7, the task OpenEnv's `reset(task_name="pay_bill",
seed=7)` and the tasks dataset's row seed 7 start. Without a family, the seed picks one
with `engine.splits.family_of_seed`, as OpenEnv does; without a seed, one
is drawn from the `train` split (or the `split` option's) with the env's `np_random`, so the
resets after `reset(seed=s)` repeat too.

Observations are dicts of text: the goal, the page's url and the page itself in the
`observation_mode` (`axtree` by default; `pruned`, `diff`, page `json` or `html`); a text page
is at most `max_observation_chars` long. `variant` (constructor or reset option: `default`,
`wording`, `layout`, `distractors`, `mixed`) shows the same task's pages reworded, laid out
otherwise or with distractors (engine/variants.py). Actions are the platform's action strings. An
action the environment refuses does not raise: like BrowserGym, the observation is unchanged, the
reward 0, and `info["last_action_error"]` says why; refused actions count towards the step
limit. `terminated` is the task's own end, `truncated` the step limit. Every step, a refused one
included (as a failed step), is recorded on the platform as an Episode that people can grade;
`reset()` and `close()` end (abandon) an episode left unfinished.

This module imports no Django: it needs only gymnasium, httpx and the engine's constants.
"""

from __future__ import annotations

import copy
import json
import multiprocessing as mp
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import gymnasium
import httpx
import numpy as np
from gymnasium import logger, spaces
from gymnasium.spaces.utils import flatten, flatten_space, unflatten
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import (
    batch_space,
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

from environments.engine import list_environments
from environments.engine.actions import MAX_ACTION_CHARS, SIGNATURES
from environments.engine.observe import MAX_OBSERVATION_CHARS, MIN_OBSERVATION_CHARS
from environments.engine.observe import OBSERVATION_MODES as TEXT_MODES
from environments.engine.page import quote
from environments.engine.rewards import REWARD_MODES
from environments.engine.splits import SPLITS, family_of_seed, split_seed_range
from environments.engine.text import storable_escaped, storable_text
from environments.engine.variants import VARIANTS

OBSERVATION_MODES = (*TEXT_MODES, "json", "html")
# The observation space's bounds. Goals and urls are short by construction (the longest today:
# 285 and 38 characters); a page is at most `max_observation_chars` long, which the server
# enforces, and by default this much (the longest page a solver or random run renders today is
# 5.3k characters of axtree and 9.2k of JSON).
MAX_GOAL_CHARS = 2_000
MAX_URL_CHARS = 2_000
MAX_PAGE_CHARS = 100_000
MAX_SEED = 2**31 - 1
RESET_OPTIONS = (
    "family",
    "task_id",
    "split",
    "observation_mode",
    "reward_mode",
    "max_observation_chars",
    "variant",
)


class UnicodeText(spaces.Text):
    """Any string of `min_length` to `max_length` characters: pages and actions carry any
    Unicode, which `Text`'s fixed character set cannot express. Samples are drawn from Text's
    alphanumeric set. Flattened (and in AsyncVectorEnv's shared memory) a string is its code
    points, padded with -1."""

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"


class ActionText(UnicodeText):
    """The action space: any string up to the server's limit on an action (whether it applies
    is the environment's to say, in `last_action_error`). `sample()` gives an action of the
    grammar the server parses: a random action name, a bid from 1 to `max_bid`, an alphanumeric
    value, and for `goto` a page of the environment's navigation."""

    def __init__(
        self,
        navigation: Sequence[str] = (),
        *,
        max_bid: int = 30,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(MAX_ACTION_CHARS, min_length=1, seed=seed)
        self.navigation = tuple(navigation)
        self.max_bid = max_bid
        self._values = spaces.Text(12)

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is not None or probability is not None:
            raise ValueError("ActionText.sample() takes no mask or probability")
        rng = self.np_random
        name = str(rng.choice(sorted(SIGNATURES)))
        args = []
        for param in SIGNATURES[name]:
            if param == "bid":
                args.append(str(int(rng.integers(1, self.max_bid + 1))))
            elif param == "url" and self.navigation:
                args.append(str(rng.choice(self.navigation)))
            else:
                length = int(rng.integers(1, self._values.max_length + 1))
                args.append("".join(rng.choice(self._values.character_list, size=length)))
        return f"{name}({', '.join(quote(arg) for arg in args)})"

    def __eq__(self, other: object, /) -> bool:
        return (
            isinstance(other, ActionText)
            and super().__eq__(other)
            and (self.navigation, self.max_bid) == (other.navigation, other.max_bid)
        )

    def __repr__(self) -> str:
        return f"ActionText(max_length={self.max_length}, navigation={self.navigation})"


def _code_points(space: UnicodeText, text: str) -> np.ndarray:
    codes = np.full(space.max_length, -1, dtype=np.int32)
    # surrogatepass: a lone surrogate is a str's character like any other.
    encoded = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<i4")
    codes[: len(encoded)] = encoded
    return codes


def _from_code_points(codes: np.ndarray) -> str:
    kept = np.asarray(codes, dtype="<i4")
    return kept[kept >= 0].tobytes().decode("utf-32-le", "surrogatepass")


@flatten.register(UnicodeText)
def _flatten_unicode(space: UnicodeText, x: str) -> np.ndarray:
    return _code_points(space, x)


@unflatten.register(UnicodeText)
def _unflatten_unicode(space: UnicodeText, x: np.ndarray) -> str:
    return _from_code_points(x)


@flatten_space.register(UnicodeText)
def _flatten_unicode_space(space: UnicodeText) -> spaces.Box:
    return spaces.Box(low=-1, high=0x10FFFF, shape=(space.max_length,), dtype=np.int32)


class SharedTexts(Sequence[str]):
    """AsyncVectorEnv's view of its sub-environments' strings in shared memory. It reads its
    shared memory once and hands out copies of what it read after every step: for arrays (views
    of the memory) that works, but strings read once would stay as they were. So the read is a
    view that decodes on access, and a copy of it is a tuple of the strings at that moment."""

    def __init__(self, rows: np.ndarray) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self)[index]
        return _from_code_points(self._rows[index])

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@create_shared_memory.register(UnicodeText)
def _unicode_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType = mp) -> Any:
    return ctx.Array(np.dtype(np.int32).char, n * space.max_length)


@read_from_shared_memory.register(UnicodeText)
def _read_unicode(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(
        np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(n, space.max_length)
    )


@write_to_shared_memory.register(UnicodeText)
def _write_unicode(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    size = space.max_length
    destination = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)
    np.copyto(destination[index * size : (index + 1) * size], _code_points(space, value))


class PlatformError(RuntimeError):
    """The platform refused a request for a reason other than the action (a bad key, a task
    that does not exist); the message is the platform's."""


@dataclass(frozen=True)
class EpisodeOptions:
    """What an episode is started with: the constructor's settings, which `reset(options=...)`
    overrides for that reset."""

    family: str | None = None
    task_id: int | None = None
    split: str = "train"
    observation_mode: str = "axtree"
    reward_mode: str = "sparse"
    max_observation_chars: int | None = None
    variant: str = "default"

    def overridden(self, options: dict | None, *, page_limit: int) -> EpisodeOptions:
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ValueError(
                f"unknown reset option {', '.join(map(repr, unknown))}; "
                f"options: {', '.join(RESET_OPTIONS)}"
            )
        chosen = EpisodeOptions(**{**self.__dict__, **options})
        chosen.check(page_limit=page_limit)
        return chosen

    def check(self, *, page_limit: int) -> None:
        for name, value, allowed in (
            ("observation_mode", self.observation_mode, OBSERVATION_MODES),
            ("reward_mode", self.reward_mode, REWARD_MODES),
            ("split", self.split, SPLITS),
            ("variant", self.variant, VARIANTS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        limit = self.max_observation_chars
        if limit is None:
            return
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValueError(f"max_observation_chars must be an integer, not {limit!r}")
        upper = min(page_limit, MAX_OBSERVATION_CHARS)
        if not MIN_OBSERVATION_CHARS <= limit <= upper:
            raise ValueError(
                f"max_observation_chars must be between {MIN_OBSERVATION_CHARS} and {upper} "
                "(the server's limit, and the observation space's bound set when the environment "
                "is made)"
            )
        if self.observation_mode not in TEXT_MODES:
            raise ValueError(
                f"max_observation_chars applies to the text modes ({', '.join(TEXT_MODES)}), "
                f"not to {self.observation_mode}"
            )

    def settings(self, page_limit: int) -> dict[str, Any]:
        """The API's settings for a new episode. A text page gets the observation space's bound
        as its budget when none is given, so that it always fits the space."""
        settings: dict[str, Any] = {
            "observation_mode": self.observation_mode,
            "reward_mode": self.reward_mode,
        }
        if self.observation_mode in TEXT_MODES:
            settings["max_observation_chars"] = self.max_observation_chars or page_limit
        return settings


@dataclass
class _Run:
    """One episode, as a client tracks it."""

    episode_id: int
    task: dict
    observation: dict
    steps: int = 0
    # The last step's reward, and the sum of those returned so far (the episode's return).
    reward: float = 0.0
    returned: float = 0.0
    terminated: bool = False
    truncated: bool = False
    outcome: dict = field(default_factory=dict)
    last_action_error: str = ""
    stepped_after_end: bool = False

    @property
    def ended(self) -> bool:
        return self.terminated or self.truncated

    def info(self) -> dict:
        # The same keys on every call, and nothing that differs between two runs of the same
        # task and actions (gymnasium's checker compares them): the episode id is a property.
        return {
            "task_id": self.task["id"],
            "family": self.task["family"],
            "seed": self.task["seed"],
            "steps": self.steps,
            "last_action_error": self.last_action_error,
            "outcome": copy.deepcopy(self.outcome),
        }


class _Platform:
    """The agent API, as the clients call it, for one environment and the settings it was made
    with (`defaults`: they bound its pages)."""

    def __init__(
        self,
        env_id: str,
        defaults: EpisodeOptions,
        *,
        base_url: str | None,
        api_key: str | None,
        timeout: float,
        http_client: httpx.Client | None,
    ) -> None:
        self.page_limit = defaults.max_observation_chars or MAX_PAGE_CHARS
        defaults.check(page_limit=self.page_limit)
        base_url = base_url or os.environ.get("RLPLATFORM_URL", "http://127.0.0.1:8000")
        api_key = api_key or os.environ.get("RLPLATFORM_API_KEY", "")
        self.env_id = env_id
        self.owns_http = http_client is None
        self.http = http_client or httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )
        described = self.call("GET", f"environments/{env_id}/")
        self.families = sorted(family["name"] for family in described["families"])
        self.navigation = tuple(described["navigation"])
        self.check_family(defaults.family)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        # Encoded here, ASCII-escaped: httpx's encoder writes UTF-8, which a str holding a lone
        # surrogate (an agent's action may) cannot be written in.
        response = self.http.request(
            method,
            path,
            content=None if body is None else json.dumps(body),
            headers=None if body is None else {"Content-Type": "application/json"},
        )
        if response.status_code >= 400:
            raise PlatformError(_message(response))
        return response.json()

    def options(self, defaults: EpisodeOptions, options: dict | None) -> EpisodeOptions:
        chosen = defaults.overridden(options, page_limit=self.page_limit)
        self.check_family(chosen.family)
        return chosen

    def check_family(self, family: str | None) -> None:
        """Refused here, as the other options are, rather than by the API in the words of its
        batch of episodes."""
        if family is not None and family not in self.families:
            raise ValueError(
                f"{self.env_id} has no task family {family!r}; families: {', '.join(self.families)}"
            )

    def observation_space(self) -> spaces.Dict:
        return spaces.Dict(
            {
                "goal": UnicodeText(MAX_GOAL_CHARS, min_length=0),
                "url": UnicodeText(MAX_URL_CHARS, min_length=0),
                "page": UnicodeText(self.page_limit, min_length=0),
            }
        )

    def spec(self, options: EpisodeOptions, seed: int | None, rng: np.random.Generator) -> dict:
        """The API's description of the episode to start (see the module's docstring)."""
        if options.task_id is not None:
            if seed is not None:
                task = self.call("GET", f"tasks/{int(options.task_id)}/")
                if task["seed"] != seed:
                    raise ValueError(
                        f"task {options.task_id} is seed {task['seed']}, not {seed}; "
                        "give the task_id alone, or a family and seed"
                    )
            return {"task": int(options.task_id), "variant": options.variant}
        if seed is None:
            seeds = split_seed_range(options.split, env_id=self.env_id)
            seed = int(rng.integers(seeds.start, seeds.stop))
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}, not {seed}")
        family = options.family or family_of_seed(self.env_id, seed)
        return {
            "environment": self.env_id,
            "family": family,
            "seed": seed,
            "variant": options.variant,
        }

    def start(self, specs: list[dict], options: list[EpisodeOptions]) -> list[_Run]:
        """Start one episode per spec: a batch-create request per set of settings."""
        groups: dict[str, list[int]] = {}
        for index, chosen in enumerate(options):
            settings = json.dumps(chosen.settings(self.page_limit), sort_keys=True)
            groups.setdefault(settings, []).append(index)
        runs: list[_Run] = [None] * len(specs)  # type: ignore[list-item]
        for settings, indexes in groups.items():
            body = {**json.loads(settings), "episodes": [specs[index] for index in indexes]}
            created = self.call("POST", "episodes/batch-create/", body)["results"]
            for index, episode in zip(indexes, created, strict=True):
                runs[index] = _Run(
                    episode_id=episode["id"],
                    task=episode["task"],
                    observation=_observation(episode["observation"]),
                )
        return runs

    def step(self, runs: list[_Run], actions: list[Any]) -> None:
        """Apply one action to each run (none of them ended) in one batch-step request; each
        episode's page comes as the episode was started to show it. A refused action is
        recorded as a failed step, as OpenEnv and rollouts record a policy's mistakes, and
        leaves its run's observation as it was."""
        if not runs:
            return
        steps = [
            {"episode": run.episode_id, "action": _sendable(action)}
            for run, action in zip(runs, actions, strict=True)
        ]
        body = {"steps": steps, "record_refusals": True}
        results = self.call("POST", "episodes/batch-step/", body)["results"]
        for run, result in zip(runs, results, strict=True):
            _take(run, result)

    def abandon(self, runs: Iterable[_Run | None]) -> None:
        """End the runs still going on the platform (abandoned), with the verifier's verdict."""
        for run in runs:
            if run is not None and not run.outcome:
                episode = self.call("POST", f"episodes/{run.episode_id}/abandon/")
                run.outcome = episode["outcome"] or {}
                # What the episode's return adds to the rewards already returned (its
                # `partial` share, say), so that the step rewards still sum to the return.
                run.reward = float(episode["reward"] or 0.0) - run.returned
                run.returned += run.reward

    def close(self) -> None:
        if self.owns_http:
            self.http.close()


def _sendable(action: Any) -> Any:
    """The action with NUL characters and lone surrogates in the grammar's escapes. The API
    refuses a whole request holding text no database stores, which would refuse the other
    episodes' actions too; in a quoted argument the escape means the same character, which the
    grammar then refuses for this action alone (and elsewhere it is malformed either way)."""
    if isinstance(action, str) and not storable_text(action):
        return storable_escaped(action, nul="\\x00")
    return action


def _take(run: _Run, result: dict) -> None:
    """Record one batch-step result (a step, a refused one included) on its run."""
    if "error" in result:
        raise PlatformError(result["error"]["message"])
    run.steps += 1
    run.last_action_error = result["action_error"]
    if not run.last_action_error:
        run.observation = _observation(result["observation"])
    run.terminated, run.truncated = bool(result["terminated"]), bool(result["truncated"])
    run.outcome = result["outcome"] or {}
    run.reward = float(result["reward"])
    run.returned += run.reward


def _observation(observation: dict) -> dict:
    content = observation["content"]
    if not isinstance(content, str):
        content = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return {"goal": observation["goal"], "url": observation["url"], "page": content}


def _after_end(run: _Run) -> tuple[dict, float, bool, bool, dict]:
    """A step after the episode ended: as gymnasium's own environments do, a warning (once),
    the final observation, reward 0 and the end flags again; nothing is sent."""
    if not run.stepped_after_end:
        logger.warn(
            "step() called after the episode ended (terminated or truncated); call reset(). "
            "Further steps return the final observation with reward 0."
        )
        run.stepped_after_end = True
    run.last_action_error = "the episode has ended; call reset() to start a new one"
    return dict(run.observation), 0.0, run.terminated, run.truncated, run.info()


class PlatformEnv(gymnasium.Env[dict, str]):
    """One episode at a time on the platform (see the module's docstring)."""

    # render() gives the page's text; the fps is the one gymnasium's own text environments
    # declare (video recorders read it), not a rate anything here keeps.
    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        env_id: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        family: str | None = None,
        split: str = "train",
        observation_mode: str = "axtree",
        reward_mode: str = "sparse",
        max_observation_chars: int | None = None,
        variant: str = "default",
        render_mode: str | None = None,
        timeout: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._options = EpisodeOptions(
            family=family,
            split=split,
            observation_mode=observation_mode,
            reward_mode=reward_mode,
            max_observation_chars=max_observation_chars,
            variant=variant,
        )
        self.env_id = env_id
        self.render_mode = render_mode
        self._platform = _Platform(
            env_id,
            self._options,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            http_client=http_client,
        )
        self.observation_space = self._platform.observation_space()
        self.action_space = ActionText(self._platform.navigation)
        self._run: _Run | None = None
        self._closed = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        chosen = self._platform.options(self._options, options)
        spec = self._platform.spec(chosen, seed, self.np_random)
        self._end_run()
        (self._run,) = self._platform.start([spec], [chosen])
        return dict(self._run.observation), self._run.info()

    def step(self, action: str):
        run = self._run
        if run is None:
            raise RuntimeError("call reset() before step()")
        if run.ended:
            return _after_end(run)
        self._platform.step([run], [action])
        return dict(run.observation), run.reward, run.terminated, run.truncated, run.info()

    @property
    def episode_id(self) -> int | None:
        """The platform's id of the current episode."""
        return self._run.episode_id if self._run else None

    def render(self) -> str | None:
        if self.render_mode == "ansi" and self._run is not None:
            return self._run.observation["page"]
        return None

    def _end_run(self) -> None:
        self._platform.abandon([self._run])
        self._run = None

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._end_run()
        finally:
            self._platform.close()
            self._closed = True
        super().close()


class PlatformVectorEnv(VectorEnv):
    """`num_envs` episodes stepped together: each `step()` is one batch-step request (plus a
    batch-create for the episodes that autoreset), each `reset()` one batch-create. What
    `gym.make_vec(id, num_envs=n)` makes by default. Seeds, options, observations, infos and
    the autoreset modes behave as gymnasium's SyncVectorEnv over `PlatformEnv`s: `reset(seed=s)`
    starts seeds s, s+1, ...; options apply to that reset, autoresets use the constructor's
    settings. So a seed starts the same episodes whichever vectorization mode runs them."""

    def __init__(
        self,
        env_id: str,
        num_envs: int = 1,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        family: str | None = None,
        split: str = "train",
        observation_mode: str = "axtree",
        reward_mode: str = "sparse",
        max_observation_chars: int | None = None,
        variant: str = "default",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        timeout: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._options = EpisodeOptions(
            family=family,
            split=split,
            observation_mode=observation_mode,
            reward_mode=reward_mode,
            max_observation_chars=max_observation_chars,
            variant=variant,
        )
        self.env_id = env_id
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {**PlatformEnv.metadata, "autoreset_mode": self.autoreset_mode}
        self._platform = _Platform(
            env_id,
            self._options,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            http_client=http_client,
        )
        self.single_observation_space = self._platform.observation_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.single_action_space = ActionText(self._platform.navigation)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._runs: list[_Run | None] = [None] * num_envs
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._autoreset = np.zeros(num_envs, dtype=np.bool_)

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        seeds = self._seeds(seed)
        options = dict(options or {})
        mask = self._reset_mask(options.pop("reset_mask", None))
        chosen = self._platform.options(self._options, options)
        indexes = [int(index) for index in np.flatnonzero(mask)]
        for index in indexes:
            if seeds[index] is not None:
                self._rngs[index], _ = seeding.np_random(seeds[index])
        self._start(indexes, [seeds[index] for index in indexes], chosen)
        self._autoreset[mask] = False
        infos: dict[str, Any] = {}
        for index in indexes:
            infos = self._add_info(infos, self._runs[index].info(), index)
        return self._observations(), infos

    def step(self, actions: Sequence[Any]):
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(
                f"give {self.num_envs} actions, one per environment, not {len(actions)}"
            )
        if any(run is None for run in self._runs):
            raise RuntimeError("call reset() before step()")
        if self.autoreset_mode == AutoresetMode.DISABLED and self._autoreset.any():
            raise RuntimeError(
                f"environments {np.flatnonzero(self._autoreset).tolist()} have ended: reset them "
                "with reset(options={'reset_mask': ...}) first (autoreset_mode is Disabled)"
            )
        resetting = self._autoreset.copy()
        stepping = [index for index in range(self.num_envs) if not resetting[index]]
        runs = [self._runs[index] for index in stepping]
        self._platform.step(runs, [actions[index] for index in stepping])
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminations = np.zeros(self.num_envs, dtype=np.bool_)
        truncations = np.zeros(self.num_envs, dtype=np.bool_)
        finals: dict[int, dict] = {}
        for index, run in zip(stepping, runs, strict=True):
            rewards[index], terminations[index], truncations[index] = (
                run.reward,
                run.terminated,
                run.truncated,
            )
            if self.autoreset_mode == AutoresetMode.SAME_STEP and run.ended:
                finals[index] = {"final_obs": dict(run.observation), "final_info": run.info()}
                resetting[index] = True
        self._start([int(index) for index in np.flatnonzero(resetting)])
        infos: dict[str, Any] = {}
        for index, run in enumerate(self._runs):
            if index in finals:
                infos = self._add_info(infos, finals[index], index)
            infos = self._add_info(infos, run.info(), index)
        self._autoreset = terminations | truncations
        return self._observations(), rewards, terminations, truncations, infos

    @property
    def episode_ids(self) -> tuple[int | None, ...]:
        """The platform's ids of the current episodes."""
        return tuple(run.episode_id if run else None for run in self._runs)

    def render(self) -> tuple[str | None, ...] | None:
        if self.render_mode != "ansi":
            return None
        return tuple(run.observation["page"] if run else None for run in self._runs)

    def close_extras(self, **kwargs: Any) -> None:
        try:
            self._platform.abandon(self._runs)
        finally:
            self._platform.close()

    def _start(
        self,
        indexes: list[int],
        seeds: list[int | None] | None = None,
        chosen: EpisodeOptions | None = None,
    ) -> None:
        """Start new episodes in these places, ending what still runs there."""
        if not indexes:
            return
        chosen = chosen or self._options
        seeds = seeds or [None] * len(indexes)
        specs = [
            self._platform.spec(chosen, seed, self._rng(index))
            for index, seed in zip(indexes, seeds, strict=True)
        ]
        self._platform.abandon(self._runs[index] for index in indexes)
        started = self._platform.start(specs, [chosen] * len(specs))
        for index, run in zip(indexes, started, strict=True):
            self._runs[index] = run

    def _rng(self, index: int) -> np.random.Generator:
        if self._rngs[index] is None:
            self._rngs[index], _ = seeding.np_random()
        return self._rngs[index]

    def _seeds(self, seed: int | list[int | None] | None) -> list[int | None]:
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, int):
            return [seed + index for index in range(self.num_envs)]
        if len(seed) != self.num_envs:
            raise ValueError(f"give {self.num_envs} seeds, one per environment, not {len(seed)}")
        return list(seed)

    def _reset_mask(self, mask: Any) -> np.ndarray:
        if mask is None:
            return np.ones(self.num_envs, dtype=np.bool_)
        if not (
            isinstance(mask, np.ndarray)
            and mask.dtype == np.bool_
            and mask.shape == (self.num_envs,)
            and mask.any()
        ):
            raise ValueError(
                f"options['reset_mask'] must be a numpy bool array of shape ({self.num_envs},) "
                "with at least one True"
            )
        return mask

    def _observations(self) -> dict[str, tuple[str, ...]]:
        return {
            key: tuple(run.observation[key] if run else "" for run in self._runs)
            for key in ("goal", "url", "page")
        }


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
                id=gym_id,
                entry_point="environments.client:PlatformEnv",
                vector_entry_point="environments.client:PlatformVectorEnv",
                kwargs={"env_id": env.id},
            )
        ids.append(gym_id)
    return ids


register_environments()
