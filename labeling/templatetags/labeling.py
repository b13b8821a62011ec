"""Template filters of the labeling pages."""

from django import template
from django.utils.safestring import mark_safe

from labeling.instructions import render_markdown
from labeling.questions import TYPE_TITLES
from labeling.sources import sources_in_words

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Campaign instructions: Markdown rendered to HTML, then sanitised."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308  (nh3 cleaned it)


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"
    return f"{value // 60:.0f} min {value % 60:02.0f} s"


@register.filter
def alpha(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


@register.filter
def millis(value: int | None) -> str:
    return seconds(None if value is None else value / 1000)


@register.filter
def question_type(value: str) -> str:
    return TYPE_TITLES.get(value, value).lower()


@register.filter
def sources_text(campaign) -> list[str]:
    return sources_in_words(campaign.kind, campaign.sources)
