"""The API's conventions: JSON errors everywhere, paginated lists, an offline OpenAPI schema."""

import pytest

from rlplatform.models import AuditEvent
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/no/such/thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_anonymous_api_calls_get_a_json_401(api):
    response = api.get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Authentication credentials were not provided."


def test_a_validation_error_names_each_field_and_problem(admin_user):
    response = signed_in(admin_user).post("/api/v1/keys/", {"scopes": []}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"name", "scopes"}
    assert error["message"].startswith("name: This field is required.")


def test_malformed_json_is_a_json_400(admin_user):
    response = signed_in(admin_user).post(
        "/api/v1/keys/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_lists_are_paginated(admin_user):
    for n in range(7):
        AuditEvent.objects.create(action="sign_in", actor_label=f"p{n}")
    body = signed_in(admin_user).get("/api/v1/audit/?page_size=3").json()
    assert body["count"] == AuditEvent.objects.count() >= 7
    assert len(body["results"]) == 3
    assert "page=2" in body["next"]


def test_the_openapi_schema_lists_the_endpoints_and_the_bearer_scheme(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/jobs/{job_id}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_the_api_docs_load_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
