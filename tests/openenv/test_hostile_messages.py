"""Hostile WebSocket and MCP messages against a live server: NUL, lone surrogates, Unicode
digits and numerals, 5,000-deep nesting, megabyte strings in every field of every message
type. Each is answered (an error, or the observation of a step the environment refused), the
session goes on, nothing fails on the server, and no text a database cannot store is stored."""

import json

import httpx
import pytest

from environments.models import Episode, Step
from tests.openenv.test_websocket import ask, open_session, reset

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = "[" * 5000 + "]" * 5000
VALUES = [
    "\x00",
    "a\x00b",
    "\ud800",
    "²",
    "٣",
    "Ⅻ",
    "\U0001d7d7",
    "9" * 30,
    -1,
    2**70,
    1.5,
    None,
    True,
    [],
    {"a": "\x00"},
    json.loads("[" * 60 + "]" * 60),
    "x" * 1_000_000,
]


def messages() -> list[str]:
    raw = [DEEP, '{"type": "reset", "data": ' + DEEP + "}", "\x00", "", "null", "[]"]
    for value in VALUES:
        raw += [
            json.dumps({"type": value}),
            json.dumps({"type": "reset", "data": value}),
            json.dumps(
                {"type": "reset", "data": dict.fromkeys(("seed", "task_id", "task_name"), value)}
            ),
            json.dumps({"type": "reset", "data": {"episode_id": value}}),
            json.dumps({"type": "step", "data": {"action_str": value}}),
            json.dumps({"type": "step", "data": {"action_str": "noop()", "metadata": value}}),
            json.dumps({"type": "step", "data": {"action_str": "noop()", value: 1}})
            if isinstance(value, str)
            else json.dumps({"type": "step", "data": value}),
            json.dumps({"type": "state", "extra": value}),
            json.dumps({"type": "mcp", "data": {"jsonrpc": "2.0", "id": value, "method": value}}),
        ]
    return raw


def test_no_message_fails_the_session_or_the_server(asgi_server, agent_key):
    with open_session(asgi_server, agent_key) as ws:
        reset(ws, task_name="pay_bill", seed=1)
        for message in messages():
            reply = ask(ws, message)
            assert reply["type"] in ("error", "observation", "state", "mcp"), message[:80]
            assert len(json.dumps(reply)) < 100_000, "an answer echoed a megabyte back"
            # The session goes on after each.
            assert ask(ws, {"type": "state"})["type"] == "state"
    assert "OpenEnv session failed" not in asgi_server.log_text()
    # A step that carried unstorable text was recorded as the refused step it is, escaped.
    for action in Step.objects.filter(episode__source="openenv").values_list("action", flat=True):
        assert "\x00" not in action
    for metadata in Episode.objects.values_list("metadata", flat=True):
        assert "\\u0000" not in json.dumps(metadata)


@pytest.mark.parametrize("body", [DEEP, '{"jsonrpc": "2.0", "method": "\\u0000", "id": "\\ud800"}'])
def test_mcp_refuses_hostile_calls_without_credentials(asgi_server, body):
    response = httpx.post(
        f"{asgi_server.url}/openenv/bank-v1/mcp",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["error"]["code"] in (-32700, -32600, -32601)
