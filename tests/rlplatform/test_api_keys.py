"""API keys: created once, stored hashed, scoped, revocable, never logged."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from rlplatform.models import ApiKey, AuditEvent, Role
from tests.conftest import key_client, signed_in
from tests.factories import UserFactory, make_api_key

pytestmark = pytest.mark.django_db


def bearer(client, key: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_admin_creates_a_key_through_the_api_and_sees_it_once(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        "/api/v1/keys/", {"name": "rollout agent", "scopes": ["agent"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    plaintext = response.json()["key"]
    assert plaintext.startswith("rlp_")

    listed = client.get("/api/v1/keys/").json()
    assert listed["count"] == 1
    assert "key" not in listed["results"][0]
    assert plaintext not in str(listed)


def test_the_key_is_stored_only_as_a_hash(admin_user):
    key, plaintext = make_api_key(scopes=["agent"])
    secret = plaintext.split("_", 2)[2]
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert all(secret not in str(value) for value in stored.values())
    assert len(stored["secret_hash"]) == 64


def test_a_valid_key_authenticates_and_records_last_use(api, admin_user):
    key, plaintext = make_api_key(scopes=["admin"])
    response = bearer(api, plaintext).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["api_key"] == {
        "name": "test key",
        "prefix": key.prefix,
        "scopes": ["admin"],
    }
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "presented",
    ["rlp_000000000000_wrong", "not-a-key", "rlp_missingparts"],
)
def test_a_wrong_key_gets_401_with_a_json_message(api, admin_user, presented):
    make_api_key(scopes=["admin"])
    response = bearer(api, presented).get("/api/v1/me/")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["status"] == 401
    assert "API key" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_right_prefix_with_a_wrong_secret_is_refused(api, admin_user):
    _, plaintext = make_api_key(scopes=["admin"])
    response = bearer(api, plaintext[:-4] + "AAAA").get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "invalid API key"


def test_a_revoked_key_is_refused_and_the_refusal_audited(api, admin_user):
    key, plaintext = make_api_key(scopes=["admin"])
    response = signed_in(admin_user).post(f"/api/v1/keys/{key.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False

    response = bearer(api, plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    assert AuditEvent.objects.filter(action="key_revoked", target=f"key:{key.prefix}").exists()
    assert AuditEvent.objects.filter(action="key_refused", target=f"key:{key.prefix}").exists()


def test_an_expired_key_is_refused(api, admin_user):
    key, plaintext = make_api_key(scopes=["admin"])
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(api, plaintext).get("/api/v1/me/")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_an_out_of_scope_key_gets_403_naming_the_scope(admin_user):
    client = key_client(scopes=["agent"])
    response = client.get("/api/v1/keys/")
    assert response.status_code == 403
    assert "'admin' scope" in response.json()["error"]["message"]


def test_a_key_never_borrows_its_owners_role(admin_user):
    # The key belongs to an admin, but only has the export scope.
    client = key_client(scopes=["export"], owner=admin_user)
    assert client.get("/api/v1/users/").status_code == 403


def test_only_admins_may_hold_admin_scoped_keys(admin_user, manager):
    response = signed_in(admin_user).post(
        "/api/v1/keys/",
        {"name": "ops", "scopes": ["admin"], "owner": manager.username},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "owner": ["a key with the 'admin' scope must belong to an admin"]
    }


def test_an_unknown_scope_is_refused_naming_the_field(admin_user):
    response = signed_in(admin_user).post(
        "/api/v1/keys/", {"name": "x", "scopes": ["root"]}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "scopes" in error["message"]
    assert "root" in error["message"]


def test_non_admins_cannot_create_keys(manager):
    response = signed_in(manager).post(
        "/api/v1/keys/", {"name": "mine", "scopes": ["agent"]}, format="json"
    )
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_nothing_about_a_key_reaches_the_logs(api, admin_user, caplog):
    _, plaintext = make_api_key(scopes=["agent"])
    caplog.set_level(logging.DEBUG)
    bearer(api, plaintext).get("/api/v1/keys/")
    bearer(api, plaintext[:-3] + "xyz").get("/api/v1/me/")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    api.get("/api/v1/nowhere/")
    secret = plaintext.split("_", 2)[2]
    assert secret not in caplog.text


def test_keys_page_creates_a_key_shown_once_and_revokes_it(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/keys/", {"name": "exporter", "scopes": ["export"]})
    assert response.status_code == 200
    plaintext = response.context["created_key"]
    assert plaintext.startswith("rlp_")
    assert plaintext in response.content.decode()

    page = client.get("/keys/").content.decode()
    assert "exporter" in page
    assert plaintext not in page

    key = ApiKey.objects.get(name="exporter")
    response = client.post(f"/keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.is_revoked


def test_the_django_admin_creates_keys_through_the_service(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/rlplatform/apikey/add/",
        {"name": "from admin", "scopes": ["agent"], "owner": admin_user.pk, "expires_at": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    key = ApiKey.objects.get(name="from admin")
    assert any("rlp_" + key.prefix in message for message in shown)
    assert AuditEvent.objects.filter(action="key_created", target=f"key:{key.prefix}").exists()


def test_a_deactivated_owner_disables_their_keys(api):
    owner = UserFactory(role=Role.MANAGER)
    _, plaintext = make_api_key(scopes=["agent"], owner=owner)
    owner.is_active = False
    owner.save()
    assert bearer(api, plaintext).get("/api/v1/me/").status_code == 401


def test_an_admin_key_stops_working_when_its_owner_stops_being_admin(api, admin_user):
    from rlplatform.services import user_set_role

    other_admin = UserFactory(role=Role.ADMIN)
    _, plaintext = make_api_key(scopes=["admin"], owner=other_admin)
    assert bearer(api, plaintext).get("/api/v1/users/").status_code == 200
    user_set_role(user=other_admin, role=Role.MANAGER, changed_by=admin_user)
    response = bearer(api, plaintext).get("/api/v1/users/")
    assert response.status_code == 401
    assert "no longer an admin" in response.json()["error"]["message"]


def test_a_key_owned_by_an_admin_sees_only_its_owners_jobs(admin_user, manager):
    from rlplatform.models import Job

    Job.objects.create(kind="recompute_statistics", created_by=manager)
    mine = Job.objects.create(kind="recompute_statistics", created_by=admin_user)
    client = key_client(scopes=["export"], owner=admin_user)
    listed = client.get("/api/v1/jobs/").json()
    assert [job["id"] for job in listed["results"]] == [mine.pk]
