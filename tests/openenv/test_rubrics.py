"""Rubric manifests are the verifier's checks, and an episode's reward comes by criterion."""

import pytest

from environments.engine import get_environment, list_environments, run_episode
from environments.openenv.rubrics import family_rubric, reward_components
from tests.conftest import key_client, signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("env_id", "family"),
    [(env.id, family) for env in list_environments() for family in env.families],
)
def test_a_familys_rubric_is_its_verifiers_checks(env_id, family):
    rubric = family_rubric(env_id, family)
    env = get_environment(env_id)
    task = env.make_task(family, 17)
    _, _, outcome = run_episode(env, task, env.solver())
    programmatic = [c for c in rubric["criteria"] if c["kind"] == "programmatic"]
    assert [c["name"] for c in programmatic] == [check.name for check in outcome.checks]
    assert sum(c["weight"] for c in programmatic) == pytest.approx(1.0, abs=1e-4)
    for criterion in rubric["criteria"]:
        assert set(criterion) == {"name", "kind", "role", "weight", "scale", "description"}
        assert criterion["kind"] in ("programmatic", "human", "judge")
        assert criterion["description"]
    human = [c for c in rubric["criteria"] if c["kind"] == "human"]
    assert [c["weight"] for c in human] == [0.0]
    assert rubric["reward"]["range"] == [0.0, 1.0]
    assert rubric["description"] == env.families[family].description


def test_the_rubric_api(admin_user, contractor):
    agent = key_client(scopes=["agent"])
    response = agent.get("/api/v1/environments/bank-v1/families/pay_bill/rubric/")
    assert response.status_code == 200
    assert response.json() == family_rubric("bank-v1", "pay_bill")
    assert (
        signed_in(contractor)
        .get("/api/v1/environments/bank/families/pay_bill/rubric/")
        .json()["environment"]
        == "bank-v1"
    )
    missing = agent.get("/api/v1/environments/bank-v1/families/nope/rubric/")
    assert missing.status_code == 404
    assert "pay_bill" in missing.json()["error"]["message"]


def test_reward_components_put_programmatic_and_human_criteria_side_by_side():
    outcome = {
        "reward": 0.0,
        "reward_components": {"cancelled": 1.0, "no_collateral_damage": 0.0},
    }
    values = reward_components(
        env_id="bank-v1", family="cancel_payment", outcome=outcome, human_ratings=[4, 5]
    )
    assert values == {"cancelled": 1.0, "no_collateral_damage": 0.0, "human_outcome": 0.875}
    unfinished = reward_components(env_id="bank-v1", family="cancel_payment", outcome=None)
    assert unfinished == {"cancelled": None, "no_collateral_damage": None, "human_outcome": None}


def test_an_episodes_reward_by_criterion(admin_user):
    agent = key_client(scopes=["agent"])
    started = agent.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "cancel_payment", "seed": 1},
        format="json",
    ).json()
    agent.post(f"/api/v1/episodes/{started['id']}/abandon/")
    body = agent.get(f"/api/v1/episodes/{started['id']}/reward/").json()
    assert body["reward"] == 0.0 and body["status"] == "abandoned"
    assert body["reward_components"] == {
        "cancelled": 0.0,
        "no_collateral_damage": 1.0,
        "human_outcome": None,
    }
    other = key_client(scopes=["agent"], owner=contractor_user())
    assert other.get(f"/api/v1/episodes/{started['id']}/reward/").status_code == 404


def contractor_user():
    from tests.factories import UserFactory

    return UserFactory(role="contractor")
