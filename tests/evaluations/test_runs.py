"""Evaluations played by a real Celery worker: the scripted solver, the random policy's
attempts, and a chat model (a fake OpenAI-compatible server). Every report is checked against
the episodes the run recorded."""

import math
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from environments.engine import get_environment
from environments.engine.observe import observe
from environments.engine.splits import split_seed_range
from environments.engine.variants import VARIANTS
from environments.models import Episode
from evaluations.metrics import wilson_interval
from evaluations.models import Evaluation
from tests.conftest import signed_in, wait_for
from tests.environments.fake_llm import FakeChatServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def finished(evaluation_id: int, timeout: float = 120) -> Evaluation:
    def done():
        evaluation = Evaluation.objects.select_related("job").get(pk=evaluation_id)
        return evaluation if evaluation.job.is_finished else None

    return wait_for(done, timeout=timeout, message=f"evaluation {evaluation_id} to finish")


def start(client, **fields) -> int:
    response = client.post("/api/v1/evaluations/", fields, format="json")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def figures_from_episodes(evaluation: Evaluation) -> dict:
    """The report's figures worked out again, independently, from the episode rows."""
    episodes = Episode.objects.filter(rollout_item__job=evaluation.job)
    k = evaluation.attempts
    per_task = defaultdict(list)
    for family, seed, variant, success in episodes.values_list(
        "task__family", "seed", "variant", "success"
    ):
        per_task[family, seed, variant].append(bool(success))
    count = episodes.count()
    successes = episodes.filter(success=True).count()
    return {
        "episodes": count,
        "successes": successes,
        "success_rate": successes / count,
        "success_interval": list(wilson_interval(successes, count)),
        "pass_at_k": sum(
            1 - math.comb(len(r) - sum(r), k) / math.comb(len(r), k) for r in per_task.values()
        )
        / len(per_task),
        "pass_hat_k": sum(math.comb(sum(r), k) / math.comb(len(r), k) for r in per_task.values())
        / len(per_task),
        "mean_reward": sum(episodes.values_list("reward", flat=True)) / count,
        "mean_steps": sum(episodes.values_list("step_count", flat=True)) / count,
    }


def assert_report_matches_episodes(evaluation: Evaluation) -> None:
    overall = evaluation.report["overall"]
    expected = figures_from_episodes(evaluation)
    k = str(evaluation.attempts)
    assert overall["episodes"] == expected["episodes"]
    assert overall["successes"] == expected["successes"]
    assert overall["success_rate"] == pytest.approx(expected["success_rate"])
    assert overall["success_interval"] == pytest.approx(expected["success_interval"])
    assert overall["pass_at_k"][k] == pytest.approx(expected["pass_at_k"])
    assert overall["pass_hat_k"][k] == pytest.approx(expected["pass_hat_k"])
    assert overall["mean_reward"] == pytest.approx(expected["mean_reward"])
    assert overall["mean_steps"] == pytest.approx(expected["mean_steps"])


def test_a_scripted_evaluation_plays_every_planned_attempt_and_reports_them(
    celery_worker_process, manager
):
    evaluation_id = start(
        signed_in(manager),
        environment="bank-v1",
        split="test",
        families=["pay_bill", "statement_balance"],
        tasks_per_family=2,
        attempts=2,
        policy={"kind": "scripted"},
        concurrency=4,
        variants=["default"],
    )
    evaluation = finished(evaluation_id)
    assert evaluation.job.status == "succeeded", evaluation.job.error
    assert evaluation.status_words == "Finished"
    episodes = Episode.objects.filter(rollout_item__job=evaluation.job)
    seeds = list(split_seed_range("test", env_id="bank-v1")[:2])
    assert sorted(episodes.values_list("task__family", "seed", "metadata__attempt")) == sorted(
        (family, seed, attempt)
        for family in ("pay_bill", "statement_balance")
        for seed in seeds
        for attempt in (0, 1)
    )
    assert set(episodes.values_list("source", flat=True)) == {"evaluation"}
    assert_report_matches_episodes(evaluation)
    families = {row["family"]: row for row in evaluation.report["families"]}
    assert list(families) == ["pay_bill", "statement_balance"]
    for family, row in families.items():
        mine = episodes.filter(task__family=family)
        assert row["episodes"] == mine.count() == 4
        assert row["tasks"] == 2
        assert row["successes"] == mine.filter(success=True).count()
    assert evaluation.report["overall"]["errors"] == 0
    assert evaluation.finished_at is not None


def test_a_test_split_evaluation_reports_seen_and_held_out_variants_apart(
    celery_worker_process, manager
):
    evaluation_id = start(
        signed_in(manager),
        environment="bank-v1",
        split="test",
        families=["pay_bill"],
        tasks_per_family=1,
        policy={"kind": "scripted"},
    )
    evaluation = finished(evaluation_id)
    assert evaluation.job.status == "succeeded", evaluation.job.error
    episodes = Episode.objects.filter(rollout_item__job=evaluation.job)
    played = sorted(episodes.values_list("variant", flat=True))
    assert played == sorted(VARIANTS)  # the test split renders every variant, held-out too
    assert_report_matches_episodes(evaluation)
    heldout = set(get_environment("bank-v1").heldout_variants)
    assert heldout
    rows = {row["variant"]: row for row in evaluation.report["variants"]}
    assert set(rows) == set(VARIANTS)
    for variant, row in rows.items():
        mine = episodes.filter(variant=variant)
        assert row["heldout"] == (variant in heldout)
        assert (row["episodes"], row["successes"]) == (1, mine.filter(success=True).count())
    overall = evaluation.report["overall"]
    unseen = episodes.filter(variant__in=heldout)
    assert overall["unseen"]["episodes"] == unseen.count()
    assert overall["unseen"]["successes"] == unseen.filter(success=True).count()
    assert overall["seen"]["episodes"] == episodes.exclude(variant__in=heldout).count()
    (family,) = evaluation.report["families"]
    assert family["unseen"]["episodes"] == unseen.count()
    page = signed_in(manager).get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert "Success on held-out variants" in page and "held out" in page
    api = signed_in(manager).get(f"/api/v1/evaluations/{evaluation.pk}/").json()
    assert api["report"]["overall"]["unseen"] == overall["unseen"]


def test_a_train_evaluation_cannot_ask_for_a_held_out_variant(manager):
    response = signed_in(manager).post(
        "/api/v1/evaluations/",
        {
            "environment": "bank-v1",
            "split": "train",
            "policy": {"kind": "scripted"},
            "variants": ["mixed"],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "variants" in response.json()["error"]["fields"], response.json()
    assert not Evaluation.objects.exists()


def test_the_random_policy_acts_differently_on_each_attempt_at_a_task(
    celery_worker_process, manager
):
    evaluation_id = start(
        signed_in(manager),
        environment="bank-v1",
        split="validation",
        families=["cancel_payment"],
        tasks_per_family=1,
        attempts=3,
        policy={"kind": "random", "seed": 4},
        variants=["default"],
    )
    evaluation = finished(evaluation_id)
    assert evaluation.job.status == "succeeded", evaluation.job.error
    trajectories = [
        tuple(episode.steps.order_by("index").values_list("action", flat=True))
        for episode in Episode.objects.filter(rollout_item__job=evaluation.job)
    ]
    assert len(trajectories) == 3
    assert len(set(trajectories)) == 3
    assert_report_matches_episodes(evaluation)


def test_a_chat_model_is_evaluated_and_its_report_counts_its_episodes(
    celery_worker_process, manager
):
    seeds = list(split_seed_range("test", env_id="bank-v1")[:2])
    family = get_environment("bank-v1").families["largest_purchase"]
    right = [
        "send_msg_to_user('It was ${:.2f}')".format(
            family.make_task(seed).params["amount_cents"] / 100
        )
        for seed in seeds
    ]
    wrong = "I think it is done.\nsend_msg_to_user('$0.01')"
    # One episode at a time, in plan order: task 1 right then wrong, task 2 wrong twice.
    with FakeChatServer([f"Found it.\n{right[0]}", wrong, wrong, wrong]) as server:
        evaluation_id = start(
            signed_in(manager),
            environment="bank-v1",
            split="test",
            families=["largest_purchase"],
            tasks_per_family=2,
            attempts=2,
            concurrency=1,
            reward_mode="partial",
            observation_mode="pruned",
            max_observation_chars=3000,
            variants=["default"],
            policy={
                "kind": "chat",
                "base_url": server.url,
                "model": "tiny-test",
                "api_key": "sk-eval-secret",
            },
        )
        evaluation = finished(evaluation_id)
    assert evaluation.job.status == "succeeded", evaluation.job.error
    assert len(server.requests) == 4
    assert {request["auth"] for request in server.requests} == {"Bearer sk-eval-secret"}
    # The model was shown the first page pruned, within the budget.
    env = get_environment("bank-v1")
    first_page = env.render(env.reset(seeds[0], family.make_task(seeds[0])))
    shown = observe(first_page, "pruned", max_chars=3000)
    assert shown in server.requests[0]["body"]["messages"][-1]["content"]
    assert "sk-eval-secret" not in str(Evaluation.objects.filter(pk=evaluation.pk).values().get())
    episodes = Episode.objects.filter(rollout_item__job=evaluation.job).order_by(
        "rollout_item__index"
    )
    assert list(episodes.values_list("seed", "success")) == [
        (seeds[0], True),
        (seeds[0], False),
        (seeds[1], False),
        (seeds[1], False),
    ]
    assert set(
        episodes.values_list("reward_mode", "observation_mode", "max_observation_chars")
    ) == {("partial", "pruned", 3000)}
    assert (evaluation.reward_mode, evaluation.observation_mode) == ("partial", "pruned")
    assert_report_matches_episodes(evaluation)
    overall = evaluation.report["overall"]
    # By hand: 1 success in 4; pass@2 = (1 + 0) / 2; pass^2 = (0 + 0) / 2.
    assert overall["success_rate"] == 0.25
    assert overall["pass_at_k"] == {"1": 0.25, "2": 0.5}
    assert overall["pass_hat_k"] == {"1": 0.25, "2": 0.0}
    assert overall["mean_steps"] == 1


def test_the_evaluate_command_prints_a_report_that_counts_tasks_in_each_variant(
    celery_worker_process, admin_user
):
    out = StringIO()
    call_command(
        "evaluate", "bank-v1", "--split", "train", "--families", "pay_bill",
        "--tasks-per-family", "1", "--variants", "default,wording", "-k", "2",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "scripted on bank-v1, train split, 1 task per family in 2 UI variants "
        "(default, wording) x 2 attempts"
    )
    tasks, episodes = lines[2].split()[1:3]
    assert lines[2].startswith("pay_bill") and (tasks, episodes) == ("2", "4")
