"""OpenEnv's HTTP endpoints, with OpenEnv's request and response shapes; and the JSON Schemas
they publish, which are what openenv-core's pydantic base classes generate for the declared
models."""

from typing import Dict, List, Optional  # noqa: UP035  (as OpenEnv's own models write them)

import httpx
import jsonschema
import pytest
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field

from environments.engine import get_environment, list_environments
from environments.engine.observe import page_to_pruned
from environments.models import Episode, Step
from environments.openenv import protocol
from tests.openenv.live import solver_actions

pytestmark = pytest.mark.django_db(transaction=True)


class BrowserGymAction(Action):
    """An action in the platform's grammar (BrowserGym's high-level actions)."""

    action_str: str = Field(
        ...,
        description="One action as a call string, e.g. click('12'), fill('7', '250.00'), "
        "select_option('9', 'Savings'), send_msg_to_user('It was $84.12')",
    )


class BrowserGymObservation(Observation):
    """The page the actor sees, in BrowserGym's OpenEnv field names, and the episode's end."""

    text: str = Field(
        default="",
        description="The page as text in the episode's observation mode (axtree, pruned, or "
        "diff since the last page; axtree unless reset chose another), within its character "
        "budget",
    )
    url: str = Field(default="", description="Current URL of the page")
    screenshot: Optional[List[List[List[int]]]] = Field(  # noqa: UP006, UP045
        default=None, description="Always null: the environments render text, not pixels"
    )
    goal: str = Field(default="", description="Task goal/instruction for the current episode")
    axtree_txt: str = Field(default="", description="Full accessibility tree as text")
    pruned_html: str = Field(
        default="",
        description="The page as an HTML fragment, each interactive element with its data-bid",
    )
    error: str = Field(default="", description="Why the last action was refused, else empty")
    last_action_error: bool = Field(
        default=False, description="Whether the last action was refused"
    )
    error_code: str = Field(
        default="",
        description="The refusal's code: malformed_action, unknown_action, unknown_bid, "
        "not_interactive, illegal_value, disabled or episode_finished",
    )
    truncated: bool = Field(
        default=False, description="The episode ended at its step limit (done is true too)"
    )
    task_id: Optional[int] = Field(  # noqa: UP045
        default=None, description="The platform's id of the task"
    )
    reward_components: Dict[str, float] = Field(  # noqa: UP006
        default_factory=dict,
        description="The verifier's criteria, 1.0 passed / 0.0 failed, once the episode has ended",
    )
    episode_id: Optional[str] = Field(  # noqa: UP045
        default=None, description="The episode's id: the one given to reset, else the platform's"
    )
    platform_episode_id: Optional[int] = Field(  # noqa: UP045
        default=None,
        description="The platform's id of the episode (GET /api/v1/episodes/<id>/)",
    )
    step_count: int = Field(
        default=0,
        ge=0,
        description="Actions recorded in the episode so far, refused ones included",
    )


class BrowserGymState(State):
    """The episode's state, in BrowserGym's OpenEnv field names plus the platform's."""

    benchmark: str = Field(default="", description="Always 'rlplatform'")
    task_name: str = Field(default="", description="The task family, e.g. 'pay_bill'")
    task_id: Optional[str] = Field(  # noqa: UP045
        default=None, description="The platform's id of the task"
    )
    goal: str = Field(default="", description="Task goal/instruction")
    current_url: str = Field(default="", description="Current URL of the active page")
    max_steps: Optional[int] = Field(  # noqa: UP045
        default=None, description="Maximum steps allowed for this task"
    )
    cum_reward: float = Field(default=0.0, description="Cumulative reward for the current episode")
    environment: str = Field(default="", description="The environment id, e.g. 'bank-v1'")
    seed: Optional[int] = Field(  # noqa: UP045
        default=None, description="The seed the episode's data was built from"
    )
    status: str = Field(default="", description="running, terminated, truncated or abandoned")
    platform_episode_id: Optional[int] = Field(  # noqa: UP045
        default=None, description="The platform's id of the episode"
    )
    reward_components: Dict[str, float] = Field(  # noqa: UP006
        default_factory=dict, description="The verifier's criteria once the episode has ended"
    )


def test_the_published_schemas_are_openenvs_models_field_for_field():
    assert {
        "action": BrowserGymAction.model_json_schema(),
        "observation": BrowserGymObservation.model_json_schema(),
        "state": BrowserGymState.model_json_schema(),
    } == protocol.SCHEMAS


@pytest.fixture
def base(asgi_server) -> str:
    return f"{asgi_server.url}/openenv/bank-v1"


@pytest.fixture
def auth(agent_key) -> dict:
    return {"Authorization": f"Bearer {agent_key}"}


def test_health_schema_and_metadata(base):
    assert httpx.get(f"{base}/health").json() == {"status": "healthy"}
    assert httpx.get(f"{base}/schema").json() == protocol.SCHEMAS
    metadata = httpx.get(f"{base}/metadata").json()
    assert set(metadata) == {
        "name",
        "description",
        "readme_content",
        "version",
        "author",
        "documentation_url",
    }
    assert metadata["name"] == "bank-v1" and metadata["version"] == "1"
    assert "### pay_bill" in metadata["readme_content"]
    assert httpx.get(f"{base.replace('bank-v1', 'casino-v1')}/health").status_code == 404


def test_reset_step_and_state_over_http_complete_a_task(base, auth):
    actions = solver_actions("bank-v1", "card_controls", 2)
    started = httpx.post(
        f"{base}/reset", json={"task_name": "card_controls", "seed": 2}, headers=auth
    )
    assert started.status_code == 200
    body = started.json()
    assert set(body) == {"observation", "reward", "done"}
    jsonschema.validate(body["observation"], protocol.SCHEMAS["observation"])
    episode_id = body["observation"]["episode_id"]
    for action in actions:
        body = httpx.post(
            f"{base}/step",
            json={"action": {"action_str": action}, "episode_id": episode_id},
            headers=auth,
        ).json()
        jsonschema.validate(body["observation"], protocol.SCHEMAS["observation"])
    assert body["done"] is True and body["reward"] == 1.0
    state = httpx.get(f"{base}/state", params={"episode_id": episode_id}, headers=auth).json()
    jsonschema.validate(state, protocol.SCHEMAS["state"])
    assert state["status"] == "terminated" and state["cum_reward"] == 1.0
    assert state["step_count"] == len(actions)
    ended = httpx.post(
        f"{base}/step",
        json={"action": {"action_str": "noop()"}, "episode_id": episode_id},
        headers=auth,
    )
    assert ended.status_code == 409 and "has ended" in ended.json()["detail"]


def test_state_without_an_episode_is_openenvs_empty_state(base, auth):
    assert httpx.get(f"{base}/state", headers=auth).json() == protocol.empty_state()


def test_a_request_id_makes_a_step_idempotent(base, auth):
    observation = httpx.post(f"{base}/reset", json={"seed": 4}, headers=auth).json()["observation"]
    body = {
        "action": {"action_str": "fill('1', 'someone')"},
        "episode_id": observation["episode_id"],
        "request_id": "retry-me",
    }
    first = httpx.post(f"{base}/step", json=body, headers=auth).json()
    again = httpx.post(f"{base}/step", json=body, headers=auth).json()
    assert first == again
    assert Step.objects.filter(episode_id=observation["platform_episode_id"]).count() == 1


def test_validation_errors_have_fastapis_shape(base, auth):
    bad_seed = httpx.post(f"{base}/reset", json={"seed": "seven"}, headers=auth)
    assert bad_seed.status_code == 422
    (error,) = bad_seed.json()["detail"]
    assert error["type"] == "int_parsing" and error["loc"] == ["body", "seed"]

    no_action = httpx.post(f"{base}/step", json={"episode_id": "1"}, headers=auth)
    assert no_action.status_code == 422
    assert no_action.json()["detail"][0]["loc"] == ["body", "action"]

    extra = httpx.post(
        f"{base}/step",
        json={"action": {"action_str": "noop()", "x": 1}, "episode_id": "1"},
        headers=auth,
    )
    assert extra.status_code == 422
    assert extra.json()["detail"][0]["type"] == "extra_forbidden"

    unknown = httpx.post(
        f"{base}/step",
        json={"action": {"action_str": "noop()"}, "episode_id": "nope"},
        headers=auth,
    )
    assert unknown.status_code == 404


def test_a_key_steps_only_its_owners_episodes(base, auth, admin_user):
    from tests.factories import UserFactory, make_api_key

    observation = httpx.post(f"{base}/reset", json={"seed": 5}, headers=auth).json()["observation"]
    _, other = make_api_key(scopes=["agent"], owner=UserFactory(role="manager"))
    stolen = httpx.post(
        f"{base}/step",
        json={"action": {"action_str": "noop()"}, "episode_id": observation["episode_id"]},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert stolen.status_code == 404
    assert Episode.objects.get(pk=observation["platform_episode_id"]).step_count == 0


def test_the_index_lists_every_environments_base_url(asgi_server):
    listed = httpx.get(f"{asgi_server.url}/openenv/").json()
    ids = [env["id"] for env in listed["environments"]]
    assert ids == [env.id for env in list_environments()]
    assert {"airline-v1", "bank-v1", "helpdesk-v1", "ledger-v1", "shop-v1", "tickets-v1"} <= set(
        ids
    )
    bank = next(env for env in listed["environments"] if env["id"] == "bank-v1")
    assert bank["base_url"] == f"{asgi_server.url}/openenv/bank-v1"


def test_openenvs_own_runtime_validator_passes(base):
    from openenv.cli._validation import validate_running_environment

    report = validate_running_environment(base)
    failed = [criterion for criterion in report["criteria"] if not criterion["passed"]]
    assert report["passed"], failed
    assert report["mode"] == "simulation"


def test_mcp_is_answered_in_json_rpc(base):
    listed = httpx.post(f"{base}/mcp", json={"jsonrpc": "2.0", "method": "tools/list", "id": 1})
    assert listed.json() == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32603, "message": "Environment does not support MCP", "data": None},
    }
    assert httpx.post(f"{base}/mcp", content=b"{").json()["error"]["code"] == -32700


def test_reset_over_http_takes_the_modes_and_refuses_bad_ones(base, auth):
    actions = solver_actions("bank-v1", "pay_bill", 6)
    reset = httpx.post(
        f"{base}/reset",
        json={
            "task_name": "pay_bill",
            "seed": 6,
            "observation_mode": "pruned",
            "reward_mode": "partial",
        },
        headers=auth,
    ).json()
    episode_id = reset["observation"]["episode_id"]
    env = get_environment("bank")
    task = env.make_task("pay_bill", 6)
    state = env.reset(6, task)
    assert reset["observation"]["text"] == page_to_pruned(env.render(state))
    for action in actions:
        result = httpx.post(
            f"{base}/step",
            json={"action": {"action_str": action}, "episode_id": episode_id},
            headers=auth,
        ).json()
        state = env.step(state, action)
        assert result["observation"]["text"] == page_to_pruned(env.render(state))
    assert result["done"] and result["reward"] == 1.0
    episode = Episode.objects.get(pk=reset["observation"]["platform_episode_id"])
    assert (episode.reward_mode, episode.observation_mode) == ("partial", "pruned")

    bad = httpx.post(f"{base}/reset", json={"observation_mode": "html"}, headers=auth)
    assert bad.status_code == 422
    (error,) = bad.json()["detail"]
    assert error["loc"] == ["body", "observation_mode"] and error["type"] == "literal_error"


def test_metadata_lists_the_splits(base):
    readme = httpx.get(f"{base}/metadata").json()["readme_content"]
    assert "## Splits" in readme
    assert "- test: seeds 2000000 to 2009999" in readme
    assert "held out of train and validation: statement_balance, dispute_charge" in readme
