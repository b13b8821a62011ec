"""Step-level rows: a row of `sft`, `preference`, `stepwise` or `unpaired` is one decision (the
goal, a compact history and the pruned page as the prompt; the action alone as the completion),
preference pairs are aligned where the two trajectories part, and the defaults keep rows within
TRL's default context on long trajectories of every environment."""

import json
from pathlib import Path

import datasets
import pytest
from django.core.files.storage import default_storage

from environments import rollouts
from environments.engine import RandomPolicy, list_environments, run_episode
from environments.engine.prompts import REASONING_RULES, ROW_BUDGET_CHARS, STEP_RULES
from environments.models import Episode, RolloutItem
from exports import services
from rlplatform.models import JobStatus
from rlplatform.services import job_execute
from tests.conftest import signed_in
from tests.environments.fake_llm import FakeChatServer
from tests.exports.helpers import demonstrations, play_actions, solver_actions
from tests.exports.test_label_kinds import GRADE_SCHEMA, campaign_of, contractors, judge

__all__ = ["contractors"]  # the fixture, shared with the label kinds' tests

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]


def exported(user, kind: str, filters: dict | None = None, fmt: str = "jsonl"):
    export = services.export_start(kind=kind, format=fmt, filters=filters or {}, created_by=user)
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.job.status == JobStatus.SUCCEEDED, export.job.error
    path = default_storage.path(f"{export.storage_prefix}/{export.files[0]['name']}")
    loader = "json" if fmt == "jsonl" else "parquet"
    rows = datasets.load_dataset(loader, data_files=str(Path(path)), split="train")
    return rows, export.manifest


def row_chars(row: dict) -> int:
    """What a trainer reads of a row, in characters: prompt and completion together."""
    return sum(len(m["content"]) for m in row["prompt"] + row["completion"])


def test_an_sft_row_is_one_decision_with_the_goal_the_history_and_the_page(manager):
    human = demonstrations(manager)
    rows, manifest = exported(manager, "sft", {"environments": ["bank-v1"]})
    assert "messages" not in rows.column_names
    assert rows.num_rows == sum(e.steps.filter(error="").count() for e in human)

    episode = human[0]
    steps = list(episode.steps.order_by("index"))
    mine = sorted((r for r in rows if r["episode_id"] == episode.pk), key=lambda r: r["step"])
    assert [r["step"] for r in mine] == list(range(len(steps)))
    for row, step in zip(mine, steps, strict=True):
        system, user = row["prompt"]
        assert system["role"] == "system" and system["content"].startswith(STEP_RULES)
        assert episode.task.goal in system["content"]
        assert user["role"] == "user" and "Current page:" in user["content"]
        # The completion is the action and nothing else: no page text is trained on.
        assert row["completion"] == [{"role": "assistant", "content": step.action}]

    first, third = mine[0]["prompt"][1]["content"], mine[2]["prompt"][1]["content"]
    assert "Previous steps: none" in first
    # Earlier actions, each with what it did: the page it led to.
    assert f"1. {steps[0].action} -> " in third and f"2. {steps[1].action} -> " in third
    second_page = steps[1].observation
    assert f"{second_page['title']} ({second_page['url']})" in third or "same page" in third

    assert manifest["options"] == {
        "granularity": "step",
        "observation_mode": "pruned",
        "max_observation_chars": 1800,
        "history": "actions",
    }
    assert manifest["row_lengths"]["chars"]["max"] == max(map(row_chars, rows))
    assert manifest["row_lengths"]["within_budget_chars"] == 1.0

    whole, _ = exported(manager, "sft", {"granularity": "trajectory"})
    # Whole conversations keep the reasoning rules (the chat policy's for general models).
    assert whole[0]["messages"][0]["content"].startswith(REASONING_RULES)


def test_history_none_and_last_pages_change_only_the_prompt(manager):
    demonstrations(manager)
    plain, _ = exported(manager, "sft", {"history": "none"})
    paged, manifest = exported(manager, "sft", {"history": "last_pages:2"})
    assert manifest["options"]["history"] == "last_pages:2"
    later = next(r for r in plain if r["step"] == 4)
    assert later["prompt"][1]["content"].startswith("Current page:")
    same = next(r for r in paged if r["step"] == 4 and r["episode_id"] == later["episode_id"])
    assert same["completion"] == later["completion"]
    user = same["prompt"][1]["content"]
    assert user.count("Page at step") == 2 and "Page at step 4:" in user
    assert "1. " in user and "Page at step 1:" not in user


def test_trajectory_granularity_gives_a_conversation_per_demonstration(manager):
    human = demonstrations(manager)
    rows, manifest = exported(manager, "sft", {"granularity": "trajectory"})
    assert sorted(rows["episode_id"]) == sorted(e.pk for e in human)
    assert manifest["options"]["granularity"] == "trajectory"
    messages = rows[0]["messages"]
    episode = Episode.objects.get(pk=rows[0]["episode_id"])
    assert [m["content"] for m in messages[2::2]] == list(
        episode.steps.order_by("index").values_list("action", flat=True)
    )


# Preference pairs


def compare_pairs(manager, contractors, pairs: list[tuple[Episode, Episode]]):
    """A compare campaign over these pairs; both contractors prefer A every time."""
    from labeling import services as labeling

    campaign = campaign_of(
        manager, "compare", {"episode_a": pairs[0][0].pk, "episode_b": pairs[0][1].pk}
    )
    if len(pairs) > 1:
        labeling.items_add(
            campaign=campaign,
            added_by=manager,
            entries=[{"episode_a": a.pk, "episode_b": b.pk} for a, b in pairs[1:]],
        )
    for contractor in contractors:
        for _ in pairs:
            judge(campaign, contractor, lambda item: {"preference": {"choice": "A", "strength": 2}})


def test_preference_pairs_are_aligned_where_the_trajectories_part(manager, contractors):
    # The bank's statement question: six steps, the last one the answer.
    solver = solver_actions("bank-v1", "statement_balance", 3)
    last = len(solver) - 1
    variants = {
        0: ["noop()", *solver],
        3: [*solver[:3], "noop()", *solver[3:]],
        last: [*solver[:-1], "send_msg_to_user('The closing balance was $1.00.')"],
    }

    def play(actions):
        return play_actions(
            user=manager, env_id="bank-v1", family="statement_balance", seed=3, actions=actions
        )

    pairs = [(play(solver), play(actions)) for actions in variants.values()]
    pairs.append((play(solver), play(solver)))  # equal trajectories: no row
    pairs.append((play(solver), play(solver[:-1])))  # one stops early: no decision row
    compare_pairs(manager, contractors, pairs)

    rows, manifest = exported(manager, "preference")
    by_chosen = {row["chosen_episode_id"]: row for row in rows}
    for (chosen, rejected), (part, actions) in zip(pairs, variants.items(), strict=False):
        row = by_chosen[chosen.pk]
        assert row["aligned"] is True and row["step"] == part
        assert row["rejected_episode_id"] == rejected.pk
        assert row["chosen"] == [{"role": "assistant", "content": solver[part]}]
        assert row["rejected"] == [{"role": "assistant", "content": actions[part]}]
        user = row["prompt"][1]["content"]
        # The shared prefix: every step before the parting, none after it.
        for index in range(part):
            assert f"{index + 1}. {solver[index]} -> " in user
        assert f"{part + 1}. " not in user
    # The prompt is what the chosen trajectory's own step row shows at that step.
    sft, _ = exported(manager, "sft", {"actor_kind": "agent", "success": None})
    middle = by_chosen[pairs[1][0].pk]
    step_row = next(r for r in sft if r["episode_id"] == pairs[1][0].pk and r["step"] == 3)
    assert middle["prompt"] == step_row["prompt"]

    # Chosen would be rejected, or the completions would carry pages: the manifest says why
    # those pairs gave no row.
    assert rows.num_rows == 3 and manifest["counts"] == {"pairs_aligned": 3}
    assert {reason: n["items"] for reason, n in manifest["left_out"].items()} == {
        "equal_trajectories": 1,
        "never_part": 1,
    }

    whole, manifest = exported(manager, "preference", {"granularity": "trajectory"})
    assert whole.num_rows == 4 and not any(whole["aligned"]) and manifest["counts"] == {}
    assert pairs[3][0].pk not in whole["chosen_episode_id"]
    assert list(manifest["left_out"]) == ["equal_trajectories"]


# Step labels and unpaired labels


def test_grades_give_a_step_label_row_and_an_unpaired_row_per_decision(manager, contractors):
    episode = play_actions(
        user=manager,
        env_id="bank-v1",
        family="transfer_funds",
        seed=3,
        actions=solver_actions("bank-v1", "transfer_funds", 3),
    )
    campaign = campaign_of(manager, "grade", {"episode": episode.pk}, GRADE_SCHEMA)
    steps = episode.step_count
    ratings = [1] * (steps - 1) + [-1]
    for contractor in contractors:
        judge(campaign, contractor, lambda item: {"steps": {"ratings": ratings}, "outcome": 5})

    stepwise, manifest = exported(manager, "stepwise")
    assert stepwise.num_rows == steps
    rows = sorted(stepwise, key=lambda r: r["step"])
    actions = list(episode.steps.order_by("index").values_list("action", flat=True))
    assert [r["completions"] for r in rows] == [[action] for action in actions]
    assert [r["labels"] for r in rows] == [[True]] * (steps - 1) + [[False]]
    assert rows[-1]["ratings"] == [-1]
    assert rows[2]["prompt"].startswith(STEP_RULES) and "Current page:" in rows[2]["prompt"]
    assert f"2. {actions[1]} -> " in rows[2]["prompt"]
    assert manifest["row_lengths"]["within_budget_chars"] == 1.0

    unpaired, manifest = exported(manager, "unpaired")
    # The last step, rated -1 in a trajectory whose outcome is good, is in no unpaired row.
    assert sorted(unpaired["step"]) == list(range(steps - 1))
    assert manifest["counts"] == {"steps_contradicting_step_labels": 1}
    assert set(unpaired["label"]) == {True} and set(unpaired["score"]) == {1.0}
    row = next(r for r in unpaired if r["step"] == 2)
    assert row["completion"] == [{"role": "assistant", "content": actions[2]}]
    # One prompt, as messages (unpaired) or as text (stepwise).
    system, user = row["prompt"]
    assert rows[2]["prompt"] == f"{system['content']}\n\n{user['content']}"


# The budget


def long_episodes(manager) -> list[Episode]:
    """Every family of every environment by its solver, and long random runs of each
    environment (up to the task's step limit)."""
    played = []
    for env in list_environments():
        env_id = env.id
        for family in env.families:
            played.append(
                play_actions(
                    user=manager,
                    env_id=env_id,
                    family=family,
                    seed=5,
                    actions=solver_actions(env_id, family, 5),
                    actor_kind="contractor",
                )
            )
        for family in list(env.families)[:2]:
            task = env.make_task(family, 6)
            actions = run_episode(env, task, RandomPolicy(6))[1]
            played.append(
                play_actions(
                    user=manager,
                    env_id=env_id,
                    family=family,
                    seed=6,
                    actions=actions,
                    actor_kind="contractor",
                )
            )
    return played


def test_the_default_budget_holds_on_long_trajectories_of_every_environment(manager):
    played = long_episodes(manager)
    assert max(e.step_count for e in played) >= 30
    rows, manifest = exported(manager, "sft", {"success": None})
    assert rows.num_rows == sum(e.steps.filter(error="").count() for e in played)
    assert set(rows["environment"]) == {env.id for env in list_environments()}
    lengths = [row_chars(row) for row in rows]
    within = sum(length <= ROW_BUDGET_CHARS for length in lengths) / len(lengths)
    assert within >= 0.95
    assert manifest["row_lengths"]["within_budget_chars"] == round(within, 4)
    assert manifest["row_lengths"]["chars"]["max"] == max(lengths)
    # A long run's late steps show the most recent steps, and say how many earlier ones are not.
    late = max(rows, key=lambda row: row["step"])
    user = late["prompt"][1]["content"]
    assert "earlier steps not shown)" in user and f"\n{late['step']}. " in user
    # The whole-trajectory rows of the same episodes are what does not fit.
    whole, _ = exported(manager, "sft", {"success": None, "granularity": "trajectory"})
    assert max(sum(len(m["content"]) for m in row["messages"]) for row in whole) > 3 * (
        ROW_BUDGET_CHARS
    )


# Options


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"granularity": "decision"}, "filters.granularity"),
        ({"history": "last_pages:0"}, "filters.history"),
        ({"history": "last_pages:99"}, "filters.history"),
        ({"history": "everything"}, "filters.history"),
        ({"max_observation_chars": 10}, "filters.max_observation_chars"),
        ({"max_observation_chars": "many"}, "filters.max_observation_chars"),
        ({"observation_mode": "html"}, "filters.observation_mode"),
        (
            {"granularity": "trajectory", "observation_mode": "json", "max_observation_chars": 500},
            "filters.max_observation_chars",
        ),
        ({"tokenizer": "../../etc"}, "filters.tokenizer"),
        ({"tokenizer": "not-there"}, "filters.tokenizer"),
        ({"tokenizer": "bad\x00name"}, "filters.tokenizer"),
    ],
)
def test_bad_row_options_are_refused_naming_the_field(manager, filters, field):
    response = signed_in(manager).post(
        "/api/v1/exports/", {"kind": "sft", "filters": filters}, format="json"
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert field in error["message"] or field in error.get("fields", {}), error


def test_whole_pages_in_trajectory_rows_take_any_mode(manager):
    demonstrations(manager)
    rows, _ = exported(
        manager, "sft", {"granularity": "trajectory", "observation_mode": "json"}, fmt="parquet"
    )
    page = json.loads(rows[0]["messages"][1]["content"])
    assert {"title", "url", "elements"} <= set(page)


def test_the_exports_page_starts_whole_trajectory_rows_when_asked(manager):
    from exports.models import Export

    response = signed_in(manager).post(
        "/exports/", {"kind": "preference", "format": "jsonl", "granularity": "trajectory"}
    )
    assert response.status_code == 302
    assert Export.objects.get().filters == {"granularity": "trajectory"}


def test_diff_rows_show_what_changed_since_the_page_before(manager):
    demonstrations(manager)
    rows, manifest = exported(manager, "sft", {"observation_mode": "diff"})
    assert manifest["options"]["observation_mode"] == "diff"
    pages = [row["prompt"][1]["content"].split("Current page:\n", 1)[1] for row in rows]
    # The first step and a step on a new page show the page; a step on the same page its diff.
    assert any(page.startswith("diff of page") for page in pages)
    assert all(
        page.startswith("page ") for page, row in zip(pages, rows, strict=True) if row["step"] == 0
    )


# What a model is trained on is what it is asked when it acts.


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"observation_mode": "diff", "max_observation_chars": 600, "variants": ["wording"]},
        {"history": "last_pages:2"},
        {"history": "none"},
    ],
)
def test_a_chat_policy_is_asked_exactly_the_prompts_of_its_episodes_step_rows(manager, spec):
    # A long episode (the history is cut to its most recent steps), with a refused action and a
    # reply that is no action, both recorded as failed steps.
    solver = solver_actions("tickets-v1", "buy_adjacent", 4)
    replies = ["Let me look around.\nclick('9999')", "I am not sure what to do.", *solver]
    with FakeChatServer(replies) as server:
        job = rollouts.rollout_start(
            spec={
                "environments": ["tickets-v1"],
                "families": ["buy_adjacent"],
                "seeds": [4],
                "policy": {
                    "kind": "chat",
                    "base_url": server.url,
                    "model": "tuned",
                    **({"history": spec["history"]} if "history" in spec else {}),
                },
                **{key: value for key, value in spec.items() if key != "history"},
            },
            user=manager,
        )
        rollouts.rollout_item_run(item_id=RolloutItem.objects.get(job=job).pk)
    episode = Episode.objects.get(rollout_item__job=job)
    asked = [request["body"]["messages"] for request in server.requests]
    assert episode.success and episode.step_count == len(asked)

    options = {
        key: spec[key]
        for key in ("observation_mode", "max_observation_chars", "history")
        if key in spec
    }
    rows, manifest = exported(manager, "sft", {"actor_kind": "agent", **options})
    assert manifest["options"]["observation_mode"] == episode.observation_mode
    assert manifest["options"]["max_observation_chars"] == episode.max_observation_chars
    assert sorted(rows["step"]) == list(range(2, len(asked)))
    for row in rows:
        assert row["prompt"] == asked[row["step"]]
    histories = "\n".join(messages[1]["content"] for messages in asked)
    if spec.get("history") == "none":
        assert "Previous steps" not in histories
        return
    if spec.get("history") == "last_pages:2":
        assert "Page at step 2:" in histories
    # The history as the model saw it: the refusals, and on long pages only the latest steps.
    assert "1. click('9999') -> refused: unknown_bid" in histories
    assert "2. I am not sure what to do. -> refused: malformed_action" in histories
    assert "earlier steps not shown" in histories
