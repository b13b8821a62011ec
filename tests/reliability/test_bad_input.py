"""Hostile and malformed input is refused with a JSON 4xx that says why, and changes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from environments.models import Episode, Step
from tests.conftest import key_client

pytestmark = pytest.mark.django_db

ACTION_NAMES = [
    "click",
    "fill",
    "select_option",
    "check",
    "uncheck",
    "goto",
    "send_msg_to_user",
    "noop",
    "eval",
    "__import__",
    "",
]

# What an attacker types: text no database stores, digits int() refuses, numerals.
HOSTILE_TEXT = ["\x00", "a\x00b", "\ud800", "²", "٣", "Ⅻ", "\U0001d7d7", "9" * 30]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(HOSTILE_TEXT),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
call_strings = st.builds(
    lambda name, args: f"{name}({', '.join(args)})",
    st.sampled_from(ACTION_NAMES),
    st.lists(
        st.one_of(
            st.integers(min_value=1000).map(lambda n: f"'{n}'"),
            st.text(max_size=20).map(repr),
            st.sampled_from(HOSTILE_TEXT).map(repr),
            st.sampled_from(["os.system('x')", "1+1", "'a' * 10**9", "**{}", "lambda: 0"]),
        ),
        max_size=3,
    ),
)
hostile_actions = st.one_of(
    call_strings,
    st.text(max_size=200),
    json_values,
    st.fixed_dictionaries({"name": st.sampled_from(ACTION_NAMES), "args": json_values}),
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def post_json(client, url: str, body):
    # Escaped to ASCII, as a client sends what UTF-8 cannot carry (a lone surrogate).
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def started(admin_user):
    agent = key_client(scopes=["agent"])
    body = agent.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 1},
        format="json",
    ).json()
    return agent, body["id"]


@FUZZ
@given(action=hostile_actions)
def test_a_hostile_action_is_refused_and_changes_nothing(started, action):
    agent, episode_id = started
    response = post_json(agent, f"/api/v1/episodes/{episode_id}/step/", {"action": action})
    if response.status_code == 200:
        # A few random inputs are valid actions (a click on an existing bid): undo for the next.
        Step.objects.filter(episode_id=episode_id).delete()
        Episode.objects.filter(pk=episode_id).update(state={}, step_count=0)
        return
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert error["message"] and error["code"]
    assert not Step.objects.filter(episode_id=episode_id).exists()
    assert Episode.objects.get(pk=episode_id).state == {}


@FUZZ
@given(body=json_values)
def test_a_malformed_episode_request_is_refused_and_creates_nothing(admin_user, body):
    agent = key_client(scopes=["agent"])
    before = Episode.objects.count()
    response = post_json(agent, "/api/v1/episodes/", body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["error"]["message"]
    assert Episode.objects.count() == before


@FUZZ
@given(filters=json_values)
def test_malformed_export_filters_are_refused(admin_user, filters):
    exporter = key_client(scopes=["export"])
    response = post_json(exporter, "/api/v1/exports/", {"kind": "trajectories", "filters": filters})
    if response.status_code == 202:
        return  # an empty or all-optional object is a valid filter
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
