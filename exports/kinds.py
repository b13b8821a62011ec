"""Export kinds: what a row is, its columns (a pyarrow schema, which Parquet files carry and
Hugging Face `datasets` reads), and the rows themselves, streamed in a stable order from a
database alias (the export's snapshot).

Column names follow what TRL's trainers read: `messages` (SFT), `prompt`/`chosen`/`rejected`
(preference), `prompt`/`completions`/`labels` (stepwise), `prompt`/`completion`/`label`
(unpaired).
"""

import json
from collections import Counter
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

    # Label kinds: the campaign kind and the question type their rows read final labels of.
    label_source: ClassVar[tuple[str, str] | None] = None

    def left_out(self, filters: dict[str, Any], using: str) -> dict[str, int]:
        """Labelled items that give no row, counted by reason (see LEFT_OUT_REASONS)."""
        if self.label_source is None:
            return {}
        return labels_left_out(filters, using, *self.label_source)


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
    "unanswered": "the label does not answer this question",
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
    return items


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
    return dict(sorted(counts.items()))


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
    }


def _chunks(entries: Iterator, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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


class Preference(ExportKind):
    name = "preference"
    label_source = ("compare", "preference")
    title = "Preference pairs (compare judgments)"
    description = (
        "One row per compared pair with a clear winner: `prompt` (the rules, the goal and the "
        "first page), `chosen` and `rejected` (each trajectory's turns), as TRL's reward and "
        "DPO trainers read them; the item's final label (a reviewer's, else the judges' decided "
        "majority: ties, splits and items in review are left out). "
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
        for item, _, answer, label, steps in labelled_answers(
            filters, using, "compare", "preference"
        ):
            chosen, rejected = (
                (item.episode_a_id, item.episode_b_id)
                if answer["choice"] == "A"
                else (item.episode_b_id, item.episode_a_id)
            )
            yield item, answer, label, chosen, rejected, steps

    def count(self, filters, using):
        return sum(1 for _ in self._pairs(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, answer, label, chosen, rejected, steps in self._pairs(filters, using):
            yield {
                "prompt": opening(item.task.goal, steps[chosen], mode),
                "chosen": conversation(steps[chosen], mode),
                "rejected": conversation(steps[rejected], mode),
                "strength": answer.get("strength"),
                "chosen_episode_id": chosen,
                "rejected_episode_id": rejected,
                **item_columns(item, label),
            }


class Stepwise(ExportKind):
    name = "stepwise"
    label_source = ("grade", "step_rating")
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
        for item, _, answer, label, steps in labelled_answers(
            filters, using, "grade", "step_rating"
        ):
            if answer.get("ratings"):
                yield item, answer["ratings"], label, steps[item.episode_a_id]

    def count(self, filters, using):
        return sum(1 for _ in self._graded(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, ratings, label, steps in self._graded(filters, using):
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
                **item_columns(item, label),
            }


class Unpaired(ExportKind):
    name = "unpaired"
    label_source = ("grade", "outcome_rating")
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
        for item, question, rating, label, steps in labelled_answers(
            filters, using, "grade", "outcome_rating"
        ):
            low, high = question["min"], question["max"]
            score = (float(rating) - low) / (high - low) if high > low else 0.0
            yield item, score, label, steps[item.episode_a_id]

    def count(self, filters, using):
        return sum(1 for _ in self._rated(filters, using))

    def rows(self, filters, using):
        mode = filters.get("observation_mode") or "axtree"
        for item, score, label, steps in self._rated(filters, using):
            yield {
                "prompt": opening(item.task.goal, steps, mode),
                "completion": conversation(steps, mode),
                "label": score > 0.5,
                "score": round(score, 4),
                "episode_id": item.episode_a_id,
                **item_columns(item, label),
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
