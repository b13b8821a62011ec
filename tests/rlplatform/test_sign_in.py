"""Signing in and out: audited, throttled, locked out after repeated failures."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import Client, override_settings

from rlplatform.models import AuditEvent, Role
from tests.conftest import UNREACHABLE_CACHE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post("/accounts/sign-in/", {"username": username, "password": password})


def test_sign_in_and_out_are_audited(client, contractor, password):
    response = sign_in(client, contractor.username, password)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/sign-out/")
    assert client.get("/").status_code == 302
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["sign_in", "sign_out"]


def test_a_failed_sign_in_shows_an_error_and_is_audited(client, contractor):
    response = sign_in(client, contractor.username, "wrong password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action="sign_in_failed")
    assert event.actor_label == contractor.username
    assert event.ip_address == "127.0.0.1"


@override_settings(SIGNIN_MAX_FAILURES=3, SIGNIN_LOCKOUT_SECONDS=600)
def test_repeated_failures_lock_the_account_out_even_with_the_right_password(
    client, contractor, password
):
    for _ in range(3):
        sign_in(client, contractor.username, "guess")
    response = sign_in(client, contractor.username, password)
    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "locked for 10 minutes" in response.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="sign_in_locked").exists()


@override_settings(SIGNIN_MAX_FAILURES=3)
def test_a_successful_sign_in_clears_earlier_failures(client, contractor, password):
    for _ in range(2):
        sign_in(client, contractor.username, "guess")
    assert sign_in(client, contractor.username, password).status_code == 302
    client.post("/accounts/sign-out/")
    for _ in range(2):
        sign_in(client, contractor.username, "guess")
    assert sign_in(client, contractor.username, password).status_code == 302


def test_the_sign_in_form_carries_a_csrf_token(client):
    page = client.get("/accounts/sign-in/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


@override_settings(SIGNIN_MAX_FAILURES=2)
def test_one_address_guessing_many_names_is_throttled(client, contractor, password):
    for n in range(8):
        sign_in(client, f"nobody{n}", "guess")
    response = sign_in(client, contractor.username, password)
    assert "Too many failed sign-ins" in response.content.decode()


@override_settings(CACHES=UNREACHABLE_CACHE, SIGNIN_MAX_FAILURES=1)
def test_sign_in_works_without_a_lockout_while_the_cache_is_unreachable(
    client, contractor, password, caplog
):
    for _ in range(2):
        failed = sign_in(client, contractor.username, "guess")
        assert "Please enter a correct username and password" in failed.content.decode()
    assert sign_in(client, contractor.username, password).status_code == 302
    assert "sign-in lockout: the cache is unavailable" in caplog.text


class SlowHasher(PBKDF2PasswordHasher):
    """Slow enough that parallel attempts overlap while their passwords are checked."""

    iterations = 60_000


@pytest.mark.django_db(transaction=True)
@override_settings(SIGNIN_MAX_FAILURES=5)
def test_parallel_attempts_past_the_limit_are_refused_without_a_password_check(settings):
    settings.PASSWORD_HASHERS = ["tests.rlplatform.test_sign_in.SlowHasher"]
    person = UserFactory(role=Role.CONTRACTOR)
    person.set_password("the right one")
    person.save()
    attempts = 40
    start = threading.Barrier(attempts)

    def wrong_guess(number: int) -> str:
        start.wait()
        try:
            return sign_in(Client(), person.username, f"guess {number}").content.decode()
        finally:
            connection.close()

    with ThreadPoolExecutor(attempts) as pool:
        pages = list(pool.map(wrong_guess, range(attempts)))
    # Only as many passwords were checked as the limit lets fail; the others were refused.
    assert AuditEvent.objects.filter(action="sign_in_failed").count() == 5
    assert sum("Too many failed sign-ins" in page for page in pages) == attempts - 5
    refused = sign_in(Client(), person.username, "the right one")
    assert refused.status_code == 200 and "Too many failed sign-ins" in refused.content.decode()


@override_settings(SIGNIN_MAX_FAILURES=3)
def test_an_attempt_without_a_password_does_not_clear_failures(client, contractor, password):
    for _ in range(2):
        sign_in(client, contractor.username, "guess")
    client.post("/accounts/sign-in/", {"username": contractor.username})
    sign_in(client, contractor.username, "guess")
    response = sign_in(client, contractor.username, password)
    assert "Too many failed sign-ins" in response.content.decode()
