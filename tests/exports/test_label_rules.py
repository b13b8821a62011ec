"""The label rules of exports, through the API as people and programs use it: managers set up
campaigns, contractors judge, a reviewer adjudicates, a program exports with `POST
/api/v1/exports/` and reads the files. Every label kind reads one final label per item: the
adjudicated one, else the judges' aggregate when it is decided; ties, splits and items in
review are left out (and counted in the manifest) unless an export asks for them."""

import json

import pytest

from environments.models import Episode
from exports import services
from exports.models import Export
from labeling.models import ContractorStanding, StandingStatus
from rlplatform.models import JobStatus, Role
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.factories import UserFactory, play_episode

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]

GRADE_SCHEMA = [
    {"name": "steps", "type": "step_rating"},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
]
COMPARE_SCHEMA = [{"name": "preference", "type": "preference"}]


# --- people, through the API ------------------------------------------------------------------


def played(user, *, policy: str = "solver", seed: int = 3) -> Episode:
    return play_episode(
        user=user,
        env_id="bank-v1",
        family="transfer_funds",
        seed=seed,
        policy=policy,
        actor_kind="agent",
        metadata={"policy": policy},
    )


def campaign_with(manager, reviewer, kind: str, entries: list[dict], **settings) -> int:
    """An active campaign made through the API, with `reviewer` as its reviewer."""
    client = signed_in(manager)
    body = {
        "name": f"{kind} labels",
        "kind": kind,
        "schema": GRADE_SCHEMA if kind == "grade" else COMPARE_SCHEMA,
        "overlap": 2,
        "reviewers": [reviewer.username],
        **settings,
    }
    created = client.post("/api/v1/campaigns/", body, format="json")
    assert created.status_code == 201, created.json()
    campaign = created.json()["id"]
    added = client.post(f"/api/v1/campaigns/{campaign}/items/", {"items": entries}, format="json")
    assert added.status_code == 201, added.json()
    started = client.post(
        f"/api/v1/campaigns/{campaign}/status/", {"status": "active"}, format="json"
    )
    assert started.status_code == 200, started.json()
    return campaign


def judge(contractor, campaign: int, *answers_in_turn) -> list[int]:
    """The contractor leases the campaign's next item and submits answers, once for each of
    `answers_in_turn` (items come in id order); each is a dict or a function of the assignment.
    Returns the ids of the items judged."""
    client = signed_in(contractor)
    items = []
    for answers in answers_in_turn:
        leased = client.post("/api/v1/queue/next/", {"campaign": campaign}, format="json")
        assert leased.status_code == 200, leased.content
        assignment = leased.json()
        submitted = client.post(
            f"/api/v1/assignments/{assignment['id']}/submit/",
            {
                "answers": answers(assignment) if callable(answers) else answers,
                "idempotency_key": f"a{assignment['id']}",
            },
            format="json",
        )
        assert submitted.status_code in (200, 201), submitted.json()
        items.append(submitted.json()["judgment"]["item"])
    return items


def grades(rating: int, outcome: int, *, last: int | None = None):
    """Answers rating every step of the graded trajectory `rating` (the last one `last`, when
    given), and the outcome."""

    def answers_for(assignment: dict) -> dict:
        steps = assignment["trajectory"]["length"]
        ratings = [rating] * steps
        if last is not None:
            ratings[-1] = last
        return {"steps": {"ratings": ratings}, "outcome": outcome}

    return answers_for


def prefers(choice: str, strength: int = 2) -> dict:
    answer = {"choice": choice} if choice == "tie" else {"choice": choice, "strength": strength}
    return {"preference": answer}


def final_label(manager, item: int) -> dict:
    return signed_in(manager).get(f"/api/v1/work-items/{item}/").json()["final_label"]


def export(kind: str, filters: dict | None = None) -> tuple[list[dict], dict]:
    """Start an export as a program with an export key, run its job, and read its rows and
    manifest back through the API."""
    client = key_client(scopes=["export"])
    started = client.post(
        "/api/v1/exports/", {"kind": kind, "format": "jsonl", "filters": filters or {}}, "json"
    )
    assert started.status_code == 202, started.json()
    body = started.json()
    job_execute(job_id=body["job"]["id"], handler=services.export_run)
    done = client.get(f"/api/v1/exports/{body['id']}/").json()
    assert done["job"]["status"] == JobStatus.SUCCEEDED, done["job"]
    data = b"".join(client.get(f"/api/v1/exports/{body['id']}/files/data.jsonl").streaming_content)
    manifest = json.loads(
        b"".join(client.get(f"/api/v1/exports/{body['id']}/files/manifest.json").streaming_content)
    )
    rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    assert manifest["rows"] == len(rows)
    return rows, manifest


def left_out(manifest: dict) -> dict[str, int]:
    return {reason: entry["items"] for reason, entry in manifest["left_out"].items()}


@pytest.fixture
def people(db):
    """A manager, the campaign's reviewer, and three contractors."""
    return (
        UserFactory(role=Role.MANAGER),
        UserFactory(role=Role.REVIEWER),
        UserFactory.create_batch(3, role=Role.CONTRACTOR),
    )


@pytest.fixture
def pair(people) -> dict:
    """A compare item: the solver's episode and a random one on the same task and seed."""
    manager = people[0]
    return {"episode_a": played(manager).pk, "episode_b": played(manager, policy="random").pk}


# --- ties and splits --------------------------------------------------------------------------


def test_a_one_one_split_comparison_is_no_winner_and_goes_to_review(people, pair):
    manager, reviewer, (first, second, _) = people
    campaign = campaign_with(manager, reviewer, "compare", [pair])
    (item,) = judge(first, campaign, prefers("A", 3))
    judge(second, campaign, prefers("B", 1))

    label = final_label(manager, item)
    assert label["status"] == "in_review" and label["questions"] == {"preference": "tie"}
    assert label["answers"]["preference"] is None  # no side chosen
    queue = signed_in(reviewer).get("/api/v1/review/").json()
    assert [entry["id"] for entry in queue["results"]] == [item]

    rows, manifest = export("preference")
    assert rows == [] and left_out(manifest) == {"in_review": 1}
    # Asked for, an unresolved item still names no winner where its judges tie.
    rows, manifest = export("preference", {"include_unresolved": True})
    assert rows == [] and left_out(manifest) == {"no_majority": 1}


def test_graders_at_opposite_ends_give_no_label_in_any_kind(people):
    manager, reviewer, (first, second, _) = people
    campaign = campaign_with(manager, reviewer, "grade", [{"episode": played(manager).pk}])
    (item,) = judge(first, campaign, grades(1, 5))
    judge(second, campaign, grades(-1, 2))

    label = final_label(manager, item)
    assert label["status"] == "in_review"
    assert label["questions"] == {"steps": "tie", "outcome": "split"}
    assert set(label["answers"]["steps"]["ratings"]) == {None}
    for kind in ("stepwise", "unpaired"):
        rows, manifest = export(kind)
        assert rows == [] and left_out(manifest) == {"in_review": 1}, kind

    # Included on request: the split outcome comes with its standing, the tied steps never.
    rows, _ = export("unpaired", {"include_unresolved": True})
    assert {(row["item_id"], row["label_status"]) for row in rows} == {(item, "in_review")}
    assert all(row["confidence"] == label["confidence"] < 0.6 for row in rows)
    rows, manifest = export("stepwise", {"include_unresolved": True})
    assert rows == [] and left_out(manifest) == {"no_majority": 1}


def test_a_two_one_majority_is_decided_and_a_higher_threshold_sends_it_to_review(people, pair):
    manager, reviewer, contractors = people
    campaign = campaign_with(manager, reviewer, "compare", [pair], overlap=3)
    for person, choice in zip(contractors, ("A", "A", "B"), strict=True):
        (item,) = judge(person, campaign, prefers(choice))
    label = final_label(manager, item)
    assert (label["status"], label["confidence"]) == ("decided", pytest.approx(2 / 3, abs=1e-3))
    rows, _ = export("preference")
    assert {(row["chosen_episode_id"], row["label_status"]) for row in rows} == {
        (pair["episode_a"], "decided")
    }

    client = signed_in(manager)
    url = f"/api/v1/campaigns/{campaign}/"
    refused = client.patch(url, {"review_threshold": 0.3}, format="json")
    assert refused.status_code == 400
    assert "review_threshold" in refused.json()["error"]["fields"]
    assert client.patch(url, {"review_threshold": 0.8}, format="json").status_code == 200
    label = final_label(manager, item)
    assert label["status"] == "in_review" and label["questions"] == {"preference": "split"}
    assert [
        entry["id"] for entry in signed_in(reviewer).get("/api/v1/review/").json()["results"]
    ] == [item]
    rows, manifest = export("preference")
    assert rows == [] and left_out(manifest) == {"in_review": 1}


# --- adjudication and confidence -------------------------------------------------------------


def test_an_adjudicated_label_is_exported_with_confidence_one(people, pair):
    manager, reviewer, (first, second, _) = people
    campaign = campaign_with(manager, reviewer, "compare", [pair])
    (item,) = judge(first, campaign, prefers("A", 3))
    judge(second, campaign, prefers("B", 1))

    adjudicated = signed_in(reviewer).post(
        f"/api/v1/review/{item}/",
        {"answers": {"preference": {"choice": "B", "strength": 2}}, "note": "A gave up"},
        format="json",
    )
    assert adjudicated.status_code == 200, adjudicated.json()
    label = final_label(manager, item)
    assert (label["status"], label["confidence"]) == ("adjudicated", 1.0)

    # min_confidence reads the final label: the judges' raw agreement (0.5) does not drop it.
    rows, manifest = export("preference", {"min_confidence": 1.0})
    assert left_out(manifest) == {} and rows
    for row in rows:
        assert (row["item_id"], row["chosen_episode_id"], row["rejected_episode_id"]) == (
            item,
            pair["episode_b"],
            pair["episode_a"],
        )
        assert (row["label_status"], row["adjudicated"], row["confidence"]) == (
            "adjudicated",
            True,
            1.0,
        )
        assert row["agreement"] == 0.5 and row["strength"] == 2


def test_min_confidence_keeps_only_labels_at_least_that_sure(people):
    manager, reviewer, contractors = people
    episodes = [played(manager, seed=seed).pk for seed in (3, 4)]
    campaign = campaign_with(
        manager, reviewer, "grade", [{"episode": pk} for pk in episodes], overlap=3
    )
    # The first item is graded unanimously, the second 4, 4 and 3: decided, less surely.
    for person, second_outcome in zip(contractors, (4, 4, 3), strict=True):
        unanimous, close = judge(person, campaign, grades(1, 4), grades(1, second_outcome))
    assert final_label(manager, unanimous)["confidence"] == 1.0
    close_label = final_label(manager, close)
    assert close_label["status"] == "decided" and 0.6 <= close_label["confidence"] < 0.9

    for kind in ("stepwise", "unpaired"):
        rows, manifest = export(kind, {"min_confidence": 0.9})
        assert {row["item_id"] for row in rows} == {unanimous}, kind
        assert left_out(manifest) == {"below_min_confidence": 1}
        rows, manifest = export(kind)
        assert {row["item_id"] for row in rows} == {unanimous, close}
        assert left_out(manifest) == {}


# --- one label, every kind -------------------------------------------------------------------


def test_every_kind_reads_the_same_final_label_of_each_item(people):
    manager, reviewer, (first, second, _) = people
    episodes = [played(manager, seed=seed).pk for seed in (3, 4, 5, 6)]
    campaign = campaign_with(manager, reviewer, "grade", [{"episode": pk} for pk in episodes])
    # Item by item, the two judges: agree it is good, agree it is bad, split (a reviewer will
    # settle it), split (nobody has settled it yet).
    good, bad, settled, unsettled = judge(
        first, campaign, grades(1, 5), grades(-1, 1), grades(1, 5), grades(-1, 5)
    )
    judge(second, campaign, grades(1, 5), grades(-1, 2), grades(-1, 2), grades(1, 1))
    steps = Episode.objects.get(pk=episodes[2]).step_count
    adjudicated = signed_in(reviewer).post(
        f"/api/v1/review/{settled}/",
        {"answers": {"steps": {"ratings": [1] * (steps - 1) + [-1]}, "outcome": 2}},
        format="json",
    )
    assert adjudicated.status_code == 200, adjudicated.json()

    stepwise, stepwise_manifest = export("stepwise")
    unpaired, unpaired_manifest = export("unpaired")
    assert left_out(stepwise_manifest) == left_out(unpaired_manifest) == {"in_review": 1}
    assert {row["item_id"] for row in stepwise} == {good, bad, settled}
    assert {row["item_id"] for row in unpaired} == {good, bad, settled}
    for item in (good, bad, settled):
        label = final_label(manager, item)
        step_rows = [row for row in stepwise if row["item_id"] == item]
        outcome_rows = [row for row in unpaired if row["item_id"] == item]
        for row in step_rows + outcome_rows:
            assert row["label_status"] == label["status"]
            assert row["confidence"] == label["confidence"]
            assert row["adjudicated"] is (label["status"] == "adjudicated")
        final_ratings = label["answers"]["steps"]["ratings"]
        assert {flag for row in step_rows for flag in row["labels"]} == {
            rating >= 0 for rating in final_ratings
        }
        good_outcome = (label["answers"]["outcome"] - 1) / 4 > 0.5
        assert {row["label"] for row in outcome_rows} == {good_outcome}
    assert final_label(manager, settled)["status"] == "adjudicated"
    assert final_label(manager, unsettled)["status"] == "in_review"


def test_excluding_paused_contractors_labels_again_without_their_judgments(people, pair):
    manager, reviewer, steady = people[0], people[1], people[2][:2]
    paused = UserFactory.create_batch(3, role=Role.CONTRACTOR)
    campaign = campaign_with(manager, reviewer, "compare", [pair], overlap=5)
    for person in steady:
        (item,) = judge(person, campaign, prefers("A", 2))
    for person in paused:
        judge(person, campaign, prefers("B", 3))
    assert final_label(manager, item)["status"] == "decided"  # B, 3 of 5
    rows, _ = export("preference")
    assert {row["chosen_episode_id"] for row in rows} == {pair["episode_b"]}

    for person in paused:
        ContractorStanding.objects.update_or_create(
            campaign_id=campaign, contractor=person, defaults={"status": StandingStatus.PAUSED}
        )
    rows, _ = export("preference", {"exclude_paused": True})
    assert {(row["chosen_episode_id"], row["strength"], row["confidence"]) for row in rows} == {
        (pair["episode_a"], 2, 1.0)
    }
    # A reviewer's label stands whoever is paused.
    adjudicated = signed_in(manager).post(
        f"/api/v1/review/{item}/", {"answers": prefers("B", 1)}, format="json"
    )
    assert adjudicated.status_code == 200, adjudicated.json()
    rows, _ = export("preference", {"exclude_paused": True})
    assert {(row["chosen_episode_id"], row["adjudicated"]) for row in rows} == {
        (pair["episode_b"], True)
    }


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "field", "words"),
    [
        ({"min_agreement": 0.8}, "filters.min_agreement", "replaced by min_confidence"),
        ({"min_confidence": 1.5}, "filters.min_confidence", "less than or equal to 1"),
        ({"min_confidance": 0.5}, "filters.min_confidance", "unknown filter"),
        ({"include_unresolved": "maybe"}, "filters.include_unresolved", "valid boolean"),
        ({"campaigns": [987654]}, "filters.campaigns", "no campaign 987654"),
    ],
)
def test_a_wrong_filter_is_refused_naming_it(db, filters, field, words):
    response = key_client(scopes=["export"]).post(
        "/api/v1/exports/", {"kind": "preference", "filters": filters}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"], error
    assert words in " ".join(error["fields"][field])


# --- the Exports page -------------------------------------------------------------------------


def test_the_exports_page_filters_by_campaign_and_says_what_it_left_out(people, pair):
    manager, reviewer, (first, second, _) = people
    campaign = campaign_with(manager, reviewer, "compare", [pair])
    judge(first, campaign, prefers("A", 3))
    judge(second, campaign, prefers("B", 1))
    other = campaign_with(manager, reviewer, "compare", [pair], name="Other")
    client = signed_in(manager)
    page = client.get("/exports/").content.decode()
    assert f'value="{campaign}"' in page and f'value="{other}"' in page

    refused = client.post(
        "/exports/",
        {"kind": "preference", "format": "jsonl", "campaigns": [campaign], "min_confidence": 2},
    )
    assert refused.status_code == 400 and "less than or equal to 1" in refused.content.decode()
    assert not Export.objects.exists()

    form = {"kind": "preference", "format": "jsonl", "campaigns": [campaign]}
    client.post("/exports/", form)
    client.post("/exports/", {**form, "include_unresolved": "on", "min_confidence": "0.4"})
    left_out, included = Export.objects.order_by("pk")
    assert left_out.filters == {"campaigns": [campaign]}
    assert included.filters == {
        **left_out.filters,
        "include_unresolved": True,
        "min_confidence": 0.4,
    }
    for export_row in (left_out, included):
        job_execute(job_id=export_row.job_id, handler=services.export_run)
    page = client.get("/exports/").content.decode()
    assert '<li data-reason="in_review">1 item: waiting for a reviewer</li>' in page
    assert '<li data-reason="no_majority">1 item:' in page
