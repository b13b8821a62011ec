"""Which environments exist: `register` a class, `get_environment` an instance by id."""

from __future__ import annotations

import re

from .base import Environment

_CLASSES: dict[str, type[Environment]] = {}
_INSTANCES: dict[str, Environment] = {}
_ID = re.compile(r"^(?:rlplatform/)?(?P<name>[a-z][a-z0-9_]*)(?:-v(?P<version>[0-9]{1,6}))?$")


def register(env_class: type[Environment]) -> type[Environment]:
    """Register an Environment subclass under its id ("bank-v1"); usable as a decorator."""
    env_id = f"{env_class.env_id}-v{env_class.version}"
    existing = _CLASSES.get(env_id)
    if existing is not None and existing is not env_class:
        raise ValueError(f"{env_id} is already registered by {existing.__qualname__}")
    _CLASSES[env_id] = env_class
    return env_class


def get_environment(env_id: str) -> Environment:
    """The (shared) instance for "bank-v1", "rlplatform/bank-v1", or "bank" (latest version)."""
    match = _ID.match(env_id)
    if match is None:
        raise KeyError(f"{env_id!r} is not an environment id like 'bank-v1'")
    name, version = match["name"], match["version"]
    if version is None:
        versions = [c.version for c in _CLASSES.values() if c.env_id == name]
        if not versions:
            raise KeyError(f"no environment named {name!r}; known: {', '.join(sorted(_CLASSES))}")
        version = str(max(versions))
    key = f"{name}-v{int(version)}"
    if key not in _CLASSES:
        raise KeyError(f"no environment {key!r}; known: {', '.join(sorted(_CLASSES))}")
    if key not in _INSTANCES:
        _INSTANCES[key] = _CLASSES[key]()
    return _INSTANCES[key]


def list_environments() -> list[Environment]:
    """Every registered environment version, sorted by id."""
    return [get_environment(key) for key in sorted(_CLASSES)]
