from io import StringIO

import pytest
from django.core.management import call_command

from rlplatform.models import Role, User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_one_person_per_role_once(settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    first = StringIO()
    call_command("seed_demo", stdout=first)
    second = StringIO()
    call_command("seed_demo", stdout=second)

    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.count() == 5
    assert "already exist" in second.getvalue()
    username, password = (tmp_path / "demo-credentials.txt").read_text().splitlines()[0].split("\t")
    assert f"{username:<12} {password}" in first.getvalue()
    assert client.login(username=username, password=password)
