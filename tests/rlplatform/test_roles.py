"""Roles decide what people see and may do, on pages and in the API."""

import pytest

from rlplatform.models import AuditEvent, Role, User
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["/keys/", "/users/", "/audit/", "/admin/"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, "You administer the platform"),
        (Role.MANAGER, "You run campaigns"),
        (Role.REVIEWER, "You adjudicate"),
        (Role.CONTRACTOR, "You label"),
    ],
)
def test_each_role_sees_its_own_home_page(client, role, expected):
    from tests.factories import UserFactory

    client.force_login(UserFactory(role=role))
    page = client.get("/").content.decode()
    assert expected in page
    assert ('href="/keys/"' in page) == (role == Role.ADMIN)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_refuse_other_roles(client, contractor, manager, path):
    for person in (contractor, manager):
        client.force_login(person)
        assert client.get(path).status_code in (302, 403)
    client.force_login(contractor)
    if path != "/admin/":
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admins_open_every_admin_page(client, admin_user, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/keys/", "/api/v1/audit/"])
def test_admin_api_refuses_other_roles_with_json(path, contractor, manager, reviewer):
    for person in (contractor, manager, reviewer):
        response = signed_in(person).get(path)
        assert response.status_code == 403
        assert person.role in response.json()["error"]["message"]


def test_an_admin_changes_a_role_and_it_is_audited(admin_user, contractor):
    response = signed_in(admin_user).patch(
        f"/api/v1/users/{contractor.pk}/", {"role": "reviewer"}, format="json"
    )
    assert response.status_code == 200
    assert User.objects.get(pk=contractor.pk).role == Role.REVIEWER
    event = AuditEvent.objects.get(action="role_changed")
    assert event.details == {"from": "contractor", "to": "reviewer"}
    assert event.actor == admin_user


def test_the_last_admin_cannot_demote_themselves(admin_user):
    response = signed_in(admin_user).patch(
        f"/api/v1/users/{admin_user.pk}/", {"role": "manager"}, format="json"
    )
    assert response.status_code == 400
    assert "last active admin" in response.json()["error"]["message"]


def test_role_change_through_the_users_page(client, admin_user, contractor):
    client.force_login(admin_user)
    client.post(f"/users/{contractor.pk}/role/", {"role": "manager"})
    assert User.objects.get(pk=contractor.pk).role == Role.MANAGER
    assert AuditEvent.objects.filter(action="role_changed").count() == 1


def test_role_change_through_the_django_admin_is_audited(client, admin_user, contractor):
    client.force_login(admin_user)
    response = client.post(
        f"/admin/rlplatform/user/{contractor.pk}/change/",
        {
            "username": contractor.username,
            "display_name": contractor.display_name,
            "email": contractor.email,
            "role": "reviewer",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=contractor.pk).role == Role.REVIEWER
    assert AuditEvent.objects.filter(action="role_changed", actor=admin_user).count() == 1


def test_admins_create_people_with_validated_passwords(admin_user):
    client = signed_in(admin_user)
    weak = client.post(
        "/api/v1/users/",
        {"username": "newbie", "password": "123", "role": "contractor"},
        format="json",
    )
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["fields"]
    created = client.post(
        "/api/v1/users/",
        {"username": "newbie", "password": "a-long-enough-passphrase", "role": "contractor"},
        format="json",
    )
    assert created.status_code == 201
    assert User.objects.get(username="newbie").check_password("a-long-enough-passphrase")


def test_the_audit_log_pages_keep_the_chosen_event(client, admin_user):
    AuditEvent.objects.bulk_create(
        [AuditEvent(action=AuditEvent.Action.SIGN_OUT, actor=admin_user) for _ in range(51)]
    )
    client.force_login(admin_user)
    page = client.get("/audit/?action=sign_out").content.decode()
    assert "Page 1 of 2" in page
    assert 'href="?action=sign_out&page=2"' in page
