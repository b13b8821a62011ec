"""The action grammar: BrowserGym's high-level actions, parsed from a call string or from JSON.

String form (Python call syntax, literal arguments only, read with `ast`, never evaluated):

    click('12')   fill('7', '250.00')   select_option('9', 'Savings')   check('3')
    uncheck('3')  goto('transfers')     send_msg_to_user('It was $84.12')   noop()

Arguments may be positional or keyword (`fill(bid='7', value='250.00')`), single- or
double-quoted with the usual escapes; numbers are accepted and turned into strings
(`click(12)` is `click('12')`). `noop` also accepts BrowserGym's `wait_ms`, which is ignored.

JSON form (a dict, or a JSON string starting with `{`):

    {"name": "fill", "args": {"bid": "7", "value": "250.00"}}

`args` may be omitted when the action takes none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .page import quote
from .text import BadJSON, json_parse_unchecked, storable_text

# Action name -> its parameter names, in BrowserGym's order.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "click": ("bid",),
    "fill": ("bid", "value"),
    "select_option": ("bid", "options"),
    "check": ("bid",),
    "uncheck": ("bid",),
    "goto": ("url",),
    "send_msg_to_user": ("text",),
    "noop": (),
}
# Accepted and dropped: they change nothing in a simulated page.
IGNORED_PARAMS: dict[str, tuple[str, ...]] = {"noop": ("wait_ms",)}
MAX_ACTION_CHARS = 10_000

ERROR_CODES = (
    "malformed_action",  # not a call / bad JSON / wrong arguments
    "unknown_action",  # a name outside the grammar
    "unknown_bid",  # no element with that bid on the current page
    "not_interactive",  # the element cannot take this action (fill a button, check a link)
    "illegal_value",  # an option not offered, a page not in the navigation, an over-long value
    "disabled",  # the element is disabled
    "episode_finished",  # send_msg_to_user already ended the episode
)


class ActionError(ValueError):
    """An action that cannot be applied. `code` is one of `ERROR_CODES`; the message says
    exactly what was wrong, in words an agent can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Action:
    """A parsed action: its name and its arguments by parameter name, all strings."""

    name: str
    args: dict[str, str] = field(default_factory=dict)

    @property
    def bid(self) -> str:
        return self.args.get("bid", "")

    def to_string(self) -> str:
        """The canonical call string; `parse_action(a.to_string()) == a`."""
        params = SIGNATURES[self.name]
        return f"{self.name}({', '.join(quote(self.args[p]) for p in params)})"

    def to_dict(self) -> dict:
        """The JSON form; `parse_action(a.to_dict()) == a`."""
        return {"name": self.name, "args": dict(self.args)}

    def __str__(self) -> str:
        return self.to_string()


def _literal(node: ast.expr, what: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return str(node.value)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
        and not isinstance(node.operand.value, bool)
    ):
        return "-" + str(node.operand.value)
    raise ActionError(
        "malformed_action", f"{what} must be a quoted string or a number, got `{ast.unparse(node)}`"
    )


def _build(name: str, positional: list[str], named: dict[str, str]) -> Action:
    if name not in SIGNATURES:
        raise ActionError(
            "unknown_action",
            f"unknown action '{name}'; the actions are: {', '.join(SIGNATURES)}",
        )
    params = SIGNATURES[name]
    ignored = IGNORED_PARAMS.get(name, ())
    usage = f"{name}({', '.join(params)})"
    if len(positional) > len(params) + len(ignored):
        raise ActionError(
            "malformed_action",
            f"{name} takes {len(params)} argument(s), got {len(positional)}: use {usage}",
        )
    args = dict(zip(params, positional, strict=False))
    for key, value in named.items():
        if key in ignored:
            continue
        if key not in params:
            raise ActionError("malformed_action", f"{name} has no argument '{key}': use {usage}")
        if key in args:
            raise ActionError("malformed_action", f"{name} got '{key}' twice: use {usage}")
        args[key] = value
    missing = [p for p in params if p not in args]
    if missing:
        raise ActionError(
            "malformed_action", f"{name} is missing {', '.join(missing)}: use {usage}"
        )
    for param in params:
        if not storable_text(args[param]):
            raise ActionError(
                "malformed_action",
                f"{name}: argument '{param}' contains a NUL character or a lone surrogate, "
                "which no database stores as text",
            )
    return Action(name, {p: args[p] for p in params})


def _parse_call(text: str) -> Action:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        raise ActionError(
            "malformed_action",
            f"could not parse {text[:80]!r} as an action ({detail}); write a call like click('12')",
        ) from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ActionError(
            "malformed_action",
            f"{text[:80]!r} is not an action call; write a call like click('12')",
        )
    name = call.func.id
    if name not in SIGNATURES:
        _build(name, [], {})  # raises unknown_action
    positional = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            raise ActionError("malformed_action", f"{name}: *args are not accepted")
        positional.append(_literal(node, f"{name}: argument {len(positional) + 1}"))
    named = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise ActionError("malformed_action", f"{name}: **kwargs are not accepted")
        named[kw.arg] = _literal(kw.value, f"{name}: argument '{kw.arg}'")
    return _build(name, positional, named)


def _parse_dict(data: object) -> Action:
    if not isinstance(data, dict):
        raise ActionError("malformed_action", 'a JSON action must be an object {"name", "args"}')
    extra = set(data) - {"name", "args"}
    if extra:
        raise ActionError(
            "malformed_action",
            f'a JSON action has only "name" and "args"; unexpected: {", ".join(sorted(extra))}',
        )
    name = data.get("name")
    if not isinstance(name, str):
        raise ActionError("malformed_action", 'a JSON action needs "name" as a string')
    raw_args = data.get("args", {})
    if not isinstance(raw_args, dict):
        raise ActionError("malformed_action", '"args" must be an object of argument: value')
    named = {}
    for key, value in raw_args.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ActionError(
                "malformed_action", f"{name}: argument '{key}' must be a string or a number"
            )
        named[key] = str(value)
    return _build(name, [], named)


def parse_action(action: Action | str | dict) -> Action:
    """Parse an action from its call string, its JSON string, or its JSON dict.

    Raises `ActionError` with code `malformed_action` or `unknown_action`.
    """
    if isinstance(action, Action):
        return action
    if isinstance(action, dict):
        return _parse_dict(action)
    if not isinstance(action, str):
        raise ActionError(
            "malformed_action",
            f"an action is a string or a JSON object, not {type(action).__name__}",
        )
    if len(action) > MAX_ACTION_CHARS:
        raise ActionError(
            "malformed_action", f"an action is at most {MAX_ACTION_CHARS} characters long"
        )
    stripped = action.strip()
    if stripped.startswith("{"):
        try:
            # Unchecked text: each argument is held to the text rule by name below.
            data = json_parse_unchecked(stripped)
        except BadJSON as exc:
            raise ActionError("malformed_action", f"invalid JSON action: {exc}") from None
        return _parse_dict(data)
    return _parse_call(stripped)
