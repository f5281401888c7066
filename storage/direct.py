"""The request path's hottest statements, run on the driver connection directly.

Each statement run through SQLAlchemy's async layer costs about 0.5 M instructions on top of
the driver's own work (``docs/benchmarks.md``, "acks2"): a greenlet switch in and out, a
cache-key walk of the statement, an execution context, a cursor adapter (on SQLite four hops
to aiosqlite's thread: cursor, execute, fetch, close) and a result object. A command on the
ack path runs three to five statements, so that is most of its database CPU.

:class:`Direct` wraps one Core statement (built once, owner-scoped by its bound parameters,
like every statement of the book) and runs it on the same connection, in the same
transaction, with what SQLAlchemy would send: the statement compiled once per dialect (and,
for an INSERT or UPDATE, per set of columns given), the parameters through the types' bind
processors, scalar column defaults filled in, the rows through the types' result processors
(SQLite's dates come back as ISO text) and driver errors raised as SQLAlchemy's
(``IntegrityError``, ``DBAPIError``), so callers and retries see what they saw before.
``before_cursor_execute`` listeners still see every statement (tests count them).

Only plain statements qualify: no expanding ``IN`` parameters, no defaults computed in
Python, no names that need escaping — :meth:`Direct.compiled` refuses the others.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement as one dialect's driver takes it."""

    sql: str
    #: Whether the driver takes a sequence (SQLite's ``?``) rather than a dict (``%(name)s``).
    positional: bool
    #: The parameter names, in the statement's order.
    names: tuple[str, ...]
    #: Values not passed by the caller: literal binds, scalar column defaults.
    fixed: dict[str, Any]
    #: Bind processors by parameter name (only the types that have one).
    binds: dict[str, Callable[[Any], Any]]
    #: Result processors by column position, or ``None`` when no column has one.
    results: tuple[Callable[[Any], Any] | None, ...] | None
    #: Builds a row (a named tuple of the result's column keys), or ``None`` without a result.
    row: Callable[[Sequence[Any]], Any] | None

    def arguments(self, params: dict[str, Any]) -> Any:
        values = {**self.fixed, **params} if self.fixed else params
        binds = self.binds
        if self.positional:
            out: list[Any] = []
            for name in self.names:
                value = values[name]
                process = binds.get(name)
                out.append(value if process is None or value is None else process(value))
            return out
        if not binds:
            return {name: values[name] for name in self.names}
        converted: dict[str, Any] = {}
        for name in self.names:
            value = values[name]
            process = binds.get(name)
            converted[name] = value if process is None or value is None else process(value)
        return converted

    def shape(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make = self.row
        if make is None:
            return []
        results = self.results
        if results is None:
            return [make(r) for r in raw]
        return [
            make([v if p is None or v is None else p(v) for p, v in zip(results, r, strict=True)])
            for r in raw
        ]


class Direct:
    """One Core statement, run on the driver connection (see the module's docstring)."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def compiled(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        """The statement for ``dialect`` given parameters ``keys`` (compiled on first use).

        Kept by the dialect's name: each database has one driver here (``storage/db.py``), and
        keeping the dialect objects themselves would keep every engine a test made alive."""
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            found = self._compiled[(dialect.name, keys)] = _compile(self.statement, dialect, keys)
        return found

    async def rows(self, connection: AsyncConnection, params: dict[str, Any]) -> list[Any]:
        """Run the statement with ``params`` in ``connection``'s transaction; its rows (named
        tuples; none for a statement without a result)."""
        sync = _open(connection)
        dialect = sync.dialect
        compiled = self.compiled(dialect, tuple(params))
        arguments = compiled.arguments(params)
        driver = _announced(sync, compiled.sql, arguments, many=False)
        try:
            if compiled.positional:  # aiosqlite: one hop to its thread, rows and all
                raw = await driver.execute_fetchall(compiled.sql, arguments)
            else:  # psycopg
                cursor = await driver.execute(compiled.sql, arguments)
                # Whether rows come is known from the statement: psycopg's ``description``
                # builds a column object for every column on each call.
                raw = await cursor.fetchall() if compiled.row is not None else []
        except dialect.loaded_dbapi.Error as exc:
            raise await _translated(connection, compiled.sql, exc) from exc
        return compiled.shape(raw)

    async def many(self, connection: AsyncConnection, params: Sequence[dict[str, Any]]) -> None:
        """Run the statement (one without a result) once for each of ``params`` (all with the
        same keys) in ``connection``'s transaction, in one call to the driver."""
        if not params:
            return
        sync = _open(connection)
        compiled = self.compiled(sync.dialect, tuple(params[0]))
        arguments = [compiled.arguments(p) for p in params]
        driver = _announced(sync, compiled.sql, arguments, many=True)
        try:
            if compiled.positional:  # aiosqlite: every row in one hop to its thread
                await driver.executemany(compiled.sql, arguments)
            else:  # psycopg
                await driver.cursor().executemany(compiled.sql, arguments)
        except sync.dialect.loaded_dbapi.Error as exc:
            raise await _translated(connection, compiled.sql, exc) from exc

    async def first(self, connection: AsyncConnection, params: dict[str, Any]) -> Any:
        """The first row, or ``None``."""
        rows = await self.rows(connection, params)
        return rows[0] if rows else None


async def execute_sql(connection: AsyncConnection, sql: str, arguments: Any) -> None:
    """Run ``sql``, already in the driver's own form (e.g. psycopg's ``%(name)s``), with
    ``arguments`` as the driver takes them, on ``connection``'s driver connection: the
    listeners see it and driver errors are raised as SQLAlchemy's, as for :class:`Direct`.
    For a statement SQLAlchemy cannot express (``storage/delivery.py``'s CTEs)."""
    sync = _open(connection)
    driver = _announced(sync, sql, arguments, many=False)
    try:
        await driver.execute(sql, arguments)
    except sync.dialect.loaded_dbapi.Error as exc:
        raise await _translated(connection, sql, exc) from exc


async def driver_rows(connection: AsyncConnection, statement: Any) -> list[Any] | None:
    """The rows of a Core SELECT as the driver returns them (psycopg's plain tuples: no
    result processing, so only for columns whose types have none there), run on
    ``connection``'s driver connection; ``None`` for a statement SQLAlchemy must run itself
    (expanding ``IN`` lists). For the morning pass's big reads (~12,000 contacts a page):
    SQLAlchemy's row objects, and unpacking them, cost ~20 % of reading them (the statement
    still comes from SQLAlchemy's statement cache, its values through the types' bind
    processors). Listeners and errors as for :class:`Direct`."""
    sync = _open(connection)
    dialect = sync.dialect
    exec_opts = statement._execution_options.merge_with(sync._execution_options)
    compiled, extracted, _, _ = statement._compile_w_cache(
        dialect=dialect,
        compiled_cache=exec_opts.get("compiled_cache", sync.engine._compiled_cache),
        column_keys=[],
        for_executemany=False,
        schema_translate_map=exec_opts.get("schema_translate_map"),
    )
    if not _plain(compiled, dialect):
        return None
    params = compiled.construct_params(extracted_parameters=extracted, escape_names=False)
    binds = compiled._bind_processors
    arguments = {
        name: value if value is None or name not in binds else binds[name](value)
        for name, value in (params or {}).items()
    }
    driver = _announced(sync, compiled.string, arguments, many=False)
    try:
        cursor = await driver.execute(compiled.string, arguments)
        return cast(list[Any], await cursor.fetchall())
    except dialect.loaded_dbapi.Error as exc:
        raise await _translated(connection, compiled.string, exc) from exc


#: Whether a compiled statement's rows can come straight from the driver, by statement (the
#: compiled statements live in SQLAlchemy's cache, which may drop them).
_PLAIN: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _plain(compiled: Any, dialect: Dialect) -> bool:
    """No expanding parameters, named ones (psycopg's) that need no escaping, and no column
    whose type converts what the driver returns (a type decorator, say)."""
    plain = _PLAIN.get(compiled)
    if plain is None:
        plain = _PLAIN[compiled] = not (
            compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.escaped_bind_names
            or dialect.positional
            or any(
                c.type._cached_result_processor(dialect, None) is not None
                for c in compiled._result_columns
            )
        )
    return plain


def _open(connection: AsyncConnection) -> Any:
    sync = connection.sync_connection
    if sync is None:  # pragma: no cover - a connection not started
        raise RuntimeError("the connection is not open")
    return sync


def _announced(sync: Any, sql: str, arguments: Any, *, many: bool) -> Any:
    """The driver connection, once ``before_cursor_execute`` listeners have seen ``sql``."""
    if sync._has_events or sync.engine._has_events:
        for listener in sync.dispatch.before_cursor_execute:
            listener(sync, None, sql, arguments, None, many)
    return sync.connection.driver_connection


async def _translated(connection: AsyncConnection, sql: str, exc: Any) -> StatementError:
    """A driver error as SQLAlchemy raises it (``IntegrityError``, …), the connection
    invalidated first when the error says it is gone."""
    sync = _open(connection)
    dialect = sync.dialect
    invalidated = dialect.is_disconnect(exc, sync.connection, None)
    if invalidated:
        await connection.invalidate(exc)
    translated: StatementError = DBAPIError.instance(
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
    return translated


def _compile(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("expanding or literal-execute parameters: run it through SQLAlchemy")
    if compiled.escaped_bind_names:
        raise ValueError("parameter names that need escaping: run it through SQLAlchemy")
    fixed: dict[str, Any] = {}
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.onupdate if column in compiled.update_prefetch else column.default
        if default is None or not default.is_scalar:
            raise ValueError(f"{column.key}: a default computed in Python")
        fixed[column.key] = default.arg
    for bind, name in compiled.bind_names.items():
        if name in keys or name in fixed:
            continue
        if bind.required or bind.callable is not None:
            # A parameter the caller did not pass: SQLAlchemy would refuse it too.
            raise ValueError(f"parameter {name!r} is required")
        fixed[name] = bind.value  # a literal in the statement (``kind == "conversation"``)
    positional = bool(dialect.positional)
    names = (
        tuple(compiled.positiontup)
        if positional
        else tuple(dict.fromkeys(compiled.bind_names.values()))
    )
    binds = {name: p for name, p in compiled._bind_processors.items() if callable(p)}
    row = None
    results = None
    if compiled._result_columns:
        columns = compiled._result_columns
        processors = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
        results = processors if any(p is not None for p in processors) else None
        row = cast(Any, namedtuple("Row", [c.keyname for c in columns], rename=True))._make
    return _Compiled(compiled.string, positional, names, fixed, binds, results, row)
