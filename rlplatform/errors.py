"""Every API error is JSON of one shape:

    {"error": {"status": 400, "code": "invalid", "message": "amount: must be positive",
               "fields": {"amount": ["must be positive"]}}}

`message` is one sentence a person can read; `fields` maps each input at fault to its problems.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from rlplatform.services import NotAllowed, ServiceError


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "non_field_errors"
            fields.update(_flatten(value, name))
        return fields
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        fields = {}
        for index, item in enumerate(detail):
            fields.update(_flatten(item, f"{prefix}[{index}]"))
        return fields
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(
    *, status_code: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def service_error_body(error: ServiceError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body for a refusal from a service."""
    status_code = {"conflict": 409, "not_found": 404}.get(error.code, 400)
    fields = {error.field: [error.message]} if error.field else None
    message = f"{error.field}: {error.message}" if error.field else error.message
    return status_code, error_body(
        status_code=status_code, code=error.code, message=message, fields=fields
    )


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, ServiceError):
        status_code, body = service_error_body(exc)
        return Response(body, status=status_code)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "not found")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "; ".join(
            f"{name}: {' '.join(problems)}" if name != "non_field_errors" else " ".join(problems)
            for name, problems in fields.items()
        )
        response.data = error_body(
            status_code=response.status_code, code="invalid", message=message, fields=fields
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(
            status_code=response.status_code, code=str(code), message=str(detail)
        )
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(request: HttpRequest, status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        error_body(status_code=status_code, code=code, message=message), status=status_code
    )


def api_not_found(request: HttpRequest) -> JsonResponse:
    return json_error(request, 404, "not_found", f"no API endpoint at {request.path}")


def page_not_found(request: HttpRequest, exception: Exception) -> Any:
    if _is_api(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found as html_page_not_found

    return html_page_not_found(request, exception)


def server_error(request: HttpRequest) -> Any:
    if _is_api(request):
        return json_error(request, 500, "server_error", "the server failed; it has been logged")
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    if _is_api(request):
        return json_error(
            request,
            403,
            "csrf_failed",
            "CSRF check failed: send the X-CSRFToken header with a session, or use an API key",
        )
    from django.views.csrf import csrf_failure as html_csrf_failure

    return html_csrf_failure(request, reason)
