import pytest

from rlplatform.models import Role
from tests.factories import UserFactory, make_campaign


@pytest.fixture
def contractors(db):
    return UserFactory.create_batch(3, role=Role.CONTRACTOR)


@pytest.fixture
def grade_campaign(manager):
    return make_campaign(kind="grade", owner=manager, items=3, overlap=2)


@pytest.fixture
def compare_campaign(manager):
    return make_campaign(kind="compare", owner=manager, items=2, overlap=2)
