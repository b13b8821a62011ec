"""Who may do what, over every URL the platform serves.

One table: a row per route and method, a column per principal, each cell the status that
principal gets. The routes come from the URL conf and the OpenAPI schema, so an endpoint added
without a row fails this test. Every request runs in a transaction that is rolled back, so each
cell sees the same world. Beyond the statuses, no answer a non-admin gets carries a gold answer,
and contractor B gets nothing of contractor A's.
"""

import copy
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from environments import services as environment_services
from environments.models import ActorKind
from environments.openenv import services as openenv_services
from environments.services import StepRequest
from exports import services as export_services
from labeling import services as labeling_services
from labeling.queue import next_item_for
from rlplatform import services as platform_services
from rlplatform.models import ApiKey, ApiKeyScope, Job, Role
from rlplatform.services import job_execute
from rlplatform.throttling import AnonymousRateThrottle, PrincipalRateThrottle
from tests.conftest import bearer_client
from tests.evaluations.helpers import evaluated
from tests.factories import (
    GOOD_ANSWERS,
    UserFactory,
    make_api_key,
    make_campaign,
    make_finished_episode,
    make_gold_item,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.slow,
]

PRINCIPALS = (
    "anon",
    "contractor_a",
    "contractor_b",
    "reviewer",
    "manager_x",
    "manager_y",
    "admin",
    "key_agent",
    "key_export",
    "key_admin",
    "key_revoked",
    "key_expired",
)
GOLD_SECRET = "gold-answer-only-admins-read"
MULTIPART = object()  # a row's body: an empty multipart form (uploads)
FORM = "application/x-www-form-urlencoded"
A_SECRET = "contractor-a-wrote-this"


# fmt: off
# Each row: method, then the route's name, optionally followed by URL arguments that differ from
# the world's defaults (name=world key) and a query string; then a status per principal; then,
# for some, the body to send (otherwise an empty JSON object to the API, an empty form to pages).
#                                               anon A   B   rev mX  mY  adm kAg kEx kAd kRv kXp
ROWS = [
    # --- pages: signed-in people by role; anonymous visitors and keys are sent to sign in -----
    ("GET",   "home",                           "302 200 200 200 200 200 200 302 302 302 302 302"),
    ("GET",   "login",                          "200 302 302 302 302 302 302 200 200 200 200 200"),
    ("POST",  "logout",                         "302 302 302 302 302 302 302 302 302 302 302 302"),
    ("GET",   "keys",                           "302 403 403 403 403 403 200 302 302 302 302 302"),
    ("POST",  "key_revoke",                     "302 403 403 403 403 403 302 302 302 302 302 302"),
    ("GET",   "audit_log",                      "302 403 403 403 403 403 200 302 302 302 302 302"),
    ("GET",   "jobs",                           "302 200 200 200 200 200 200 302 302 302 302 302"),
    ("GET",   "job_detail",                     "302 404 404 404 404 404 200 302 302 302 302 302"),
    ("POST",  "statistics_recompute",           "302 403 403 403 403 403 302 302 302 302 302 302"),
    ("GET",   "users",                          "302 403 403 403 403 403 200 302 302 302 302 302"),
    ("POST",  "user_role_change",               "302 403 403 403 403 403 302 302 302 302 302 302"),
    ("GET",   "healthz",                        "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "readyz",                         "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "metrics",                        "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "catalog",                        "302 200 200 200 200 200 200 302 302 302 302 302"),
    ("POST",  "try_family",                     "302 403 403 403 302 302 302 302 302 302 302 302"),
    ("GET",   "play",                           "302 200 404 404 404 404 404 302 302 302 302 302"),
    ("GET",   "play_outcome",                   "302 200 404 404 404 404 404 302 302 302 302 302"),
    ("GET",   "rollouts",                       "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "imports",                        "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "exports",                        "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "evaluations",                    "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("POST",  "evaluations",                    "302 403 403 403 400 400 400 302 302 302 302 302"),
    ("GET",   "evaluation_detail",              "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("GET",   "evaluation_csv",                 "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("GET",   "evaluation_json",                "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("GET",   "export_file",                    "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("GET",   "labeling_hub",                   "302 302 302 302 302 302 302 302 302 302 302 302"),
    ("GET",   "labeling_home",                  "302 200 200 403 403 403 200 302 302 302 302 302"),
    ("GET",   "labeling_work",                  "302 200 200 403 403 403 200 302 302 302 302 302"),
    ("POST",  "labeling_next",                  "302 200 200 403 403 403 200 302 302 302 302 302"),
    ("GET",   "labeling_panel",                 "302 200 404 403 403 403 404 302 302 302 302 302"),
    ("POST",  "labeling_submit",                "302 400 404 403 403 403 404 302 302 302 302 302"),
    ("POST",  "labeling_skip",                  "302 400 404 403 403 403 404 302 302 302 302 302"),
    ("POST",  "labeling_undo",                  "302 200 404 403 403 403 404 302 302 302 302 302"),
    ("GET",   "labeling_review",                "302 403 403 200 200 200 200 302 302 302 302 302"),
    ("GET",   "labeling_review_item",           "302 403 403 200 200 404 200 302 302 302 302 302"),
    ("GET",   "labeling_campaigns",             "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "labeling_campaign_new",          "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "labeling_campaign_edit",         "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("POST",  "labeling_campaign_preview",      "302 403 403 403 200 200 200 302 302 302 302 302"),
    ("GET",   "labeling_dashboard",             "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("POST",  "labeling_campaign_status",       "302 403 403 403 302 404 302 302 302 302 302 302"),
    ("POST",  "labeling_campaign_generate",     "302 403 403 403 302 404 302 302 302 302 302 302"),
    ("POST",  "labeling_campaign_agreement",    "302 403 403 403 302 404 302 302 302 302 302 302"),
    ("POST",  "labeling_standing_resume",       "302 403 403 403 302 404 302 302 302 302 302 302"),
    ("GET",   "labeling_items",                 "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("GET",   "labeling_item",                  "302 403 403 403 200 404 200 302 302 302 302 302"),
    ("POST",  "labeling_items_bulk",            "302 403 403 403 302 404 302 302 302 302 302 302"),
    ("POST",  "labeling_items_export",          "302 403 403 403 302 404 302 302 302 302 302 302"),
    # --- API: people by role, programs by their key's scope ------------------------------------
    ("GET",   "api_me",                         "401 200 200 200 200 200 200 200 200 200 401 401"),
    ("GET",   "api_audit",                      "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("GET",   "api_jobs",                       "401 200 200 200 200 200 200 200 200 200 401 401"),
    ("GET",   "api_job",                        "401 404 404 404 404 404 200 404 404 200 401 401"),
    ("POST",  "api_job_cancel",                 "401 404 404 404 404 404 200 404 404 200 401 401"),
    ("POST",  "api_statistics_recompute",       "401 403 403 403 403 403 202 403 403 202 401 401"),
    ("GET",   "api_keys",                       "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("POST",  "api_keys",                       "401 403 403 403 403 403 400 403 403 400 401 401"),
    ("POST",  "api_key_revoke",                 "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("GET",   "api_users",                      "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("POST",  "api_users",                      "401 403 403 403 403 403 400 403 403 400 401 401"),
    ("GET",   "api_user",                       "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("PATCH", "api_user",                       "401 403 403 403 403 403 400 403 403 400 401 401"),
    ("GET",   "api_environments",               "401 200 200 200 200 200 200 200 403 403 401 401"),
    ("GET",   "api_environment",                "401 200 200 200 200 200 200 200 403 403 401 401"),
    ("GET",   "api_tasks",                      "401 200 200 200 200 200 200 200 403 403 401 401"),
    ("POST",  "api_tasks",                      "401 400 400 400 400 400 400 400 403 403 401 401"),
    ("GET",   "api_task",                       "401 200 200 200 200 200 200 200 403 403 401 401"),
    ("GET",   "api_episodes",                   "401 200 200 200 200 200 200 200 403 403 401 401"),
    ("POST",  "api_episodes",                   "401 403 403 403 400 400 400 400 403 403 401 401"),
    ("POST",  "api_episodes_create",            "401 403 403 403 400 400 400 400 403 403 401 401"),
    ("GET",   "api_episode",                    "401 200 404 404 200 200 200 404 403 403 401 401"),
    ("POST",  "api_episode_step",               "401 200 404 404 404 404 404 404 403 403 401 401",
                                                {"action": "noop()"}),
    ("POST",  "api_episode_abandon",            "401 200 404 404 404 404 404 404 403 403 401 401"),
    ("GET", "api_episode episode_id=agent_episode", "401 404 404 404 200 200 200 200 403 403 401 401"),  # noqa: E501
    ("POST",  "api_episodes_step",              "401 400 400 400 400 400 400 400 403 403 401 401"),
    ("GET",   "api_episode_reward",             "401 200 404 404 200 200 200 404 404 403 401 401"),
    ("POST",  "api_rollouts",                   "401 403 403 403 400 400 400 400 403 403 401 401"),
    ("GET", "api_rollout_items job_id=rollout_job", "401 403 403 403 200 404 200 200 403 403 401 401"),  # noqa: E501
    ("GET",   "api_evaluations",                "401 403 403 403 200 200 200 200 403 403 401 401"),
    ("POST",  "api_evaluations",                "401 403 403 403 400 400 400 400 403 403 401 401"),
    ("GET",   "api_evaluation",                 "401 403 403 403 200 404 200 200 403 403 401 401"),
    ("POST",  "api_imports",                    "401 403 403 403 400 400 400 400 403 403 401 401",
                                                MULTIPART),
    ("GET", "api_dataset_tasks ?environment=bank-v1", "401 200 200 200 200 200 200 200 200 403 401 401"),  # noqa: E501
    ("GET",   "api_family_rubric",              "401 200 200 200 200 200 200 200 200 403 401 401"),
    ("GET",   "api_openenv_sessions",           "401 403 403 403 403 403 403 200 403 403 401 401"),
    ("POST",  "api_openenv_sessions",           "401 403 403 403 403 403 403 400 403 403 401 401"),
    ("POST",  "api_openenv_session_revoke",     "401 403 403 403 403 403 403 200 403 403 401 401"),
    ("GET",   "api_exports",                    "401 403 403 403 200 200 200 403 200 403 401 401"),
    ("POST",  "api_exports",                    "401 403 403 403 400 400 400 403 400 403 401 401"),
    ("GET",   "api_export",                     "401 403 403 403 200 404 200 403 200 403 401 401"),
    ("GET",   "api_export_file",                "401 403 403 403 200 404 200 403 200 403 401 401"),
    ("GET",   "api_feed",                       "401 403 403 403 200 200 200 403 200 403 401 401"),
    ("GET",   "api_feed feed=trajectories",     "401 403 403 403 200 200 200 403 200 403 401 401"),
    ("GET",   "api_webhooks",                   "401 403 403 403 403 403 200 403 403 200 401 401"),
    ("POST",  "api_webhooks",                   "401 403 403 403 403 403 400 403 403 400 401 401"),
    ("GET",   "api_campaigns",                  "401 403 403 403 200 200 200 403 403 200 401 401"),
    ("POST",  "api_campaigns",                  "401 403 403 403 400 400 400 403 403 400 401 401"),
    ("GET",   "api_campaign",                   "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("PATCH", "api_campaign",                   "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("DELETE","api_campaign",                   "401 403 403 403 409 404 409 403 403 409 401 401"),
    ("POST",  "api_campaign_status",            "401 403 403 403 400 404 400 403 403 400 401 401"),
    ("GET",   "api_campaign_items",             "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("GET",   "api_campaign_items ?is_gold=true","401 403 403 403 200 404 200 403 403 200 401 401"),
    ("POST",  "api_campaign_items",             "401 403 403 403 400 404 400 403 403 400 401 401"),
    ("POST",  "api_campaign_items_generate",    "401 403 403 403 400 404 400 403 403 400 401 401"),
    ("GET",   "api_work_item item_id=gold_item","401 403 403 403 200 404 200 403 403 200 401 401"),
    ("PATCH", "api_work_item item_id=gold_item","401 403 403 403 200 404 200 403 403 200 401 401"),
    ("GET",   "api_judgments",                  "401 200 200 200 200 200 200 403 403 200 401 401"),
    ("GET",   "api_judgments ?gold=true",       "401 200 200 200 200 200 200 403 403 200 401 401"),
    ("GET",   "api_campaign_agreement",         "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("POST",  "api_campaign_agreement",         "401 403 403 403 202 404 202 403 403 202 401 401"),
    ("GET",   "api_campaign_dashboard",         "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("GET",   "api_campaign_standings",         "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("POST",  "api_campaign_standing_resume",   "401 403 403 403 200 404 200 403 403 200 401 401"),
    ("GET",   "api_contractor_profile",         "401 403 403 403 200 200 200 403 403 200 401 401"),
    ("PUT",   "api_contractor_profile",         "401 403 403 403 200 200 200 403 403 200 401 401"),
    ("GET",   "api_review_queue",               "401 403 403 200 200 200 200 403 403 200 401 401"),
    ("GET",   "api_review_item",                "401 403 403 200 200 404 200 403 403 200 401 401"),
    ("POST",  "api_review_item",                "401 403 403 400 400 404 400 403 403 400 401 401"),
    ("GET",   "api_queue",                      "401 200 200 403 403 403 200 403 403 403 401 401"),
    ("POST",  "api_queue_next",                 "401 200 200 403 403 403 200 403 403 403 401 401"),
    ("GET",   "api_assignments",                "401 200 200 403 403 403 200 403 403 403 401 401"),
    ("GET",   "api_assignment",                 "401 200 404 403 403 403 404 403 403 403 401 401"),
    ("POST",  "api_assignment_submit",          "401 400 404 403 403 403 404 403 403 403 401 401"),
    ("POST",  "api_assignment_skip",            "401 400 404 403 403 403 404 403 403 403 401 401"),
    ("POST",  "api_assignment_undo",            "401 200 404 403 403 403 404 403 403 403 401 401"),
    ("POST",  "api_assignment_takeover",        "401 400 404 403 403 403 404 403 403 403 401 401"),
    ("GET",   "api_schema",                     "200 200 200 200 200 200 200 200 200 200 401 401"),
    ("GET",   "api_docs",                       "200 200 200 200 200 200 200 200 200 200 401 401"),
    # --- OpenEnv: agent keys or session URLs; people use the platform API instead --------------
    ("GET",   "openenv_index",                  "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_health",                 "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_metadata",               "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_schema",                 "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_openapi",                "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("POST",  "openenv_reset",                  "401 401 401 401 401 401 401 200 403 403 401 401"),
    ("POST",  "openenv_step",                   "401 401 401 401 401 401 401 422 403 403 401 401"),
    ("GET",   "openenv_state",                  "401 401 401 401 401 401 401 200 403 403 401 401"),
    # MCP answers as OpenEnv does for an environment without tools: no data, no credential.
    ("POST",  "openenv_mcp",                    "200 200 200 200 200 200 200 200 200 200 200 200"),
    # A session URL's token is the credential: whoever holds the URL is the agent.
    ("GET",   "openenv_health_session",         "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_metadata_session",       "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_schema_session",         "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("GET",   "openenv_openapi_session",        "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("POST",  "openenv_reset_session",          "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("POST",  "openenv_step_session",           "422 422 422 422 422 422 422 422 422 422 422 422"),
    ("GET",   "openenv_state_session",          "200 200 200 200 200 200 200 200 200 200 200 200"),
    ("POST",  "openenv_mcp_session",            "200 200 200 200 200 200 200 200 200 200 200 200"),
]
# fmt: on
# Django's admin: admins only; everyone else (and every key) is sent to its sign-in.
ADMIN_SITE = "302 302 302 302 302 302 200 302 302 302 302 302"
# Rows the admin shows but does not let anyone add or delete by hand: they are made through the
# platform's services (keys, jobs, episodes), or they are the record (audit events).
READ_ONLY = "302 302 302 302 302 302 403 302 302 302 302 302"
ADMIN_PAGES_REFUSED = {
    "admin:rlplatform_user_add": READ_ONLY,
    "admin:rlplatform_apikey_delete": READ_ONLY,
    "admin:rlplatform_job_add": READ_ONLY,
    "admin:rlplatform_job_delete": READ_ONLY,
    "admin:rlplatform_auditevent_add": READ_ONLY,
    "admin:rlplatform_auditevent_delete": READ_ONLY,
    "admin:environments_task_add": READ_ONLY,
    "admin:environments_episode_add": READ_ONLY,
    "admin:evaluations_evaluation_add": READ_ONLY,
}
# Routes the matrix does not request, and why.
NOT_REQUESTED = {
    "admin:login": "the admin's sign-in page, open to all by design",
    "admin:logout": "signs out",
    "admin:password_change_done": "a static confirmation",
    "admin:view_on_site": "redirects to an object's page, which its own row covers",
    "admin:autocomplete": "answers only with a model and field in its query",
    "admin:jsi18n": "static translations for the admin's scripts",
}


@pytest.fixture
def world(settings, tmp_path, monkeypatch):
    """Two contractors who have judged in manager X's campaign (one gold item among its items,
    one item in review); manager Y's campaign; an episode each for contractor A and an agent;
    a finished export; jobs, keys and a session URL; one principal per column."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("labeling.queue._gold_due", lambda *args: True)

    admin = UserFactory(username="admin", role=Role.ADMIN)
    contractor_a = UserFactory(username="contractor-a", role=Role.CONTRACTOR)
    contractor_b = UserFactory(username="contractor-b", role=Role.CONTRACTOR)
    reviewer = UserFactory(username="reviewer", role=Role.REVIEWER)
    manager_x = UserFactory(username="manager-x", role=Role.MANAGER)
    manager_y = UserFactory(username="manager-y", role=Role.MANAGER)

    campaign_x = make_campaign(
        owner=manager_x, items=1, overlap=2, gold_rate=0.5, review_threshold=0.9, name="X"
    )
    labeling_services.campaign_update(
        campaign=campaign_x, updated_by=manager_x, reviewers=[reviewer]
    )
    gold_answer = {"outcome": 2, "checks": {"goal_met": False}, "comment": GOLD_SECRET}
    gold_item = make_gold_item(campaign_x, answer=gold_answer)
    make_campaign(owner=manager_y, items=1, name="Y")

    answers = {
        contractor_a: {**GOOD_ANSWERS["grade"], "comment": A_SECRET},
        contractor_b: {"outcome": 1, "checks": {"goal_met": False, "no_collateral": True}},
    }
    for contractor, answer in answers.items():
        # The gold item first (it is always due here), then a regular item, on which the two
        # disagree, so it goes to review.
        right_on_gold = {"outcome": 2, "checks": {"goal_met": False, "no_collateral": True}}
        for judged in (right_on_gold, answer):
            assignment = next_item_for(contractor=contractor, campaign=campaign_x)
            labeling_services.judgment_submit(
                assignment=assignment,
                contractor=contractor,
                answers=judged,
                idempotency_key=f"{contractor.pk}-{assignment.pk}",
            )
    # One more item, which contractor A holds open.
    labeling_services.items_add(
        campaign=campaign_x,
        added_by=manager_x,
        entries=[{"episode": make_finished_episode(user=manager_x).pk}],
    )
    a_assignment = next_item_for(contractor=contractor_a, campaign=campaign_x)
    review_item = campaign_x.items.filter(review_status="pending").get()
    # One of every kind of row the Django admin lists, so that each of its pages is requested.
    labeling_services.item_adjudicate(
        item=review_item, reviewer=manager_x, answers=GOOD_ANSWERS["grade"]
    )
    labeling_services.agreement_compute(campaign=campaign_x)
    labeling_services.contractor_profile_set(
        user=contractor_a, changed_by=manager_x, groups=["en"], skills=["banking"]
    )
    Group.objects.create(name="graders")

    agent_key, agent_plaintext = make_api_key(scopes=[ApiKeyScope.AGENT], owner=manager_x)
    _, export_plaintext = make_api_key(scopes=[ApiKeyScope.EXPORT], owner=manager_x)
    _, admin_plaintext = make_api_key(scopes=[ApiKeyScope.ADMIN], owner=admin)
    every_scope = [ApiKeyScope.AGENT, ApiKeyScope.EXPORT, ApiKeyScope.ADMIN]
    revoked, revoked_plaintext = make_api_key(scopes=every_scope, owner=admin)
    platform_services.api_key_revoke(key=revoked, revoked_by=admin)
    expired, expired_plaintext = make_api_key(scopes=every_scope, owner=admin)
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    other_key, _ = make_api_key(scopes=[ApiKeyScope.AGENT], owner=manager_x, name="other")

    task = environment_services.task_get_or_create(env_id="bank-v1", family="pay_bill", seed=7)
    a_episode = environment_services.episode_create(
        task=task, user=contractor_a, actor_kind=ActorKind.CONTRACTOR, source="browser"
    )
    # A refused fill, recorded: the episode now holds words only contractor A wrote.
    environment_services.episodes_step(
        requests=[StepRequest(a_episode.pk, f"fill('nowhere', '{A_SECRET}')", record_refusal=True)]
    )
    agent_episode = environment_services.episode_create(
        task=task, user=manager_x, api_key=agent_key
    )
    session_url, session_token = openenv_services.session_url_create(
        api_key=agent_key, env_id="bank-v1"
    )

    admin_job = platform_services.job_create(kind="recompute_statistics", created_by=admin)
    rollout_job = Job.objects.create(kind="rollout", created_by=manager_x)
    evaluation = evaluated(
        user=manager_x, families=["statement_balance"], tasks_per_family=1, attempts=1
    )
    export = export_services.export_start(
        kind="judgments", format="jsonl", filters={}, created_by=manager_x
    )
    job_execute(job_id=export.job_id, handler=export_services.export_run)
    export.refresh_from_db()
    assert export.files, export.job.error

    clients = {
        "anon": APIClient(),
        "key_agent": bearer_client(agent_plaintext),
        "key_export": bearer_client(export_plaintext),
        "key_admin": bearer_client(admin_plaintext),
        "key_revoked": bearer_client(revoked_plaintext),
        "key_expired": bearer_client(expired_plaintext),
    }
    people = {
        "contractor_a": contractor_a,
        "contractor_b": contractor_b,
        "reviewer": reviewer,
        "manager_x": manager_x,
        "manager_y": manager_y,
        "admin": admin,
    }
    for principal, person in people.items():
        clients[principal] = APIClient()
        clients[principal].force_login(person)
    return {
        "clients": clients,
        # What each URL parameter names, unless a row says otherwise.
        "arguments": {
            "assignment_id": a_assignment.pk,
            "campaign_id": campaign_x.pk,
            "env_id": "bank-v1",
            "episode_id": a_episode.pk,
            "evaluation_id": evaluation.pk,
            "export_id": export.pk,
            "family": "pay_bill",
            "feed": "judgments",
            "item_id": review_item.pk,
            "job_id": admin_job.pk,
            "key_id": other_key.pk,
            "name": export.files[0]["name"],
            "session_url_id": session_url.pk,
            "task_id": task.pk,
            "token": session_token,
            "user_id": contractor_b.pk,
            "username": contractor_a.username,
        },
        "agent_episode": agent_episode.pk,
        "gold_item": gold_item.pk,
        "rollout_job": rollout_job.pk,
    }


def _url(world: dict, label: str) -> tuple[str, str]:
    """A row's route name and URL: its name, then `parameter=world key` overrides and a
    query string."""
    name, *parts = label.split()
    overrides = dict(part.split("=", 1) for part in parts if not part.startswith("?"))
    query = "".join(part for part in parts if part.startswith("?"))
    pattern = get_resolver().reverse_dict.getlist(name)[0][0][0][1]
    kwargs = {
        parameter: world.get(overrides[parameter], overrides[parameter])
        if parameter in overrides
        else world["arguments"][parameter]
        for parameter in pattern
    }
    return name, reverse(name, kwargs=kwargs) + query


def _url_names() -> set[str]:
    """Every named route of the URL conf, admin routes as admin:<name>."""
    names = set()

    def walk(resolver: URLResolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver(), "")
    return names


def _admin_pages() -> list[tuple[str, str]]:
    """The admin's pages: its index, and for each registered model its list, its add form,
    and (when one exists) an object's change, history and delete pages."""
    urls = [
        ("admin:index", reverse("admin:index")),
        ("admin:password_change", reverse("admin:password_change")),
    ]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append((f"{prefix}_changelist", reverse(f"{prefix}_changelist")))
        urls.append((f"{prefix}_add", reverse(f"{prefix}_add")))
        instance = model._default_manager.order_by("pk").first()
        if instance is not None:
            for page in ("change", "history", "delete"):
                urls.append((f"{prefix}_{page}", reverse(f"{prefix}_{page}", args=[instance.pk])))
        urls.append(("admin:app_list", reverse("admin:app_list", args=[model._meta.app_label])))
    return urls


def _request(client: APIClient, method: str, url: str, body: Any = None):
    """One request in a transaction rolled back after it, with the client's cookies put back
    (signing out must not sign anyone out of the next cell): every cell sees the same world."""
    json_api = url.startswith(("/api/", "/openenv/"))
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        if body is MULTIPART:
            response = client.generic(method, url, **_multipart())
        else:
            response = client.generic(
                method,
                url,
                data=json.dumps(body or {}) if json_api and method != "GET" else "",
                content_type="application/json" if json_api else FORM,
            )
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


def _multipart() -> dict:
    boundary = "matrix"
    return {
        "data": f"--{boundary}--\r\n",
        "content_type": f"multipart/form-data; boundary={boundary}",
    }


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_every_route_answers_every_principal_as_the_table_says(world, monkeypatch):
    # Thousands of requests from the same few principals: throttling is tested on its own.
    monkeypatch.setattr(PrincipalRateThrottle, "allow_request", lambda *args: True)
    monkeypatch.setattr(AnonymousRateThrottle, "allow_request", lambda *args: True)
    cells = [
        (method, *_url(world, label), expected, body) for method, label, expected, *body in ROWS
    ]
    cells += [
        ("GET", name, url, ADMIN_PAGES_REFUSED.get(name, ADMIN_SITE), [])
        for name, url in _admin_pages()
    ]
    mismatches, leaks = [], []
    admin_read_gold = a_read_own_words = False
    for method, _, url, expected, body in cells:
        actual = []
        for principal in PRINCIPALS:
            response = _request(world["clients"][principal], method, url, *body)
            actual.append(str(response.status_code))
            text = _text(response) if response.status_code == 200 else ""
            if principal in ("admin", "key_admin"):
                admin_read_gold |= GOLD_SECRET in text
            elif GOLD_SECRET in text:
                leaks.append(f"{principal} read a gold answer at {method} {url}")
            a_read_own_words |= principal == "contractor_a" and A_SECRET in text
            if principal == "contractor_b" and A_SECRET in text:
                leaks.append(f"contractor B read contractor A's words at {method} {url}")
        if " ".join(actual) != expected:
            mismatches.append(
                f"{method} {url}\n  expected {expected}\n  actual   {' '.join(actual)}"
            )

    unlisted = _url_names() - {cell[1] for cell in cells} - set(NOT_REQUESTED)
    assert not unlisted, f"routes without a row in the permission matrix: {sorted(unlisted)}"
    assert not mismatches, "\n".join(mismatches)
    assert not leaks, "\n".join(leaks)
    assert admin_read_gold, "no route showed an admin the gold answer: the leak check is blind"
    assert a_read_own_words, "contractor A never read their own words: the check on B is blind"


def test_every_api_operation_in_the_schema_has_a_row():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method.upper(), resolve(_example_path(path)).url_name)
        for path, methods in schema["paths"].items()
        for method in methods
    }
    covered = {(method, label.split()[0]) for method, label, *_ in ROWS}
    assert operations - covered == set()


def _example_path(path: str) -> str:
    """An OpenAPI path with each {parameter} given a value the URL conf accepts."""
    return re.sub(r"\{[^}]+\}", lambda match: "1" if "id" in match.group() else "x", path)


def test_every_form_carries_a_csrf_token_and_no_page_takes_a_post_without_one(world):
    """Pages are signed-in sessions, so every POST to a page needs the CSRF token: each page's
    forms carry one, and a POST without it is refused before the view runs."""
    people = ("contractor_a", "reviewer", "manager_x", "admin")
    pages = [
        (method, *_url(world, label))
        for method, label, *_ in ROWS
        if not _url(world, label)[1].startswith(("/api/", "/openenv/"))
    ]
    forms_seen = 0
    for principal in people:
        signed_in_client = world["clients"][principal]
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = copy.deepcopy(signed_in_client.cookies)
        for method, _, url in pages:
            if method == "GET":
                response = _request(strict, "GET", url)
                if response.status_code != 200:
                    continue
                for form in re.findall(r"<form\b[^>]*>.*?</form>", _text(response), re.S | re.I):
                    if re.search(r'method="post"', form, re.I):
                        forms_seen += 1
                        assert "csrfmiddlewaretoken" in form, f"{url} as {principal}: {form[:200]}"
            else:
                response = _request(strict, method, url)
                assert response.status_code == 403, (principal, url, response.status_code)
                assert b"CSRF" in response.content, (principal, url)
    assert forms_seen > 10
