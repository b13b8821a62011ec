"""OpenEnv's HTTP endpoints for each environment, with its request and response shapes:
`GET health`, `GET schema`, `GET metadata`, `POST reset`, `POST step`, `GET state`.

As in OpenEnv's server, HTTP is stateless (the WebSocket holds sessions): `reset` starts an
episode and its observation carries `episode_id`, which `step` (a field beside `action`, as
OpenEnv's StepRequest allows) and `state` (`?episode_id=`) then name. `request_id` makes a step
idempotent: a retried request returns the recorded result instead of stepping again. Errors are
FastAPI's shapes: 422 `{"detail": [validation errors]}`, otherwise `{"detail": "message"}`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from environments import services as episode_services
from environments.engine.observe import (
    MAX_OBSERVATION_CHARS,
    MIN_OBSERVATION_CHARS,
    OBSERVATION_MODES,
)
from environments.engine.rewards import REWARD_MODES
from environments.engine.splits import environment_splits
from environments.engine.text import BadJSON, json_parse, json_parse_unchecked
from environments.openenv import protocol, services
from environments.openenv.rubrics import family_rubric
from rlplatform.requests import client_ip
from rlplatform.services import ServiceError


def _detail(status: int, detail: Any, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _environment(env_id: str):
    try:
        return episode_services.environment_get(env_id)
    except ServiceError as error:
        return _detail(404, error.message)


def _principal(request: HttpRequest, env_id: str, token: str | None):
    try:
        return services.principal_for(
            env_id=env_id,
            path_token=token,
            authorization=request.headers.get("Authorization"),
            ip_address=client_ip(request),
        )
    except services.Unauthorized as refused:
        status = 403 if refused.reason == "forbidden" else 401
        return _detail(status, refused.message, **{"WWW-Authenticate": 'Bearer realm="openenv"'})


# A step's action text is recorded escaped when it cannot be stored (see protocol.ACTION_TEXT).
_STEP_ACTION_TEXT = frozenset({("action", "action_str")})


def _body(request: HttpRequest) -> dict | JsonResponse:
    if not request.body:
        return {}
    try:
        body = json_parse_unchecked(request.body)
    except BadJSON as error:
        return _detail(
            422,
            [
                protocol.field_error(
                    "json_invalid", ["body", 0], "JSON decode error", {"error": str(error)}
                )
            ],
        )
    if not isinstance(body, dict):
        return _detail(
            422,
            [
                protocol.field_error(
                    "dict_type", ["body"], "Input should be a valid dictionary", body
                )
            ],
        )
    try:
        protocol.unstorable_error(body, _STEP_ACTION_TEXT, loc=("body",))
    except protocol.ProtocolError as error:
        return _detail(422, error.extra["errors"])
    return body


def _agent_call(
    request: HttpRequest, env_id: str, token: str | None, *, with_body: bool
) -> tuple[Any, Any, dict] | JsonResponse:
    """The environment, the principal and (for a POST) the JSON body of an agent's call, or the
    error response that refuses it."""
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    principal = _principal(request, env.id, token)
    if isinstance(principal, JsonResponse):
        return principal
    body = _body(request) if with_body else {}
    if isinstance(body, JsonResponse):
        return body
    return env, principal, body


def _service_error(error: ServiceError) -> JsonResponse:
    return _detail(404 if error.code == "not_found" else 400, error.message)


@require_GET
def health(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    return JsonResponse({"status": "healthy"})


@require_GET
def schema(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    return JsonResponse(protocol.SCHEMAS)


def metadata_for(env) -> dict[str, Any]:
    """OpenEnv's EnvironmentMetadata: what the environment is, its splits, its task families,
    its rubrics. (Its model forbids extra fields, so the splits are in the readme's text; the
    JSON form is GET /api/v1/environments/<env>/.)"""
    lines = [
        f"# {env.id}: {env.title}",
        "",
        "A simulated web application on rlplatform. Act with BrowserGym's high-level actions in "
        "`action_str`: click('12'), fill('7', '250.00'), select_option('9', 'Savings'), "
        "check('3'), uncheck('3'), goto('transfers'), send_msg_to_user('It was $84.12'), noop().",
        "Bids are the numbers in brackets in `axtree_txt` and `text`. `reset` takes `seed`, "
        "`task_name` (a family below), `task_id` and `episode_id`; the same task and seed "
        "start in the same state, and with no seed one is drawn from the train split. It also "
        "takes `reward_mode` (sparse: 1 on success; partial: the rubric's weighted share of "
        "checks; progress: shaped, each check paying once, 1 in all on success), "
        "`observation_mode` (what `text` holds: axtree, pruned, or diff since the last page) "
        "and `max_observation_chars` (a budget for `text`).",
        "",
        "## Splits",
        "",
        *_split_lines(env),
        "",
        "## Task families",
    ]
    for family in env.families.values():
        criteria = ", ".join(c["name"] for c in family_rubric(env.id, family.name)["criteria"])
        lines += [
            "",
            f"### {family.name}: {family.title}",
            "",
            family.description,
            "",
            f"Max steps: {family.max_steps}. Reward criteria: {criteria}.",
        ]
    return {
        "name": env.id,
        "description": f"{env.title}: {len(env.families)} task families, state-verified rewards",
        "readme_content": "\n".join(lines),
        "version": str(env.version),
        "author": "rlplatform",
        "documentation_url": None,
    }


def _split_lines(env) -> list[str]:
    described = environment_splits(env.id)
    lines = [
        f"- {split}: seeds {info['seed_from']} to {info['seed_to']}, "
        f"families {', '.join(info['families'])}"
        for split, info in described["splits"].items()
    ]
    held_out = ", ".join(described["heldout_families"]) or "none"
    return [*lines, f"- held out of train and validation: {held_out}"]


@require_GET
def metadata(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    return JsonResponse(metadata_for(env))


@csrf_exempt
@require_POST
def reset(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    call = _agent_call(request, env_id, token, with_body=True)
    if isinstance(call, JsonResponse):
        return call
    env, principal, body = call
    try:
        params = protocol.parse_reset(body)
    except protocol.ProtocolError as error:
        return _detail(422, _in_body(error.extra["errors"]))
    try:
        _, payload = services.openenv_reset(env_id=env.id, principal=principal, params=params)
    except ServiceError as error:
        return _service_error(error)
    return JsonResponse(payload)


def _in_body(errors: list[dict], *prefix: str) -> list[dict]:
    return [{**error, "loc": ["body", *prefix, *error["loc"]]} for error in errors]


@csrf_exempt
@require_POST
def step(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    call = _agent_call(request, env_id, token, with_body=True)
    if isinstance(call, JsonResponse):
        return call
    env, principal, body = call
    errors = []
    action = body.get("action")
    if "action" not in body:
        errors.append(protocol.field_error("missing", ["body", "action"], "Field required", body))
    elif not isinstance(action, dict):
        errors.append(
            protocol.field_error(
                "dict_type", ["body", "action"], "Input should be a valid dictionary", action
            )
        )
    episode_id = body.get("episode_id")
    if episode_id is None:
        errors.append(
            protocol.field_error(
                "missing",
                ["body", "episode_id"],
                "Field required (the observation's episode_id)",
                body,
            )
        )
    elif not isinstance(episode_id, str | int) or isinstance(episode_id, bool):
        errors.append(
            protocol.field_error(
                "string_type", ["body", "episode_id"], "Input should be a valid string", episode_id
            )
        )
    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > 100):
        errors.append(
            protocol.field_error(
                "string_type",
                ["body", "request_id"],
                "Input should be a string of at most 100 characters",
                request_id,
            )
        )
    if errors:
        return _detail(422, errors)
    try:
        action_str = protocol.parse_action(action)
    except protocol.ProtocolError as error:
        # OpenEnv validates the action on its own model: locations are the action's fields.
        return _detail(422, error.extra["errors"])
    try:
        episode = services.episode_for(
            principal=principal, env_id=env.id, episode_id=str(episode_id)
        )
        (result,) = services.openenv_step(
            [services.StepItem(episode.pk, action_str, request_id=request_id)]
        )
    except ServiceError as error:
        return _service_error(error)
    if isinstance(result, protocol.ProtocolError):
        return _detail(409, result.message)
    return JsonResponse(result.payload)


@require_GET
def state(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    call = _agent_call(request, env_id, token, with_body=False)
    if isinstance(call, JsonResponse):
        return call
    env, principal, _ = call
    episode_id = request.GET.get("episode_id")
    if not episode_id:
        return JsonResponse(protocol.empty_state())
    try:
        episode = services.episode_for(principal=principal, env_id=env.id, episode_id=episode_id)
    except ServiceError as error:
        return _service_error(error)
    return JsonResponse(services.state_payload(episode))


def openapi_for(env) -> dict[str, Any]:
    """The OpenAPI document of an environment's OpenEnv endpoints, as OpenEnv's FastAPI server
    publishes it (`openenv validate --url` reads its version and paths)."""

    def body(schema: dict) -> dict:
        return {"content": {"application/json": {"schema": schema}}}

    observation = {
        "type": "object",
        "properties": {
            "observation": protocol.SCHEMAS["observation"],
            "reward": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "done": {"type": "boolean"},
        },
        "required": ["observation"],
    }
    reset_request = {
        "type": "object",
        "properties": {
            "seed": {"type": "integer", "minimum": 0},
            "episode_id": {"type": "string", "maxLength": 255},
            "task_id": {"type": "integer"},
            "task_name": {"type": "string"},
            "reward_mode": {"type": "string", "enum": list(REWARD_MODES)},
            "observation_mode": {"type": "string", "enum": list(OBSERVATION_MODES)},
            "max_observation_chars": {
                "type": "integer",
                "minimum": MIN_OBSERVATION_CHARS,
                "maximum": MAX_OBSERVATION_CHARS,
            },
        },
    }
    step_request = {
        "type": "object",
        "properties": {
            "action": protocol.SCHEMAS["action"],
            "episode_id": {"type": "string"},
            "request_id": {"type": "string", "maxLength": 100},
            "timeout_s": {"type": "number"},
        },
        "required": ["action", "episode_id"],
    }
    simple = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OpenEnv Environment HTTP API",
            "version": "1.0.0",
            "description": f"{env.id} ({env.title}) on rlplatform",
        },
        "paths": {
            "/reset": {
                "post": {
                    "summary": "Reset the environment",
                    "requestBody": body(reset_request),
                    "responses": {"200": {"description": "First observation", **body(observation)}},
                }
            },
            "/step": {
                "post": {
                    "summary": "Execute an action in the environment",
                    "requestBody": body(step_request),
                    "responses": {"200": {"description": "Next observation", **body(observation)}},
                }
            },
            "/state": {
                "get": {
                    "summary": "Get current environment state",
                    "responses": {
                        "200": {"description": "State", **body(protocol.SCHEMAS["state"])}
                    },
                }
            },
            "/metadata": {
                "get": {"summary": "Get environment metadata", "responses": {"200": body(simple)}}
            },
            "/health": {"get": {"summary": "Health check", "responses": {"200": body(simple)}}},
            "/schema": {
                "get": {"summary": "Get all JSON schemas", "responses": {"200": body(simple)}}
            },
            "/mcp": {
                "post": {"summary": "MCP JSON-RPC endpoint", "responses": {"200": body(simple)}}
            },
        },
    }


@require_GET
def openapi(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    return JsonResponse(openapi_for(env))


def _rpc_error(code: int, message: str, request_id: Any = None) -> JsonResponse:
    return JsonResponse(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {"code": code, "message": message, "data": None},
        }
    )


@csrf_exempt
@require_POST
def mcp(request: HttpRequest, env_id: str, token: str | None = None) -> JsonResponse:
    """OpenEnv's MCP JSON-RPC endpoint, answered as OpenEnv answers for an environment that
    exposes no MCP tools (act through reset/step, or the WebSocket)."""
    env = _environment(env_id)
    if isinstance(env, JsonResponse):
        return env
    try:
        call = json_parse(request.body or b"")
    except BadJSON as error:
        return _rpc_error(-32700, f"Parse error: {error}")
    if (
        not isinstance(call, dict)
        or call.get("jsonrpc") != "2.0"
        or not isinstance(call.get("method"), str)
    ):
        return _rpc_error(-32600, "Invalid request: give jsonrpc '2.0' and a method")
    request_id = protocol.echo(call.get("id")) if isinstance(call.get("id"), str | int) else None
    if call["method"] in ("tools/list", "tools/call"):
        return _rpc_error(-32603, "Environment does not support MCP", request_id)
    return _rpc_error(-32601, f"Method not found: {protocol.echo(call['method'])}", request_id)


@require_GET
def index(request: HttpRequest) -> JsonResponse:
    """The environments served here, with the base URL an OpenEnv client takes."""
    from environments.selectors import environment_list

    environments = []
    for env in environment_list():
        base = request.build_absolute_uri(reverse("openenv_health", args=[env.id]))[
            : -len("health")
        ]
        environments.append(
            {
                "id": env.id,
                "title": env.title,
                "base_url": base.rstrip("/"),
                "families": list(env.families),
            }
        )
    return JsonResponse(
        {
            "environments": environments,
            "authentication": (
                "Mint a session URL with POST /api/v1/openenv/sessions/ (an agent key) and give "
                "it to the client as base_url, or send 'Authorization: Bearer <agent key>'."
            ),
        }
    )
