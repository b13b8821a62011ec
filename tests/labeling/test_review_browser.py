"""What a reviewer sees of a tie, in a real browser: each judge's answer, the words "Tie" and
"Split" where the aggregate would be, and a form that hands them no side to accept."""

import pytest

from labeling import services
from labeling.models import Adjudication
from labeling.queue import next_item_for
from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import UserFactory, make_finished_episode, make_labeling_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRADE_SCHEMA = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
    {"name": "checks", "type": "rubric", "checks": ["goal_met", "no_collateral"]},
]


def campaign_judged(manager, reviewer, kind: str, schema: list, entry: dict, answers: list):
    """An active campaign of one item, judged by one contractor for each of `answers`."""
    campaign = services.campaign_create(
        created_by=manager,
        name=f"{kind} split",
        kind=kind,
        schema=schema,
        reviewers=[reviewer],
        overlap=len(answers),
    )
    services.items_add(campaign=campaign, added_by=manager, entries=[entry])
    campaign = services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    for index, given in enumerate(answers):
        contractor = UserFactory(role=Role.CONTRACTOR)
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        services.judgment_submit(
            assignment=assignment, contractor=contractor, answers=given, idempotency_key=f"{index}"
        )
    return campaign.items.get()


@pytest.fixture
def split_items():
    manager = UserFactory(role=Role.MANAGER)
    reviewer = UserFactory(role=Role.REVIEWER)
    task = make_labeling_task(family="card_controls", seed=4)
    solved = make_finished_episode(task=task, user=manager, solved=True, policy="solver")
    gave_up = make_finished_episode(task=task, user=manager, policy="quitter")
    steps = solved.step_count
    compare = campaign_judged(
        manager,
        reviewer,
        "compare",
        [{"name": "preference", "type": "preference"}],
        {"episode_a": solved.pk, "episode_b": gave_up.pk},
        [
            {"preference": {"choice": "A", "strength": 3}},
            {"preference": {"choice": "B", "strength": 1}},
        ],
    )
    # The judges agree on every step but the last, and on one of the two checks.
    grade = campaign_judged(
        manager,
        reviewer,
        "grade",
        GRADE_SCHEMA,
        {"episode": solved.pk},
        [
            {
                "steps": {"ratings": [1] * steps},
                "outcome": 5,
                "checks": {"goal_met": True, "no_collateral": True},
            },
            {
                "steps": {"ratings": [1] * (steps - 1) + [-1]},
                "outcome": 2,
                "checks": {"goal_met": False, "no_collateral": True},
            },
        ],
    )
    return reviewer, compare, grade, steps


def pressed(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        selector,
        "buttons => buttons.filter(b => b.getAttribute('aria-pressed') === 'true')"
        ".map(b => b.textContent.trim())",
    )


def test_a_reviewer_sees_a_split_as_a_split_with_no_side_filled_in(page, live_server, split_items):
    reviewer, compare, grade, steps = split_items
    browser_sign_in(page, live_server, reviewer.username)

    page.goto(f"{live_server.url}/label/review/")
    queue = page.inner_text("main table")
    assert f"#{compare.pk}" in queue and f"#{grade.pk}" in queue
    assert page.locator("main table .standing", has_text="Tie").count() == 2

    # The comparison: each judge's side, "Tie" where a winner would be, no side chosen.
    page.goto(f"{live_server.url}/label/review/{compare.pk}/")
    page.wait_for_selector("#panel .q-preference")
    row = page.locator(".judgments-table tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[:2] == ["A (much)", "B (slightly)"]
    assert cells[2].startswith("Tie")
    assert "B" not in cells[2] and "A" not in cells[2].replace("Tie", "")
    assert page.inner_text(".wb-counters .standing") == "Tie"
    assert pressed(page, "#panel .q-preference button") == []

    # The reviewer decides by keyboard: B, clearly; the label is recorded as theirs.
    page.keyboard.press("b")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    # Recorded, the next item waiting for review opens, the grade, and confirms in words
    # what was recorded.
    page.wait_for_url(f"{live_server.url}/label/review/{grade.pk}/?recorded={compare.pk}")
    assert Adjudication.objects.get(item=compare).answers == {
        "preference": {"choice": "B", "strength": 2}
    }
    confirmation = page.inner_text("#recorded")
    assert f"Recorded the final label of item #{compare.pk}" in confirmation
    assert "Preference: B (clearly)" in confirmation

    # The grade: the agreed steps and check are filled in; the tied step, the tied check and
    # the split outcome are left for the reviewer.
    page.wait_for_selector("#panel .q-step_rating")
    last = page.locator(f'.step-table tr[data-step-row="{steps}"] td').last
    assert last.inner_text() == "Tie"
    outcome = page.locator(".judgments-table").first.locator("tbody tr").first
    outcome = outcome.locator("td").all_inner_texts()
    assert outcome[:2] == ["5", "2"] and outcome[2].startswith("Split")
    assert page.inner_text(".wb-counters .standing") == "Tie"
    rated = page.eval_on_selector_all(
        "#panel .chip[data-goto]",
        "chips => chips.map(c => ['rated-1', 'rated--1', 'rated-0']"
        ".find(name => c.classList.contains(name)) || '')",
    )
    assert rated[: steps - 1] == ["rated-1"] * (steps - 1) and rated[steps - 1] == ""
    assert pressed(page, "#panel .q-outcome_rating button") == []
    assert pressed(page, '#panel li[data-check="goal_met"] button') == []
    assert pressed(page, '#panel li[data-check="no_collateral"] button') == ["1 Yes"]
