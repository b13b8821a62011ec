"""OpenEnv's wire protocol (openenv-core 0.3, `openenv/core/env_server`), field for field, with
no Django in it.

WebSocket `ws`: the client sends `{"type": "reset", "data": {...}}`, `{"type": "step", "data":
<action>}`, `{"type": "state"}` or `{"type": "close"}`; the server answers
`{"type": "observation", "data": {"observation", "reward", "done"}}`, `{"type": "state", "data":
<state>}` or `{"type": "error", "data": {"message", "code", ...}}` with OpenEnv's error codes.
Validation errors carry pydantic's error list (`type`, `loc`, `msg`, `input`) as OpenEnv's do.

The action, observation and state models are BrowserGym's OpenEnv wrapper's
(`envs/browsergym_env/models.py`) plus the platform's fields; `schemas.json` holds their JSON
Schemas as pydantic generates them (a test regenerates them from openenv-core's base classes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from environments.engine.observe import (
    MAX_OBSERVATION_CHARS,
    MIN_OBSERVATION_CHARS,
    OBSERVATION_MODES,
)
from environments.engine.rewards import REWARD_MODES
from environments.engine.text import (
    BadJSON,
    json_parse_unchecked,
    storable_text,
    unstorable_path,
)
from environments.engine.variants import VARIANTS

# OpenEnv's WSErrorCode.
INVALID_JSON = "INVALID_JSON"
UNKNOWN_TYPE = "UNKNOWN_TYPE"
VALIDATION_ERROR = "VALIDATION_ERROR"
EXECUTION_ERROR = "EXECUTION_ERROR"
CAPACITY_REACHED = "CAPACITY_REACHED"
FACTORY_ERROR = "FACTORY_ERROR"
SESSION_ERROR = "SESSION_ERROR"

MAX_SEED = 2**31 - 1
MAX_EPISODE_ID = 255
BENCHMARK = "rlplatform"
SCHEMAS: dict[str, dict] = json.loads((Path(__file__).with_name("schemas.json")).read_text())

# WebSocket close codes: 1000 normal; 4000-4999 are the application's own.
CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_IDLE = 4408
CLOSE_CAPACITY = 4429


class ProtocolError(Exception):
    """A message the server answers with an `error` message (the session stays open)."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra

    def to_data(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, **self.extra}


def invalid(errors: list[dict]) -> ProtocolError:
    """OpenEnv's answer to a message that fails its model's validation."""
    return ProtocolError(VALIDATION_ERROR, "Invalid message", errors=errors)


# What an answer repeats of the client's input: enough to recognise it, never a megabyte back
# (which a client's own message-size limit would turn into a dropped connection).
MAX_ECHO = 200


def echo(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "..."
    if isinstance(value, dict | list):
        text = json.dumps(value)
        return value if len(text) <= 5 * MAX_ECHO else text[:MAX_ECHO] + "..."
    return value


def field_error(kind: str, loc: list, message: str, value: Any, **ctx: Any) -> dict:
    error = {
        "type": kind,
        "loc": [echo(part) for part in loc],
        "msg": message,
        "input": echo(value),
    }
    if ctx:
        error["ctx"] = ctx
    return error


def dumps(message: dict) -> str:
    try:
        return orjson.dumps(message).decode()
    except TypeError:
        # An echo of the client's input that orjson refuses (an integer past 64 bits, a lone
        # surrogate): json writes it, escaped to ASCII.
        return json.dumps(message, separators=(",", ":"))


def error_message(code: str, message: str, **extra: Any) -> str:
    return dumps({"type": "error", "data": {"message": message, "code": code, **extra}})


def observation_message(payload: dict) -> str:
    return dumps({"type": "observation", "data": payload})


def state_message(state: dict) -> str:
    return dumps({"type": "state", "data": state})


# Each message type's fields besides `type`, and whether `data` is required.
_MESSAGE_FIELDS = {"reset": ("data", False), "step": ("data", True), "state": None, "close": None}


@dataclass(frozen=True)
class ClientMessage:
    type: str
    data: dict[str, Any]


def parse_message(raw: str | None) -> ClientMessage:
    """A client message, or ProtocolError saying what is wrong with it."""
    if raw is None:
        raise invalid([field_error("string_type", [], "Input should be a valid string", None)])
    try:
        message = json_parse_unchecked(raw)
    except BadJSON as error:
        raise ProtocolError(INVALID_JSON, f"Invalid JSON: {error}") from None
    if not isinstance(message, dict):
        raise invalid([field_error("dict_type", [], "Input should be a valid dictionary", message)])
    unstorable_error(message, ACTION_TEXT)
    kind = message.get("type", "")
    if kind == "mcp":
        return ClientMessage(
            "mcp", message.get("data") if isinstance(message.get("data"), dict) else {}
        )
    if not isinstance(kind, str) or kind not in _MESSAGE_FIELDS:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown message type: {echo(kind)}")
    fields = _MESSAGE_FIELDS[kind]
    allowed = {"type", fields[0]} if fields else {"type"}
    errors = [
        field_error("extra_forbidden", [key], "Extra inputs are not permitted", value)
        for key, value in message.items()
        if key not in allowed
    ]
    data: Any = {}
    if fields:
        name, required = fields
        if name in message:
            data = message[name]
            if not isinstance(data, dict):
                errors.append(
                    field_error("dict_type", [name], "Input should be a valid dictionary", data)
                )
        elif required:
            errors.append(field_error("missing", [name], "Field required", message))
    if errors:
        raise invalid(errors)
    return ClientMessage(kind, data)


# A step's action text is the actor's own: when it cannot be stored, the step that refuses it is
# recorded with it escaped, as any refused action is, so a model's output never ends a rollout.
ACTION_TEXT = frozenset({("data", "action_str")})
TEXT_ONLY_STORABLE = "Input should be text without NUL or lone surrogates"


def unstorable_error(value: Any, skip: frozenset = frozenset(), loc: tuple = ()) -> None:
    """Raise the validation error naming the first text in a message (or body) that no
    database can store; locations leave out `data`, as the model's own errors do."""
    path = unstorable_path(value, skip)
    if path is None:
        return
    found = value
    for part in path[:-1]:
        found = found[part]
    inner = path[1:] if path[:1] == ("data",) else path
    raise invalid([field_error("string_type", [*loc, *inner], TEXT_ONLY_STORABLE, found[path[-1]])])


@dataclass(frozen=True)
class ResetParams:
    seed: int | None = None
    episode_id: str | None = None
    task_id: int | None = None
    task_name: str | None = None
    reward_mode: str | None = None
    observation_mode: str | None = None
    max_observation_chars: int | None = None
    variant: str | None = None


def _integer(value: Any, loc: list, errors: list[dict]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(field_error("int_type", loc, "Input should be a valid integer", value))
        return None
    if isinstance(value, float):
        if not value.is_integer():
            errors.append(
                field_error(
                    "int_from_float",
                    loc,
                    "Input should be a valid integer, got a number with a fractional part",
                    value,
                )
            )
            return None
        return int(value)
    if isinstance(value, str):
        try:
            # ASCII only, as pydantic reads it: int() alone would read "٣" as 3.
            if not value.isascii():
                raise ValueError(value)
            return int(value.strip())
        except ValueError:
            errors.append(
                field_error(
                    "int_parsing",
                    loc,
                    "Input should be a valid integer, unable to parse string as an integer",
                    value,
                )
            )
            return None
    return value


def _bounded(value: int | None, loc: list, errors: list[dict]) -> int | None:
    if value is None:
        return None
    if value < 0:
        errors.append(
            field_error(
                "greater_than_equal", loc, "Input should be greater than or equal to 0", value, ge=0
            )
        )
        return None
    if value > MAX_SEED:
        errors.append(
            field_error(
                "less_than_equal",
                loc,
                f"Input should be less than or equal to {MAX_SEED}",
                value,
                le=MAX_SEED,
            )
        )
        return None
    return value


def _text(value: Any, loc: list, errors: list[dict], max_length: int = 255) -> str | None:
    if not isinstance(value, str):
        errors.append(field_error("string_type", loc, "Input should be a valid string", value))
        return None
    if not storable_text(value):
        errors.append(field_error("string_type", loc, TEXT_ONLY_STORABLE, value))
        return None
    if len(value) > max_length:
        errors.append(
            field_error(
                "string_too_long",
                loc,
                f"String should have at most {max_length} characters",
                value,
                max_length=max_length,
            )
        )
        return None
    return value


def _choice(value: Any, loc: list, errors: list[dict], choices: tuple[str, ...]) -> str | None:
    if value in choices:
        return value
    expected = ", ".join(f"'{choice}'" for choice in choices[:-1]) + f" or '{choices[-1]}'"
    errors.append(
        field_error("literal_error", loc, f"Input should be {expected}", value, expected=expected)
    )
    return None


def _budget(value: Any, loc: list, errors: list[dict]) -> int | None:
    number = _integer(value, loc, errors)
    if number is None:
        return None
    if number < MIN_OBSERVATION_CHARS:
        errors.append(
            field_error(
                "greater_than_equal",
                loc,
                f"Input should be greater than or equal to {MIN_OBSERVATION_CHARS}",
                value,
                ge=MIN_OBSERVATION_CHARS,
            )
        )
        return None
    if number > MAX_OBSERVATION_CHARS:
        errors.append(
            field_error(
                "less_than_equal",
                loc,
                f"Input should be less than or equal to {MAX_OBSERVATION_CHARS}",
                value,
                le=MAX_OBSERVATION_CHARS,
            )
        )
        return None
    return number


def parse_reset(data: dict[str, Any]) -> ResetParams:
    """Reset parameters: `seed`, `episode_id` (the client's own id for the episode), `task_id`
    (a platform task), `task_name` (a task family), `reward_mode`, `observation_mode` (a text
    mode), `max_observation_chars` and `variant` (how the pages look: engine.variants.VARIANTS).
    Like OpenEnv's server, which passes only the parameters
    `reset` declares, other keys are ignored."""
    errors: list[dict] = []
    values: dict[str, Any] = {}
    if data.get("seed") is not None:
        values["seed"] = _bounded(_integer(data["seed"], ["seed"], errors), ["seed"], errors)
    if data.get("task_id") is not None:
        values["task_id"] = _bounded(
            _integer(data["task_id"], ["task_id"], errors), ["task_id"], errors
        )
    if data.get("episode_id") is not None:
        values["episode_id"] = _text(data["episode_id"], ["episode_id"], errors, MAX_EPISODE_ID)
    if data.get("task_name") is not None:
        values["task_name"] = _text(data["task_name"], ["task_name"], errors, 64)
    if data.get("reward_mode") is not None:
        values["reward_mode"] = _choice(data["reward_mode"], ["reward_mode"], errors, REWARD_MODES)
    if data.get("observation_mode") is not None:
        values["observation_mode"] = _choice(
            data["observation_mode"], ["observation_mode"], errors, OBSERVATION_MODES
        )
    if data.get("max_observation_chars") is not None:
        values["max_observation_chars"] = _budget(
            data["max_observation_chars"], ["max_observation_chars"], errors
        )
    if data.get("variant") is not None:
        values["variant"] = _choice(data["variant"], ["variant"], errors, VARIANTS)
    if errors:
        raise invalid(errors)
    return ResetParams(**values)


def parse_action(data: dict[str, Any], loc: tuple = ()) -> str:
    """The action string of a `BrowserGymAction` (`{"action_str": ..., "metadata": {...}}`)."""
    errors = []
    for key, value in data.items():
        if key not in ("action_str", "metadata"):
            errors.append(
                field_error("extra_forbidden", [*loc, key], "Extra inputs are not permitted", value)
            )
    if "metadata" in data and not isinstance(data["metadata"], dict):
        errors.append(
            field_error(
                "dict_type",
                [*loc, "metadata"],
                "Input should be a valid dictionary",
                data["metadata"],
            )
        )
    action = data.get("action_str")
    if "action_str" not in data:
        errors.append(field_error("missing", [*loc, "action_str"], "Field required", data))
    elif not isinstance(action, str):
        errors.append(
            field_error(
                "string_type", [*loc, "action_str"], "Input should be a valid string", action
            )
        )
    if errors:
        raise invalid(errors)
    return action


def mcp_not_supported(data: dict[str, Any]) -> str:
    """OpenEnv's answer to an MCP message for an environment that is not an MCP environment."""
    request_id = echo(data.get("id")) if isinstance(data.get("id"), str | int) else None
    return dumps(
        {
            "type": "mcp",
            "data": {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {
                    "code": -32603,
                    "message": "Environment does not support MCP",
                    "data": None,
                },
            },
        }
    )


def empty_state() -> dict[str, Any]:
    """The state of a session with no episode yet (OpenEnv's `State` defaults)."""
    return {
        "episode_id": None,
        "step_count": 0,
        "benchmark": BENCHMARK,
        "task_name": "",
        "task_id": None,
        "goal": "",
        "current_url": "",
        "max_steps": None,
        "cum_reward": 0.0,
        "environment": "",
        "seed": None,
        "variant": "",
        "status": "",
        "platform_episode_id": None,
        "reward_components": {},
    }
