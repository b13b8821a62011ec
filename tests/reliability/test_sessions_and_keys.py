"""Sessions and keys: production cookies are secure, keys are checked in constant time, and every
security-relevant action leaves an audit entry. (CSRF on every form is checked over the
permission matrix's routes; sign-in throttling, lockout and password validation have their own
tests in tests/rlplatform.)"""

import hmac
import json

import pytest
from django.test import Client

from rlplatform.models import ApiKeyScope, AuditEvent, Role
from tests.conftest import bearer_client, key_client, signed_in
from tests.factories import PASSWORD, UserFactory, make_api_key
from tests.rlplatform.test_settings import PRODUCTION, run_python

pytestmark = pytest.mark.django_db

COOKIE_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
)


def test_production_signs_people_in_with_secure_http_only_same_site_cookies(settings):
    shown = run_python(
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))",
        **PRODUCTION,
    )
    assert shown.returncode == 0, shown.stderr
    production = json.loads(shown.stdout)
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    for name, value in production.items():
        setattr(settings, name, value)

    person = UserFactory(role=Role.CONTRACTOR)
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/accounts/sign-in/", secure=True)
    csrf = form.cookies["csrftoken"]
    response = browser.post(
        "/accounts/sign-in/",
        {
            "username": person.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": form.context["csrf_token"],
        },
        secure=True,
        headers={"referer": "https://testserver/accounts/sign-in/"},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"
    assert csrf["secure"] and csrf["httponly"]


def test_plain_http_is_redirected_to_https_in_production(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/accounts/sign-in/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_an_unknown_key_prefix_costs_the_same_comparison_as_a_wrong_secret(monkeypatch):
    _, plaintext = make_api_key(scopes=[ApiKeyScope.AGENT])
    compared = []
    compare_digest = hmac.compare_digest

    def recording_compare(a, b):
        compared.append((len(a), len(b)))
        return compare_digest(a, b)

    monkeypatch.setattr("rlplatform.services.hmac.compare_digest", recording_compare)
    prefix, secret = plaintext.split("_")[1], plaintext.split("_", 2)[2]
    wrong_secret = f"rlp_{prefix}_{'x' * len(secret)}"
    unknown_prefix = f"rlp_{'z' * len(prefix)}_{secret}"
    for presented in (wrong_secret, unknown_prefix, plaintext):
        client = bearer_client(presented)
        expected = 200 if presented == plaintext else 401
        assert client.get("/api/v1/me/").status_code == expected
    # One comparison of equal-length digests per request, whether or not the prefix exists.
    assert len(compared) == 3
    assert len(set(compared)) == 1


def test_every_security_relevant_action_leaves_an_audit_entry(admin_user, client):
    """Each action through the entry point people and programs use, and the entry it leaves."""
    person = UserFactory(username="auditee", role=Role.CONTRACTOR)
    admin = signed_in(admin_user)
    agent = UserFactory(role=Role.MANAGER)
    actions = []

    def expect(action: str, **fields) -> None:
        event = AuditEvent.objects.filter(action=action).order_by("-id").first()
        assert event is not None, f"no audit entry for {action}"
        for name, value in fields.items():
            assert getattr(event, name) == value, (action, name, getattr(event, name))
        actions.append(action)

    client.post("/accounts/sign-in/", {"username": "auditee", "password": "wrong"})
    expect(AuditEvent.Action.SIGN_IN_FAILED, target="user:auditee")
    client.post("/accounts/sign-in/", {"username": "auditee", "password": PASSWORD})
    expect(AuditEvent.Action.SIGN_IN, actor=person)
    client.post("/accounts/sign-out/")
    expect(AuditEvent.Action.SIGN_OUT, actor=person)
    for _ in range(10):
        client.post("/accounts/sign-in/", {"username": "auditee", "password": "wrong"})
    expect(AuditEvent.Action.SIGN_IN_LOCKED, target="user:auditee")

    created = admin.post(
        "/api/v1/users/",
        {"username": "newcomer", "password": "a-long-enough-passphrase", "role": "contractor"},
        format="json",
    )
    assert created.status_code == 201
    expect(AuditEvent.Action.USER_CREATED, actor=admin_user, target="user:newcomer")
    admin.patch(f"/api/v1/users/{created.json()['id']}/", {"role": "reviewer"}, format="json")
    expect(AuditEvent.Action.ROLE_CHANGED, actor=admin_user)

    minted = admin.post(
        "/api/v1/keys/",
        {"name": "agent", "scopes": ["agent"], "owner": agent.username},
        format="json",
    )
    assert minted.status_code == 201, minted.json()
    expect(AuditEvent.Action.KEY_CREATED, actor=admin_user)
    agent_client = bearer_client(minted.json()["key"])
    session = agent_client.post(
        "/api/v1/openenv/sessions/", {"environment": "bank-v1"}, format="json"
    )
    assert session.status_code == 201
    expect(AuditEvent.Action.SESSION_URL_CREATED, target=f"session_url:{session.json()['id']}")
    agent_client.post(f"/api/v1/openenv/sessions/{session.json()['id']}/revoke/")
    expect(AuditEvent.Action.SESSION_URL_REVOKED, target=f"session_url:{session.json()['id']}")
    admin.post(f"/api/v1/keys/{minted.json()['id']}/revoke/")
    expect(AuditEvent.Action.KEY_REVOKED, actor=admin_user)
    assert agent_client.get("/api/v1/me/").status_code == 401
    expect(AuditEvent.Action.KEY_REFUSED, details={"reason": "revoked"})

    assert sorted(actions) == sorted(AuditEvent.Action.values), (
        "an audit action without a test of the action that records it"
    )
    # Admins read the record through the API; nobody else does.
    assert admin.get("/api/v1/audit/").json()["count"] >= len(actions)
    assert key_client(scopes=["agent"]).get("/api/v1/audit/").status_code == 403
