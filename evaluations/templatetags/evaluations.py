from django import template

register = template.Library()

# What a figure without a value (no episode played) shows.
MISSING = "\u2013"


@register.filter
def percent(value: float | None) -> str:
    """A share as a percentage with one decimal; a dash when there is none."""
    return MISSING if value is None else f"{value * 100:.1f}%"


@register.filter
def decimal(value: float | None, places: int = 2) -> str:
    return MISSING if value is None else f"{value:.{int(places)}f}"


@register.filter
def at_k(figures: dict, k: int) -> float | None:
    """A pass@j or pass^j table's value at j = k (its keys are strings, as JSON's are)."""
    return (figures or {}).get(str(k))
