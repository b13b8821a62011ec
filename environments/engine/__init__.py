"""The environment engine: plain Python, no Django. See README.md in this folder."""

from .actions import Action, ActionError, parse_action
from .base import Check, Environment, Outcome
from .page import Element, Page, page_to_axtree, page_to_html, page_to_json
from .policies import Policy, RandomPolicy, ScriptedSolver, run_episode
from .registry import get_environment, list_environments, register
from .tasks import Task, TaskFamily

# Built-in environments register themselves on import.
from . import bank  # noqa: F401  isort: skip
from . import ledger  # noqa: F401  isort: skip
from . import tickets  # noqa: F401  isort: skip
from . import shop  # noqa: F401  isort: skip
from . import airline  # noqa: F401  isort: skip
from . import helpdesk  # noqa: F401  isort: skip
from . import hr  # noqa: F401  isort: skip

__all__ = [
    "Action",
    "ActionError",
    "Check",
    "Element",
    "Environment",
    "Outcome",
    "Page",
    "Policy",
    "RandomPolicy",
    "ScriptedSolver",
    "Task",
    "TaskFamily",
    "get_environment",
    "list_environments",
    "page_to_axtree",
    "page_to_html",
    "page_to_json",
    "parse_action",
    "register",
    "run_episode",
]
