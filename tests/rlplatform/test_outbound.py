"""Calls to addresses users name (chat policies, webhooks) reach public addresses only: refused
with a 400 naming the field when the URL is given, and again at connection time, after DNS,
connecting to the address that was checked; remote servers' text is not shown."""

import ipaddress
import socket

import pytest

from environments.engine import get_environment
from environments.policies import ChatPolicy, PolicyUnavailable
from exports import services as export_services
from exports.models import Webhook, WebhookDelivery
from rlplatform import outbound
from rlplatform.models import Job
from tests.conftest import key_client, signed_in
from tests.environments.fake_llm import FakeChatServer

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:8000/internal/",
    "http://localhost:6379/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.8/v1",
    "http://192.168.1.1/",
    "http://0.0.0.0:5432/",
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",  # a cloud's IPv6 metadata service (unique local)
]


def rollout(client, base_url: str):
    return client.post(
        "/api/v1/rollouts/",
        {
            "environments": ["bank-v1"],
            "families": ["pay_bill"],
            "count": 1,
            "policy": {"kind": "chat", "base_url": base_url, "model": "m"},
        },
        format="json",
    )


@pytest.fixture
def resolving(monkeypatch):
    """DNS answers set by the test: {host: address}; other names resolve as usual."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return real(answers[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("base_url", INTERNAL)
def test_a_rollout_may_not_point_workers_at_internal_addresses(admin_user, base_url):
    response = rollout(key_client(scopes=["agent"]), base_url)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"].keys() == {"policy.base_url"}
    assert not Job.objects.exists()


@pytest.mark.parametrize("url", INTERNAL[:5])
def test_a_webhook_may_not_point_at_internal_addresses(admin_user, url):
    response = signed_in(admin_user).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["fields"].keys() == {"url"}
    assert not Webhook.objects.exists()


def test_a_name_resolving_to_an_internal_address_is_refused_when_given(admin_user, resolving):
    resolving["models.example.com"] = "127.0.0.1"
    response = rollout(key_client(scopes=["agent"]), "http://models.example.com/v1")
    assert response.status_code == 400
    assert "loopback" in response.json()["error"]["message"]


def first_page(env_id: str = "bank-v1", family: str = "pay_bill"):
    env = get_environment(env_id)
    task = env.make_task(family, 1)
    return task, env.render(env.reset(1, task))


def test_an_internal_address_is_refused_at_connect_time_after_dns(admin_user, resolving):
    """DNS rebinding: public when the rollout was started, loopback when the worker calls."""
    resolving["models.example.com"] = "93.184.215.14"
    assert rollout(key_client(scopes=["agent"]), "http://models.example.com/v1").status_code == 202
    with FakeChatServer(["noop()"]) as server:
        server.loopback_allowed.disable()  # as a production worker runs
        port = server.url.split(":")[2].split("/")[0]
        resolving["models.example.com"] = "127.0.0.1"
        policy = ChatPolicy(base_url=f"http://models.example.com:{port}/v1", model="m")
        with pytest.raises(outbound.OutboundRefused, match="resolves to a loopback address"):
            policy.act(*first_page(), "")
        server.loopback_allowed.enable()
    assert server.requests == []


def test_a_connection_goes_to_the_address_that_was_checked(settings, resolving):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["models.internal"]
    with FakeChatServer(["noop()"]) as server:
        server.loopback_allowed.disable()
        port = server.url.split(":")[2].split("/")[0]
        # A name only the guard's resolution knows: the request reaches the fake server.
        resolving["models.internal"] = "127.0.0.1"
        with outbound.client() as client:
            response = client.post(f"http://models.internal:{port}/v1/chat/completions", json={})
        server.loopback_allowed.enable()
    assert response.status_code == 200
    assert len(server.requests) == 1


def test_the_platforms_own_model_server_may_be_internal(settings, admin_user):
    with FakeChatServer(["noop()"]) as server:
        server.loopback_allowed.disable()
        settings.CHAT_POLICY_BASE_URL = server.url
        response = rollout(key_client(scopes=["agent"]), server.url)
        elsewhere = rollout(key_client(scopes=["agent"]), "http://127.0.0.2:9/v1")
        server.loopback_allowed.enable()
    assert response.status_code == 202, response.json()
    assert elsewhere.status_code == 400


def test_a_model_servers_error_text_is_not_echoed():
    with FakeChatServer([418]) as server:
        policy = ChatPolicy(base_url=server.url, model="m", retries=1)
        with pytest.raises(PolicyUnavailable) as refused:
            policy.act(*first_page(), "")
    assert str(refused.value) == "the model server refused the request: HTTP 418 I'm a Teapot"


def test_a_webhook_whose_name_turns_internal_is_not_delivered(admin_user, manager, resolving):
    resolving["hooks.example.com"] = "93.184.215.14"
    created = signed_in(admin_user).post(
        "/api/v1/webhooks/", {"url": "http://hooks.example.com/ready"}, format="json"
    )
    assert created.status_code == 201, created.json()
    resolving["hooks.example.com"] = "169.254.169.254"
    export = export_services.export_start(
        kind="trajectories", format="jsonl", filters={}, created_by=manager
    )
    delivery = WebhookDelivery.objects.create(
        webhook=Webhook.objects.get(pk=created.json()["id"]), export=export
    )
    assert export_services.webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert "link-local" in delivery.last_error and delivery.delivered_at is None


def test_guarded_clients_take_no_proxy_from_the_environment(monkeypatch, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with FakeChatServer(["noop()"]) as server, outbound.client() as client:
        response = client.post(f"{server.url}/chat/completions", json={})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("100.64.0.1", "non-public"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address, kind):
    assert outbound.address_kind(ipaddress.ip_address(address)) == kind
