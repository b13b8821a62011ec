"""The reproductions of an outside probe, each through the entry point it used: text no
database stores (NUL, lone surrogates), Unicode digits and numerals, 5,000-deep nesting. Each
is refused with a 4xx naming the input, and nothing of it is stored. (Sockets, sign-in,
outbound calls, scoping and imports have their own modules: tests/openenv/test_auth.py,
tests/rlplatform/test_sign_in.py and test_outbound.py, tests/exports/test_scoping.py,
tests/environments/test_imports.py.)"""

import json

import pytest
from django.test import Client

from environments.models import Episode, Step
from labeling import services as labeling
from labeling.models import Adjudication, Campaign, Judgment
from labeling.queue import next_item_for
from rlplatform.models import ApiKey, AuditEvent
from tests.conftest import key_client, signed_in
from tests.factories import make_api_key, make_campaign, make_finished_episode

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
UNICODE_NUMBERS = ["²", "٣", "Ⅻ", "½", "\U0001d7d7", "௧௦", "99999999999999999999999"]
SCHEMA = [
    {"name": "steps", "type": "step_rating", "notes": True},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
    {"name": "comment", "type": "text", "required": False},
]


@pytest.fixture
def graded(admin_user, manager, contractor):
    """A grade campaign of manager's with one solved episode, held by the contractor."""
    episode = make_finished_episode(user=manager, solved=True)
    campaign = make_campaign(owner=manager, items=0, overlap=1, schema=SCHEMA, status="draft")
    labeling.items_add(campaign=campaign, added_by=manager, entries=[{"episode": episode.pk}])
    campaign = labeling.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    return {"assignment": assignment, "steps": episode.step_count, "campaign": campaign}


def answers(graded, **extra) -> dict:
    return {"steps": {"ratings": [1] * graded["steps"]}, "outcome": 3, **extra}


def with_note(graded, key: str) -> dict:
    return answers(graded, steps={"ratings": [1] * graded["steps"], "notes": {key: "why"}})


def post_json(client, url: str, body) -> object:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, raw, content_type="application/json")


# --- Unicode digits as step-note keys ---------------------------------------------------------


@pytest.mark.parametrize("key", UNICODE_NUMBERS)
def test_a_step_note_keyed_by_a_unicode_number_is_refused_on_submit(graded, contractor, key):
    url = f"/api/v1/assignments/{graded['assignment'].pk}/submit/"
    response = post_json(
        signed_in(contractor), url, {"answers": with_note(graded, key), "idempotency_key": "k"}
    )
    assert response.status_code == 400, response.content
    assert "answers.steps" in response.json()["error"]["fields"]
    assert not Judgment.objects.exists()
    accepted = post_json(
        signed_in(contractor), url, {"answers": with_note(graded, "0"), "idempotency_key": "k"}
    )
    assert accepted.status_code == 201, accepted.content


@pytest.mark.parametrize("key", UNICODE_NUMBERS)
def test_a_step_note_keyed_by_a_unicode_number_is_refused_on_review(
    graded, manager, contractor, key
):
    labeling.judgment_submit(
        assignment=graded["assignment"],
        contractor=contractor,
        answers=answers(graded),
        idempotency_key="judged",
    )
    item = graded["assignment"].item
    response = post_json(
        signed_in(manager), f"/api/v1/review/{item.pk}/", {"answers": with_note(graded, key)}
    )
    assert response.status_code == 400, response.content
    assert not Adjudication.objects.exists()


# --- 5,000-deep nesting -------------------------------------------------------------------


def test_deep_nesting_is_refused_by_the_api_parser(admin_user):
    response = post_json(key_client(scopes=["agent"]), "/api/v1/episodes/", DEEP)
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", ["reset", "step"])
def test_deep_nesting_is_refused_by_openenv_http(admin_user, endpoint):
    _, key = make_api_key(scopes=["agent"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = post_json(client, f"/openenv/bank-v1/{endpoint}", DEEP)
    assert response.status_code == 422
    assert "nested deeper" in json.dumps(response.json()["detail"])


def test_deep_nesting_is_refused_by_openenv_mcp_without_credentials(db):
    response = post_json(Client(), "/openenv/bank-v1/mcp", DEEP)
    assert response.status_code == 200  # JSON-RPC answers its errors in the body
    assert response.json()["error"]["code"] == -32700


@pytest.mark.parametrize("field", ["schema", "sources"])
def test_deep_nesting_in_a_campaigns_json_fields_is_a_form_error(manager, field):
    form = {
        "name": "Deep",
        "kind": "grade",
        "schema": json.dumps(SCHEMA),
        "sources": "{}",
        "overlap": 1,
        "priority": 0,
        "gold_rate": 0,
        "gold_min_judged": 5,
        "qualification_size": 0,
        "qualification_pass_rate": 0.8,
        "review_threshold": 0.6,
        "lease_seconds": 900,
        field: DEEP,
    }
    response = signed_in(manager).post("/label/manage/new/", form)
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.content.decode()
    assert not Campaign.objects.filter(name="Deep").exists()


# --- NUL in page forms ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"comment": "a\x00b"}, "answers.comment"),
        ({"comment": "\ud800"}, "answers.comment"),
        ({"idempotency_key": "k\x00"}, "idempotency_key"),
    ],
)
def test_nul_in_the_workbench_submit_is_refused_naming_the_field(graded, contractor, body, field):
    submit = {"answers": answers(graded), "idempotency_key": "k", "time_spent_ms": 1000}
    if "comment" in body:
        submit["answers"]["comment"] = body["comment"]
    else:
        submit.update(body)
    response = post_json(
        signed_in(contractor), f"/label/assignments/{graded['assignment'].pk}/submit/", submit
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {field}
    assert not Judgment.objects.exists()


def test_nul_in_the_skip_note_is_refused(graded, contractor):
    response = post_json(
        signed_in(contractor),
        f"/label/assignments/{graded['assignment'].pk}/skip/",
        {"reason": "unclear", "note": "a\x00b"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {"note"}
    graded["assignment"].refresh_from_db()
    assert graded["assignment"].status == "active"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("eligible_groups", "en,\x00", "eligible_groups"),
        ("name", "Campaign\x00", "name"),
        ("schema", json.dumps([{"name": "q", "type": "text", "prompt": "a\x00b"}]), "0.prompt"),
    ],
)
def test_nul_in_the_campaign_form_is_refused_naming_the_field(manager, field, value, named):
    response = signed_in(manager).post("/label/manage/new/", campaign_form(**{field: value}))
    assert response.status_code == 400
    assert named in response.content.decode()
    assert not Campaign.objects.exists()


def campaign_form(**fields) -> dict:
    return {
        "name": "Hostile",
        "kind": "grade",
        "schema": json.dumps(SCHEMA),
        "overlap": 1,
        "priority": 0,
        "gold_rate": 0,
        "gold_min_judged": 5,
        "qualification_size": 0,
        "qualification_pass_rate": 0.8,
        "review_threshold": 0.6,
        "lease_seconds": 900,
        **fields,
    }


# --- Unicode digits where a number is expected ---------------------------------------------
# int(), float() and Django's date parser read "\u0663" as 3; the platform reads numbers in ASCII
# digits only, as its environments' sites and OpenEnv do.

ARABIC_INDIC = str.maketrans(
    "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
)
FULLWIDTH = str.maketrans(
    "0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"
)
DEVANAGARI = str.maketrans(
    "0123456789", "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f"
)
DIGIT_SCRIPTS = pytest.mark.parametrize(
    "digits", [ARABIC_INDIC, FULLWIDTH, DEVANAGARI], ids=["arabic-indic", "fullwidth", "devanagari"]
)


@DIGIT_SCRIPTS
def test_an_api_id_in_unicode_digits_is_refused_naming_the_field(admin_user, digits):
    agent = key_client(scopes=["agent"])
    first = post_json(
        agent, "/api/v1/episodes/", {"environment": "bank-v1", "family": "pay_bill", "seed": 1}
    )
    task = str(first.json()["task"]["id"])
    response = post_json(agent, "/api/v1/episodes/", {"task": task.translate(digits)})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {"task"}
    assert Episode.objects.count() == 1
    assert post_json(agent, "/api/v1/episodes/", {"task": task}).status_code == 201


@DIGIT_SCRIPTS
def test_an_api_number_in_unicode_digits_is_refused_naming_the_field(graded, manager, digits):
    item = graded["assignment"].item
    url = f"/api/v1/work-items/{item.pk}/"
    response = signed_in(manager).patch(url, {"priority": "7".translate(digits)}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {"priority"}
    item.refresh_from_db()
    assert item.priority == 0


@DIGIT_SCRIPTS
def test_an_api_date_in_unicode_digits_is_refused_naming_the_field(admin_user, digits):
    body = {"name": "later", "scopes": ["agent"], "expires_at": "2030-01-02T03:04:05Z"}
    response = post_json(
        signed_in(admin_user),
        "/api/v1/keys/",
        {**body, "expires_at": body["expires_at"].translate(digits)},
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {"expires_at"}
    assert not ApiKey.objects.exists()
    assert post_json(signed_in(admin_user), "/api/v1/keys/", body).status_code == 201


@DIGIT_SCRIPTS
def test_an_openenv_seed_in_unicode_digits_is_refused_as_pydantic_does(admin_user, digits):
    _, key = make_api_key(scopes=["agent"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = post_json(client, "/openenv/bank-v1/reset", {"seed": "42".translate(digits)})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == "int_parsing" and error["loc"] == ["body", "seed"]
    assert not Episode.objects.exists()


@DIGIT_SCRIPTS
def test_a_page_form_number_in_unicode_digits_is_a_form_error(manager, digits):
    response = signed_in(manager).post(
        "/label/manage/new/", campaign_form(overlap="2".translate(digits))
    )
    assert "Enter a whole number." in response.content.decode()
    assert not Campaign.objects.exists()


@DIGIT_SCRIPTS
def test_a_page_form_date_in_unicode_digits_is_a_form_error(admin_user, digits):
    form = {
        "name": "later",
        "scopes": ["agent"],
        "expires_at": "2030-01-02 03:04".translate(digits),
    }
    response = signed_in(admin_user).post("/keys/", form)
    assert "Enter a valid date/time." in response.content.decode()
    assert not ApiKey.objects.exists()


@DIGIT_SCRIPTS
def test_a_page_number_or_size_in_unicode_digits_is_not_read_as_one(admin_user, digits):
    agent = key_client(scopes=["agent"])
    for seed in (1, 2):
        body = {"environment": "bank-v1", "family": "pay_bill", "seed": seed}
        post_json(agent, "/api/v1/episodes/", body)
    assert len(agent.get("/api/v1/episodes/?page=2&page_size=1").json()["results"]) == 1
    assert (
        agent.get(f"/api/v1/episodes/?page={'2'.translate(digits)}&page_size=1").status_code == 404
    )
    ignored = agent.get(f"/api/v1/episodes/?page_size={'1'.translate(digits)}").json()
    assert len(ignored["results"]) == 2


@pytest.mark.parametrize("version", ["9" * 5000, "1".translate(ARABIC_INDIC)])
def test_an_environment_version_that_is_not_a_few_ascii_digits_is_not_found(admin_user, version):
    response = key_client(scopes=["agent"]).get(f"/api/v1/environments/bank-v{version}/")
    assert response.status_code == 404, response.content[:200]


def test_an_export_history_in_unicode_digits_is_refused_naming_the_filter(admin_user):
    history = "last_pages:" + "3".translate(ARABIC_INDIC)
    response = post_json(
        key_client(scopes=["export"]),
        "/api/v1/exports/",
        {"kind": "sft", "filters": {"granularity": "step", "history": history}},
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {"filters.history"}


def test_nul_at_sign_in_is_refused_before_any_lookup(db):
    response = Client().post("/accounts/sign-in/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
    assert "username" in response.content.decode()
    assert not AuditEvent.objects.exists()


# --- NUL in query parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url", "parameter"),
    [
        ("contractor", "/api/v1/assignments/?status=%00", "status"),
        ("admin", "/api/v1/tasks/?environment=%00", "environment"),
        ("admin", "/api/v1/episodes/?status=%00", "status"),
        ("manager", "/api/v1/campaigns/?kind=%00", "kind"),
        ("admin", "/api/v1/jobs/?kind=%00", "kind"),
        ("admin", "/api/v1/users/?role=%00", "role"),
        ("admin", "/api/v1/audit/?action=%00", "action"),
        ("admin", "/api/v1/assignments/?%00=1", "\\u0000"),
    ],
)
def test_nul_in_a_list_filter_is_a_400_naming_the_parameter(
    admin_user, manager, contractor, who, url, parameter
):
    person = {"admin": admin_user, "manager": manager, "contractor": contractor}[who]
    response = signed_in(person).get(url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"].keys() == {parameter}


def test_nul_in_the_audit_pages_filter_is_a_400_page(admin_user):
    response = signed_in(admin_user).get("/audit/?action=%00")
    assert response.status_code == 400
    assert "action: text may not contain NUL" in response.content.decode()


def test_nul_in_a_header_that_is_stored_is_refused(graded, contractor):
    response = signed_in(contractor).post(
        f"/api/v1/assignments/{graded['assignment'].pk}/submit/",
        {"answers": answers(graded)},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k\x00",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {"Idempotency-Key"}
    assert not Judgment.objects.exists()


def test_a_step_idempotency_key_header_longer_than_its_column_is_refused(admin_user):
    agent = key_client(scopes=["agent"])
    episode = post_json(
        agent, "/api/v1/episodes/", {"environment": "bank-v1", "family": "pay_bill", "seed": 1}
    ).json()
    url = f"/api/v1/episodes/{episode['id']}/step/"
    body = json.dumps({"action": "noop()"})
    refused = agent.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["fields"].keys() == {"idempotency_key"}
    assert not Step.objects.exists()
    stepped = agent.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 100)
    assert stepped.status_code == 200, stepped.content


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (DEEP, "nested deeper than 64 levels"),
        ('{"a": "\\u0000"}', "a: text may not contain NUL"),
        ('["\\ud800"]', "0: text may not contain NUL"),
    ],
)
def test_the_django_admins_json_fields_read_json_as_the_pages_do(admin_user, value, problem):
    form = {"name": "Hostile", "kind": "grade", "schema": value, "sources": "{}", "owner": ""}
    response = signed_in(admin_user).post("/admin/labeling/campaign/add/", form)
    assert response.status_code == 200  # the form again, with its errors
    assert problem in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_form_body_that_cannot_be_read_is_a_400(admin_user):
    response = signed_in(admin_user).generic(
        "POST", "/api/v1/imports/", b"--x\r\n", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"].keys() == {"body"}


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        (DEEP, "nested deeper than 64 levels"),
        ('[{"name": "q", "type": "text", "prompt": "\\ud800"}]', "text may not contain NUL"),
        ('[{"name": "q",', "Not valid JSON: line 1, column 15"),
    ],
)
def test_the_schema_preview_names_what_is_wrong_with_hostile_json(manager, schema, shown):
    response = signed_in(manager).post(
        "/label/manage/preview/", {"kind": "grade", "schema": schema}
    )
    assert response.status_code == 200
    assert shown in response.content.decode()
