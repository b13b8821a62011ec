"""Who may open a session: session URLs (a token in the path, for clients that send no headers)
and Bearer keys; refusals say which credential failed and why; tokens never reach a log."""

import json
from datetime import datetime, timedelta

import httpx
import pytest
from django.utils import timezone
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from environments.models import Episode
from environments.openenv.models import SessionUrl
from rlplatform.models import Role
from tests.conftest import key_client, signed_in
from tests.factories import UserFactory, make_api_key
from tests.openenv.live import websocket

pytestmark = pytest.mark.django_db(transaction=True)


def mint(client, **body) -> dict:
    response = client.post(
        "/api/v1/openenv/sessions/", {"environment": "bank-v1", **body}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def refusal(url: str, headers: dict | None = None) -> tuple[dict, int]:
    """The error message and close code a connection gets before any message is sent."""
    with connect(url, additional_headers=headers or {}, open_timeout=10) as ws:
        reply = json.loads(ws.recv(timeout=10))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return reply, closed.value.rcvd.code


def opens(url: str, headers: dict | None = None) -> dict:
    with websocket(url, headers) as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
        return json.loads(ws.recv(timeout=30))


def test_a_minted_session_url_opens_sessions_as_its_key(asgi_server, admin_user):
    key, plaintext = make_api_key(scopes=["agent"])
    client = key_client(scopes=["agent"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    minted = mint(client, ttl_seconds=600, name="grpo run 7")
    assert minted["url"].endswith(f"/openenv/bank-v1/s/{minted['token']}")
    assert minted["ws_url"] == minted["url"].replace("http://", "ws://") + "/ws"
    assert minted["key"] == key.prefix and minted["is_active"] is True
    lifetime = datetime.fromisoformat(minted["expires_at"]) - timezone.now()
    assert 590 <= lifetime.total_seconds() <= 600
    ws_url = f"{asgi_server.ws_url}/openenv/bank-v1/s/{minted['token']}/ws"
    reply = opens(ws_url)
    assert reply["type"] == "observation"
    episode = Episode.objects.get(pk=reply["data"]["observation"]["platform_episode_id"])
    assert episode.api_key == key and episode.user == key.owner
    assert episode.metadata["openenv"]["session_url"] == minted["id"]
    # Stored hashed: the token itself is nowhere in the database.
    stored = SessionUrl.objects.get(pk=minted["id"])
    assert minted["token"] not in json.dumps(list(SessionUrl.objects.values()), default=str)
    assert stored.last_used_at is not None
    listed = client.get("/api/v1/openenv/sessions/").json()["results"]
    assert [row["id"] for row in listed] == [minted["id"]]
    assert "token" not in listed[0] and "url" not in listed[0]


def test_only_agent_keys_mint_session_urls(admin_user, manager):
    export = key_client(scopes=["export"])
    assert export.post("/api/v1/openenv/sessions/", {"environment": "bank-v1"}).status_code == 403
    person = signed_in(manager)
    assert person.post("/api/v1/openenv/sessions/", {"environment": "bank-v1"}).status_code == 403
    agent = key_client(scopes=["agent"])
    too_long = agent.post(
        "/api/v1/openenv/sessions/", {"environment": "bank-v1", "ttl_seconds": 10**9}, format="json"
    )
    assert too_long.status_code == 400
    assert "ttl_seconds" in too_long.json()["error"]["fields"]
    unknown = agent.post("/api/v1/openenv/sessions/", {"environment": "casino"}, format="json")
    assert unknown.status_code == 404


def test_no_credentials_are_refused_saying_what_to_do(asgi_server):
    reply, code = refusal(f"{asgi_server.ws_url}/openenv/bank-v1/ws")
    assert code == 4401
    assert reply["type"] == "error"
    assert reply["data"]["code"] == "SESSION_ERROR" and reply["data"]["reason"] == "missing"
    assert "POST /api/v1/openenv/sessions/" in reply["data"]["message"]


def test_an_unknown_token_is_refused_as_invalid(asgi_server):
    reply, code = refusal(f"{asgi_server.ws_url}/openenv/bank-v1/s/rlps_notatoken/ws")
    assert (code, reply["data"]["reason"]) == (4401, "invalid")
    assert "not valid" in reply["data"]["message"]


def test_an_expired_session_url_is_refused_as_expired(asgi_server, admin_user):
    minted = mint(key_client(scopes=["agent"]))
    SessionUrl.objects.filter(pk=minted["id"]).update(expires_at=timezone.now() - timedelta(1))
    reply, code = refusal(f"{asgi_server.ws_url}/openenv/bank-v1/s/{minted['token']}/ws")
    assert (code, reply["data"]["reason"]) == (4401, "expired")
    assert "expired at" in reply["data"]["message"]


def test_a_revoked_session_url_is_refused_as_revoked(asgi_server, admin_user):
    client = key_client(scopes=["agent"])
    minted = mint(client)
    url = f"{asgi_server.ws_url}/openenv/bank-v1/s/{minted['token']}/ws"
    assert opens(url)["type"] == "observation"
    revoked = client.post(f"/api/v1/openenv/sessions/{minted['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    reply, code = refusal(url)
    assert (code, reply["data"]["reason"]) == (4401, "revoked")
    assert "revoked at" in reply["data"]["message"]


def test_revoking_the_key_revokes_its_session_urls(asgi_server, admin_user):
    from rlplatform.services import api_key_revoke

    key, plaintext = make_api_key(scopes=["agent"])
    client = key_client(scopes=["agent"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    minted = mint(client)
    api_key_revoke(key=key, revoked_by=admin_user)
    reply, code = refusal(f"{asgi_server.ws_url}/openenv/bank-v1/s/{minted['token']}/ws")
    assert (code, reply["data"]["reason"]) == (4401, "revoked")


def test_a_session_url_opens_only_its_environment(asgi_server, admin_user):
    minted = mint(key_client(scopes=["agent"]))
    reply, code = refusal(f"{asgi_server.ws_url}/openenv/tickets-v1/s/{minted['token']}/ws")
    assert (code, reply["data"]["reason"]) == (4403, "forbidden")
    assert "bank-v1, not tickets-v1" in reply["data"]["message"]


def test_a_bearer_key_needs_the_agent_scope(asgi_server, admin_user):
    _, export_key = make_api_key(scopes=["export"])
    url = f"{asgi_server.ws_url}/openenv/bank-v1/ws"
    reply, code = refusal(url, {"Authorization": f"Bearer {export_key}"})
    assert (code, reply["data"]["reason"]) == (4403, "forbidden")
    reply, code = refusal(url, {"Authorization": "Bearer rlp_000000000000_wrong"})
    assert (code, reply["data"]["reason"]) == (4401, "invalid")
    _, agent = make_api_key(scopes=["agent"])
    assert opens(url, {"Authorization": f"Bearer {agent}"})["type"] == "observation"


def test_a_session_url_also_works_as_a_bearer_token(asgi_server, admin_user):
    minted = mint(key_client(scopes=["agent"]))
    url = f"{asgi_server.ws_url}/openenv/bank-v1/ws"
    assert opens(url, {"Authorization": f"Bearer {minted['token']}"})["type"] == "observation"


def test_http_endpoints_take_the_same_credentials(asgi_server, admin_user):
    minted = mint(key_client(scopes=["agent"]))
    base = f"{asgi_server.url}/openenv/bank-v1"
    assert httpx.post(f"{base}/reset", json={}).status_code == 401
    assert httpx.post(f"{base}/s/{minted['token']}/reset", json={"seed": 1}).status_code == 200
    SessionUrl.objects.filter(pk=minted["id"]).update(revoked_at=timezone.now())
    refused = httpx.post(f"{base}/s/{minted['token']}/reset", json={"seed": 1})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    # health, schema and metadata need no credentials, as in OpenEnv.
    assert httpx.get(f"{base}/s/rlps_anything/health").json() == {"status": "healthy"}


def test_tokens_and_keys_never_reach_the_server_logs(asgi_server, admin_user):
    _, plaintext = make_api_key(scopes=["agent"])
    client = key_client(scopes=["agent"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    minted = mint(client)
    token = minted["token"]
    base = f"{asgi_server.url}/openenv/bank-v1/s/{token}"
    opens(f"{asgi_server.ws_url}/openenv/bank-v1/s/{token}/ws")
    httpx.post(f"{base}/reset", json={"seed": 2})
    httpx.get(f"{base}/nowhere")  # a 404, which Django logs with its path
    SessionUrl.objects.filter(pk=minted["id"]).update(revoked_at=timezone.now())
    httpx.post(f"{base}/reset", json={"seed": 2})  # a 401, logged too
    opens(f"{asgi_server.ws_url}/openenv/bank-v1/ws", {"Authorization": f"Bearer {plaintext}"})
    log = asgi_server.log_text()
    assert "/s/[redacted]/ws" in log and "/s/[redacted]/reset" in log
    assert token not in log
    assert token.removeprefix("rlps_")[:16] not in log
    assert plaintext.split("_", 2)[2][:16] not in log


def test_people_cannot_open_sessions_with_their_browser_session(asgi_server, admin_user):
    contractor = UserFactory(role=Role.CONTRACTOR)
    client = signed_in(contractor)
    assert client.post("/api/v1/openenv/sessions/", {"environment": "bank-v1"}).status_code == 403


def _until_closed(ws) -> tuple[list[dict], int]:
    """What the server sends without being asked, until it closes the socket; and its code."""
    said = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            said.append(json.loads(ws.recv(timeout=10)))
    return said, closed.value.rcvd.code


@pytest.mark.parametrize("revoke", ["session_url", "key_of_session_url", "bearer_key"])
def test_revoking_a_credential_ends_the_sessions_opened_with_it(asgi_server, admin_user, revoke):
    from rlplatform.services import api_key_revoke

    key, plaintext = make_api_key(scopes=["agent"])
    client = key_client(scopes=["agent"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    minted = mint(client)
    if revoke == "bearer_key":
        url, headers = (
            f"{asgi_server.ws_url}/openenv/bank-v1/ws",
            {"Authorization": f"Bearer {plaintext}"},
        )
    else:
        url, headers = f"{asgi_server.ws_url}/openenv/bank-v1/s/{minted['token']}/ws", {}
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
        first = json.loads(ws.recv(timeout=30))["data"]["observation"]["platform_episode_id"]
        ws.send(json.dumps({"type": "step", "data": {"action_str": "noop()"}}))
        assert json.loads(ws.recv(timeout=30))["type"] == "observation"
        if revoke == "session_url":
            assert (
                client.post(f"/api/v1/openenv/sessions/{minted['id']}/revoke/").status_code == 200
            )
        else:
            api_key_revoke(key=key, revoked_by=admin_user)
        said, code = _until_closed(ws)
    assert code == 4401
    assert [(m["type"], m["data"]["reason"]) for m in said] == [("error", "revoked")]
    # The session's episode ended with it, and nothing more was started under the credential.
    assert list(Episode.objects.filter(api_key=key).values_list("pk", "status")) == [
        (first, "abandoned")
    ]


def test_an_expired_key_ends_its_open_sessions(asgi_server, admin_user):
    from rlplatform.models import ApiKey

    key, plaintext = make_api_key(scopes=["agent"])
    url = f"{asgi_server.ws_url}/openenv/bank-v1/ws"
    with connect(url, additional_headers={"Authorization": f"Bearer {plaintext}"}) as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
        assert json.loads(ws.recv(timeout=30))["type"] == "observation"
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
        said, code = _until_closed(ws)
    assert code == 4401
    assert [m["data"]["reason"] for m in said] == ["expired"]
