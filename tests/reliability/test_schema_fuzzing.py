"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI schema,
with a key holding every scope, a fixed budget and a fixed seed. No answer may be a server
error, and every refusal must be the platform's JSON error naming the problem."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from rlplatform.wsgi import application
from tests.factories import make_api_key

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def every_scope(admin_user) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_api_key(scopes=['agent', 'export', 'admin'])[1]}"}


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_server_fail(case, every_scope):
    response = case.call(headers=every_scope)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        where = f"{case.method} {case.formatted_path}"
        # Not JSON (an HTML error page, say) fails here too.
        assert response.json()["error"]["message"], f"{where}: an error without a message"
