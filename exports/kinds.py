"""Export kinds: what a row is, its columns (a pyarrow schema, which Parquet files carry and
Hugging Face `datasets` reads), and the rows themselves, streamed in a stable order from a
database alias (the export's snapshot).

Column names follow what TRL's trainers read: `prompt`/`completion` (SFT), `prompt`/`chosen`/
`rejected` (preference), `prompt`/`completions`/`labels` (stepwise), `prompt`/`completion`/
`label` (unpaired). By default a row of these is one decision (exports/prompts.py);
`granularity: trajectory` gives one row per trajectory instead.
"""

import json
import operator
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache, reduce
from itertools import groupby
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import pyarrow as pa
from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from environments.engine import get_environment, list_environments
from environments.engine.actions import ActionError, parse_action
from environments.engine.page import page_from_json
from environments.engine.splits import (
    split_families,
    split_of_task,
    split_seed_range,
    split_variants,
)
from environments.engine.variants import VARIANTS
from environments.models import ActorKind, Episode, EpisodeStatus, Step
from environments.observations import render_page
from exports.prompts import Budget, StepPrompts, budget_of, page_text, system_prompt
from labeling.quality import first_error_step_labels
from rlplatform.services import ServiceError

# Episodes, or labelled items (each with one or two episodes), read at a time. A label kind
# holds the steps of a chunk's episodes at once, so this bounds its memory.
CHUNK = 20
# Steps fetched at a time (each with its page, a few kilobytes of JSON).
STEP_FETCH_ROWS = 250
# Decision rows written at a time: a Parquet row group of a few megabytes. Fewer, larger groups
# keep the file's metadata small, which the writer holds until the file closes.
STEP_BATCH_ROWS = 2000
SCHEMA_VERSION = 1

NAMED_VALUE = pa.struct([("name", pa.string()), ("value", pa.float64())])
CHECK = pa.struct([("name", pa.string()), ("passed", pa.bool_()), ("detail", pa.string())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
STEP = pa.struct(
    [
        ("index", pa.int32()),
        ("observation", pa.string()),
        ("action", pa.string()),
        ("reward", pa.float64()),
        ("terminated", pa.bool_()),
        ("truncated", pa.bool_()),
        ("error", pa.string()),
    ]
)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def finished_episodes(filters: dict[str, Any], using: str) -> QuerySet[Episode]:
    """Finished episodes matching the filters, in id order."""
    episodes = (
        Episode.objects.using(using)
        .exclude(status=EpisodeStatus.RUNNING)
        .select_related("task")
        .order_by("pk")
    )
    if filters.get("environments"):
        episodes = episodes.filter(env_id__in=filters["environments"])
    if filters.get("families"):
        episodes = episodes.filter(task__family__in=filters["families"])
    if filters.get("actor_kind"):
        episodes = episodes.filter(actor_kind=filters["actor_kind"])
    if filters.get("success") is not None:
        episodes = episodes.filter(success=filters["success"])
    if filters.get("finished_after"):
        episodes = episodes.filter(finished_at__gte=filters["finished_after"])
    if filters.get("finished_before"):
        episodes = episodes.filter(finished_at__lt=filters["finished_before"])
    if filters.get("episodes_of") is not None:
        episodes = episodes.filter(user_id=filters["episodes_of"])
    if filters.get("split"):
        episodes = episodes.filter(
            in_split(filters["split"], env="env_id", seed="seed", family="task__family")
        )
    return episodes


def in_split(
    split: str, *, env: str, seed: str, family: str, variants: tuple[str, ...] = ("variant",)
) -> Q:
    """The rows whose task is in `split` (split_of_task's rule) as a query condition: in each
    environment, the split's seeds less, outside `test`, its held-out families and UI
    variants. `env`, `seed`, `family` and `variants` name the fields that hold them (a row
    showing several episodes names each one's variant: all must be in the split)."""
    conditions = []
    for environment in list_environments():
        seeds = split_seed_range(split, env_id=environment.id)
        condition = Q(
            **{env: environment.id, f"{seed}__gte": seeds.start, f"{seed}__lt": seeds.stop}
        )
        if split != "test":
            condition &= ~Q(**{f"{family}__in": environment.heldout_families})
            for variant in variants:
                condition &= ~Q(**{f"{variant}__in": environment.heldout_variants})
        conditions.append(condition)
    return reduce(operator.or_, conditions)


def split_of_row(env_id: str, family: str, seed: int, variants: list[str | None]) -> str | None:
    """The split of a row showing episodes of one task in these UI variants: theirs when they
    agree, else None (the row holds something of a split it is not in)."""
    splits = {split_of_task(env_id, family, seed, variant) for variant in variants or [None]}
    return splits.pop() if len(splits) == 1 else None


def episode_split(episode: Episode) -> str | None:
    return split_of_task(episode.env_id, episode.task.family, episode.seed, episode.variant)


class StepRow(NamedTuple):
    """A step as exports read it: plain values, its observation still JSON text."""

    episode_id: int
    index: int
    observation: str
    action: str
    reward: float
    terminated: bool
    truncated: bool
    error: str


def episodes_with_steps(
    episodes: QuerySet[Episode], using: str
) -> Iterator[tuple[Episode, list[StepRow]]]:
    """Each episode (`episodes` in id order) with its steps: episodes read a chunk at a time,
    their steps streamed, so that one episode's steps are held at a time (flat memory)."""
    for chunk in _chunks(episodes.iterator(chunk_size=CHUNK)):
        yield from _with_steps(chunk, using)


def _with_steps(chunk: list[Episode], using: str) -> Iterator[tuple[Episode, list[StepRow]]]:
    """The episodes of `chunk` (in id order) with their steps, read in one query, an episode's
    steps made into StepRows as it comes."""
    rows = (
        Step.objects.using(using)
        .filter(episode_id__in=[episode.pk for episode in chunk])
        .order_by("episode_id", "index")
        .annotate(observation_text=Cast("observation", TextField()))
        .values_list(
            "episode_id",
            "index",
            "observation_text",
            "action",
            "reward",
            "terminated",
            "truncated",
            "error",
        )
    )
    by_episode = groupby(rows.iterator(chunk_size=STEP_FETCH_ROWS), key=itemgetter(0))
    group = next(by_episode, None)
    for episode in chunk:
        steps: list[StepRow] = []
        if group is not None and group[0] == episode.pk:
            steps = [StepRow(*row) for row in group[1]]
            group = next(by_episode, None)
        yield episode, steps


def _chunks(entries: Iterator, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@lru_cache(maxsize=4096)
def observation_text(observation: str, mode: str) -> str:
    """A stored observation (page JSON text) rendered in `mode`. Trajectories revisit the same
    pages often (every episode of a task starts on the same one), so renderings are kept."""
    rendered = render_page(page_from_json(json.loads(observation)), mode)
    return rendered if isinstance(rendered, str) else json.dumps(rendered, sort_keys=True)


class ExportKind:
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    schema: ClassVar[pa.Schema]
    # Filters this kind applies unless the export says otherwise.
    default_filters: ClassVar[dict[str, Any]] = {}
    # Rows a Parquet row group holds at most (and between progress reports): fewer for rows
    # that hold whole trajectories. The writer ends a group sooner at BATCH_BYTES of rows
    # (exports/writers.py), so that memory stays flat however long the episodes or pages are.
    batch_rows: ClassVar[int] = 2000
    # Whether rows are decisions or trajectories as the export says (`granularity`, with the
    # page and history budget of exports/prompts.py).
    has_granularity: ClassVar[bool] = False

    def rows(
        self, filters: dict[str, Any], using: str, counts: Counter[str]
    ) -> Iterator[dict[str, Any]]:
        """The rows, in a stable order. `counts` gathers what the manifest should say about
        them (rows that had to take another form, ...)."""
        raise NotImplementedError

    def count(self, filters: dict[str, Any], using: str) -> int:
        """How many rows `rows` will yield (for progress)."""
        raise NotImplementedError

    def schema_for(self, filters: dict[str, Any]) -> pa.Schema:
        """The columns of this export's rows."""
        return self.schema

    def rows_per_batch(self, filters: dict[str, Any]) -> int:
        """Rows of a batch: `batch_rows`, or for decision rows (a few kilobytes each)
        `STEP_BATCH_ROWS`."""
        if self.has_granularity and budget_of(filters).granularity == "step":
            return STEP_BATCH_ROWS
        return self.batch_rows

    def options(self, filters: dict[str, Any]) -> dict[str, Any]:
        """The row options an export of this kind resolves (for the manifest); raises a
        ServiceError naming the filter when one is wrong."""
        return budget_of(filters).options() if self.has_granularity else {}

    def sequences(self, row: dict[str, Any]) -> list[list[dict[str, str]] | str]:
        """What a trainer tokenizes of a row (each a conversation or a text): the manifest
        measures their lengths. None for kinds that are not trained on directly."""
        return []

    # Label kinds: the campaign kind and the question type their rows read final labels of.
    label_source: ClassVar[tuple[str, str] | None] = None
    # Other questions whose final labels give rows too (stepwise: first errors).
    also_reads: ClassVar[tuple[tuple[str, str], ...]] = ()

    def left_out(self, filters: dict[str, Any], using: str) -> dict[str, int]:
        """Labelled items that give no row, counted by reason (see LEFT_OUT_REASONS)."""
        if self.label_source is None:
            return {}
        counts = Counter(labels_left_out(filters, using, *self.label_source))
        for source in self.also_reads:
            counts.update(labels_left_out(filters, using, *source))
        return dict(sorted(counts.items()))


class Trajectories(ExportKind):
    name = "trajectories"
    title = "Trajectories (one episode a row)"
    description = (
        "Every finished episode with its steps: the observation the actor saw, its action, "
        "reward, terminated and truncated; the outcome with each verifier check and reward "
        "components."
    )
    batch_rows = 50
    schema = pa.schema(
        [
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("version", pa.int32()),
            ("task_id", pa.int64()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("variant", pa.string()),
            ("split", pa.string()),
            ("goal", pa.string()),
            ("actor_kind", pa.string()),
            ("source", pa.string()),
            ("status", pa.string()),
            ("success", pa.bool_()),
            ("reward", pa.float64()),
            ("reward_components", pa.list_(NAMED_VALUE)),
            ("checks", pa.list_(CHECK)),
            ("steps", pa.list_(STEP)),
            ("created_at", pa.string()),
            ("finished_at", pa.string()),
        ]
    )

    def count(self, filters, using):
        return finished_episodes(filters, using).count()

    def rows(self, filters, using, counts):
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            yield self.row(episode, steps, filters)

    def row(
        self, episode: Episode, steps: list[StepRow], filters: dict[str, Any]
    ) -> dict[str, Any]:
        mode = filters.get("observation_mode") or "axtree"
        outcome = episode.outcome or {}
        return {
            "episode_id": episode.pk,
            "environment": episode.env_id,
            "version": int(episode.env_id.rsplit("-v", 1)[1]),
            "task_id": episode.task_id,
            "family": episode.task.family,
            "seed": episode.seed,
            "variant": episode.variant,
            "split": episode_split(episode),
            "goal": episode.task.goal,
            "actor_kind": episode.actor_kind,
            "source": episode.source,
            "status": episode.status,
            "success": episode.success,
            "reward": episode.reward,
            "reward_components": [
                {"name": name, "value": value}
                for name, value in sorted(outcome.get("reward_components", {}).items())
            ],
            "checks": outcome.get("checks", []),
            "steps": [
                {
                    "index": step.index,
                    "observation": observation_text(step.observation, mode),
                    "action": step.action,
                    "reward": step.reward,
                    "terminated": step.terminated,
                    "truncated": step.truncated,
                    "error": step.error,
                }
                for step in steps
            ],
            "created_at": iso(episode.created_at),
            "finished_at": iso(episode.finished_at),
        }


class TrajectorySteps(ExportKind):
    name = "trajectory_steps"
    title = "Trajectory steps (one step a row)"
    description = (
        "One row per step, for RL pipelines: observation, action, reward, terminated, "
        "truncated, with the episode's task and outcome."
    )
    schema = pa.schema(
        [
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("split", pa.string()),
            ("goal", pa.string()),
            ("actor_kind", pa.string()),
            ("step", pa.int32()),
            ("observation", pa.string()),
            ("action", pa.string()),
            ("reward", pa.float64()),
            ("terminated", pa.bool_()),
            ("truncated", pa.bool_()),
            ("error", pa.string()),
            ("episode_success", pa.bool_()),
        ]
    )

    def count(self, filters, using):
        return (
            Step.objects.using(using)
            .filter(episode__in=finished_episodes(filters, using).values("pk"))
            .count()
        )

    def rows(self, filters, using, counts):
        mode = filters.get("observation_mode") or "axtree"
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            split = episode_split(episode)
            for step in steps:
                yield {
                    "episode_id": episode.pk,
                    "environment": episode.env_id,
                    "family": episode.task.family,
                    "seed": episode.seed,
                    "split": split,
                    "goal": episode.task.goal,
                    "actor_kind": episode.actor_kind,
                    "step": step.index,
                    "observation": observation_text(step.observation, mode),
                    "action": step.action,
                    "reward": step.reward,
                    "terminated": step.terminated,
                    "truncated": step.truncated,
                    "error": step.error,
                    "episode_success": episode.success,
                }


STEP_COLUMN = ("step", pa.int32())


class Sft(ExportKind):
    name = "sft"
    title = "SFT (human demonstrations, one decision a row)"
    description = (
        "Successful human demonstrations by default. A row is one decision: `prompt` (the "
        "system turn with the rules and the goal; a user turn with the steps so far, each action "
        "and what it did, and the current page, pruned within `max_observation_chars`) and "
        "`completion` (the action taken). Prompt and completion are separate columns because "
        "TRL's SFTTrainer then computes the loss on the completion only (its default for "
        "prompt-completion data), so the model learns the actions and not the pages; with "
        "`messages` it would train on every token, pages included. Refused actions are left "
        "out (they stay in the history). A takeover (a person finishing an agent's task "
        "from just before its first wrong step) gives rows for the person's steps only, "
        "`source` `takeover` and `error_category` the agent's error it corrects (a "
        "demonstration: `source` `demonstration`, no category). `granularity: trajectory` "
        "gives one `messages` conversation per demonstration instead (takeovers left out: "
        "their first steps are the agent's)."
    )
    batch_rows = 50
    has_granularity = True
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("completion", pa.list_(MESSAGE)),
            ("episode_id", pa.int64()),
            STEP_COLUMN,
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("split", pa.string()),
            ("source", pa.string()),
            ("error_category", pa.string()),
        ]
    )
    trajectory_schema = pa.schema(
        [
            ("messages", pa.list_(MESSAGE)),
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("split", pa.string()),
        ]
    )
    default_filters = {"actor_kind": ActorKind.CONTRACTOR, "success": True}

    def schema_for(self, filters):
        return self.schema if budget_of(filters).granularity == "step" else self.trajectory_schema

    def _episodes(self, filters, using):
        episodes = finished_episodes(filters, using)
        if budget_of(filters).granularity == "trajectory":
            episodes = episodes.filter(takeover__isnull=True)
        return episodes

    def count(self, filters, using):
        episodes = self._episodes(filters, using)
        if budget_of(filters).granularity == "step":
            return (
                Step.objects.using(using)
                .filter(episode__in=episodes.values("pk"), error="")
                .exclude(episode__takeover__replaced_step__gt=F("index"))
                .count()
            )
        return episodes.count()

    def rows(self, filters, using, counts):
        budget = budget_of(filters)
        episodes = self._episodes(filters, using)
        taken_over = takeovers_of(episodes, using)
        for episode, steps in episodes_with_steps(episodes, using):
            where = {
                "episode_id": episode.pk,
                "environment": episode.env_id,
                "family": episode.task.family,
                "seed": episode.seed,
                "split": episode_split(episode),
            }
            if budget.granularity == "trajectory":
                yield {"messages": demonstration(episode.task.goal, steps, budget), **where}
                continue
            first, category = taken_over.get(episode.pk, (0, None))
            source = "demonstration" if episode.pk not in taken_over else "takeover"
            prompts = StepPrompts(episode.task.goal, steps, budget)
            for index, step in enumerate(steps):
                if not step.error and index >= first:
                    yield {
                        "prompt": prompts.messages(index),
                        "completion": [assistant(step.action)],
                        **where,
                        "step": index,
                        "source": source,
                        "error_category": category,
                    }

    def sequences(self, row):
        if "messages" in row:
            return [row["messages"]]
        return [row["prompt"] + row["completion"]]


def takeovers_of(episodes: QuerySet[Episode], using: str) -> dict[int, tuple[int, str | None]]:
    """The takeovers among `episodes`: episode id -> (the agent's step it replaced, the
    category of the agent's error there, or None)."""
    from labeling.models import Takeover

    rows = Takeover.objects.using(using).filter(episode__in=episodes.values("pk"))
    return {
        episode_id: (step, category or None)
        for episode_id, step, category in rows.values_list(
            "episode_id", "replaced_step", "category"
        )
    }


def assistant(action: str) -> dict[str, str]:
    return {"role": "assistant", "content": action}


def stored_page_text(step: StepRow, budget: Budget) -> str:
    """A step's page as a trajectory row shows it: in the export's mode, within its budget."""
    return page_text(step.observation, budget.observation_mode, budget.max_observation_chars, None)


def demonstration(goal: str, steps: list[StepRow], budget: Budget) -> list[dict[str, str]]:
    """A whole demonstration as one conversation: each page a user turn, each accepted action
    an assistant turn."""
    messages = [{"role": "system", "content": system_prompt(goal)}]
    for step in steps:
        if not step.error:
            messages.append({"role": "user", "content": stored_page_text(step, budget)})
            messages.append(assistant(step.action))
    return messages


# Labels: what people said about trajectories. Every label kind reads one final label per item
# (labeling.selectors.item_final_label) and the same rules of what is exported, so two kinds
# never disagree about an item.

# Why a labelled item gives no row, as the manifest counts them.
LEFT_OUT_REASONS = {
    "incomplete": "fewer judgments than the campaign's overlap, so no label yet",
    "in_review": "waiting for a reviewer",
    "unresolved": "the judges tie or split and no reviewer has decided",
    "below_min_confidence": "the label's confidence is below min_confidence (unknown with one "
    "judgment)",
    "no_majority": "asked for with include_unresolved, but the judges tie on this question",
    "tie": "the label says neither trajectory is better",
    "equal_trajectories": "the two trajectories took the same actions on the same pages, so a "
    "row would have chosen equal to rejected",
    # Preference decision rows (granularity: step) need a page both trajectories acted on.
    "different_task_or_seed": "the two trajectories are of other tasks or seeds, so no page is "
    "shared to choose an action on (granularity: trajectory gives the pair whole)",
    "pages_differ": "the trajectories were shown different pages before they acted differently "
    "(another UI variant, say), so no page is shared to choose an action on (granularity: "
    "trajectory gives the pair whole)",
    "never_part": "one trajectory goes on where the other stops, with the same actions before, so "
    "they never chose differently on one page (granularity: trajectory gives the pair whole)",
    "unanswered": "the label does not answer this question",
    "outside_split": "the item's task is not in the `split` filter's split (another seed range, "
    "or a held-out family or UI variant, which is in test only)",
}


def labelled_items(filters: dict[str, Any], using: str, campaign_kind: str):
    """Non-gold items of `campaign_kind` campaigns with judgments, matching the filters, with
    their adjudication when there is one, in id order."""
    from labeling.models import WorkItem

    items = (
        WorkItem.objects.using(using)
        .filter(campaign__kind=campaign_kind, judgment_count__gt=0)
        .select_related("campaign", "task", "adjudication")
        .order_by("pk")
    )
    if filters.get("exclude_gold", True):
        items = items.filter(is_gold=False)
    if filters.get("campaigns") is not None:  # the exporter's scope: possibly empty
        items = items.filter(campaign_id__in=filters["campaigns"])
    if filters.get("environments"):
        items = items.filter(task__env_id__in=filters["environments"])
    if filters.get("families"):
        items = items.filter(task__family__in=filters["families"])
    if filters.get("split"):
        items = items.filter(in_split(filters["split"], **ITEM_SPLIT_FIELDS))
    # The UI variants its episodes were shown in: with its task, the item's split.
    return items.annotate(variant_a=F("episode_a__variant"), variant_b=F("episode_b__variant"))


# Where an item's task and episodes are, for `in_split`.
ITEM_SPLIT_FIELDS = {
    "env": "task__env_id",
    "seed": "task__seed",
    "family": "task__family",
    "variants": ("episode_a__variant", "episode_b__variant"),
}


def items_outside_split(filters: dict[str, Any], using: str, campaign_kind: str, qtype: str) -> int:
    """How many labelled items of campaigns asking a `qtype` question the `split` filter
    leaves out (none without it)."""
    from labeling.models import Campaign

    if not filters.get("split"):
        return 0
    asking = [
        campaign.pk
        for campaign in Campaign.objects.using(using).filter(kind=campaign_kind)
        if question_of(campaign.schema, qtype) is not None
    ]
    items = labelled_items({**filters, "split": None}, using, campaign_kind)
    return (
        items.filter(campaign_id__in=asking)
        .exclude(in_split(filters["split"], **ITEM_SPLIT_FIELDS))
        .count()
    )


def left_out_reason(
    label: dict[str, Any] | None, question: dict, answer: Any, filters: dict[str, Any]
) -> str | None:
    """Why an item's final label gives no row for `question` under the filters (a key of
    LEFT_OUT_REASONS), or None when it gives one. Adjudicated and decided labels are
    exported; unresolved and in-review ones only with `include_unresolved`, and then never
    where the judges tie; `min_confidence` reads the label's confidence (adjudicated: 1.0)."""
    if label is None:
        return "incomplete"
    if label["status"] in ("in_review", "unresolved") and not filters.get("include_unresolved"):
        return label["status"]
    floor = filters.get("min_confidence")
    if floor is not None and (label["confidence"] is None or label["confidence"] < floor):
        return "below_min_confidence"
    if label["questions"].get(question["name"]) == "tie":
        return "no_majority"
    if answer is None:
        return "unanswered"
    if question["type"] == "preference" and answer["choice"] not in ("A", "B"):
        return "tie"
    return None


def final_answers(filters: dict[str, Any], using: str, campaign_kind: str, qtype: str):
    """Each labelled item whose campaign asks a `qtype` question, with the question, the final
    label's answer to it, the final label, and why it gives no row (None when it gives one)."""
    from labeling.selectors import item_final_label

    for item in labelled_items(filters, using, campaign_kind).iterator(chunk_size=CHUNK):
        question = question_of(item.campaign.schema, qtype)
        if question is None:
            continue
        label = item_final_label(
            item=item, exclude_paused=bool(filters.get("exclude_paused")), using=using
        )
        answer = (label or {}).get("answers", {}).get(question["name"])
        yield item, question, answer, label, left_out_reason(label, question, answer, filters)


def labels_left_out(
    filters: dict[str, Any], using: str, campaign_kind: str, qtype: str
) -> dict[str, int]:
    """How many labelled items give no row, by reason."""
    counts = Counter(
        reason
        for *_, reason in final_answers(filters, using, campaign_kind, qtype)
        if reason is not None
    )
    if outside := items_outside_split(filters, using, campaign_kind, qtype):
        counts["outside_split"] = outside
    return dict(sorted(counts.items()))


def question_of(schema: list[dict], qtype: str) -> dict | None:
    return next((question for question in schema if question["type"] == qtype), None)


def step_labels(schema: list[dict], answers: dict[str, Any], length: int) -> list[bool | None]:
    """What a final label says of each of a trajectory's steps, as `stepwise` reads it: its
    step ratings (0 and +1 good, -1 bad; a tied step says nothing), else its first error
    (PRM800K's convention); None where it says nothing."""
    rating = question_of(schema, "step_rating")
    ratings = (answers.get(rating["name"]) or {}).get("ratings") if rating else None
    if ratings:
        said = [None if value is None else value >= 0 for value in ratings[:length]]
        return said + [None] * (length - len(said))
    first_error = question_of(schema, "first_error")
    if first_error is not None:
        return first_error_step_labels(answers.get(first_error["name"]), length)
    return [None] * length


def episode_steps(episode_ids: list[int], using: str) -> dict[int, list[StepRow]]:
    episodes = Episode.objects.using(using).filter(pk__in=episode_ids).order_by("pk")
    return {episode.pk: steps for episode, steps in _with_steps(list(episodes), using)}


def conversation(steps: list[StepRow], budget: Budget) -> list[dict[str, str]]:
    """An episode's turns after its first observation: action, observation, action, ..."""
    turns: list[dict[str, str]] = []
    for index, step in enumerate(steps):
        if index:
            turns.append({"role": "user", "content": stored_page_text(step, budget)})
        turns.append(assistant(step.action))
    return turns


def opening(goal: str, steps: list[StepRow], budget: Budget) -> list[dict[str, str]]:
    """The system turn and the first observation: what every attempt at a task starts from."""
    prompt = [{"role": "system", "content": system_prompt(goal)}]
    if steps:
        prompt.append({"role": "user", "content": stored_page_text(steps[0], budget)})
    return prompt


# The columns every label kind ends with: the final label's standing, and its task.
ITEM_FIELDS = [
    ("label_status", pa.string()),
    ("confidence", pa.float64()),
    ("agreement", pa.float64()),
    ("adjudicated", pa.bool_()),
    ("item_id", pa.int64()),
    ("campaign_id", pa.int64()),
    ("environment", pa.string()),
    ("family", pa.string()),
    ("seed", pa.int64()),
    ("split", pa.string()),
]


def item_columns(item, label: dict[str, Any]) -> dict[str, Any]:
    """`label_status` and `confidence` are the final label's (adjudicated: 1.0); `agreement`
    is the judges' consensus, whatever a reviewer decided."""
    return {
        "label_status": label["status"],
        "confidence": label["confidence"],
        "agreement": item.consensus,
        "adjudicated": label["status"] == "adjudicated",
        "item_id": item.pk,
        "campaign_id": item.campaign_id,
        "environment": item.task.env_id,
        "family": item.task.family,
        "seed": item.task.seed,
        "split": split_of_row(
            item.task.env_id,
            item.task.family,
            item.task.seed,
            [variant for variant in (item.variant_a, item.variant_b) if variant is not None],
        ),
    }


def labelled_answers(filters: dict[str, Any], using: str, campaign_kind: str, qtype: str):
    """Each labelled item of `campaign_kind` campaigns whose final label gives a row for the
    campaign's `qtype` question (see left_out_reason): the item, the question, the answer, the
    final label, and the steps of the chunk's episodes by episode id."""
    kept = (
        entry[:4]
        for entry in final_answers(filters, using, campaign_kind, qtype)
        if entry[4] is None
    )
    for chunk in _chunks(kept):
        episode_ids = [item.episode_a_id for item, *_ in chunk]
        episode_ids += [item.episode_b_id for item, *_ in chunk]
        steps = episode_steps([pk for pk in episode_ids if pk], using)
        for item, question, answer, label in chunk:
            yield item, question, answer, label, steps


class ComparedPair(NamedTuple):
    """A labelled pair, and where its trajectories part (`part`, a step, or None and `why`
    not: see `parting`); `gives_row` under the export's granularity."""

    item: Any
    answer: dict[str, Any]
    label: dict[str, Any]
    chosen: int
    rejected: int
    steps: dict[int, list[StepRow]]
    part: int | None
    why: str
    gives_row: bool


class Preference(ExportKind):
    name = "preference"
    label_source = ("compare", "preference")
    title = "Preference pairs (compare judgments, aligned where the trajectories part)"
    description = (
        "One row per compared pair with a winner, as TRL's RewardTrainer and DPOTrainer read "
        "them. Two trajectories of the same task and seed are aligned at the step where they "
        "part: `prompt` is what both saw there (the rules and the goal, the shared steps so "
        "far, the page), `chosen` and `rejected` the two actions taken on it (`aligned` true, "
        "`step` the step): the completions are actions alone, environment text only in the "
        "prompt. A pair that does not part so (other tasks or seeds, pages that differ first, "
        "or one trajectory going on where the other stops) gives no decision row; the "
        "manifest's `left_out` counts it by reason, and `granularity: trajectory` gives it as "
        "a whole-trajectory row: `prompt` with the first page, `chosen` and `rejected` each "
        "trajectory's turns, pages included (`aligned` false). `strength` is the graders' "
        "margin (1-3), `agreement` their consensus. The item's final label decides (a "
        "reviewer's, else the judges' decided majority: ties, splits and items in review are "
        "left out); such rows have `source` `compare`. Takeovers that succeeded add pairs with "
        "`source` `takeover`: where a person took over an agent's episode at its first wrong "
        "step, `prompt` is what the agent saw there, `chosen` the person's action and "
        "`rejected` the agent's, `error_category` the grader's category of the agent's error "
        "(decision rows only). `granularity: trajectory` gives every compared pair as a "
        "whole-trajectory row, but for a pair of equal trajectories (the same actions on the "
        "same pages), which gives no row (`left_out`: `equal_trajectories`)."
    )
    batch_rows = 50
    has_granularity = True
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("chosen", pa.list_(MESSAGE)),
            ("rejected", pa.list_(MESSAGE)),
            ("strength", pa.int32()),
            ("chosen_episode_id", pa.int64()),
            ("rejected_episode_id", pa.int64()),
            ("aligned", pa.bool_()),
            STEP_COLUMN,
            *ITEM_FIELDS,
            ("source", pa.string()),
            ("error_category", pa.string()),
        ]
    )

    def _pairs(self, filters, using) -> Iterator[ComparedPair]:
        step_rows = budget_of(filters).granularity == "step"
        for item, _, answer, label, steps in labelled_answers(
            filters, using, "compare", "preference"
        ):
            chosen, rejected = (
                (item.episode_a_id, item.episode_b_id)
                if answer["choice"] == "A"
                else (item.episode_b_id, item.episode_a_id)
            )
            same_task = same_task_and_seed(chosen, rejected, using)
            part, why = parting(steps[chosen], steps[rejected], same_task=same_task)
            # Decision rows need a step where the two part; whole trajectories, two that differ.
            gives_row = part is not None if step_rows else why != "equal_trajectories"
            yield ComparedPair(item, answer, label, chosen, rejected, steps, part, why, gives_row)

    def left_out(self, filters, using):
        left_out = Counter(super().left_out(filters, using))
        left_out.update(pair.why for pair in self._pairs(filters, using) if not pair.gives_row)
        return dict(sorted(left_out.items()))

    def count(self, filters, using):
        pairs = sum(1 for pair in self._pairs(filters, using) if pair.gives_row)
        if budget_of(filters).granularity == "step":
            pairs += sum(1 for _ in takeover_pairs(filters, using))
        return pairs

    def rows(self, filters, using, counts):
        budget = budget_of(filters)
        yield from self._compared(filters, using, counts, budget)
        if budget.granularity == "step":
            for takeover, agent, person in takeover_pairs(filters, using):
                counts["pairs_from_takeovers"] += 1
                at = takeover.replaced_step
                item = takeover.assignment.item
                yield {
                    "prompt": StepPrompts(item.task.goal, agent, budget).messages(at),
                    "chosen": [assistant(person[at].action)],
                    "rejected": [assistant(agent[at].action)],
                    "strength": None,
                    "chosen_episode_id": takeover.episode_id,
                    "rejected_episode_id": takeover.agent_episode_id,
                    "aligned": True,
                    "step": at,
                    "label_status": "takeover",
                    "confidence": None,
                    "agreement": None,
                    "adjudicated": False,
                    "item_id": item.pk,
                    "campaign_id": item.campaign_id,
                    "environment": item.task.env_id,
                    "family": item.task.family,
                    "seed": item.task.seed,
                    "split": split_of_row(
                        item.task.env_id,
                        item.task.family,
                        item.task.seed,
                        [takeover.agent_variant, takeover.person_variant],
                    ),
                    "source": "takeover",
                    "error_category": takeover.category or None,
                }

    def _compared(self, filters, using, counts, budget):
        for pair in self._pairs(filters, using):
            if not pair.gives_row:
                continue
            item, steps, part = pair.item, pair.steps, pair.part
            columns = {
                "strength": pair.answer.get("strength"),
                "chosen_episode_id": pair.chosen,
                "rejected_episode_id": pair.rejected,
                **item_columns(item, pair.label),
                "source": "compare",
                "error_category": None,
            }
            goal, winner, loser = item.task.goal, steps[pair.chosen], steps[pair.rejected]
            if budget.granularity == "trajectory":
                yield {
                    "prompt": opening(goal, winner, budget),
                    "chosen": conversation(winner, budget),
                    "rejected": conversation(loser, budget),
                    "aligned": False,
                    "step": None,
                    **columns,
                }
            else:
                counts["pairs_aligned"] += 1
                yield {
                    "prompt": StepPrompts(goal, winner, budget).messages(part),
                    "chosen": [assistant(winner[part].action)],
                    "rejected": [assistant(loser[part].action)],
                    "aligned": True,
                    "step": part,
                    **columns,
                }

    def sequences(self, row):
        return [row["prompt"] + row["chosen"], row["prompt"] + row["rejected"]]


def takeover_pairs(filters: dict[str, Any], using: str):
    """Each takeover that succeeded (the verifier said done) and whose person acted otherwise
    than the agent at the replaced step, with the agent's and the person's steps; filtered by
    campaign, environment, family and split like the compared pairs."""
    from labeling.models import Takeover

    takeovers = (
        Takeover.objects.using(using)
        .filter(episode__success=True, episode__step_count__gt=F("replaced_step"))
        .select_related("assignment__item__task")
        .order_by("pk")
    )
    if filters.get("campaigns"):
        takeovers = takeovers.filter(assignment__campaign_id__in=filters["campaigns"])
    if filters.get("environments"):
        takeovers = takeovers.filter(agent_episode__env_id__in=filters["environments"])
    if filters.get("families"):
        takeovers = takeovers.filter(agent_episode__task__family__in=filters["families"])
    if filters.get("split"):
        takeovers = takeovers.filter(
            in_split(
                filters["split"],
                env="agent_episode__env_id",
                seed="agent_episode__seed",
                family="agent_episode__task__family",
                variants=("agent_episode__variant", "episode__variant"),
            )
        )
    takeovers = takeovers.annotate(
        agent_variant=F("agent_episode__variant"), person_variant=F("episode__variant")
    )
    for chunk in _chunks(takeovers.iterator(chunk_size=CHUNK)):
        ids = [t.agent_episode_id for t in chunk] + [t.episode_id for t in chunk]
        steps = episode_steps(ids, using)
        for takeover in chunk:
            agent, person = steps[takeover.agent_episode_id], steps[takeover.episode_id]
            at = takeover.replaced_step
            if at >= len(agent) or person[at].error:
                continue
            if same_action(agent[at].action, person[at].action):
                continue
            yield takeover, agent, person


def parting(
    winner: list[StepRow], loser: list[StepRow], *, same_task: bool
) -> tuple[int | None, str]:
    """Where two compared trajectories part, as `divergence` finds it, or None and why not:
    `equal_trajectories` (the same actions on the same pages: chosen would be rejected),
    `different_task_or_seed`, `pages_differ` or `never_part` (one goes on where the other
    stops)."""
    if len(winner) == len(loser) and divergence(winner, loser) == (None, "never_part"):
        return None, "equal_trajectories"
    if not same_task:
        return None, "different_task_or_seed"
    return divergence(winner, loser)


def same_task_and_seed(first_id: int, second_id: int, using: str) -> bool:
    starts = Episode.objects.using(using).filter(pk__in=(first_id, second_id))
    return len(set(starts.values_list("task_id", "seed"))) == 1


def divergence(first: list[StepRow], second: list[StepRow]) -> tuple[int | None, str]:
    """Where two trajectories of one task and seed part: the first step whose page both saw
    alike (as every page before it) and where their actions differ. Otherwise None and why:
    `pages_differ` (a page differed first), `never_part` (equal trajectories, or one stops
    where the other goes on with the same actions)."""
    for index, (one, other) in enumerate(zip(first, second, strict=False)):
        if not same_page(one.observation, other.observation):
            return None, "pages_differ"
        if not same_action(one.action, other.action):
            return index, "aligned"
    return None, "never_part"


def same_page(one: str, other: str) -> bool:
    return one == other or json.loads(one) == json.loads(other)


def same_action(one: str, other: str) -> bool:
    """The same action, however it was spelled (`click('5')` and `click("5")`)."""
    if one == other:
        return True
    try:
        return parse_action(one) == parse_action(other)
    except ActionError:
        return False


class Stepwise(ExportKind):
    name = "stepwise"
    label_source = ("grade", "step_rating")
    also_reads = (("grade", "first_error"),)
    title = "Step labels (per-step grades, for process reward models)"
    description = (
        "TRL's stepwise-supervision columns, one row per graded step: `prompt` (text: the rules "
        "and the goal, the steps so far with what each did, the page), `completions` (the "
        "step's action) and `labels` (True where graders rated the step 0 or +1, False for -1); "
        "`ratings` keeps the -1/0/+1 value. TRL 1.16 has no PRM trainer: "
        "examples/train_prm.py trains a token-classification PRM on these rows with plain "
        "transformers (the label on the last token of each completion). "
        "A first-error judgment (`first_error` question) labels its trajectory by PRM800K's "
        "convention: the steps before the marked one True, the marked one False, later ones "
        "not at all (no rows); with none marked, every step True. Its rows have `source` "
        "`first_error` (step ratings: `step_rating`), `ratings` 1 or -1, and the marked "
        "step's row carries `error_category`. "
        "`granularity: trajectory` gives one row per graded trajectory (`completions`: each "
        "step's page and action)."
    )
    batch_rows = 50
    has_granularity = True
    schema = pa.schema(
        [
            ("prompt", pa.string()),
            ("completions", pa.list_(pa.string())),
            ("labels", pa.list_(pa.bool_())),
            ("ratings", pa.list_(pa.int32())),
            ("episode_id", pa.int64()),
            STEP_COLUMN,
            *ITEM_FIELDS,
            ("source", pa.string()),
            ("error_category", pa.string()),
        ]
    )

    def _graded(self, filters, using):
        """Each graded trajectory: item, ratings (-1/0/+1, as many as labelled steps), final
        label, steps, source, and the marked step with its error category (first errors)."""
        for item, _, answer, label, steps in labelled_answers(
            filters, using, "grade", "step_rating"
        ):
            if answer.get("ratings"):
                yield item, answer["ratings"], label, steps[item.episode_a_id], "step_rating", None
        for item, _, answer, label, steps in labelled_answers(
            filters, using, "grade", "first_error"
        ):
            # A campaign asking both rates every step already: those ratings give its rows.
            if question_of(item.campaign.schema, "step_rating") is not None:
                continue
            episode = steps[item.episode_a_id]
            labels = first_error_step_labels(answer, len(episode))
            ratings = [1 if good else -1 for good in labels if good is not None]
            marked = None
            if answer["step"] is not None:
                marked = (answer["step"], answer.get("category"))
            yield item, ratings, label, episode, "first_error", marked

    def count(self, filters, using):
        if budget_of(filters).granularity == "step":
            return sum(
                min(len(ratings), len(steps))
                for _, ratings, _, steps, *_ in self._graded(filters, using)
            )
        return sum(1 for _ in self._graded(filters, using))

    def rows(self, filters, using, counts):
        budget = budget_of(filters)
        for item, ratings, label, steps, source, marked in self._graded(filters, using):
            shown = steps[: len(ratings)]
            columns = {
                "episode_id": item.episode_a_id,
                **item_columns(item, label),
                "source": source,
            }
            if budget.granularity == "trajectory":
                yield {
                    "prompt": system_prompt(item.task.goal),
                    "completions": [
                        f"Page:\n{stored_page_text(step, budget)}\n\nAction: {step.action}"
                        for step in shown
                    ],
                    "labels": [rating >= 0 for rating in ratings[: len(shown)]],
                    "ratings": list(ratings[: len(shown)]),
                    "step": None,
                    **columns,
                    "error_category": marked[1] if marked else None,
                }
                continue
            prompts = StepPrompts(item.task.goal, steps, budget)
            for index, (step, rating) in enumerate(zip(shown, ratings, strict=False)):
                yield {
                    "prompt": prompts.text(index),
                    "completions": [step.action],
                    "labels": [rating >= 0],
                    "ratings": [rating],
                    "step": index,
                    **columns,
                    "error_category": marked[1] if marked and marked[0] == index else None,
                }

    def sequences(self, row):
        return ["\n".join([row["prompt"], *row["completions"]])]


class Unpaired(ExportKind):
    name = "unpaired"
    label_source = ("grade", "outcome_rating")
    title = "Unpaired labels (outcome grades, one decision a row)"
    description = (
        "Outcome grades as TRL's KTOTrainer reads them. A row is one decision of a graded "
        "trajectory: `prompt` (the rules and the goal, the steps so far with what each did, the "
        "page), `completion` (the action) and `label`, the trajectory's: True when its outcome "
        "rating is above the middle of its scale, so every action of a good trajectory is "
        "desirable and every action of a bad one undesirable. `score` is the rating scaled to "
        "0..1. Refused actions are left out (they stay in the history), and so is a step "
        "whose own label from the same final label says otherwise, as `stepwise` reads it (a "
        "step rated -1 in a trajectory labelled True, 0 or +1 in one labelled False, or a "
        "first error's steps): the manifest counts them (`steps_contradicting_step_labels`). "
        "`granularity: trajectory` gives one row per trajectory (`prompt` with the first page, "
        "`completion` the trajectory's turns)."
    )
    batch_rows = 50
    has_granularity = True
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("completion", pa.list_(MESSAGE)),
            ("label", pa.bool_()),
            ("score", pa.float64()),
            ("episode_id", pa.int64()),
            STEP_COLUMN,
            *ITEM_FIELDS,
        ]
    )

    def _rated(self, filters, using):
        for item, question, rating, label, steps in labelled_answers(
            filters, using, "grade", "outcome_rating"
        ):
            low, high = question["min"], question["max"]
            score = (float(rating) - low) / (high - low) if high > low else 0.0
            yield item, score, label, steps[item.episode_a_id]

    @staticmethod
    def decisions(item, score: float, label: dict, steps: list[StepRow]) -> Iterator[int]:
        """The steps that give decision rows: accepted actions whose own label, where the final
        label has one, agrees with the trajectory's."""
        good = score > 0.5
        own = step_labels(item.campaign.schema, label["answers"], len(steps))
        for index, step in enumerate(steps):
            if not step.error and own[index] in (None, good):
                yield index

    def count(self, filters, using):
        if budget_of(filters).granularity == "step":
            return sum(
                sum(1 for _ in self.decisions(*rated)) for rated in self._rated(filters, using)
            )
        return sum(1 for _ in self._rated(filters, using))

    def rows(self, filters, using, counts):
        budget = budget_of(filters)
        for item, score, label, steps in self._rated(filters, using):
            columns = {
                "label": score > 0.5,
                "score": round(score, 4),
                "episode_id": item.episode_a_id,
                **item_columns(item, label),
            }
            if budget.granularity == "trajectory":
                yield {
                    "prompt": opening(item.task.goal, steps, budget),
                    "completion": conversation(steps, budget),
                    "step": None,
                    **columns,
                }
                continue
            prompts = StepPrompts(item.task.goal, steps, budget)
            kept = list(self.decisions(item, score, label, steps))
            if contradicting := sum(1 for step in steps if not step.error) - len(kept):
                counts["steps_contradicting_step_labels"] += contradicting
            for index in kept:
                yield {
                    "prompt": prompts.messages(index),
                    "completion": [assistant(steps[index].action)],
                    "step": index,
                    **columns,
                }

    def sequences(self, row):
        return [row["prompt"] + row["completion"]]


# Tasks: what an RL run starts from.

MAX_TASK_ROWS = 100_000


class Tasks(ExportKind):
    name = "tasks"
    title = "Tasks (the rows an RL run starts from)"
    description = (
        "One row per task (a family and a seed) of a split, for GRPOTrainer's train_dataset "
        "with environments.trainers' environment_factory: the conversational `prompt` (the "
        "rules; the environment's reset adds the goal and the first page), `task_id`, "
        "`environment`, `family`, `seed`, `variant` (the UI variant the row's task is shown in, "
        "the split's variants in turn by seed) and `split`. Filtered as "
        "GET /api/v1/datasets/tasks/ is: `split` (train by default; its seeds and families: "
        "held-out families are in test only), `environments` (all by default), `families`, "
        "`seed_from` and `seed_to` "
        "(inclusive, within the split's seeds; by default its first 100). The manifest's "
        "`options.held_out` names what the split leaves out of each environment (the families "
        "and UI variants kept for test). Tasks not stored yet "
        f"are created as their rows are written; at most {MAX_TASK_ROWS:,} rows an export."
    )
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("task_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
            ("variant", pa.string()),
            ("split", pa.string()),
        ]
    )
    batch_rows = 500

    def options(self, filters):
        ranges = task_ranges(filters)
        return {
            "split": ranges[0].split,
            "environments": {rows.env_id: rows.families for rows in ranges},
            "seed_from": ranges[0].seed_from,
            "seed_to": ranges[0].seed_from + ranges[0].seeds - 1,
            "held_out": held_out_of(ranges),
        }

    def count(self, filters, using):
        return sum(len(rows) for rows in task_ranges(filters))

    def rows(self, filters, using, counts):
        for rows in task_ranges(filters):
            for start in range(0, len(rows), self.batch_rows):
                yield from rows[start : start + self.batch_rows]

    def sequences(self, row):
        return [row["prompt"]]


def task_ranges(filters: dict[str, Any]):
    """The task rows of an export of `tasks`, a range per environment (the tasks dataset's
    TaskRows, chosen by its rules), or a ServiceError naming the filter at fault."""
    from environments.engine import list_environments
    from environments.openenv.datasets import TaskRows, task_rows

    env_ids = filters.get("environments") or [env.id for env in list_environments()]
    split = filters.get("split") or "train"
    wanted = filters.get("families")
    ranges = []
    for env_id in env_ids:
        try:
            rows = task_rows(
                env_id=env_id,
                split=split,
                seed_from=filters.get("seed_from"),
                seed_to=filters.get("seed_to"),
            )
        except ServiceError as error:
            field = {"environment": "environments"}.get(error.field, error.field)
            raise ServiceError(f"{env_id}: {error.message}", field=f"filters.{field}") from None
        if wanted:
            rows = TaskRows(
                env_id=rows.env_id,
                split=split,
                families=[family for family in rows.families if family in wanted],
                seed_from=rows.seed_from,
                seed_to=rows.seed_from + rows.seeds - 1,
            )
        if rows.families:
            ranges.append(rows)
    missing = sorted(set(wanted or ()) - {f for rows in ranges for f in rows.families})
    if missing:
        raise ServiceError(
            f"the {split} split of {', '.join(env_ids)} has no task family '{missing[0]}' "
            "(held-out families are in test only)",
            field="filters.families",
        )
    total = sum(len(rows) for rows in ranges)
    if total > MAX_TASK_ROWS:
        raise ServiceError(
            f"these filters give {total:,} tasks; an export takes at most {MAX_TASK_ROWS:,} "
            "(narrow the seeds or the families)",
            field="filters.seed_to",
        )
    return ranges


def held_out_of(ranges) -> dict[str, dict[str, list[str]]]:
    """What the split of these task rows leaves out of each environment: the families and UI
    variants kept for the test split (nothing for `test` itself)."""
    held_out = {}
    for rows in ranges:
        env = get_environment(rows.env_id)
        families = [f for f in env.families if f not in split_families(env.id, rows.split)]
        variants = [v for v in VARIANTS if v not in split_variants(env.id, rows.split)]
        if families or variants:
            held_out[env.id] = {"families": families, "variants": variants}
    return held_out


def pseudonym(user_id: int) -> str:
    """A contractor's stable pseudonym: the same person, the same name, across exports; not
    reversible without the platform's secret key."""
    import hmac

    from django.conf import settings

    digest = hmac.new(settings.SECRET_KEY.encode(), f"contractor:{user_id}".encode(), "sha256")
    return "c_" + digest.hexdigest()[:16]


class Judgments(ExportKind):
    name = "judgments"
    title = "Raw judgments (audit and research)"
    description = (
        "Every judgment as submitted: the campaign and item, the contractor (pseudonymised), "
        "the answers (JSON), time spent, whether the item was gold and the gold score, and "
        "whether it arrived after its lease ran out."
    )
    schema = pa.schema(
        [
            ("judgment_id", pa.int64()),
            ("campaign_id", pa.int64()),
            ("campaign_kind", pa.string()),
            ("item_id", pa.int64()),
            ("contractor", pa.string()),
            ("answers", pa.string()),
            ("time_spent_ms", pa.int64()),
            ("is_gold", pa.bool_()),
            ("gold_score", pa.float64()),
            ("late", pa.bool_()),
            ("episode_a_id", pa.int64()),
            ("episode_b_id", pa.int64()),
            ("demonstration_episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("submitted_at", pa.string()),
        ]
    )

    def _judgments(self, filters, using):
        from labeling.models import ContractorStanding, Judgment, StandingStatus

        judgments = (
            Judgment.objects.using(using)
            .select_related("campaign", "item", "item__task")
            .order_by("pk")
        )
        if filters.get("campaigns") is not None:  # the exporter's scope: possibly empty
            judgments = judgments.filter(campaign_id__in=filters["campaigns"])
        if filters.get("exclude_gold"):
            judgments = judgments.filter(item__is_gold=False)
        if filters.get("environments"):
            judgments = judgments.filter(item__task__env_id__in=filters["environments"])
        if filters.get("exclude_paused"):
            paused = ContractorStanding.objects.using(using).filter(
                status=StandingStatus.PAUSED,
                campaign_id=OuterRef("campaign_id"),
                contractor_id=OuterRef("contractor_id"),
            )
            judgments = judgments.filter(~Exists(paused))
        return judgments

    def count(self, filters, using):
        return self._judgments(filters, using).count()

    def rows(self, filters, using, counts):
        for judgment in self._judgments(filters, using).iterator(chunk_size=2000):
            yield self.row(judgment)

    def row(self, judgment) -> dict[str, Any]:
        item = judgment.item
        return {
            "judgment_id": judgment.pk,
            "campaign_id": judgment.campaign_id,
            "campaign_kind": judgment.campaign.kind,
            "item_id": item.pk,
            "contractor": pseudonym(judgment.contractor_id),
            "answers": json.dumps(judgment.answers, sort_keys=True),
            "time_spent_ms": judgment.time_spent_ms,
            "is_gold": item.is_gold,
            "gold_score": judgment.gold_score,
            "late": judgment.late,
            "episode_a_id": item.episode_a_id,
            "episode_b_id": item.episode_b_id,
            "demonstration_episode_id": judgment.episode_id,
            "environment": item.task.env_id,
            "family": item.task.family,
            "submitted_at": iso(judgment.submitted_at),
        }


KINDS: dict[str, ExportKind] = {
    kind.name: kind
    for kind in (
        Trajectories(),
        TrajectorySteps(),
        Sft(),
        Preference(),
        Stepwise(),
        Unpaired(),
        Judgments(),
        Tasks(),
    )
}
KIND_NAMES = tuple(sorted(KINDS))
