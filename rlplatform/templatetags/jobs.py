"""Template filters that put jobs in people's words: their kind's title, what came of them,
their parameters."""

from typing import Any

from django import template

from rlplatform import selectors
from rlplatform.models import Job

register = template.Library()


@register.filter
def job_title(job: Job) -> str:
    return selectors.job_title(job)


@register.filter
def job_summary(job: Job) -> str:
    return selectors.job_description(job).summary


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(key).lower()} {_shown(item)}" for key, item in value.items())
    return str(value)


def _label(key: str) -> str:
    return str(key).replace("_", " ").capitalize()


@register.filter
def param_rows(params: dict | None) -> list[tuple[str, str]]:
    """A job's parameters as (label, value) pairs in words: no dicts, no underscores."""
    return [(_label(key), _shown(value)) for key, value in (params or {}).items()]


@register.filter
def took(job: Job) -> str:
    """How long a finished job ran, from its creation: "0.4 s", "3 min 12 s"."""
    if job.finished_at is None:
        return ""
    seconds = max((job.finished_at - job.created_at).total_seconds(), 0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
