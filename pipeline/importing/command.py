"""``synthbeam import ddl|db|parquet``: the command line of the importers.

The config goes to stdout (or ``--out``); what was guessed, skipped or could not be expressed
goes to stderr as ``note:`` and ``skipped:`` lines, because the config language has no place for
comments and every imported config must pass ``validate`` unchanged. The command checks that
itself before it writes: an imported config that does not validate is an error, not a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UserError
from .build import DEFAULT_ROWS, build_config
from .model import Schema


def add_import_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``import`` and its three sources on the CLI's subparsers."""
    importer = commands.add_parser(
        "import",
        parents=parents,
        help="make a config from SQL DDL, a database or Parquet files",
        description="Write a synthbeam config for an existing schema. What was guessed is listed on stderr.",
    )
    sources = importer.add_subparsers(
        dest="source", metavar="SOURCE", parser_class=type(importer), help="where the schema comes from"
    )
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("output")
    group.add_argument("--out", metavar="FILE", help="write the config here (default: stdout)")
    group.add_argument(
        "--rows",
        type=int,
        default=DEFAULT_ROWS,
        metavar="N",
        help=f"rows per table where the source gives none (default {DEFAULT_ROWS})",
    )
    group.add_argument("--as-of", metavar="YYYY-MM-DD", help="the config's as_of (default: today)")
    group.add_argument("--locale", default="en_US", metavar="L", help="the config's Faker locale")
    group.add_argument("--seed", type=int, default=42, metavar="S", help="the config's seed")
    ddl = sources.add_parser(
        "ddl",
        parents=[*parents, common],
        help="from CREATE TABLE statements",
        description="Read CREATE TABLE / ALTER TABLE / CREATE TYPE statements.",
    )
    ddl.add_argument("path", metavar="SCHEMA_SQL", help="the DDL file")
    ddl.add_argument(
        "--dialect",
        default="postgres",
        metavar="NAME",
        help="postgres (default), mysql, sqlite, bigquery, snowflake or duckdb",
    )
    db = sources.add_parser(
        "db",
        parents=[*parents, common],
        help="from a live database's catalog",
        description="Read tables, columns and keys from postgresql://, sqlite:/// or "
        "duckdb:/// URL; --profile also reads value statistics (see docs/import.md).",
    )
    db.add_argument("url", metavar="URL")
    db.add_argument("--profile", action="store_true", help="learn shares, ranges and fan-out from the data")
    db.add_argument("--schema", dest="db_schema", metavar="NAME", help="database schema (default: the default)")
    parquet = sources.add_parser(
        "parquet",
        parents=[*parents, common],
        help="from a folder of Parquet tables",
        description="Read PATH/<table>/*.parquet (as generate writes): types, nulls, "
        "ranges and choices from statistics and a bounded sample.",
    )
    parquet.add_argument("path", metavar="PATH")
    parquet.add_argument("--sample", type=int, default=10_000, metavar="N", help="rows read per table (default 10000)")


def cmd_import(args: argparse.Namespace) -> int:
    """Read the source, build the config, validate it, write it; notes to stderr."""
    if args.source is None:
        raise UserError("synthbeam import: a source is required: ddl, db or parquet (see synthbeam import --help)")
    as_of = _as_of(args.as_of)
    if args.rows < 1:
        raise UserError(f"--rows must be at least 1, got {args.rows}")
    schema = _read(args)
    if not schema.tables:
        raise UserError(f"no tables found in {getattr(args, 'path', None) or getattr(args, 'url', '')}")
    config = build_config(schema, rows=args.rows, as_of=as_of, locale=args.locale, seed=args.seed)
    text = format_config(config)
    _validate(text)
    for line in schema.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    for line in schema.notes:
        print(f"note: {line}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}: {len(config['tables'])} table(s); check it with synthbeam validate", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def format_config(config: dict[str, Any]) -> str:
    """JSON with one line per column and per foreign key: a 40-table config stays readable and diffable."""

    def one(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = ["{"]
    top = [key for key in config if key != "tables"]
    lines += [f"  {one(key)}: {one(config[key])}," for key in top]
    lines.append('  "tables": [')
    for t_index, table in enumerate(config["tables"]):
        lines.append("    {")
        entries = []
        for key, value in table.items():
            if key in ("columns", "foreign_keys"):
                items = ",\n".join(f"        {one(item)}" for item in value)
                entries.append(f"      {one(key)}: [\n{items}\n      ]")
            else:
                entries.append(f"      {one(key)}: {one(value)}")
        lines.append(",\n".join(entries))
        lines.append("    }" + ("," if t_index < len(config["tables"]) - 1 else ""))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _as_of(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of: expected YYYY-MM-DD, got {text!r}") from None


def _read(args: argparse.Namespace) -> Schema:
    if args.source == "ddl":
        from .ddl import read_ddl_file, resolve_dialect

        return read_ddl_file(args.path, resolve_dialect(args.dialect))
    if args.source == "db":
        from .db import read_database

        return read_database(args.url, profile=args.profile, schema_name=args.db_schema)
    from .parquet import read_parquet

    return read_parquet(args.path, sample=args.sample)


def _validate(text: str) -> None:
    """The imported config compiles: an importer bug must not reach the user as a broken file."""
    from synthbeam.rules.core.errors import ConfigError

    from ..config import load_plan

    with tempfile.TemporaryDirectory(prefix="synthbeam-import-") as folder:
        path = Path(folder) / "imported.json"
        path.write_text(text, encoding="utf-8")
        try:
            load_plan(str(path))
        except ConfigError as exc:
            first = (exc.issues or [exc])[0]
            raise UserError(f"the imported config does not validate (please report it): {first}") from None
