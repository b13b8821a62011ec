"""The campaign builder: a manager sets up each kind of campaign with form controls alone (no
JSON typed), the preview shows the contractor's questions as the workbench does, and the JSON
stays an advanced view whose mistakes are named with their line and column."""

import pytest

from labeling import services
from labeling.models import Campaign
from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import (
    UserFactory,
    make_campaign,
    make_finished_episode,
    make_labeling_task,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a contractor sees of each question: its name and type, its prompt, and every key.
QUESTIONS_SEEN = """(root) => Array.from(
    document.querySelectorAll(root + ' fieldset.question')).map((q) => ({
        name: q.dataset.name,
        type: q.dataset.type,
        legend: q.querySelector('legend').innerText.trim(),
        keys: Array.from(q.querySelectorAll('button')).map((b) => b.innerText.trim())}))"""


def question_card(page, number: int):
    return page.locator("#schema-builder .builder-question").nth(number - 1)


def add_question(page, title: str):
    page.select_option("#add-question-type", label=title)
    page.click("#add-question")


def create(page) -> Campaign:
    page.click("#campaign-form button[type=submit]")
    page.wait_for_url("**/label/manage/*/")
    return Campaign.objects.order_by("-pk").first()


def test_a_manager_builds_each_kind_of_campaign_without_typing_json(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)

    # Grade: the example's questions, changed with the controls.
    page.goto(f"{live_server.url}/label/manage/new/")
    page.fill("#id_name", "Bank grades")
    page.wait_for_selector("#schema-preview fieldset.question")
    question_card(page, 4).get_by_role("button", name="Remove").click()  # the comment box
    add_question(page, "Choose one option")
    choice = question_card(page, 4)
    choice.locator(".q-prompt").fill("Main problem")
    choice.locator(".q-name").fill("problem")
    choice.locator(".row-label").nth(0).fill("Wrong page")
    choice.locator(".row-label").nth(1).fill("Too slow")
    choice.get_by_role("button", name="Add an option").click()
    choice.locator(".row-label").nth(2).fill("Something else")
    choice.get_by_role("button", name="↑ Up").click()  # now third, before the checks
    checks = question_card(page, 4)
    checks.get_by_role("button", name="Add a check").click()
    checks.locator(".row-label").nth(2).fill("Polite to the user")
    page.locator('#sources-builder [data-sources="families"] input[value="pay_bill"]').check()
    page.wait_for_function(  # the preview has caught up with the last change
        "Array.from(document.querySelectorAll('#schema-preview fieldset.question'))"
        ".map((q) => q.dataset.name).join() === 'steps,outcome,problem,checks'"
        " && document.querySelectorAll('#schema-preview [data-check]').length === 3"
    )
    preview = page.evaluate(QUESTIONS_SEEN, "#schema-preview")
    grade = create(page)
    assert [(q["name"], q["type"]) for q in grade.schema] == [
        ("steps", "step_rating"),
        ("outcome", "outcome_rating"),
        ("problem", "single_choice"),
        ("checks", "rubric"),
    ]
    assert grade.schema[2]["options"] == [
        {"value": "wrong_page", "label": "Wrong page"},
        {"value": "too_slow", "label": "Too slow"},
        {"value": "something_else", "label": "Something else"},
    ]
    assert grade.schema[3]["checks"][2] == {
        "name": "polite_to_the_user",
        "label": "Polite to the user",
    }
    assert grade.sources == {
        "environment": "bank-v1",
        "families": ["pay_bill"],
        "actor_kinds": ["agent"],
        "rollouts": {"mode": "failures", "sample_rate": 0.25},
    }

    # The preview showed the questions as the workbench shows them.
    task = make_labeling_task(family="pay_bill", seed=3)
    episode = make_finished_episode(task=task, user=manager, solved=True, policy="solver")
    services.items_add(campaign=grade, added_by=manager, entries=[{"episode": episode.pk}])
    services.campaign_set_status(campaign=grade, status="active", changed_by=manager)
    contractor = UserFactory(role=Role.CONTRACTOR)
    page.context.clear_cookies()
    browser_sign_in(page, live_server, contractor.username)
    page.goto(f"{live_server.url}/label/campaigns/{grade.pk}/work/")
    page.wait_for_selector("#panel[data-assignment]")
    assert page.evaluate(QUESTIONS_SEEN, "#panel") == preview
    page.context.clear_cookies()
    browser_sign_in(page, live_server, manager.username)

    # Compare: choosing the kind swaps in its example; sources set with the controls.
    page.goto(f"{live_server.url}/label/manage/new/")
    page.fill("#id_name", "Bank pairs")
    page.select_option("#id_kind", "compare")
    assert question_card(page, 1).get_attribute("data-type") == "preference"
    page.locator('#sources-builder [data-sources="episode_sources"] input[value="rollout"]').check()
    page.locator("#sources-builder .builder-field", has_text="Pairs per task").locator(
        "input"
    ).fill("2")
    page.check("#sources-rollouts")
    page.select_option("#sources-rollouts-mode", "all")
    page.fill("#sources-rollouts-rate", "50")
    compare = create(page)
    assert compare.kind == "compare" and compare.schema[0]["type"] == "preference"
    assert compare.sources == {
        "environment": "bank-v1",
        "pairs_per_task": 2,
        "episode_sources": ["rollout"],
        "rollouts": {"mode": "all", "sample_rate": 0.5},
    }

    # Demonstrate: a family, its seeds, and a question built from nothing.
    page.goto(f"{live_server.url}/label/manage/new/")
    page.fill("#id_name", "Bank demos")
    page.select_option("#id_kind", "demonstrate")
    question_card(page, 1).get_by_role("button", name="Remove").click()
    add_question(page, "Yes / no checks")
    rubric = question_card(page, 1)
    rubric.locator(".q-prompt").fill("What was hard?")
    rubric.locator(".row-label").nth(0).fill("Finding the page")
    page.select_option("#sources-environment", "ledger-v1")
    page.locator('#sources-builder [data-sources="families"] input[value="record_bill"]').check()
    page.locator("#sources-builder .builder-field", has_text="Seeds per family").locator(
        "input"
    ).fill("3")
    demonstrate = create(page)
    assert demonstrate.kind == "demonstrate"
    assert demonstrate.schema[0]["prompt"] == "What was hard?"
    assert demonstrate.schema[0]["checks"][0]["label"] == "Finding the page"
    assert demonstrate.sources == {
        "environment": "ledger-v1",
        "families": ["record_bill"],
        "seeds": {"start": 0, "count": 3},
    }


def test_json_mistakes_are_named_with_their_line_and_column(page, live_server, manager):
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/label/manage/new/")
    page.click("#schema-json summary")
    page.fill("#id_schema", '[\n  {"name": "outcome" "type": "outcome_rating"}\n]')
    error = page.locator("#id_schema-json-error")
    assert error.inner_text().startswith("Not valid JSON: line 2, column 22")
    # The builder and the preview follow JSON that parses.
    page.fill("#id_schema", '[{"name": "outcome", "type": "outcome_rating", "max": 3}]')
    assert error.is_hidden()
    assert question_card(page, 1).locator('[data-key="max"]').input_value() == "3"
    page.wait_for_function(
        "document.querySelectorAll('#schema-preview fieldset[data-name=outcome] button')"
        ".length === 3"
    )


def test_the_preview_shows_the_questions_as_the_page_opens(page, live_server, manager):
    """Before any change, and without asking the server again: a new campaign's example, and
    an existing campaign's own questions when it is edited."""
    asked: list[str] = []
    page.route(
        "**/label/manage/preview/", lambda route: (asked.append(route.request.url), route.abort())
    )
    browser_sign_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/label/manage/new/?kind=compare")
    names = page.locator("#schema-preview fieldset.question").evaluate_all(
        "(questions) => questions.map((q) => q.dataset.name)"
    )
    assert names[0] == "preference"
    assert page.locator("#schema-preview .preview-keys kbd").count() > 0

    campaign = make_campaign(owner=manager, items=0, status="draft")
    page.goto(f"{live_server.url}/label/manage/{campaign.pk}/edit/")
    shown = page.locator("#schema-preview fieldset.question").evaluate_all(
        "(questions) => questions.map((q) => q.dataset.name)"
    )
    assert shown == [question["name"] for question in campaign.schema]
    assert asked == []
