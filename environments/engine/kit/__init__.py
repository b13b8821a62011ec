"""The authoring kit: components, world-building and solver helpers for writing environments
in a fraction of the lines. See docs/environments.md for a walk-through and README.md in the
engine folder for the reference."""

from .components import (
    Column,
    ConfirmDialog,
    DataTable,
    Facet,
    FacetedSearch,
    Field,
    Filter,
    Form,
    NavMenu,
    Notifications,
    RowAction,
    Step,
    Tabs,
    Wizard,
)
from .formats import long_date, money, parse_date, parse_int, parse_money, plain_money, short_date
from .site import FormError, KitSite, by_id, error, replace_record, success, ui, with_ui
from .world import WorldRandom

__all__ = [
    "Column",
    "ConfirmDialog",
    "DataTable",
    "Facet",
    "FacetedSearch",
    "Field",
    "Filter",
    "Form",
    "FormError",
    "KitSite",
    "NavMenu",
    "Notifications",
    "RowAction",
    "Step",
    "Tabs",
    "Wizard",
    "WorldRandom",
    "by_id",
    "error",
    "long_date",
    "money",
    "parse_date",
    "parse_int",
    "parse_money",
    "plain_money",
    "replace_record",
    "short_date",
    "success",
    "ui",
    "with_ui",
]
