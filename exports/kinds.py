"""Export kinds: what a row is, its columns (a pyarrow schema, which Parquet files carry and
Hugging Face `datasets` reads), and the rows themselves, streamed in a stable order from a
database alias (the export's snapshot).

Column names follow what TRL's trainers read: `messages` (SFT), `prompt`/`chosen`/`rejected`
(preference), `prompt`/`completions`/`labels` (stepwise), `prompt`/`completion`/`label`
(unpaired).
"""

import json
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import pyarrow as pa
from django.db.models import Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from environments.engine.page import page_from_json
from environments.models import ActorKind, Episode, EpisodeStatus, Step
from environments.observations import render_page
from environments.policies import SYSTEM_PROMPT

# Episodes read at a time: with their steps, this bounds an export's memory.
CHUNK = 50
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
    return episodes


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
    """Each episode with its steps, a chunk of episodes at a time (flat memory)."""
    chunk: list[Episode] = []
    for episode in episodes.iterator(chunk_size=CHUNK):
        chunk.append(episode)
        if len(chunk) == CHUNK:
            yield from _with_steps(chunk, using)
            chunk = []
    if chunk:
        yield from _with_steps(chunk, using)


def _with_steps(chunk: list[Episode], using: str) -> Iterator[tuple[Episode, list[StepRow]]]:
    steps: dict[int, list[StepRow]] = {episode.pk: [] for episode in chunk}
    rows = (
        Step.objects.using(using)
        .filter(episode_id__in=steps)
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
    for row in rows.iterator(chunk_size=2000):
        steps[row[0]].append(StepRow(*row))
    for episode in chunk:
        yield episode, steps[episode.pk]


@lru_cache(maxsize=4096)
def observation_text(observation: str, mode: str) -> str:
    """A stored observation (page JSON text) rendered in `mode`. Trajectories revisit the same
    pages often (every episode of a task starts on the same one), so renderings are kept."""
    rendered = render_page(page_from_json(json.loads(observation)), mode)
    return rendered if isinstance(rendered, str) else json.dumps(rendered, sort_keys=True)


def system_prompt(goal: str) -> str:
    """The system turn of a conversation: the rules the chat policy is given, and the goal."""
    return f"{SYSTEM_PROMPT}\n\nTask: {goal}"


class ExportKind:
    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    schema: ClassVar[pa.Schema]
    # Filters this kind applies unless the export says otherwise.
    default_filters: ClassVar[dict[str, Any]] = {}
    # Rows written at a time (a Parquet row group): fewer for rows that hold whole
    # trajectories, so that memory stays flat however long the episodes are.
    batch_rows: ClassVar[int] = 2000

    def rows(self, filters: dict[str, Any], using: str) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def count(self, filters: dict[str, Any], using: str) -> int:
        """How many rows `rows` will yield (for progress)."""
        raise NotImplementedError


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

    def rows(self, filters, using):
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

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            for step in steps:
                yield {
                    "episode_id": episode.pk,
                    "environment": episode.env_id,
                    "family": episode.task.family,
                    "seed": episode.seed,
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


class Sft(ExportKind):
    name = "sft"
    title = "SFT conversations (human demonstrations)"
    description = (
        "Demonstrations as conversational `messages`: the system turn holds the rules and the "
        "goal, each user turn an observation, each assistant turn the action taken. Successful "
        "human demonstrations by default."
    )
    batch_rows = 50
    schema = pa.schema(
        [
            ("messages", pa.list_(MESSAGE)),
            ("episode_id", pa.int64()),
            ("environment", pa.string()),
            ("family", pa.string()),
            ("seed", pa.int64()),
        ]
    )
    default_filters = {"actor_kind": ActorKind.CONTRACTOR, "success": True}

    def count(self, filters, using):
        return finished_episodes(filters, using).count()

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for episode, steps in episodes_with_steps(finished_episodes(filters, using), using):
            messages = [{"role": "system", "content": system_prompt(episode.task.goal)}]
            for step in steps:
                if step.error:
                    continue
                messages.append(
                    {"role": "user", "content": observation_text(step.observation, mode)}
                )
                messages.append({"role": "assistant", "content": step.action})
            yield {
                "messages": messages,
                "episode_id": episode.pk,
                "environment": episode.env_id,
                "family": episode.task.family,
                "seed": episode.seed,
            }


# Labels: what people said about trajectories.


def labelled_items(filters: dict[str, Any], using: str, campaign_kind: str):
    """Completed, non-gold items of `campaign_kind` campaigns matching the filters, with their
    adjudication when there is one, in id order."""
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
    if filters.get("min_agreement") is not None:
        items = items.filter(consensus__gte=filters["min_agreement"])
    return items


def final_label(item, filters: dict[str, Any], using: str) -> tuple[dict[str, Any], bool]:
    """The item's label (labeling's rule: an adjudication wins over the aggregate) and whether
    a reviewer adjudicated it. With `exclude_paused`, an unadjudicated label is aggregated
    again without the judgments of contractors paused in the campaign."""
    from labeling.quality import aggregate_answers
    from labeling.selectors import item_final_label

    label = item_final_label(item=item) or {"answers": {}, "source": None}
    if label["source"] == "adjudication" or not filters.get("exclude_paused"):
        return label["answers"], label["source"] == "adjudication"
    from labeling.models import ContractorStanding, Judgment, StandingStatus

    paused = ContractorStanding.objects.using(using).filter(
        campaign_id=item.campaign_id, status=StandingStatus.PAUSED
    )
    answers = list(
        Judgment.objects.using(using)
        .filter(item=item)
        .exclude(contractor_id__in=paused.values("contractor_id"))
        .values_list("answers", flat=True)
    )
    if not answers:
        return {}, False
    return aggregate_answers(item.campaign.schema, answers)["answers"], False


def question_of(schema: list[dict], qtype: str) -> dict | None:
    return next((question for question in schema if question["type"] == qtype), None)


def episode_steps(episode_ids: list[int], using: str) -> dict[int, list[StepRow]]:
    episodes = Episode.objects.using(using).filter(pk__in=episode_ids).order_by("pk")
    return {episode.pk: steps for episode, steps in _with_steps(list(episodes), using)}


def conversation(steps: list[StepRow], mode: str) -> list[dict[str, str]]:
    """An episode's turns after its first observation: action, observation, action, ..."""
    turns: list[dict[str, str]] = []
    for index, step in enumerate(steps):
        if index:
            turns.append({"role": "user", "content": observation_text(step.observation, mode)})
        turns.append({"role": "assistant", "content": step.action})
    return turns


def opening(goal: str, steps: list[StepRow], mode: str) -> list[dict[str, str]]:
    """The system turn and the first observation: what every attempt at a task starts from."""
    prompt = [{"role": "system", "content": system_prompt(goal)}]
    if steps:
        prompt.append({"role": "user", "content": observation_text(steps[0].observation, mode)})
    return prompt


# The columns every label kind ends with: where the label came from, and its task.
ITEM_FIELDS = [
    ("agreement", pa.float64()),
    ("adjudicated", pa.bool_()),
    ("item_id", pa.int64()),
    ("campaign_id", pa.int64()),
    ("environment", pa.string()),
    ("family", pa.string()),
    ("seed", pa.int64()),
]


def item_columns(item, adjudicated: bool) -> dict[str, Any]:
    return {
        "agreement": item.consensus,
        "adjudicated": adjudicated,
        "item_id": item.pk,
        "campaign_id": item.campaign_id,
        "environment": item.task.env_id,
        "family": item.task.family,
        "seed": item.task.seed,
    }


def _chunks(items, using: str):
    chunk = []
    for item in items.iterator(chunk_size=CHUNK):
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def labelled_answers(filters: dict[str, Any], using: str, campaign_kind: str, qtype: str):
    """Each labelled item of `campaign_kind` campaigns whose final label answers the campaign's
    `qtype` question: the item, the question, the answer, whether it was adjudicated, and the
    steps of the chunk's episodes by episode id."""
    for chunk in _chunks(labelled_items(filters, using, campaign_kind), using):
        episode_ids = [i.episode_a_id for i in chunk] + [i.episode_b_id for i in chunk]
        steps = episode_steps([pk for pk in episode_ids if pk], using)
        for item in chunk:
            question = question_of(item.campaign.schema, qtype)
            if question is None:
                continue
            answers, adjudicated = final_label(item, filters, using)
            answer = answers.get(question["name"])
            if answer is not None:
                yield item, question, answer, adjudicated, steps


class Preference(ExportKind):
    name = "preference"
    title = "Preference pairs (compare judgments)"
    description = (
        "One row per compared pair with a clear winner: `prompt` (the rules, the goal and the "
        "first page), `chosen` and `rejected` (each trajectory's turns), as TRL's reward and "
        "DPO trainers read them; the adjudicated label where there is one, else the majority. "
        "`strength` is the graders' margin (1-3), `agreement` their consensus."
    )
    batch_rows = 50
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("chosen", pa.list_(MESSAGE)),
            ("rejected", pa.list_(MESSAGE)),
            ("strength", pa.int32()),
            ("chosen_episode_id", pa.int64()),
            ("rejected_episode_id", pa.int64()),
            *ITEM_FIELDS,
        ]
    )

    def _pairs(self, filters, using):
        for item, _, answer, adjudicated, steps in labelled_answers(
            filters, using, "compare", "preference"
        ):
            if answer.get("choice") not in ("A", "B"):
                continue
            chosen, rejected = (
                (item.episode_a_id, item.episode_b_id)
                if answer["choice"] == "A"
                else (item.episode_b_id, item.episode_a_id)
            )
            yield item, answer, adjudicated, chosen, rejected, steps

    def count(self, filters, using):
        return sum(1 for _ in self._pairs(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, answer, adjudicated, chosen, rejected, steps in self._pairs(filters, using):
            yield {
                "prompt": opening(item.task.goal, steps[chosen], mode),
                "chosen": conversation(steps[chosen], mode),
                "rejected": conversation(steps[rejected], mode),
                "strength": answer.get("strength"),
                "chosen_episode_id": chosen,
                "rejected_episode_id": rejected,
                **item_columns(item, adjudicated),
            }


class Stepwise(ExportKind):
    name = "stepwise"
    title = "Step labels (per-step grades, for process reward models)"
    description = (
        "One row per graded trajectory: `prompt` (the rules and the goal), `completions` (each "
        "step: the page, then the action) and `labels` (True where graders rated the step 0 or "
        "+1, False where they rated it -1), as TRL's PRM trainer reads them; `ratings` keeps "
        "the -1/0/+1 values."
    )
    batch_rows = 50
    schema = pa.schema(
        [
            ("prompt", pa.string()),
            ("completions", pa.list_(pa.string())),
            ("labels", pa.list_(pa.bool_())),
            ("ratings", pa.list_(pa.int32())),
            ("episode_id", pa.int64()),
            *ITEM_FIELDS,
        ]
    )

    def _graded(self, filters, using):
        for item, _, answer, adjudicated, steps in labelled_answers(
            filters, using, "grade", "step_rating"
        ):
            if answer.get("ratings"):
                yield item, answer["ratings"], adjudicated, steps[item.episode_a_id]

    def count(self, filters, using):
        return sum(1 for _ in self._graded(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, ratings, adjudicated, steps in self._graded(filters, using):
            shown = steps[: len(ratings)]
            yield {
                "prompt": system_prompt(item.task.goal),
                "completions": [
                    f"Page:\n{observation_text(step.observation, mode)}\n\nAction: {step.action}"
                    for step in shown
                ],
                "labels": [rating >= 0 for rating in ratings[: len(shown)]],
                "ratings": list(ratings[: len(shown)]),
                "episode_id": item.episode_a_id,
                **item_columns(item, adjudicated),
            }


class Unpaired(ExportKind):
    name = "unpaired"
    title = "Unpaired labels (outcome grades)"
    description = (
        "One row per graded trajectory: `prompt` (the rules, the goal and the first page), "
        "`completion` (the trajectory's turns) and `label` (True when the outcome rating is "
        "above the middle of its scale), as TRL's KTO trainer reads them; `score` is the "
        "rating scaled to 0..1."
    )
    batch_rows = 50
    schema = pa.schema(
        [
            ("prompt", pa.list_(MESSAGE)),
            ("completion", pa.list_(MESSAGE)),
            ("label", pa.bool_()),
            ("score", pa.float64()),
            ("episode_id", pa.int64()),
            *ITEM_FIELDS,
        ]
    )

    def _rated(self, filters, using):
        for item, question, rating, adjudicated, steps in labelled_answers(
            filters, using, "grade", "outcome_rating"
        ):
            low, high = question["min"], question["max"]
            score = (float(rating) - low) / (high - low) if high > low else 0.0
            yield item, score, adjudicated, steps[item.episode_a_id]

    def count(self, filters, using):
        return sum(1 for _ in self._rated(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, score, adjudicated, steps in self._rated(filters, using):
            yield {
                "prompt": opening(item.task.goal, steps, mode),
                "completion": conversation(steps, mode),
                "label": score > 0.5,
                "score": round(score, 4),
                "episode_id": item.episode_a_id,
                **item_columns(item, adjudicated),
            }


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

    def rows(self, filters, using):
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
    )
}
KIND_NAMES = tuple(sorted(KINDS))
