import pytest

from tests.factories import make_api_key
from tests.openenv import live


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """The same server tests/openenv and tests/trainers use (one per test session)."""
    yield live.shared()
    live.stop_shared()


@pytest.fixture
def agent_key(admin_user) -> str:
    return make_api_key(scopes=["agent"])[1]
