"""Whole arrays as one typed PostgreSQL parameter, sent as the text of their literal.

psycopg dumps a Python list element by element in Python: 1.3 ms for 2,000 ids, 2.3 ms for
2,000 dates, and the morning pass sends a dozen such lists per page of users (14 % of deciding
under cProfile, 7 % of its instructions under callgrind: docs/benchmarks.md, "Deciding 100,000
users in 10 s"). Here the list is joined into its literal (``{1,2,3}``) at C speed and sent
with the array's type, so the server gets a real ``bigint[]`` (or ``date[]``) parameter: parsed
once per execution, never per row (a ``text`` parameter cast in the statement is, where a
generic plan filters rows with it — docs/benchmarks.md, "Issue 14 at 100,000 users, again").

Only values of this module's own classes take this path; every other list is dumped as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import UserDefinedType

from storage.ids import ids_text


class ArrayLiteral(str):
    """The text of an array literal whose elements need no quoting (integers, ISO dates)."""

    __slots__ = ()


class BigIntArrayLiteral(ArrayLiteral):
    """A ``bigint[]`` parameter."""

    __slots__ = ()


class DateArrayLiteral(ArrayLiteral):
    """A ``date[]`` parameter."""

    __slots__ = ()


def register_dumpers() -> None:
    """Teach psycopg to send :class:`BigIntArrayLiteral` and :class:`DateArrayLiteral` as
    typed arrays. Process-wide, for connections opened from then on; called when a
    PostgreSQL engine or dialect is made (``storage.db``, ``storage.dialect``), so that a
    SQLite deployment never imports psycopg (~10 MB)."""
    global _registered
    if _registered:
        return
    from psycopg import adapters
    from psycopg.adapt import Dumper
    from psycopg.postgres import types as pg_types

    def dumper(array_oid: int) -> type[Dumper]:
        class LiteralDumper(Dumper):
            """Sends the literal as it is, typed as the array its class names."""

            oid = array_oid

            def dump(self, obj: Any) -> bytes:
                return str.encode(obj)

        return LiteralDumper

    # Only these classes are registered, so no other value is dumped differently.
    adapters.register_dumper(BigIntArrayLiteral, dumper(pg_types["int8"].array_oid))
    adapters.register_dumper(DateArrayLiteral, dumper(pg_types["date"].array_oid))
    _registered = True


_registered = False


def bigint_literal(ids: Iterable[int]) -> BigIntArrayLiteral:
    """``ids`` as one ``bigint[]`` literal; ``int`` refuses anything but an integer."""
    return BigIntArrayLiteral("{" + ids_text(ids if isinstance(ids, list) else list(ids)) + "}")


def date_literal(days: Iterable[date]) -> DateArrayLiteral:
    """``days`` as one ``date[]`` literal (ISO dates need no quoting)."""
    return DateArrayLiteral("{" + ",".join([day.isoformat() for day in days]) + "}")


class _ArrayParameter(UserDefinedType[Any]):
    """A bound array whose value is turned into its literal when the statement runs."""

    cache_ok = True

    def __init__(self, spec: str, literal: Callable[[Any], ArrayLiteral]) -> None:
        self.spec = spec
        self.literal = literal

    def get_col_spec(self, **kw: Any) -> str:
        return self.spec

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], ArrayLiteral]:
        return self.literal

    def literal_processor(self, dialect: Dialect) -> Callable[[Any], str]:
        # For a statement printed with its values (EXPLAIN in tests): the literal needs no
        # quoting inside the quotes (digits, commas, dashes).
        return lambda value: f"'{self.literal(value)}'::{self.spec}"


_BIGINTS = _ArrayParameter("BIGINT[]", bigint_literal)
_DATES = _ArrayParameter("DATE[]", date_literal)


def bigint_array(ids: Iterable[int]) -> BindParameter[Any]:
    """One ``bigint[]`` parameter holding ``ids``."""
    return bindparam(None, ids, type_=_BIGINTS)


def date_array(days: Iterable[date]) -> BindParameter[Any]:
    """One ``date[]`` parameter holding ``days``."""
    return bindparam(None, days, type_=_DATES)
