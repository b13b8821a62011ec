"""Reward modes and observation modes through the agent API: chosen when an episode starts,
recorded on it, and the same in every response that reports it."""

import pytest

from environments.engine import get_environment, run_episode
from environments.engine.observe import page_diff, page_to_pruned
from environments.engine.page import page_from_json
from environments.engine.rewards import reward_rubric
from environments.engine.splits import environment_splits
from environments.models import Episode, Step
from environments.services import episode_state
from tests.conftest import key_client
from tests.environments.helpers import solver_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(admin_user):
    return key_client(scopes=["agent"])


def start(client, **body):
    response = client.post("/api/v1/episodes/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def step(client, episode_id: int, action: str, **options) -> dict:
    response = client.post(
        f"/api/v1/episodes/{episode_id}/step/", {"action": action, **options}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def solve(client, body: dict, stop_after: int | None = None) -> list[dict]:
    """Step the scripted solver through the API (at most `stop_after` steps)."""
    episode = Episode.objects.get(pk=body["id"])
    env, solver, task = solver_for(episode.task)
    page = env.render(episode_state(episode))
    results = []
    while stop_after is None or len(results) < stop_after:
        result = step(client, episode.pk, solver.act(task, page), observation_mode="json")
        results.append(result)
        if result["terminated"] or result["truncated"]:
            break
        page = page_from_json(result["observation"]["content"])
    return results


def test_the_settings_are_recorded_on_the_episode(agent):
    body = start(
        agent,
        environment="bank-v1",
        family="pay_bill",
        seed=4,
        reward_mode="progress",
        observation_mode="pruned",
        max_observation_chars=300,
    )
    assert (body["reward_mode"], body["observation_mode"], body["max_observation_chars"]) == (
        "progress",
        "pruned",
        300,
    )
    episode = Episode.objects.get(pk=body["id"])
    assert (episode.reward_mode, episode.observation_mode, episode.max_observation_chars) == (
        "progress",
        "pruned",
        300,
    )
    page = get_environment("bank").render(episode_state(episode))
    content = body["observation"]["content"]
    assert body["observation"]["mode"] == "pruned" and len(content) <= 300
    assert page_to_pruned(page).startswith(content.rsplit("\n", 1)[0])
    # Left out, the defaults: sparse reward, the whole accessibility tree.
    plain = start(agent, environment="bank-v1", family="pay_bill", seed=4)
    assert (plain["reward_mode"], plain["observation_mode"], plain["max_observation_chars"]) == (
        "sparse",
        "axtree",
        None,
    )


def test_a_diff_episode_shows_what_each_step_changed(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=4, observation_mode="diff")
    episode = Episode.objects.get(pk=body["id"])
    before = get_environment("bank").render(episode_state(episode))
    assert body["observation"]["content"] == page_to_pruned(before)
    result = step(agent, episode.pk, "fill('1', 'someone')")
    episode.refresh_from_db()
    after = get_environment("bank").render(episode_state(episode))
    assert result["observation"]["mode"] == "diff"
    assert result["observation"]["content"] == page_diff(before, after)
    assert "~ [1] textbox" in result["observation"]["content"]
    # A response may ask for another rendering; the episode keeps its own.
    axtree = step(agent, episode.pk, "noop()", observation_mode="axtree")
    assert axtree["observation"]["content"].startswith("page '")
    assert step(agent, episode.pk, "noop()")["observation"]["content"].endswith(
        "nothing changed since the last observation"
    )
    # Read back, each step's observation is the diff the actor was shown.
    steps = agent.get(f"/api/v1/episodes/{episode.pk}/?observations=diff").json()["steps"]
    assert steps[0]["observation"] == page_to_pruned(before)
    assert "~ [1] textbox" in steps[1]["observation"]


def test_a_solved_episode_returns_one_in_every_reward_mode(agent):
    for mode in ("sparse", "partial", "progress"):
        body = start(agent, environment="bank-v1", family="card_controls", seed=3, reward_mode=mode)
        results = solve(agent, body)
        assert results[-1]["terminated"] and results[-1]["outcome"]["success"]
        assert sum(result["reward"] for result in results) == 1.0
        episode = Episode.objects.get(pk=body["id"])
        assert episode.reward == 1.0
        assert list(Step.objects.filter(episode=episode).values_list("reward", flat=True)) == [
            result["reward"] for result in results
        ]
        if mode == "progress":
            assert sorted(episode.paid_checks) == ["card_limit", "card_status"]


def card_toggle() -> tuple[int, int]:
    """A card_controls seed whose solver freezes or unfreezes the card (one check) before it
    changes a limit (the other), and the index of that action."""
    env = get_environment("bank")
    for seed in range(50):
        _, actions, _ = run_episode(env, env.make_task("card_controls", seed), env.solver())
        for index, action in enumerate(actions):
            if action.startswith(("check(", "uncheck(")):
                return seed, index
    raise AssertionError("no card_controls seed toggles the card")


def test_a_half_done_episode_earns_partial_and_progress_credit(agent):
    seed, toggled = card_toggle()
    rubric = reward_rubric("bank-v1", "card_controls")
    returns = {}
    for mode in ("sparse", "partial", "progress"):
        body = start(
            agent, environment="bank-v1", family="card_controls", seed=seed, reward_mode=mode
        )
        results = solve(agent, body, stop_after=toggled + 1)
        abandoned = agent.post(f"/api/v1/episodes/{body['id']}/abandon/").json()
        returns[mode] = (sum(result["reward"] for result in results), abandoned["reward"])
    # Step rewards so far, and the episode's return once abandoned.
    assert returns["sparse"] == (0.0, 0.0)
    assert returns["partial"] == (0.0, 0.5)
    paid = rubric.progress_amounts["card_status"]
    assert returns["progress"] == (paid, paid)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"reward_mode": "dense"}, "reward_mode"),
        ({"observation_mode": "screenshot"}, "observation_mode"),
        ({"max_observation_chars": 5}, "max_observation_chars"),
        ({"max_observation_chars": "lots"}, "max_observation_chars"),
        ({"observation_mode": "json", "max_observation_chars": 500}, "max_observation_chars"),
    ],
)
def test_bad_settings_are_400s_naming_the_field(agent, options, field):
    spec = {"environment": "bank-v1", "family": "pay_bill", "seed": 1}
    response = agent.post("/api/v1/episodes/", {**spec, **options}, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]
    response = agent.post(
        "/api/v1/episodes/batch-create/", {"episodes": [spec], **options}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["message"]
    assert not Episode.objects.exists()
    body = start(agent, **spec)
    if "reward_mode" not in options:
        response = agent.post(
            f"/api/v1/episodes/{body['id']}/step/", {"action": "noop()", **options}, format="json"
        )
        assert response.status_code == 400
        assert field in response.json()["error"]["message"]
        assert not Step.objects.exists()


def test_a_step_cannot_change_the_episodes_reward_mode(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=1, reward_mode="partial")
    response = agent.post(
        f"/api/v1/episodes/{body['id']}/step/",
        {"action": "noop()", "reward_mode": "progress"},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (
        "reward_mode" in error["fields"]
        and "started with reward_mode 'partial'" in error["message"]
    )
    assert not Step.objects.exists()
    assert step(agent, body["id"], "noop()", reward_mode="partial")["step"] == 0


def test_batches_start_and_step_with_the_same_settings(agent):
    response = agent.post(
        "/api/v1/episodes/batch-create/",
        {
            "episodes": [
                {"environment": "tickets-v1", "family": "buy_tickets", "seed": seed}
                for seed in (1, 2)
            ],
            "reward_mode": "progress",
            "observation_mode": "diff",
            "max_observation_chars": 800,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    started = response.json()["results"]
    for body in started:
        assert body["reward_mode"] == "progress" and body["observation_mode"] == "diff"
        assert len(body["observation"]["content"]) <= 800
    stepped = agent.post(
        "/api/v1/episodes/batch-step/",
        {"steps": [{"episode": body["id"], "action": "noop()"} for body in started]},
        format="json",
    ).json()["results"]
    for result in stepped:
        assert result["observation"]["mode"] == "diff"
        assert result["observation"]["content"].endswith(
            "nothing changed since the last observation"
        )
    refused = agent.post(
        "/api/v1/episodes/batch-step/",
        {
            "steps": [{"episode": started[0]["id"], "action": "noop()"}],
            "reward_mode": "sparse",
        },
        format="json",
    ).json()["results"]
    assert "reward_mode" in refused[0]["error"]["message"]


def test_an_environment_publishes_its_splits(agent):
    body = agent.get("/api/v1/environments/bank-v1/").json()
    assert body["splits"] == environment_splits("bank-v1")
    assert "statement_balance" not in body["splits"]["splits"]["train"]["families"]
    assert body["splits"]["splits"]["test"]["seed_from"] == 2_000_000
