"""Hostile input past the OpenAPI operations (which test_schema_fuzzing covers): every JSON
body the API and the pages take, every query parameter of every list and page, every form of
every page, OpenEnv's HTTP endpoints. The values are what an attacker sends: NUL, lone
surrogates, Unicode digits and numerals, 5,000-deep nesting, megabyte strings. No answer is a
500, and text no database stores is always refused (so none of it is stored).

The world, its principals and who may reach what come from the permission matrix; every
request runs in a transaction rolled back after it. The WebSocket's messages are fuzzed in
tests/openenv/test_hostile_messages.py, imported files in tests/environments/test_imports.py.
"""

import copy
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from django.db import transaction
from django.urls import get_resolver, resolve
from django.urls.resolvers import URLResolver
from drf_spectacular.generators import SchemaGenerator

from rlplatform.throttling import AnonymousRateThrottle, PrincipalRateThrottle
from tests.reliability import test_permission_matrix as matrix
from tests.reliability.test_permission_matrix import (
    PRINCIPALS,
    ROWS,
    _admin_pages,
    _example_path,
    _text,
    _url,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.slow,
]

DEEP = "[" * 5000 + "]" * 5000
MEGABYTE = "x" * 1_000_000
# Each value an attacker types; `unstorable` ones must always be refused.
UNSTORABLE = ["\x00", "a\x00b", "\ud800", "x\udfffy"]
# Digits that str.isdigit() takes and int() refuses (or reads), numerals, numbers past 64 bits.
NUMBERS = ["²", "٣", "Ⅻ", "\U0001d7d7", "-1", "9" * 30, "NaN"]
TEXT = [*UNSTORABLE, *NUMBERS, "", "\u202e<script>x</script>"]
# The names query strings carry anywhere in the platform, beyond those the schema declares.
QUERY_NAMES = ["page", "page_size", "next", "episode_id", "action", "kind", "q", "o", "seed"]
# JSON pages outside the OpenAPI schema: the workbench's posts.
PAGE_JSON_ROUTES = [("POST", "labeling_submit"), ("POST", "labeling_skip")]
# Forms posted by a page's script rather than a <form>: the route and its fields.
SCRIPT_FORMS = [("labeling_campaign_preview", ["kind", "schema"])]


world = matrix.world  # the permission matrix's world, as a fixture of this module too


@pytest.fixture(autouse=True)
def _unthrottled(monkeypatch):
    monkeypatch.setattr(PrincipalRateThrottle, "allow_request", lambda *args: True)
    monkeypatch.setattr(AnonymousRateThrottle, "allow_request", lambda *args: True)


def send(client, method: str, url: str, **kwargs):
    """One request in a transaction rolled back after it, the client's cookies put back."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        response = client.generic(method, url, **kwargs)
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


def reaching(method: str, name: str) -> list[str]:
    """The principals the permission matrix lets through to a route's own code."""
    for row_method, label, statuses, *_ in ROWS:
        if row_method == method and label.split()[0] == name:
            return [
                principal
                for principal, status in zip(PRINCIPALS, statuses.split(), strict=True)
                if status not in ("302", "401", "403", "404", "405")
            ]
    return []


def problems_of(response, unstorable: bool, where: str) -> list[str]:
    if response.status_code >= 500:
        return [f"{where}: {response.status_code} {_text(response)[:300]}"]
    if unstorable and response.status_code < 400:
        return [f"{where}: text no database stores was accepted ({response.status_code})"]
    return []


def schema_operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def filled(world: dict, path: str) -> tuple[str, str]:
    """An OpenAPI path's route name and URL, its parameters taken from the world."""
    name = resolve(_example_path(path)).url_name
    return name, re.sub(
        r"\{([^}]+)\}", lambda match: str(world["arguments"].get(match[1], 1)), path
    )


def body_names(operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        components = SchemaGenerator().get_schema(request=None, public=True)["components"]
        schema = components["schemas"][ref.rsplit("/", 1)[1]]
    return list(schema.get("properties", {})) or ["value"]


def hostile_bodies(names: list[str]) -> list[tuple[str, bool]]:
    """(raw JSON body, whether it must be refused) for a body with these fields."""
    deep_field = json.dumps({names[0]: json.loads("[" * 600 + "]" * 600)})
    bodies = [(DEEP, True), (deep_field, True), (json.dumps({names[0]: MEGABYTE}), False)]
    for value in TEXT:
        unstorable = value in UNSTORABLE
        bodies.append((json.dumps(dict.fromkeys(names, value)), unstorable))
        if unstorable:
            bodies.append((json.dumps({names[0]: {"x": [{value: 1}]}}), True))
    bodies += [("{" + f'"{names[0]}": NaN' + "}", True), ('{"a": 1' + "0" * 5000 + "}", True)]
    return bodies


def test_no_json_body_fails_the_server(world):
    targets = []
    for method, path, operation in schema_operations():
        if method in ("POST", "PUT", "PATCH"):
            name, url = filled(world, path)
            targets.append((method, name, url, body_names(operation), "requestBody" in operation))
    for method, name in PAGE_JSON_ROUTES:
        names = ["answers", "idempotency_key", "time_spent_ms", "reason", "note"]
        targets.append((method, name, _url(world, name)[1], names, True))
    problems, parsed = [], 0
    for method, name, url, names, reads_body in targets:
        principals = reaching(method, name)
        assert principals, f"no principal reaches {method} {name}"
        client = world["clients"][principals[0]]
        for body, refused in hostile_bodies(names):
            response = send(client, method, url, data=body, content_type="application/json")
            parsed += "nested deeper" in _text(response)
            where = f"{method} {url} as {principals[0]} with {body[:50]!r}"
            problems += problems_of(response, refused and reads_body, where)
    assert not problems, "\n".join(problems[:30])
    readers = sum(reads_body for *_, reads_body in targets)
    assert parsed >= readers, "the depth limit was met too rarely: the bodies went unread"


def openenv_bodies() -> list[tuple[str, str, bool]]:
    bodies = [("reset", DEEP, True), ("step", DEEP, True), ("mcp", DEEP, False)]
    for value in [*TEXT, MEGABYTE]:
        unstorable = value in UNSTORABLE
        reset = dict.fromkeys(("seed", "task_name", "task_id", "episode_id"), value)
        step = {"action": {"action_str": "noop()", "metadata": {value: value}}}
        step.update(episode_id=value, request_id=value)
        bodies += [
            ("reset", json.dumps(reset), unstorable),
            ("step", json.dumps(step), unstorable),
            ("step", json.dumps({"action": {"action_str": value}, "episode_id": "1"}), False),
            ("mcp", json.dumps({"jsonrpc": "2.0", "id": value, "method": value}), False),
        ]
    return bodies


def test_no_openenv_request_fails_the_server(world):
    key = world["clients"]["key_agent"]
    problems = []
    for endpoint, body, unstorable in openenv_bodies():
        url = f"/openenv/bank-v1/{endpoint}"
        response = send(key, "POST", url, data=body, content_type="application/json")
        problems += problems_of(response, unstorable, f"POST {url} {body[:60]!r}")
        if endpoint == "mcp" and response.status_code == 200:
            assert "error" in response.json(), body[:80]
    for value in [*TEXT, MEGABYTE]:
        url = f"/openenv/bank-v1/state?episode_id={quote(value, errors='surrogatepass')}"
        response = send(key, "GET", url)
        # A lone surrogate cannot travel in a URL (its bytes are UTF-8): it arrives replaced.
        problems += problems_of(response, "\x00" in value, f"GET state {value[:20]!r}")
    assert not problems, "\n".join(problems[:30])


def query_names() -> list[str]:
    names = set(QUERY_NAMES)
    for _, _, operation in schema_operations():
        names |= {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    return sorted(names)


QUERY_VALUES = ["\x00", "²", "Ⅻ", "9" * 30, "%ED%A0%80"]


def test_no_query_parameter_of_any_list_or_page_fails_the_server(world):
    """Every GET route of the permission matrix (pages, the API, OpenEnv) and the Django
    admin's pages, with every query parameter the platform reads set to each hostile value."""
    routes = [
        (name, url, reaching("GET", name)[:1] or ["admin"])
        for method, label, *_ in ROWS
        if method == "GET"
        for name, url in [_url(world, label)]
    ]
    routes += [(name, url, ["admin"]) for name, url in _admin_pages()[:6]]
    names = query_names()
    problems = []
    for index, (_, url, (principal, *_)) in enumerate(routes):
        client = world["clients"][principal]
        base = url.split("?")[0]
        for value in QUERY_VALUES:
            encoded = value if value.startswith("%") else quote(value)
            queries = [
                "&".join(f"{n}={encoded}" for n in names if n not in ("page", "page_size")),
                f"page={encoded}&page_size={encoded}",
            ]
            if value == "\x00":
                queries.append(f"{encoded}=1")
            if value == QUERY_VALUES[-1]:
                # A megabyte in one parameter a route, a different one each time.
                queries.append(f"{names[index % len(names)]}={MEGABYTE}")
            for query in queries:
                response = send(client, "GET", f"{base}?{query}")
                where = f"GET {base}?{query[:80]} as {principal}"
                problems += problems_of(response, value == "\x00", where)
    assert not problems, "\n".join(problems[:30])


# A path parameter's values: text routes take any of them; number routes only the digits.
PATH_VALUES = ["x" * 5000, "9" * 5000, "9" * 30, "\u0663", "%ED%A0%80", "bank-v" + "9" * 5000]


def parameter_routes() -> list[tuple[str, str]]:
    """(name, route) of every route of the URL conf with a path parameter, the admin's aside."""
    found = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern, route)
            elif "<" in route and not route.startswith("admin/") and pattern.name:
                found.append((pattern.name, route))

    walk(get_resolver(), "")
    return found


def test_no_path_parameter_fails_the_server(world):
    """Every route's path parameters set to each hostile value, by a principal the permission
    matrix lets through, in a GET and a POST."""
    problems, sent = [], 0
    for name, route in parameter_routes():
        for value in PATH_VALUES:
            url = "/" + re.sub(
                r"<(?:(\w+):)?(\w+)>",
                lambda match, value=value: (
                    value
                    if match[1] != "int" or (value.isascii() and value.isdigit())
                    else str(world["arguments"].get(match[2], 1))
                ),
                route,
            )
            for method in ("GET", "POST"):
                principal = (reaching(method, name) or ["admin"])[0]
                response = send(world["clients"][principal], method, url, data="{}")
                sent += 1
                problems += problems_of(response, False, f"{method} {url[:100]} as {principal}")
    assert sent > 500, f"only {sent} requests: the route walk is blind"
    assert not problems, "\n".join(problems[:30])


class _Forms(HTMLParser):
    """The POST forms of a page: their action and the names of their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[str]]] = []
        self._fields: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._fields = []
            self.forms.append((values.get("action") or "", self._fields))
        elif tag in ("input", "select", "textarea") and self._fields is not None:
            name = values.get("name")
            if name and name != "csrfmiddlewaretoken" and values.get("type") != "file":
                self._fields.append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None


def test_no_page_form_fails_the_server(world):
    """Every form of every page the matrix's people see, and of the Django admin's add pages,
    posted with each hostile value in all its fields (and NUL in each field alone)."""
    pages = [
        (principal, url, [*TEXT, MEGABYTE, DEEP])
        for method, label, *_ in ROWS
        for name, url in [_url(world, label)]
        if method == "GET" and not url.startswith(("/api/", "/openenv/"))
        for principal in ("contractor_a", "reviewer", "manager_x", "admin")
        if principal in reaching("GET", name)
    ]
    pages += [
        ("admin", url, ["\x00", DEEP, '["\\ud800"]', "²"])
        for name, url in _admin_pages()
        if name.endswith("_add")
    ]
    problems, forms_posted = [], 0
    for name, fields in SCRIPT_FORMS:
        client = world["clients"][reaching("POST", name)[0]]
        for value in [*TEXT, MEGABYTE, DEEP, '["\\ud800"]', '[{"name": "\\u0000"}]']:
            response = send(
                client,
                "POST",
                _url(world, name)[1],
                data=_form(dict.fromkeys(fields, value)),
                content_type=FORM,
            )
            problems += problems_of(response, False, f"POST {name} {value[:12]!r}")
    seen: set[tuple[str, str]] = set()
    for principal, url, values in pages:
        client = world["clients"][principal]
        page = send(client, "GET", url)
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(_text(page))
        for action, fields in parser.forms:
            target = action or url
            if (principal, target) in seen or not fields:
                continue
            seen.add((principal, target))
            forms_posted += 1
            for value in values:
                # Every field at once; NUL in each field alone too, the others left empty.
                choices = [fields] + ([[field] for field in fields] if value == "\x00" else [])
                for chosen in choices:
                    data = dict.fromkeys(chosen, value)
                    response = send(client, "POST", target, data=_form(data), content_type=FORM)
                    problems += problems_of(
                        response,
                        "\x00" in value,
                        f"POST {target} {sorted(data)[:3]}={value[:12]!r} as {principal}",
                    )
    assert forms_posted >= 20, f"only {forms_posted} forms found: the page walk is blind"
    assert not problems, "\n".join(problems[:30])


FORM = "application/x-www-form-urlencoded"


def _form(data: dict[str, Any]) -> str:
    # Lone surrogates cannot travel in a form (its bytes are UTF-8): they go as their escape.
    return "&".join(
        f"{quote(name)}={quote(value, errors='surrogatepass')}" for name, value in data.items()
    )
