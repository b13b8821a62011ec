"""The environment checker run from the platform: `manage.py check_environments` and the
Celery task store a report per environment, and the Environments page shows the latest."""

import pytest
from django.core.management import CommandError, call_command

from environments.engine import Check, Outcome, get_environment, list_environments
from environments.models import CheckReport
from environments.tasks import check_environments
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_command_stores_a_report_per_family_and_the_page_shows_the_latest(manager):
    page = signed_in(manager).get("/environments/").content.decode()
    assert "Not checked yet" in page
    call_command("check_environments", "tickets-v1", seeds=1)
    call_command("check_environments", "tickets-v1", seeds=2)
    report = CheckReport.objects.latest("id")
    assert (report.env_id, report.seeds, report.passed) == ("tickets-v1", 2, True)
    families = {row["family"] for row in report.families}
    assert families == set(get_environment("tickets-v1").families)
    for row in report.families:
        assert row["solver_successes"] == 2 and row["deterministic"] and row["passed"]
        assert row["random_successes"] < row["random_episodes"]
    page = signed_in(manager).get("/environments/").content.decode()
    section = page.split('id="check-tickets-v1"', 1)[1].split("</section>", 1)[0]
    assert "Checker: passed" in section and "over 2 seeds a family" in section
    assert "100% <span" in section and "passes" in section
    assert "Not checked yet" in page  # the environments not checked


def test_a_failing_environment_is_reported_in_words(manager, monkeypatch):
    env = get_environment("tickets-v1")
    family = next(iter(env.families.values()))
    monkeypatch.setattr(type(family), "verify", lambda self, initial, final, params: _failed())
    with pytest.raises(CommandError, match="FAILED: tickets-v1"):
        call_command("check_environments", "tickets-v1", seeds=1)
    report = CheckReport.objects.get()
    assert not report.passed
    page = signed_in(manager).get("/environments/").content.decode()
    section = page.split('id="check-tickets-v1"', 1)[1].split("</section>", 1)[0]
    assert "Checker: failed" in section and "Fails: the solver failed seed 0" in section


def _failed():
    return Outcome.from_checks([Check("never", False, "never passes")])


def test_an_unknown_environment_is_refused():
    with pytest.raises(CommandError, match="nope-v1"):
        call_command("check_environments", "nope-v1")
    assert not CheckReport.objects.exists()


@pytest.mark.slow
def test_the_task_checks_every_environment():
    stored = check_environments(seeds=1)
    reports = CheckReport.objects.filter(pk__in=stored)
    assert sorted(reports.values_list("env_id", flat=True)) == sorted(
        env.id for env in list_environments()
    )
