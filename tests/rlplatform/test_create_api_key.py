from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_key_made_in_a_shell_acts_with_its_scopes(client):
    UserFactory(username="ops", role="admin")
    out = StringIO()
    call_command("create_api_key", "grpo run", "--admin", "ops", stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("rlp_")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/me/", **auth).status_code == 200
    started = client.post(
        "/api/v1/episodes/",
        {"environment": "bank-v1", "family": "pay_bill", "seed": 1},
        content_type="application/json",
        **auth,
    )
    assert started.status_code == 201
    assert client.get("/api/v1/keys/", **auth).status_code == 403


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--admin", "nobody"], "--admin: no active person 'nobody'"),
        (["--admin", "worker"], "only admins create API keys"),
        (["--admin", "ops", "--owner", "worker", "--scopes", "admin"], "must belong to an admin"),
    ],
)
def test_a_key_the_platform_refuses_is_an_error_saying_why(arguments, message):
    UserFactory(username="ops", role="admin")
    UserFactory(username="worker", role="contractor")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", "a key", *arguments, stdout=StringIO())
