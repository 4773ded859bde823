"""Which database ``generate --to URL`` loads, read from the URL and ``output.database``.

Accepted URLs: ``postgresql://user[:password]@host[:port]/dbname[?schema=name&sslmode=...]``
(also ``postgres://`` and ``postgresql+psycopg://``; ``host`` may be a unix-socket folder given
as ``?host=/path``), ``sqlite:///relative.db`` or ``sqlite:////absolute.db``, and
``duckdb:///path.duckdb``. SQLAlchemy's URL parser reads them, so quoting rules are SQLAlchemy's.

The password is a secret: it may come from the URL or from ``output.database.password_env``
(the name of an environment variable; ``PGPASSWORD`` works too, through libpq). Only
:attr:`DatabaseTarget.display` -- the URL with the password as ``***`` -- is ever printed,
logged or written to ``_report.json``; :func:`redact` scrubs it from any other text (error
messages, the command line recorded in the report).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError

__all__ = ["KINDS", "DatabaseTarget", "redact", "resolve_target"]

KINDS = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "postgresql+psycopg": "postgres",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}
DEFAULT_PG_SCHEMA = "public"


@dataclass(frozen=True)
class DatabaseTarget:
    """A parsed target; ``secret`` holds the password (never shown, not in ``repr``)."""

    kind: str  # postgres | sqlite | duckdb
    display: str  # the URL with the password hidden
    path: Path | None = None  # sqlite / duckdb file
    schema: str = DEFAULT_PG_SCHEMA  # postgres
    connect_args: dict[str, Any] = field(default_factory=dict, repr=False)  # psycopg.connect keywords
    secret: str | None = field(default=None, repr=False)

    def redact(self, text: str) -> str:
        return redact(text, self.secret)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (raw or URL-quoted) replaced by ``***``."""
    if not secret:
        return text
    from urllib.parse import quote

    for form in {secret, quote(secret, safe=""), quote(secret)}:
        text = text.replace(form, "***")
    return text


def resolve_target(url: str, settings: Mapping[str, Any] | None = None) -> DatabaseTarget:
    """Parse ``url`` with the ``output.database`` settings; UserError naming the problem (never the password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    settings = settings or {}
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        shown = url.split("@", 1)[-1] if "@" in url else url
        raise UserError(f"cannot read the database URL ...{shown}: expected e.g. postgresql://user@host/db") from None
    kind = KINDS.get(parsed.drivername)
    if kind is None:
        raise UserError(
            f"unsupported database {parsed.drivername!r} in --to: use postgresql://, sqlite:///path.db "
            "or duckdb:///path.duckdb"
        )
    password = parsed.password
    password_env = settings.get("password_env")
    if password_env and password is None:
        password = os.environ.get(str(password_env))
        if password is None:
            raise UserError(f"output.database.password_env names {password_env}, which is not set")
    display = parsed.render_as_string(hide_password=True)
    if kind in ("sqlite", "duckdb"):
        if not parsed.database or parsed.database == ":memory:":
            raise UserError(
                f"{display}: give a file, e.g. {kind}:///data/test.{'db' if kind == 'sqlite' else 'duckdb'}"
            )
        return DatabaseTarget(kind, display, path=Path(parsed.database), secret=password)
    query = {key: (value[-1] if isinstance(value, tuple) else value) for key, value in parsed.query.items()}
    schema = str(query.pop("schema", None) or settings.get("schema") or DEFAULT_PG_SCHEMA)
    connect_args: dict[str, Any] = {
        key: value
        for key, value in {
            "host": parsed.host,
            "port": parsed.port,
            "user": parsed.username,
            "dbname": parsed.database,
            "password": password,
        }.items()
        if value is not None
    }
    connect_args.update(query)  # libpq options: host=/socket/dir, sslmode, connect_timeout, ...
    return DatabaseTarget(kind, display, schema=schema, connect_args=connect_args, secret=password)
