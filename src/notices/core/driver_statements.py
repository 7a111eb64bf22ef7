"""Core statements compiled once and run on the database driver's own cursor.

SQLAlchemy's execution path (events, an execution context, a result object) costs about 100 µs
of CPU per statement, more than the driver and the database take for a one-row UPDATE. That is
too much only where a statement runs once per message sent: the outcome writer (mail.outcomes),
which over one SMTP connection writes one outcome at a time, in the process whose every
millisecond the SMTP exchange waits for. Everywhere else, use SQLAlchemy as usual.

The statement is still written with SQLAlchemy, once, and its values still go through the same
bind processors (UTCDateTime included), so what is stored is what SQLAlchemy's path would store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Delete, Update

_REQUIRED = object()  # a bound value each row must give


class DriverStatement:
    """An UPDATE or DELETE for one dialect, run by `executemany` on a DBAPI cursor."""

    def __init__(self, statement: Update | Delete, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.post_compile_params or compiled.update_prefetch:
            # Renamed or expanded parameters (IN lists) and Python-side column defaults are
            # SQLAlchemy's to fill in when it executes: the cursor would get none of them.
            raise ValueError("a statement for the driver's cursor takes plain bound values only")
        self.sql = compiled.string
        self._positional = compiled.positional
        # A name may come twice in a positional statement (one value bound to two columns).
        names = compiled.positiontup if compiled.positional else list(compiled.params)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        # A bindparam() without a value is for each row to give; the statement's own values (a
        # constant status, NULL for a lease) are what SQLAlchemy's path would add itself.
        given = {name: _REQUIRED if binds[name].required else value for name, value in compiled.params.items()}
        self._parts: list[tuple[str, Any, Callable[[Any], Any] | None]] = [
            (name, given[name], binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names or ()
        ]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """One row's parameters as the driver takes them: `values` by bind name, the rest the
        statement's own. KeyError for a value the row must give and does not."""
        converted = []
        for name, own, process in self._parts:
            value = values[name] if own is _REQUIRED else own
            converted.append((name, process(value) if process is not None and value is not None else value))
        if self._positional:
            return tuple(value for _, value in converted)
        return dict(converted)

    def executemany(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per row; how many rows it changed in all. Errors are the driver's
        own (see raise_as_dbapi_error)."""
        if len(rows) == 1:  # the usual group over one SMTP connection: psycopg's executemany costs more
            cursor.execute(self.sql, self.parameters(rows[0]))
        else:
            cursor.executemany(self.sql, [self.parameters(row) for row in rows])
        rowcount: int = cursor.rowcount  # sqlite3 and psycopg both sum it over executemany's rows
        return rowcount


def raise_as_dbapi_error(connection: Connection, error: Exception, cursor: Any) -> NoReturn:
    """Re-raise a driver error from `connection`'s own cursor as SQLAlchemy's DBAPIError, which the
    rest of the code base handles, with the connection invalidated if the error says it is gone
    (as SQLAlchemy's own path does: the pool then never hands it out again)."""
    dialect = connection.dialect
    gone = dialect.is_disconnect(cast(Any, error), connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(error)
    raise DBAPIError.instance(
        None, None, error, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
    ) from error
