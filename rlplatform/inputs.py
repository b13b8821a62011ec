"""The text rule (environments/engine/text.py) at the edge of every request that is not JSON:
the path, query parameters, form fields, uploaded files' names and headers. JSON bodies meet
it in their reader (`json_parse`: the API's parser, the pages' JSON posts, OpenEnv), and JSON
typed into a form field in `StorableJSONField`."""

from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput, JSONString
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from environments.engine.text import UNSTORABLE, BadJSON, format_path, json_parse, storable_text
from rlplatform.errors import error_body


def _unstorable_inputs(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """(where, name) of each input of the request that `storable_text` refuses: `where` is
    query, form or header (the path counts as a query parameter of its own)."""
    if not storable_text(request.path):
        yield "path", "path"
    for where, values in (("query", request.GET), ("form", request.POST)):
        for name, items in values.lists():
            if not storable_text(name) or not all(storable_text(item) for item in items):
                yield where, name
    for name, files in request.FILES.lists():
        if not storable_text(name) or not all(storable_text(file.name or "") for file in files):
            yield "form", name
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            yield "header", key[5:].replace("_", "-").title()


class StorableInputMiddleware:
    """Refuses with a 400 naming the input a request whose path, query parameters, form fields
    or headers hold text PostgreSQL cannot store (NUL, lone surrogates), before any view reads
    them: every page, API list and OpenEnv endpoint alike. Placed after the CSRF check, so
    forged posts are refused as such first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        try:
            found = next(_unstorable_inputs(request), None)
        except MultiPartParserError as error:
            return refusal(request, view_func, "body", "body", f"not a form: {error}")
        if found is None:
            return None
        where, name = found
        return refusal(request, view_func, where, format_path((name,)), UNSTORABLE)


def refusal(
    request: HttpRequest, view_func: Callable, where: str, name: str, problem: str
) -> HttpResponse:
    """The 400 (OpenEnv: 422, as FastAPI answers) in the shape the endpoint's callers read."""
    message = f"{name}: {problem}"
    if getattr(view_func, "__module__", "").startswith("environments.openenv.views"):
        error = {"type": "string_type", "loc": [where, name], "msg": problem, "input": None}
        return JsonResponse({"detail": [error]}, status=422)
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        return JsonResponse(
            error_body(status_code=400, code="invalid", message=message, fields={name: [problem]}),
            status=400,
        )
    return render(request, "400.html", {"message": message}, status=400)


class StorableJSONField(forms.JSONField):
    """A form field of JSON text, read by the platform's JSON reader: too deep a document, or
    text no database stores, is the field's error, saying where in the document."""

    def to_python(self, value: Any) -> Any:
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            converted = json_parse(value)
        except BadJSON as error:
            raise forms.ValidationError(json_mistake(error), code="invalid") from None
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        # What the form shows again: Django's own reading would recurse through a deep document.
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return json_parse(data)
        except BadJSON:
            return InvalidJSONInput(data)


class _AsciiNumberMixin:
    """Text read as ASCII digits only: `int`, `float` and Django's date parser would read "\u0663"
    as 3, where the API (rlplatform/fields.py), OpenEnv and the environments refuse it."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not value.isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IntegerField(_AsciiNumberMixin, forms.IntegerField):
    pass


class FloatField(_AsciiNumberMixin, forms.FloatField):
    pass


class DateTimeField(_AsciiNumberMixin, forms.DateTimeField):
    pass


def json_mistake(error: BadJSON) -> str:
    """What a person who typed JSON is told: a syntax error by its line and column."""
    if error.line is None:
        return str(error)
    reason = error.problem.removeprefix("not JSON: ")
    return f"Not valid JSON: line {error.line}, column {error.column}: {reason}."
