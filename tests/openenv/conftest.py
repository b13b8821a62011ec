import pytest

from tests.factories import make_api_key
from tests.openenv import live


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """uvicorn serving rlplatform.asgi against the test database; tests that use it need
    committed data (`transactional_db`)."""
    yield live.shared()
    live.stop_shared()


@pytest.fixture
def agent_key(admin_user) -> str:
    return make_api_key(scopes=["agent"])[1]
