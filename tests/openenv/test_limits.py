"""A server's limits, on a server of its own with small ones: capacity (CAPACITY_REACHED with the
active and maximum counts), the idle-session reaper, and the per-step timeout. The same server
serves bank-v1 at its root too, as an OpenEnv Space would."""

import json
import threading

import httpx
import pytest
from django.db import connection, transaction
from websockets.exceptions import ConnectionClosed

from environments.models import Episode, EpisodeStatus
from tests.conftest import wait_for
from tests.openenv import live

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def small_server(django_db_setup, django_db_blocker):
    server = live.start(
        "openenv-small",
        OPENENV_MAX_SESSIONS="2",
        OPENENV_IDLE_TIMEOUT_SECONDS="2",
        OPENENV_STEP_TIMEOUT_SECONDS="1",
        OPENENV_ROOT_ENVIRONMENT="bank-v1",
    )
    yield server
    live.stop(server)


def session(server, key):
    return live.websocket(f"{server.ws_url}/openenv/bank-v1/ws", {"Authorization": f"Bearer {key}"})


def ask(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=30))


def test_one_session_over_capacity_is_refused_with_the_counts(small_server, agent_key):
    with session(small_server, agent_key) as first, session(small_server, agent_key) as second:
        assert ask(first, {"type": "reset", "data": {"seed": 1}})["type"] == "observation"
        assert ask(second, {"type": "reset", "data": {"seed": 2}})["type"] == "observation"
        with session(small_server, agent_key) as third:
            reply = json.loads(third.recv(timeout=10))
            with pytest.raises(ConnectionClosed) as closed:
                third.recv(timeout=10)
    assert closed.value.rcvd.code == 4429
    assert reply == {
        "type": "error",
        "data": {
            "message": "Server at capacity: 2/2 sessions active. Cannot accept new connections.",
            "code": "CAPACITY_REACHED",
            "active_sessions": 2,
            "max_sessions": 2,
        },
    }
    # Both closed: their slots are free again (once the server has seen them go).

    def reopens():
        with session(small_server, agent_key) as again:
            return ask(again, {"type": "reset", "data": {"seed": 3}})["type"] == "observation"

    wait_for(reopens, timeout=10, interval=0.2, message="a slot to be free again")


def test_an_idle_session_is_closed_and_its_episode_abandoned(small_server, agent_key):
    with session(small_server, agent_key) as ws:
        observation = ask(ws, {"type": "reset", "data": {"seed": 4}})["data"]["observation"]
        notice = json.loads(ws.recv(timeout=15))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4408
    assert notice["type"] == "error"
    assert notice["data"]["code"] == "SESSION_ERROR" and notice["data"]["reason"] == "idle"
    assert "without a message" in notice["data"]["message"]
    episode = Episode.objects.get(pk=observation["platform_episode_id"])
    assert episode.status == EpisodeStatus.ABANDONED


def test_an_active_session_is_not_reaped(small_server, agent_key):
    with session(small_server, agent_key) as ws:
        ask(ws, {"type": "reset", "data": {"seed": 5}})
        for _ in range(6):  # 3 s of activity, past the 2 s idle limit
            threading.Event().wait(0.5)
            assert ask(ws, {"type": "state"})["type"] == "state"


def test_a_step_that_takes_too_long_is_answered_and_the_session_goes_on(small_server, agent_key):
    with session(small_server, agent_key) as ws:
        observation = ask(ws, {"type": "reset", "data": {"seed": 6}})["data"]["observation"]
        locked, release = threading.Event(), threading.Event()

        def hold_the_episode_row():
            # Another writer holds the episode's row: the step waits on its lock.
            with transaction.atomic():
                Episode.objects.select_for_update().get(pk=observation["platform_episode_id"])
                locked.set()
                release.wait(10)
            connection.close()

        holder = threading.Thread(target=hold_the_episode_row)
        holder.start()
        assert locked.wait(10)
        try:
            reply = ask(ws, {"type": "step", "data": {"action_str": "noop()"}})
        finally:
            release.set()
            holder.join()
        assert reply["type"] == "error" and reply["data"]["code"] == "EXECUTION_ERROR"
        assert "longer than 1 s" in reply["data"]["message"]
        # The step went through once the lock was released; the session carries on.
        state = wait_for(
            lambda: (s := ask(ws, {"type": "state"})["data"])["step_count"] == 1 and s,
            timeout=10,
            message="the delayed step to be applied",
        )
        assert state["status"] == "running"
        assert ask(ws, {"type": "step", "data": {"action_str": "noop()"}})["type"] == "observation"


def test_one_environment_can_be_served_at_the_root(small_server, agent_key):
    import httpx

    assert httpx.get(f"{small_server.url}/health").json() == {"status": "healthy"}
    assert httpx.get(f"{small_server.url}/metadata").json()["name"] == "bank-v1"
    with live.websocket(
        f"{small_server.ws_url}/ws", {"Authorization": f"Bearer {agent_key}"}
    ) as ws:
        observation = ask(ws, {"type": "reset", "data": {"seed": 7}})["data"]["observation"]
    assert Episode.objects.get(pk=observation["platform_episode_id"]).env_id == "bank-v1"


def test_api_requests_served_over_asgi_leave_no_database_connection_open(agent_key):
    """Django runs each ASGI request on a thread of its own: a connection kept for reuse there
    is never reused, and under load the server ran PostgreSQL out of connections."""
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with make test")
    # Connections kept for reuse, as in production (the suite's own servers close theirs).
    server = live.start("asgi-persistent", DB_CONN_MAX_AGE="600")
    try:
        headers = {"Authorization": f"Bearer {agent_key}"}
        httpx.get(f"{server.url}/api/v1/me/", headers=headers).raise_for_status()
        before = _open_connections()
        statuses: list[int] = []

        def client() -> None:
            with httpx.Client(headers=headers) as http:
                statuses.extend(http.get(f"{server.url}/api/v1/me/").status_code for _ in range(30))

        clients = [threading.Thread(target=client) for _ in range(8)]
        for thread in clients:
            thread.start()
        peak = before
        while any(thread.is_alive() for thread in clients):
            peak = max(peak, _open_connections())
        for thread in clients:
            thread.join()
        # Every request's connection closes with it (kept, they stayed open until collected;
        # the margin is for other servers of the suite on the same database).
        wait_for(
            lambda: _open_connections() <= before + 3,
            timeout=10,
            message="the requests' connections to close",
        )
    finally:
        live.stop(server)
    assert statuses == [200] * 240
    # About one more for each request in flight (sampling sees some as they close).
    assert peak <= before + 2 * len(clients)


def _open_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]
