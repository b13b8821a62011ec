"""The `Environment` base class and the verifier's result types (`Check`, `Outcome`).

A state is a plain JSON-serialisable dict (lists, never tuples) and is treated as an immutable
value: `step` builds a new dict and shares every part that did not change with the old one, so
nothing may mutate a state in place. The base class owns these keys:

    env       "bank-v1"
    seed      the seed the state was built from
    page      the current page name
    form      {field key: value} typed, selected or ticked on the current page, not yet submitted
    alert     None or [kind, text] with kind "error" | "success"
    finished  True once send_msg_to_user was called
    answer    the text sent with send_msg_to_user, else None
    steps     the number of actions applied
    variant   the UI variant (see variants.py); absent for "default"
    dismissed distractors the actor dismissed (variants only)

Everything else is the environment's own (`build_world`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from .actions import Action, ActionError, parse_action
from .page import INPUT_ROLES, Element, Page
from .variants import DEFAULT, KEY_PREFIX, apply_variant, check_variant
from .variants import on_click as on_variant_click

if TYPE_CHECKING:
    from .policies import ScriptedSolver
    from .tasks import Task, TaskFamily

MAX_FILL_CHARS = 1000


@dataclass(slots=True)
class Check:
    """One named criterion of a verifier and why it passed or failed."""

    name: str
    passed: bool
    detail: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(slots=True)
class Outcome:
    """A verifier's verdict.

    `success` is True when every check passed. `reward` is 1.0 on success and 0.0 otherwise:
    partial credit would pay for states with collateral damage. `reward_components` gives each
    check as 1.0 / 0.0 by name, for trainers that shape their own reward.
    """

    reward: float
    success: bool
    checks: list[Check]
    reward_components: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_checks(cls, checks: list[Check]) -> Outcome:
        success = all(c.passed for c in checks)
        return cls(
            reward=1.0 if success else 0.0,
            success=success,
            checks=checks,
            reward_components={c.name: 1.0 if c.passed else 0.0 for c in checks},
        )

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict:
        return {
            "reward": self.reward,
            "success": self.success,
            "checks": [c.to_dict() for c in self.checks],
            "reward_components": dict(self.reward_components),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Outcome:
        return cls(
            reward=data["reward"],
            success=data["success"],
            checks=[Check(**c) for c in data["checks"]],
            reward_components=dict(data.get("reward_components", {})),
        )


class Environment:
    """A simulated web application, as pure functions of a JSON state.

    A subclass sets the class attributes and implements `build_world`, `build_page` and
    `on_click`; the default `on_fill` / `on_select` / `on_check` store the value in
    `state["form"][element.key]`, which `build_page` reads back to show it.
    """

    env_id: ClassVar[str]
    version: ClassVar[int]
    title: ClassVar[str] = ""
    start_page: ClassVar[str]
    # Page names goto() accepts, in menu order.
    navigation: ClassVar[tuple[str, ...]] = ()
    families: ClassVar[dict[str, TaskFamily]] = {}
    solver: ClassVar[type[ScriptedSolver] | None] = None
    # Families and UI variants in the test split only (see splits.py), and the environment's
    # own split seed ranges ({split: (from, to)}, half-open) when the shared ones do not suit.
    heldout_families: ClassVar[tuple[str, ...]] = ()
    heldout_variants: ClassVar[tuple[str, ...]] = ()
    split_seeds: ClassVar[dict[str, tuple[int, int]] | None] = None

    def __init__(self) -> None:
        # One-entry cache: step() renders the page of the state the caller has just rendered.
        self._rendered: tuple[dict, Page] | None = None

    @property
    def id(self) -> str:
        return f"{self.env_id}-v{self.version}"

    # --- the contract ---------------------------------------------------------------------

    def reset(self, seed: int, task: Task | None = None, variant: str | None = None) -> dict:
        """The initial state for a seed; the same (seed, task, variant) always gives the same
        state.

        The task's params were drawn from the same seed as the data, so a task only fits the
        state built from its own seed. `variant` (default: the task's, else "default") picks
        how pages look (see variants.py); it is kept in the state.
        """
        if task is not None:
            if task.env != self.id:
                raise ValueError(f"task {task.family!r} belongs to {task.env}, not {self.id}")
            if task.seed != seed:
                raise ValueError(
                    f"task {task.family!r} was generated for seed {task.seed}; "
                    f"reset with seed={task.seed} (its params refer to that seed's data)"
                )
        state = {
            "env": self.id,
            "seed": seed,
            "page": self.start_page,
            "form": {},
            "alert": None,
            "finished": False,
            "answer": None,
            "steps": 0,
        }
        state.update(self.build_world(seed))
        variant = check_variant(variant or (task.variant if task is not None else DEFAULT))
        if variant != DEFAULT:
            state["variant"] = variant
        return state

    def render(self, state: dict) -> Page:
        """What the actor sees in this state. The page is shared: do not modify it."""
        cached = self._rendered
        if cached is not None and cached[0] is state:
            return cached[1]
        page = self.build_page(state)
        if "variant" in state:
            page = apply_variant(self, state, page)
        self._rendered = (state, page)
        return page

    def step(self, state: dict, action: Action | str | dict, page: Page | None = None) -> dict:
        """Apply one action and return the new state; `state` itself is never modified.

        `page` is what `render(state)` returns, for a caller that kept it: an element action
        then finds its bid there instead of rendering the state again. Raises `ActionError`
        (and changes nothing) when the action cannot be applied.
        """
        act = parse_action(action)
        if state["finished"]:
            raise ActionError(
                "episode_finished",
                "the episode has finished (send_msg_to_user was called); no action is accepted",
            )
        name = act.name
        if name == "noop":
            new = dict(state)
        elif name == "send_msg_to_user":
            new = {**state, "finished": True, "answer": act.args["text"]}
        elif name == "goto":
            new = self.on_goto(state, self.resolve_page(act.args["url"]))
        else:
            new = self._element_action(state, act, page or self.render(state))
        if new is state:
            new = dict(new)
        new["steps"] = state["steps"] + 1
        return new

    def evaluate(self, state: dict, task: Task) -> Outcome:
        """Run the task's verifier on `state`, against the initial state of the task's seed."""
        family = self.families[task.family]
        return family.verify(self.reset(task.seed, task), state, task.params)

    # --- helpers for users ----------------------------------------------------------------

    def make_task(self, family: str, seed: int, variant: str = DEFAULT) -> Task:
        """The task of a family for a seed, shown in a UI variant (see `TaskFamily.make_task`)."""
        if family not in self.families:
            raise KeyError(
                f"{self.id} has no task family {family!r}; families: {', '.join(self.families)}"
            )
        return self.families[family].make_task(seed, variant)

    def page_url(self, page: str) -> str:
        return f"/{self.env_id}/{page}"

    def resolve_page(self, url: str) -> str:
        """The navigation page that goto(url) names: its name, or its url path."""
        target = url.strip()
        for page in self.navigation:
            if target == page or target == self.page_url(page):
                return page
        raise ActionError(
            "illegal_value",
            f"goto({quote_arg(url)}): not a page of this site; goto accepts: "
            + ", ".join(self.navigation),
        )

    # --- for subclasses -------------------------------------------------------------------

    def build_world(self, seed: int) -> dict:
        """The environment's own initial state keys for a seed (data, session, view)."""
        raise NotImplementedError

    def build_page(self, state: dict) -> Page:
        """Render a state into a Page. Must be a pure function of the state."""
        raise NotImplementedError

    def on_goto(self, state: dict, page: str) -> dict:
        """Navigate to a page of `navigation`; clears the form and the alert."""
        return {**state, "page": page, "form": {}, "alert": None}

    def on_click(self, state: dict, element: Element) -> dict:
        """Apply a click on a link or button (checkboxes go to `on_check`)."""
        raise NotImplementedError

    def on_fill(self, state: dict, element: Element, value: str) -> dict:
        return {**state, "form": {**state["form"], element.key: value}}

    def on_select(self, state: dict, element: Element, option: str) -> dict:
        return {**state, "form": {**state["form"], element.key: option}}

    def on_check(self, state: dict, element: Element, checked: bool) -> dict:
        return {**state, "form": {**state["form"], element.key: checked}}

    # --- internals ------------------------------------------------------------------------

    def _element_action(self, state: dict, act: Action, page: Page) -> dict:
        name, bid = act.name, act.args["bid"]
        el = page.get(bid)
        if el is None:
            raise ActionError("unknown_bid", f"bid {quote_arg(bid)} does not exist on this page")
        if el.disabled:
            raise ActionError(
                "disabled", f"element [{bid}] {el.role} {quote_arg(el.name)} is disabled"
            )
        role = el.role
        if name == "click":
            if role in ("link", "button"):
                if el.key.startswith(KEY_PREFIX):
                    return on_variant_click(state, el)
                return self.on_click(state, el)
            if role == "checkbox":
                return self.on_check(state, el, not el.checked)
            return dict(state)  # clicking an input or a select only focuses it
        if name == "fill":
            if role not in INPUT_ROLES:
                raise ActionError(
                    "not_interactive",
                    f"element [{bid}] is a {role}, which cannot be filled "
                    "(fill works on textbox and number)",
                )
            value = act.args["value"]
            if len(value) > MAX_FILL_CHARS:
                raise ActionError(
                    "illegal_value",
                    f"the value for [{bid}] is {len(value)} characters; at most {MAX_FILL_CHARS}",
                )
            return self.on_fill(state, el, value)
        if name == "select_option":
            if role != "select":
                raise ActionError(
                    "not_interactive",
                    f"element [{bid}] is a {role}, which has no options to select",
                )
            option = _match_option(el, act.args["options"])
            return self.on_select(state, el, option)
        # check / uncheck
        if role != "checkbox":
            raise ActionError(
                "not_interactive",
                f"element [{bid}] is a {role}, which cannot be {name}ed (only checkboxes can)",
            )
        want = name == "check"
        if el.checked == want:
            return dict(state)
        return self.on_check(state, el, want)


def quote_arg(text: str) -> str:
    """A value quoted for an error message, shortened when long."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _match_option(el: Element, wanted: str) -> str:
    # Browsers match a select option by its exact label; we forgive case and outer spaces.
    if wanted in el.options:
        return wanted
    folded = wanted.strip().casefold()
    for option in el.options:
        if option.casefold() == folded:
            return option
    raise ActionError(
        "illegal_value",
        f"{quote_arg(wanted)} is not an option of [{el.bid}] {quote_arg(el.name)}; options: "
        + ", ".join(quote_arg(o) for o in el.options),
    )
