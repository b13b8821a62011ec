"""Plain SQL for the few queries on the stepping path, where compiling an ORM query costs more
than running it (a millisecond of Python for a primary-key lookup on this project's machines).

Statements are built from models' own table and column names only; values always go as
parameters. Rows come back as model instances, converted exactly as the ORM converts them.
"""

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

import orjson
from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def columns(model: type[Model], alias: str) -> str:
    """The model's concrete columns, qualified by `alias`, in `from_row`'s order."""
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def recordset(fields: Sequence[Field], alias: str) -> str:
    """PostgreSQL only: rows read from one JSON parameter (see `json_rows`), as `alias`.

    Sending many rows this way costs far less than a placeholder per value: psycopg quotes
    each value in Python, and does not cache its parse of a statement that long."""
    columns = ", ".join(
        f"{quote(field.column)} {field.cast_db_type(connection)}" for field in fields
    )
    return f"jsonb_to_recordset(%s::jsonb) AS {alias}({columns})"


def json_rows(fields: Sequence[Field], rows: Iterable[Sequence[Any]]) -> str:
    """The parameter of a `recordset` of these fields: each row's values, in field order
    (Python values, as `Field.pre_save` gives them: orjson writes datetimes in ISO 8601)."""
    return orjson.dumps(
        [{field.column: value for field, value in zip(fields, row, strict=True)} for row in rows]
    ).decode()


def from_row(model: type[M], row: Sequence[Any]) -> M:
    """A model instance from the values of `columns(model, ...)`, in that order."""
    attnames, converters = _loader(model)
    values = list(row)
    for index, field, field_converters in converters:
        value = values[index]
        for convert in field_converters:
            value = convert(value, field, connection)
        values[index] = value
    return model.from_db(connection.alias, attnames, values)


Converter = Callable[[Any, Any, Any], Any]


@cache
def _loader(model: type[Model]) -> tuple[list[str], list[tuple[int, Any, list[Converter]]]]:
    """The model's attribute names and, for the columns that need it, the converters the ORM
    would apply (the backend's, e.g. SQLite's for dates, then the field's, e.g. JSON)."""
    fields: list[Field] = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((index, column, found))
    return [field.attname for field in fields], converters
