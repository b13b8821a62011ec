"""Where a campaign's work items come from, and the items its sources yield.

Sources, by kind:

- demonstrate: `{"environment": "bank-v1", "families": ["pay_bill", ...], "seeds": [1, 2, 3]}`
  or `"seeds": {"start": 0, "count": 50}`; one item per task (family and seed). Families default
  to all of the environment's.
- grade: `{"environment": "bank-v1", "families": [...], "actor_kinds": ["agent"],
  "episode_sources": ["api", "rollout"]}`; one item per finished episode that matches (every
  filter optional; episode sources among EPISODE_SOURCES).
- compare: the same filters, plus `"pairs_per_task"` (default 1); one item per pair of finished
  episodes of the same task by different actors.

Grade and compare campaigns may also subscribe to rollouts: `"rollouts": {"mode": "all" |
"failures" | "successes", "sample_rate": 0.25}`. Each rollout episode that finishes then
becomes an item (or, for compare, pairs with episodes of the same task by other policies) as
it arrives, within the campaign's environment and family filters (labeling/routing.py).

Each item has a `source_key` ("task:12", "episode:40", "pair:40-41"), unique in its campaign,
so generating again adds only what is new (new episodes, more seeds).
"""

import difflib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from environments.models import Episode, EpisodeStatus, Task
from environments.services import environment_get, task_get_or_create
from labeling.models import CampaignKind
from rlplatform.services import ServiceError

MAX_SEEDS = 10_000
# What can produce an episode (Episode.source): the agent API, the play page, a demonstrate
# assignment, a rollout job, an import, an OpenEnv or trainer session, the demo data.
EPISODE_SOURCES = ("api", "browser", "assignment", "rollout", "import", "openenv", "demo")
ACTOR_KINDS = ("agent", "contractor")
FINISHED = (EpisodeStatus.TERMINATED, EpisodeStatus.TRUNCATED, EpisodeStatus.ABANDONED)


@dataclass(frozen=True)
class Candidate:
    source_key: str
    task_id: int
    episode_a_id: int | None = None
    episode_b_id: int | None = None


def _problem(message: str, where: str = "sources") -> ServiceError:
    return ServiceError(message, field=where)


def _string_list(sources: dict, key: str) -> list[str]:
    value = sources.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _problem(f"{key} is a list of names", f"sources.{key}")
    return value


def _known(sources: dict, key: str, known: tuple[str, ...], what: str) -> list[str]:
    """The names listed under `key`, each one of `known`; an unknown one is refused by name,
    with the nearest known name when there is one."""
    values = _string_list(sources, key)
    for value in values:
        if value not in known:
            near = difflib.get_close_matches(value, known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise _problem(
                f"{value!r} is not {what}; {hint}{key} are among {', '.join(known)}",
                f"sources.{key}",
            )
    return values


def validate_sources(kind: str, sources: Any) -> dict:
    """The sources, normalised; raises ServiceError naming the entry at fault."""
    if sources in (None, ""):
        return {}
    if not isinstance(sources, dict):
        raise _problem("sources is an object, e.g. {'environment': 'bank-v1', ...}")
    known = {"environment", "families"}
    known |= (
        {"seeds"}
        if kind == CampaignKind.DEMONSTRATE
        else {"actor_kinds", "episode_sources", "rollouts"}
    )
    if kind == CampaignKind.COMPARE:
        known.add("pairs_per_task")
    unknown = sorted(set(sources) - known)
    if unknown:
        raise _problem(
            f"unknown source setting {', '.join(map(repr, unknown))} for a {kind} campaign; "
            f"settings: {', '.join(sorted(known))}"
        )
    clean: dict[str, Any] = {}
    env_id = sources.get("environment")
    families = _string_list(sources, "families")
    if env_id is not None:
        if not isinstance(env_id, str):
            raise _problem("environment is an id like 'bank-v1'", "sources.environment")
        env = environment_get(env_id)
        clean["environment"] = env.id
        unknown_families = [family for family in families if family not in env.families]
        if unknown_families:
            raise _problem(
                f"{env.id} has no task family {', '.join(map(repr, unknown_families))}; "
                f"families: {', '.join(env.families)}",
                "sources.families",
            )
    elif kind == CampaignKind.DEMONSTRATE and sources:
        raise _problem("a demonstrate campaign names its environment", "sources.environment")
    if families:
        clean["families"] = families
    if kind == CampaignKind.DEMONSTRATE:
        if "seeds" in sources:
            clean["seeds"] = _seeds(sources["seeds"])
        elif sources:
            raise _problem("name the seeds: a list, or {'start': 0, 'count': 20}", "sources.seeds")
        return clean
    if actor_kinds := _known(sources, "actor_kinds", ACTOR_KINDS, "an actor kind"):
        clean["actor_kinds"] = actor_kinds
    if episode_sources := _known(sources, "episode_sources", EPISODE_SOURCES, "an episode source"):
        clean["episode_sources"] = episode_sources
    if "rollouts" in sources:
        clean["rollouts"] = _rollout_subscription(sources["rollouts"])
    if kind == CampaignKind.COMPARE:
        pairs = sources.get("pairs_per_task", 1)
        if not isinstance(pairs, int) or isinstance(pairs, bool) or not 1 <= pairs <= 50:
            raise _problem(
                "pairs_per_task is a whole number from 1 to 50", "sources.pairs_per_task"
            )
        clean["pairs_per_task"] = pairs
    return clean


ROLLOUT_MODES = ("all", "failures", "successes")


def _rollout_subscription(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"mode", "sample_rate"}:
        raise _problem(
            "rollouts is {'mode': 'all' | 'failures' | 'successes', 'sample_rate': 0..1}",
            "sources.rollouts",
        )
    mode = value.get("mode", "all")
    if mode not in ROLLOUT_MODES:
        raise _problem(f"mode is one of {', '.join(ROLLOUT_MODES)}", "sources.rollouts.mode")
    rate = value.get("sample_rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise _problem(
            "sample_rate is a fraction above 0 and at most 1", "sources.rollouts.sample_rate"
        )
    return {"mode": mode, "sample_rate": float(rate)}


def _seeds(value: Any) -> list[int] | dict[str, int]:
    if isinstance(value, dict):
        start, count = value.get("start", 0), value.get("count")
        if (
            not isinstance(start, int)
            or not isinstance(count, int)
            or start < 0
            or not 1 <= count <= MAX_SEEDS
        ):
            raise _problem(
                f"seeds {{'start': s, 'count': n}} needs s >= 0 and 1 <= n <= {MAX_SEEDS}",
                "sources.seeds",
            )
        return {"start": start, "count": count}
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_SEEDS
        or not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in value)
    ):
        raise _problem(
            f"seeds is a list of 1 to {MAX_SEEDS} whole numbers, or {{'start', 'count'}}",
            "sources.seeds",
        )
    return sorted(set(value))


def sources_in_words(kind: str, sources: dict) -> list[str]:
    """A campaign's (validated) sources as sentences, for its dashboard."""
    if not sources:
        return []
    env = sources.get("environment") or "every environment"
    families = ", ".join(sources.get("families") or []) or "every family"
    if kind == CampaignKind.DEMONSTRATE:
        seeds = sources.get("seeds", [])
        if isinstance(seeds, dict):
            last = seeds["start"] + seeds["count"] - 1
            shown = f"seeds {seeds['start']} to {last} ({seeds['count']:,} seeds)"
        else:
            shown = f"seed{'' if len(seeds) == 1 else 's'} {', '.join(map(str, seeds))}"
        return [f"Tasks of {env}: {families}; {shown}."]
    what = "Pairs of finished episodes" if kind == CampaignKind.COMPARE else "Finished episodes"
    line = f"{what} of {env}: {families}"
    if actor_kinds := sources.get("actor_kinds"):
        line += f"; played by {' and '.join(kind + 's' for kind in actor_kinds)}"
    if episode_sources := sources.get("episode_sources"):
        line += f"; started from {', '.join(episode_sources)}"
    if kind == CampaignKind.COMPARE:
        pairs = sources.get("pairs_per_task", 1)
        line += f"; {pairs} pair{'' if pairs == 1 else 's'} per task"
    lines = [line + "."]
    if rollouts := sources.get("rollouts"):
        which = {"all": "every", "failures": "each failed", "successes": "each solved"}
        lines.append(
            f"Rollouts as they finish: {which[rollouts['mode']]} episode, "
            f"{rollouts['sample_rate']:.0%} of them sampled."
        )
    return lines


def _seed_list(seeds: list[int] | dict[str, int]) -> list[int]:
    if isinstance(seeds, dict):
        return list(range(seeds["start"], seeds["start"] + seeds["count"]))
    return seeds


def candidates(kind: str, sources: dict) -> Iterator[Candidate]:
    """Every item the (validated) sources yield, new or not."""
    if kind == CampaignKind.DEMONSTRATE:
        if not sources.get("environment"):
            return
        env = environment_get(sources["environment"])
        for family in sources.get("families") or list(env.families):
            for seed in _seed_list(sources.get("seeds", [])):
                task = task_get_or_create(env_id=env.id, family=family, seed=seed)
                yield Candidate(source_key=f"task:{task.pk}", task_id=task.pk)
        return
    episodes = finished_episodes(sources)
    if kind == CampaignKind.GRADE:
        for episode_id, task_id in episodes.values_list("pk", "task_id").iterator():
            yield Candidate(f"episode:{episode_id}", task_id, episode_a_id=episode_id)
        return
    yield from _pairs(episodes, sources.get("pairs_per_task", 1))


def finished_episodes(sources: dict):
    episodes = Episode.objects.filter(status__in=FINISHED)
    if env_id := sources.get("environment"):
        episodes = episodes.filter(env_id=env_id)
    if families := sources.get("families"):
        episodes = episodes.filter(task__family__in=families)
    if actor_kinds := sources.get("actor_kinds"):
        episodes = episodes.filter(actor_kind__in=actor_kinds)
    if episode_sources := sources.get("episode_sources"):
        episodes = episodes.filter(source__in=episode_sources)
    return episodes.order_by("task_id", "id")


def actor_of(actor_kind: str, user_id: int, api_key_id: int | None, metadata: dict) -> str:
    """Who acted in an episode: the kind, the account, the key, and the policy if one is named
    (one account may run several policies)."""
    policy = (metadata or {}).get("policy", "")
    return f"{actor_kind}:{user_id}:{api_key_id or ''}:{policy}"


def _pairs(episodes, per_task: int) -> Iterator[Candidate]:
    rows = episodes.values_list("pk", "task_id", "actor_kind", "user_id", "api_key_id", "metadata")
    by_task: dict[int, list[tuple[int, str]]] = {}
    for pk, task_id, actor_kind, user_id, api_key_id, metadata in rows.iterator():
        by_task.setdefault(task_id, []).append(
            (pk, actor_of(actor_kind, user_id, api_key_id, metadata))
        )
    for task_id, episodes_of_task in by_task.items():
        made = 0
        for (first, first_actor), (second, second_actor) in combinations(episodes_of_task, 2):
            if made >= per_task:
                break
            if first_actor == second_actor:
                continue
            made += 1
            a, b = ordered_pair(first, second)
            yield Candidate(f"pair:{min(a, b)}-{max(a, b)}", task_id, a, b)


def ordered_pair(first: int, second: int) -> tuple[int, int]:
    """Which episode is shown as A: a fixed coin flip per pair, so neither the older episode
    nor any one actor is always on the same side."""
    low, high = sorted((first, second))
    digest = hashlib.sha256(f"{low}-{high}".encode()).digest()
    return (low, high) if digest[0] % 2 == 0 else (high, low)


def explicit_candidate(kind: str, entry: dict) -> Candidate:
    """The item an explicit entry names: {"task": id} (demonstrate), {"episode": id} (grade),
    {"episode_a": id, "episode_b": id} (compare)."""
    if kind == CampaignKind.DEMONSTRATE:
        task = Task.objects.filter(pk=entry.get("task")).first()
        if task is None:
            raise ServiceError(f"no task {entry.get('task')!r}", field="task", code="not_found")
        return Candidate(f"task:{task.pk}", task.pk)
    if kind == CampaignKind.GRADE:
        episode = _finished_episode(entry.get("episode"), "episode")
        return Candidate(f"episode:{episode.pk}", episode.task_id, episode_a_id=episode.pk)
    a = _finished_episode(entry.get("episode_a"), "episode_a")
    b = _finished_episode(entry.get("episode_b"), "episode_b")
    if a.pk == b.pk:
        raise ServiceError("compare two different episodes", field="episode_b")
    if a.task_id != b.task_id:
        raise ServiceError(
            f"episodes {a.pk} and {b.pk} are of different tasks; compare the same task",
            field="episode_b",
        )
    return Candidate(f"pair:{min(a.pk, b.pk)}-{max(a.pk, b.pk)}", a.task_id, a.pk, b.pk)


def _finished_episode(episode_id: Any, field: str) -> Episode:
    episode = Episode.objects.filter(pk=episode_id).first() if isinstance(episode_id, int) else None
    if episode is None:
        raise ServiceError(f"no episode {episode_id!r}", field=field, code="not_found")
    if episode.status not in FINISHED:
        raise ServiceError(
            f"episode {episode.pk} is still running; only finished episodes can be labeled",
            field=field,
        )
    return episode
