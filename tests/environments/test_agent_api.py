"""The agent API: list environments, start episodes, step them one by one or in batches,
read them back; every refusal is a JSON 4xx and leaves the episode as it was."""

import json

import pytest

from environments.engine import get_environment
from environments.engine.page import page_from_json, page_to_axtree
from environments.models import Episode, EpisodeStatus, Step
from environments.services import episode_state
from tests.conftest import key_client, signed_in
from tests.environments.helpers import solver_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(admin_user):
    return key_client(scopes=["agent"])


def start(client, **body):
    response = client.post("/api/v1/episodes/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_environments_are_listed_with_their_families(agent):
    body = agent.get("/api/v1/environments/").json()
    ids = [env["id"] for env in body["results"]]
    assert "bank-v1" in ids
    bank = next(env for env in body["results"] if env["id"] == "bank-v1")
    assert len(bank["families"]) >= 6
    assert all(family["description"] for family in bank["families"])


def test_an_episode_starts_from_environment_family_and_seed_with_an_axtree(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=11)
    assert body["status"] == "running"
    assert body["task"]["seed"] == 11
    observation = body["observation"]
    assert observation["mode"] == "axtree"
    assert observation["goal"] == body["task"]["goal"]
    assert "[1]" in observation["content"]


def test_the_same_task_and_seed_start_in_the_same_state(agent):
    first = start(agent, environment="bank-v1", family="transfer_funds", seed=5)
    second = start(agent, task=first["task"]["id"], observation_mode="json")
    assert second["task"]["id"] == first["task"]["id"]
    assert episode_state(Episode.objects.get(pk=first["id"])) == episode_state(
        Episode.objects.get(pk=second["id"])
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"environment": "nope-v1", "family": "pay_bill", "seed": 1}, "environment"),
        ({"environment": "bank-v1", "family": "fly_to_mars", "seed": 1}, "family"),
        ({"environment": "bank-v1", "family": "pay_bill", "seed": -3}, "seed"),
        ({"environment": "bank-v1", "family": "pay_bill"}, "seed"),
        (
            {"environment": "bank-v1", "family": "pay_bill", "seed": 1, "observation_mode": "x"},
            "observation_mode",
        ),
    ],
)
def test_a_bad_episode_request_names_the_field(agent, body, field):
    response = agent.post("/api/v1/episodes/", body, format="json")
    assert response.status_code in (400, 404)
    error = response.json()["error"]
    assert field in error["message"]
    assert not Episode.objects.exists()


def test_the_scripted_solver_succeeds_through_the_api(agent):
    body = start(agent, environment="bank-v1", family="card_controls", seed=3)
    episode = Episode.objects.get(pk=body["id"])
    env, solver, task = solver_for(episode.task)
    page = env.render(episode_state(episode))
    result = None
    while True:
        action = solver.act(task, page)
        response = agent.post(
            f"/api/v1/episodes/{episode.pk}/step/",
            {"action": action, "observation_mode": "json"},
            format="json",
        )
        assert response.status_code == 200, response.json()
        result = response.json()
        if result["terminated"] or result["truncated"]:
            break
        page = page_from_json(result["observation"]["content"])
    assert result["terminated"] is True
    assert result["reward"] == 1.0
    assert result["outcome"]["success"] is True
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.TERMINATED
    assert episode.success is True
    assert episode.step_count == Step.objects.filter(episode=episode).count() == result["step"] + 1


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("click('9999')", "unknown_bid"),
        ("explode('1')", "unknown_action"),
        ("click(__import__('os').system('true'))", "malformed_action"),
        ({"name": "fill", "args": {"bid": "1"}}, "malformed_action"),
        ("goto('the-moon')", "illegal_value"),
    ],
)
def test_a_refused_action_is_a_400_naming_the_problem_and_changes_nothing(agent, action, code):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=2)
    episode = Episode.objects.get(pk=body["id"])
    before = episode_state(episode)
    response = agent.post(f"/api/v1/episodes/{episode.pk}/step/", {"action": action}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith("action: ")
    episode.refresh_from_db()
    assert episode_state(episode) == before
    assert episode.step_count == 0
    assert not Step.objects.exists()


def test_a_refusal_asked_to_be_recorded_is_a_failed_step_that_counts(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=2)
    episode = Episode.objects.get(pk=body["id"])
    before = episode_state(episode)
    refused = agent.post(
        f"/api/v1/episodes/{episode.pk}/step/",
        {"action": "click('99999')", "record_refusals": True},
        format="json",
    ).json()
    assert (refused["step"], refused["reward"], refused["status"]) == (0, 0.0, "running")
    assert refused["action_error"] == "bid '99999' does not exist on this page"
    assert refused["action_error_code"] == "unknown_bid"
    assert refused["observation"]["content"] == body["observation"]["content"]
    batch = agent.post(
        "/api/v1/episodes/batch-step/",
        {"steps": [{"episode": episode.pk, "action": "fill('1'"}], "record_refusals": True},
        format="json",
    ).json()["results"]
    assert batch[0]["step"] == 1 and batch[0]["action_error"].startswith("could not parse")
    episode.refresh_from_db()
    assert episode_state(episode) == before
    applied = agent.post(
        f"/api/v1/episodes/{episode.pk}/step/", {"action": "noop()"}, format="json"
    ).json()
    assert (applied["step"], applied["action_error"], applied["action_error_code"]) == (2, "", "")
    assert [step.error.split(":")[0] for step in episode.steps.order_by("index")] == [
        "unknown_bid",
        "malformed_action",
        "",
    ]


def test_a_step_with_a_used_idempotency_key_returns_the_recorded_result(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=4)
    url = f"/api/v1/episodes/{body['id']}/step/"
    first = agent.post(
        url, {"action": "fill('1', 'someone')"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    ).json()
    again = agent.post(
        url, {"action": "fill('1', 'someone')"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    ).json()
    assert again["replayed"] is True
    assert again["step"] == first["step"] == 0
    assert again["observation"] == first["observation"]
    assert Step.objects.count() == 1


def test_the_step_limit_truncates_the_episode(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=4)
    limit = body["task"]["max_steps"]
    url = f"/api/v1/episodes/{body['id']}/step/"
    for _ in range(limit):
        result = agent.post(url, {"action": "noop()"}, format="json").json()
    assert result["truncated"] is True
    assert result["terminated"] is False
    assert result["status"] == "truncated"
    refused = agent.post(url, {"action": "noop()"}, format="json")
    assert refused.status_code == 409
    assert "has ended" in refused.json()["error"]["message"]


def test_send_msg_to_user_ends_the_episode_with_the_verifiers_verdict(agent):
    body = start(agent, environment="bank-v1", family="largest_purchase", seed=8)
    result = agent.post(
        f"/api/v1/episodes/{body['id']}/step/",
        {"action": "send_msg_to_user('It was $1.00')"},
        format="json",
    ).json()
    assert result["terminated"] is True
    assert result["reward"] == 0.0
    assert result["outcome"]["success"] is False
    assert any(not check["passed"] for check in result["outcome"]["checks"])


def test_batch_stepping_applies_each_step_on_its_own(agent):
    episodes = [
        start(agent, environment="bank-v1", family="pay_bill", seed=seed)["id"]
        for seed in (1, 2, 3)
    ]
    response = agent.post(
        "/api/v1/episodes/batch-step/",
        {
            "steps": [
                {"episode": episodes[0], "action": "fill('1', 'a')"},
                {"episode": episodes[1], "action": "click('4242')"},
                {"episode": episodes[2], "action": "noop()"},
                {"episode": 999999, "action": "noop()"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["step"] == 0
    assert results[1]["error"]["code"] == "unknown_bid"
    assert results[2]["step"] == 0
    assert results[3]["error"]["status"] == 404
    assert Step.objects.count() == 2


def test_a_batch_of_episodes_starts_in_order_each_as_if_started_alone(agent):
    alone = start(agent, environment="ledger-v1", family="match_deposit", seed=3)
    response = agent.post(
        "/api/v1/episodes/batch-create/",
        {
            "episodes": [
                {"environment": "bank-v1", "family": "pay_bill", "seed": 8, "metadata": {"n": 0}},
                {"task": alone["task"]["id"]},
                {"environment": "bank-v1", "family": "pay_bill", "seed": 8},
            ],
            "observation_mode": "json",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    started = response.json()["results"]
    assert [(each["environment"], each["task"]["seed"]) for each in started] == [
        ("bank-v1", 8),
        ("ledger-v1", 3),
        ("bank-v1", 8),
    ]
    assert started[0]["task"]["id"] == started[2]["task"]["id"]
    assert started[0]["id"] != started[2]["id"]
    assert all(each["status"] == "running" and each["actor_kind"] == "agent" for each in started)
    assert Episode.objects.get(pk=started[0]["id"]).metadata == {"n": 0}
    second = agent.post(
        "/api/v1/episodes/",
        {"task": alone["task"]["id"], "observation_mode": "json"},
        format="json",
    ).json()
    assert started[1]["observation"] == second["observation"]
    stepped = agent.post(
        "/api/v1/episodes/batch-step/",
        {"steps": [{"episode": each["id"], "action": "noop()"} for each in started]},
        format="json",
    ).json()["results"]
    assert [result["step"] for result in stepped] == [0, 0, 0]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"environment": "bank-v1", "family": "fly_to_mars", "seed": 1}, "episodes.1.family"),
        ({"environment": "nope-v1", "family": "pay_bill", "seed": 1}, "episodes.1.environment"),
        ({"task": 987654}, "episodes.1.task"),
        ({"environment": "bank-v1", "family": "pay_bill"}, "episodes.1.seed"),
    ],
)
def test_a_batch_with_one_bad_episode_starts_none_and_names_it(agent, spec, field):
    response = agent.post(
        "/api/v1/episodes/batch-create/",
        {"episodes": [{"environment": "bank-v1", "family": "pay_bill", "seed": 1}, spec]},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert Episode.objects.count() == 0


def test_a_batch_start_is_bounded(agent):
    spec = {"environment": "bank-v1", "family": "pay_bill", "seed": 1}
    response = agent.post(
        "/api/v1/episodes/batch-create/", {"episodes": [spec] * 257}, format="json"
    )
    assert response.status_code == 400
    assert "episodes" in response.json()["error"]["fields"]
    assert Episode.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (
            "step",
            {"action": {"name": "fill", "args": {"bid": "1", "value": "a\x00b"}}},
            "action.args.value",
        ),
        (
            "episodes",
            {"environment": "bank-v1", "family": "pay_bill", "seed": 1, "metadata": {"k": "\x00"}},
            "metadata.k",
        ),
        (
            "batch",
            {"episodes": [{"task": 1, "metadata": {"\x00": 1}}]},
            "episodes.0.metadata.\\u0000:",
        ),
        (
            "episodes",
            {
                "environment": "bank-v1",
                "family": "pay_bill",
                "seed": 1,
                "metadata": {"k": "\ud800"},
            },
            "metadata.k",
        ),
    ],
)
def test_text_no_database_can_store_is_refused_not_failed_on(agent, path, body, where):
    episode = start(agent, environment="bank-v1", family="pay_bill", seed=2)
    url = {
        "step": f"/api/v1/episodes/{episode['id']}/step/",
        "episodes": "/api/v1/episodes/",
        "batch": "/api/v1/episodes/batch-create/",
    }[path]
    # Escaped to ASCII, as a client sends what UTF-8 cannot carry (a lone surrogate).
    response = agent.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(where)
    assert "NUL" in response.json()["error"]["message"]
    assert Step.objects.count() == 0
    assert Episode.objects.count() == 1


def test_an_episode_reads_back_with_the_observations_the_actor_saw(agent):
    body = start(agent, environment="bank-v1", family="pay_bill", seed=6)
    url = f"/api/v1/episodes/{body['id']}/step/"
    agent.post(url, {"action": "fill('1', 'x')"}, format="json")
    agent.post(url, {"action": "fill('2', 'y')"}, format="json")
    detail = agent.get(f"/api/v1/episodes/{body['id']}/?observations=axtree").json()
    assert [step["action"] for step in detail["steps"]] == ["fill('1', 'x')", "fill('2', 'y')"]
    assert detail["steps"][0]["observation"] == body["observation"]["content"]
    env = get_environment("bank-v1")
    episode = Episode.objects.get(pk=body["id"])
    assert "value='x'" in detail["steps"][1]["observation"]
    assert page_to_axtree(env.render(episode_state(episode))).count("value='y'") == 1


def test_episodes_are_listed_by_source_status_and_actor_kind(agent):
    ended = start(agent, environment="bank-v1", family="pay_bill", seed=1)
    agent.post(f"/api/v1/episodes/{ended['id']}/abandon/")
    running = start(agent, environment="bank-v1", family="pay_bill", seed=2)
    Episode.objects.filter(pk=running["id"]).update(source="openenv")

    def listed(query: str) -> list[int]:
        response = agent.get(f"/api/v1/episodes/?{query}")
        assert response.status_code == 200, response.json()
        return [episode["id"] for episode in response.json()["results"]]

    assert listed("source=openenv") == [running["id"]]
    assert listed("source=api&status=abandoned") == [ended["id"]]
    assert listed("status=running&actor_kind=agent") == [running["id"]]
    assert listed("status=&source=") == [running["id"], ended["id"]]


@pytest.mark.parametrize(
    ("query", "field"), [("status=done", "status"), ("actor_kind=bot", "actor_kind")]
)
def test_an_unknown_episode_filter_value_is_a_400_naming_it(agent, query, field):
    response = agent.get(f"/api/v1/episodes/?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_key_without_the_agent_scope_is_refused(admin_user):
    client = key_client(scopes=["export"])
    response = client.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 1},
        format="json",
    )
    assert response.status_code == 403
    assert "'agent' scope" in response.json()["error"]["message"]


def test_one_principal_never_reads_or_steps_anothers_episode(admin_user, manager, contractor):
    body = start(
        key_client(scopes=["agent"], owner=manager),
        environment="bank-v1",
        family="pay_bill",
        seed=1,
    )
    other = key_client(scopes=["agent"], owner=admin_user)
    assert other.get(f"/api/v1/episodes/{body['id']}/").status_code == 404
    assert (
        other.post(
            f"/api/v1/episodes/{body['id']}/step/", {"action": "noop()"}, format="json"
        ).status_code
        == 404
    )
    assert signed_in(contractor).get(f"/api/v1/episodes/{body['id']}/").status_code == 404
    assert signed_in(contractor).get("/api/v1/episodes/").json()["count"] == 0
    assert signed_in(manager).get(f"/api/v1/episodes/{body['id']}/").status_code == 200


def test_contractors_cannot_start_episodes_through_the_api(contractor):
    response = signed_in(contractor).post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 1},
        format="json",
    )
    assert response.status_code == 403
