"""First-error grading: the question type, its answers (checked on submit), the per-step labels
it implies by PRM800K's convention, its agreement (the step on an interval scale, the category
nominal), its aggregate and its gold score."""

import pytest

from labeling import services
from labeling.quality import (
    aggregate_answers,
    answer_score,
    campaign_agreement,
    first_error_step_labels,
    krippendorff_alpha,
)
from labeling.questions import DEFAULT_ERROR_CATEGORIES
from labeling.schemas import LabelSchemaError, validate_answers, validate_schema
from tests.conftest import signed_in
from tests.factories import make_campaign, make_finished_episode

FIRST_ERROR = [{"name": "first_error", "type": "first_error"}]


def schema(**settings):
    return validate_schema([{**FIRST_ERROR[0], **settings}], kind="grade")


def test_the_default_taxonomy_ships_each_category_with_its_key():
    (question,) = schema()
    assert [c["value"] for c in question["categories"]] == [
        c["value"] for c in DEFAULT_ERROR_CATEGORIES
    ]
    assert [c["key"] for c in question["categories"]] == [str(n) for n in range(1, 9)]
    assert "wrong_element" in question["categories"][0]["value"]


def test_a_campaign_edits_its_taxonomy_and_bad_taxonomies_are_named():
    (question,) = schema(categories=["misclick", {"value": "bad_math", "label": "Bad maths"}])
    assert question["categories"] == [
        {"value": "misclick", "label": "misclick", "key": "1"},
        {"value": "bad_math", "label": "Bad maths", "key": "2"},
    ]
    with pytest.raises(LabelSchemaError) as raised:
        schema(categories=[str(n) for n in range(10)])
    assert "question 'first_error'" in str(raised.value) and "at most 9" in str(raised.value)
    with pytest.raises(LabelSchemaError) as raised:
        validate_schema(FIRST_ERROR * 2, kind="grade")
    assert "at most one first_error question" in str(raised.value)
    with pytest.raises(LabelSchemaError):
        validate_schema(FIRST_ERROR, kind="compare")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"step": 7, "category": "wrong_element"}, "step 7 is out of range"),
        ({"step": -1, "category": "wrong_element"}, "step -1 is out of range"),
        ({"step": 2, "category": "sloppy"}, "category 'sloppy' is not in the taxonomy"),
        ({"step": 2}, "give a category"),
        ({"step": None, "category": "wrong_element"}, "no step went wrong"),
        ({"step": "2", "category": "wrong_element"}, "step is a whole number"),
        ({"step": True, "category": "wrong_element"}, "step is a whole number"),
        ({"category": "wrong_element"}, '{"step"'),
        ({"step": 1, "category": "wrong_element", "why": "x"}, "unknown field 'why'"),
        ({"step": 1, "category": "wrong_element", "note": 5}, "the note is text"),
    ],
)
def test_bad_first_error_answers_name_the_question_and_the_problem(answer, expected):
    with pytest.raises(LabelSchemaError) as raised:
        validate_answers(schema(), {"first_error": answer}, steps=5)
    assert raised.value.field == "answers.first_error"
    assert expected in str(raised.value) and "question 'first_error'" in str(raised.value)


def test_good_first_error_answers_come_back_with_the_trajectory_length():
    checked = validate_answers(
        schema(), {"first_error": {"step": 4, "category": "ignored_error", "note": " x "}}, steps=5
    )
    assert checked == {
        "first_error": {"step": 4, "category": "ignored_error", "note": "x", "steps": 5}
    }
    none = validate_answers(schema(), {"first_error": {"step": None}}, steps=5)
    assert none == {"first_error": {"step": None, "category": None, "steps": 5}}


def test_labels_follow_prm800k_good_before_the_first_error_bad_on_it_none_after():
    assert first_error_step_labels({"step": 2, "category": "x"}, 5) == [
        True,
        True,
        False,
        None,
        None,
    ]
    assert first_error_step_labels({"step": 0, "category": "x"}, 3) == [False, None, None]
    assert first_error_step_labels({"step": 2, "category": "x"}, 3) == [True, True, False]
    assert first_error_step_labels({"step": None, "category": None}, 3) == [True] * 3
    assert first_error_step_labels(None, 2) == [None, None]


def answer(step, category=None, steps=6):
    return {"first_error": {"step": step, "category": category, "steps": steps}}


def test_alpha_is_computed_on_the_step_as_interval_and_on_the_category_as_nominal():
    answers_by_item = {
        1: [answer(2, "wrong_element"), answer(2, "wrong_element")],
        2: [answer(None), answer(5, "answered_too_early")],
        3: [answer(0, "wrong_value"), answer(1, "wrong_value")],
        4: [answer(3, "ignored_error"), answer(3, "wrong_element")],
    }
    report = campaign_agreement(schema(), answers_by_item)
    by_name = {q["name"]: q for q in report["questions"]}
    step, category = by_name["first_error"], by_name["first_error.category"]
    # "No step went wrong" is coded as the trajectory's length (6), one past its last step.
    assert step["level"] == "interval" and step["items"] == 4
    assert step["alpha"] == round(
        krippendorff_alpha([[2, 2], [6, 5], [0, 1], [3, 3]], "interval"), 4
    )
    assert category["level"] == "nominal" and category["items"] == 3
    expected = krippendorff_alpha(
        [["wrong_element"] * 2, ["wrong_value"] * 2, ["ignored_error", "wrong_element"]],
        "nominal",
    )
    assert category["alpha"] == round(expected, 4)
    assert step["alpha"] > category["alpha"]


def test_the_aggregate_takes_the_majority_step_then_its_majority_category():
    (question,) = schema()
    three = [answer(2, "wrong_element"), answer(2, "wrong_element"), answer(4, "wrong_value")]
    result = aggregate_answers([question], three, threshold=0.6)
    assert result["answers"]["first_error"] == {"step": 2, "category": "wrong_element", "steps": 6}
    assert result["status"]["first_error"] == "decided"
    assert result["confidence"]["first_error"] == round((2 / 3 + 1) / 2, 4)

    tie = aggregate_answers([question], [answer(1, "wrong_value"), answer(None)], threshold=0.6)
    assert tie["answers"]["first_error"] is None and tie["status"]["first_error"] == "tie"
    torn = [answer(1, "wrong_value"), answer(1, "wrong_element")]
    category_tie = aggregate_answers([question], torn, threshold=0.6)
    assert category_tie["answers"]["first_error"]["category"] is None
    assert category_tie["status"]["first_error"] == "tie"
    split = aggregate_answers([question], three, threshold=0.9)
    assert split["status"]["first_error"] == "split" and not split["decided"]


def test_gold_scores_the_step_first_and_the_category_on_the_right_step():
    (question,) = schema()
    gold = {"step": 2, "category": "wrong_element"}
    assert answer_score(question, {"step": 2, "category": "wrong_element"}, gold) == 1.0
    assert answer_score(question, {"step": 2, "category": "wrong_value"}, gold) == 0.5
    assert answer_score(question, {"step": 3, "category": "wrong_element"}, gold) == 0.0
    assert answer_score(question, {"step": None, "category": None}, {"step": None}) == 1.0


@pytest.fixture
def first_error_campaign(manager):
    campaign = make_campaign(owner=manager, items=0, schema=FIRST_ERROR, overlap=1, status="draft")
    episode = make_finished_episode(user=manager, solved=True)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": episode.pk}])
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return campaign, episode


@pytest.mark.django_db
def test_a_first_error_submitted_through_the_api_is_checked_against_the_episode(
    first_error_campaign, contractor
):
    campaign, episode = first_error_campaign
    client = signed_in(contractor)
    assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
    url = f"/api/v1/assignments/{assignment['id']}/submit/"
    steps = episode.step_count
    out_of_range = {"first_error": {"step": steps, "category": "wrong_element"}}
    refused = client.post(url, {"answers": out_of_range, "idempotency_key": "a"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["answers.first_error"]
    assert f"step {steps} is out of range" in refused.json()["error"]["message"]
    unknown = {"first_error": {"step": 1, "category": "typo"}}
    refused = client.post(url, {"answers": unknown, "idempotency_key": "b"}, format="json")
    assert (
        refused.status_code == 400 and "'typo' is not in the taxonomy" in refused.content.decode()
    )

    good = {"first_error": {"step": 1, "category": "needless_action", "note": "clicked twice"}}
    created = client.post(url, {"answers": good, "idempotency_key": "c"}, format="json")
    assert created.status_code == 201
    judgment = campaign.items.get().judgments.get()
    assert judgment.answers["first_error"] == {**good["first_error"], "steps": steps}


@pytest.mark.django_db
def test_a_tie_on_the_first_error_goes_to_review_shown_as_a_tie_and_is_adjudicated(
    manager, reviewer, contractors
):
    campaign = make_campaign(owner=manager, items=0, schema=FIRST_ERROR, overlap=2, status="draft")
    episode = make_finished_episode(user=manager, solved=True)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": episode.pk}])
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    given = [{"step": 1, "category": "wrong_element"}, {"step": None}]
    for person, answer in zip(contractors[:2], given, strict=True):
        client = signed_in(person)
        assignment = client.post("/api/v1/queue/next/", {}, format="json").json()
        submitted = client.post(
            f"/api/v1/assignments/{assignment['id']}/submit/",
            {"answers": {"first_error": answer}, "idempotency_key": "k"},
            format="json",
        )
        assert submitted.status_code == 201

    client = signed_in(reviewer)
    item_id = client.get("/api/v1/review/").json()["results"][0]["id"]
    page = client.get(f"/label/review/{item_id}/").content.decode()
    assert "step 2: Wrong element" in page and "no step went wrong" in page
    assert 'data-standing="tie"' in page
    final = {"first_error": {"step": 1, "category": "wrong_value"}}
    response = client.post(f"/api/v1/review/{item_id}/", {"answers": final}, format="json")
    assert response.status_code == 200
    item = signed_in(manager).get(f"/api/v1/work-items/{item_id}/").json()
    assert item["final_label"]["answers"]["first_error"] == {
        "step": 1,
        "category": "wrong_value",
        "steps": episode.step_count,
    }
