"""The ``synthbeam`` command line (also ``python -m synthbeam.pipeline``).

Commands follow the user contract: ``generate``, ``validate``, ``preview``,
``plan``, ``schema`` (and ``check``, ``keygen``, ``decrypt``, ``llm-check``,
which belong to later work and say so). Every user error -- a bad config, a
bad option, an existing output without ``--overwrite`` -- is one line on
stderr and exit status 1, without a traceback unless ``--debug`` is given.
Results go to stdout; progress and errors to stderr.

``generate`` passes every option it does not know to Beam as a pipeline
option (``--runner``, ``--direct_num_workers``, ...). Write the config path
first (``synthbeam generate CONFIG [options]``), or give Beam options as
``--name=value``, so a Beam option's value is never taken for the config.
Beam is imported only by the commands that run it, so ``--help``,
``validate``, ``preview`` and ``plan`` start fast and stay quiet.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import threading
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from synthbeam.rules.core.errors import ConfigError, GenerationError

from .errors import UserError
from .importing.command import add_import_parser, cmd_import
from .worker import QUIET_SWITCH

if TYPE_CHECKING:
    from synthbeam.rules.core.errors import Issues
    from synthbeam.rules.core.model import Plan

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

DEFAULT_FORMAT = "parquet"
DEFAULT_LIMIT = 10
ALLOW_HUGE_ROWS = 2**63 - 1  # --allow-huge: no ceiling but what row indices can count


class UsageError(UserError):
    """A command line argparse rejects."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is a one-line UsageError, not usage text and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _iso_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


_non_negative_int.__name__ = "non-negative integer"
_positive_float.__name__ = "positive number"
_iso_date.__name__ = "date"


CONFIG_HELP = "config JSON file (local path or gs:// URL); --config FILE works too"


def _add_config(parser: argparse.ArgumentParser) -> None:
    """The positional CONFIG, also accepted as ``--config FILE`` (as the older generator's users type it)."""
    parser.add_argument("config", metavar="CONFIG", nargs="?", help=CONFIG_HELP)
    parser.add_argument("--config", dest="config_option", metavar="FILE", help=argparse.SUPPRESS)


def _debug_parent(runs_beam: bool) -> argparse.ArgumentParser:
    debug = _Parser(add_help=False)
    text = "show Beam's logs and full tracebacks" if runs_beam else "show the full traceback of an unexpected error"
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=text)
    return debug


def _settings_parent(described: bool = True) -> argparse.ArgumentParser:
    settings = _Parser(add_help=False)
    title = "config overrides (command line beats environment beats file)"
    if not described:
        title = "config overrides (default: what the run recorded in OUT_DIR/_report.json)"
    group = settings.add_argument_group(title)
    group.add_argument("--environment", metavar="NAME", help="apply the config's environments[NAME] block")
    group.add_argument("--rows", type=_non_negative_int, metavar="N", help="rows for tables that set none")
    group.add_argument("--scale", type=_positive_float, metavar="F", help="multiply every table's rows by F")
    group.add_argument("--seed", type=int, metavar="S", help="the random seed")
    group.add_argument("--locale", metavar="L", help="Faker locale, e.g. de_DE")
    group.add_argument("--as-of", type=_iso_date, metavar="YYYY-MM-DD", help='the date "today" means')
    group.add_argument(
        "--allow-huge",
        action="store_true",
        default=None,
        help="accept plans over performance.max_total_rows (default 10^12 rows in total)",
    )
    return settings


def _format_option(group: Any, help_text: str) -> None:
    group.add_argument("--format", choices=("parquet", "avro", "csv"), type=str.lower, help=help_text)


def _shards_option(group: Any, help_text: str) -> None:
    group.add_argument("--num-shards", type=_non_negative_int, metavar="N", help=help_text)


def build_parser() -> argparse.ArgumentParser:
    beam_debug, debug = _debug_parent(True), _debug_parent(False)
    settings = _settings_parent()

    output = _Parser(add_help=False)
    group = output.add_argument_group("output")
    group.add_argument("--out", metavar="DIR", help="output directory, local or gs:// (default ./output)")
    _format_option(group, "file format (default: the config's output.format, else parquet)")
    _shards_option(group, "files per table (default: the runner decides)")

    parser = _Parser(
        prog="synthbeam",
        description="Deterministic synthetic relational test data, generated by Apache Beam.",
        epilog="Run 'synthbeam COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks (and, for generate, Beam's logs)"
    )
    parser.add_argument(  # as the older generator's users type it: synthbeam --config FILE COMMAND
        "--config", dest="config_before_command", metavar="FILE", help="the config, for any command that reads one"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    generate = commands.add_parser(
        "generate",
        parents=[beam_debug, settings, output],
        help="run the pipeline and write every table",
        description="Generate every table of CONFIG into OUT/<table>/ and write OUT/_report.json "
        "(and, unless --no-profile, OUT/_profile.json and OUT/_report.html).",
        epilog="Options not listed here are passed to Beam as pipeline options, e.g. "
        "--runner=DataflowRunner, --direct_running_mode=multi_processing --direct_num_workers=4, "
        "--runner=PortableRunner --job_endpoint=embed --environment_type=LOOPBACK.",
    )
    _add_config(generate)
    generate.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a previous synthbeam output (a folder with its _report.json), or the tables --to finds",
    )
    generate.add_argument(
        "--to",
        metavar="URL",
        help="load every table into a database: postgresql://user@host/db, sqlite:///file.db or "
        "duckdb:///file.duckdb (all or nothing; keys checked by the database)",
    )
    generate.add_argument(
        "--no-wait",
        action="store_true",
        help="remote runners: return once the job is submitted (the job still writes "
        "OUT/_report.json when it finishes)",
    )
    generate.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress display (by default: live bars on a terminal, a line every 5 s otherwise)",
    )
    generate.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the column profile: no OUT/_profile.json and OUT/_report.html (a few %% faster)",
    )

    # validate and plan write nothing, so --out means nothing to them; --format (and plan's
    # --num-shards) stay, because they change what is checked (Avro's names) and estimated.
    validate = commands.add_parser(
        "validate",
        parents=[debug, settings],
        help="check a config and summarise it",
        description="Check CONFIG and print a summary; exit 0 when valid, 1 with every error listed otherwise.",
    )
    _add_config(validate)
    _format_option(
        validate.add_argument_group("output"),
        "also check the names against this format's rules (default: the config's output.format, else parquet)",
    )

    preview = commands.add_parser(
        "preview",
        parents=[debug, settings],
        help="print the first rows of tables (no Beam)",
        description="Print the first rows of each table (or --table) exactly as generate writes them.",
    )
    _add_config(preview)
    preview.add_argument("--table", action="append", metavar="T", help="only this table (repeatable)")
    preview.add_argument(
        "--limit",
        type=_non_negative_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"rows per table (default {DEFAULT_LIMIT})",
    )

    plan = commands.add_parser(
        "plan",
        parents=[debug, settings],
        help="pre-flight: order, rows, keys, size estimates",
        description="Show generation order, row counts, chunks, key strategies, foreign keys and estimated "
        "output sizes. Writes nothing.",
    )
    _add_config(plan)
    estimate = plan.add_argument_group("estimate for")
    _format_option(estimate, "estimate sizes in this format (default: the config's output.format, else parquet)")
    _shards_option(estimate, "estimate for this many files per table (default 1)")
    plan.add_argument(
        "--erd",
        choices=("mermaid", "dot", "svg"),
        type=str.lower,
        help="print only the entity-relationship diagram (tables, columns, PK/FK/UK, foreign keys) in this format",
    )

    ddl = commands.add_parser(
        "ddl",
        parents=[debug, settings],
        help="print CREATE TABLE statements for a config's tables",
        description="Print CREATE TABLE statements (types as stored, NOT NULL, primary, unique and foreign "
        "keys) for every table of CONFIG, parents first.",
    )
    _add_config(ddl)
    ddl.add_argument(
        "--dialect",
        default="postgres",
        metavar="NAME",
        help="postgres (default), sqlite, duckdb, mysql or bigquery",
    )

    commands.add_parser(
        "schema",
        parents=[debug],
        help="print the config's JSON Schema",
        description="Print the JSON Schema of synthbeam configs (for editors).",
    )

    check = commands.add_parser(
        "check",
        parents=[debug, _settings_parent(described=False)],
        help="verify an output directory against a config",
        description="Verify OUT_DIR against CONFIG: layout, types, keys, foreign keys, rules, determinism. "
        "The run's rows, scale, seed, locale, as_of and environment are read from its _report.json; "
        "the options override them.",
    )
    _add_config(check)
    check.add_argument("out_dir", metavar="OUT_DIR", nargs="?", help="the output directory of a generate run")
    check.add_argument("--verbose", action="store_true", help="list the checks run and skipped per table")
    add_import_parser(commands, [debug])

    report = commands.add_parser(
        "report",
        parents=[debug],
        help="rebuild OUT/_report.html from the run's JSON files",
        description="Write OUT/_report.html again from OUT/_report.json and OUT/_profile.json (no Beam, no config).",
    )
    report.add_argument("out_dir", metavar="OUT", help="the output directory of a generate run")

    keygen = commands.add_parser(
        "keygen",
        parents=[debug],
        help="write a new encryption key file",
        description="Write a new random 256-bit key to KEY_FILE (mode 0600; an existing file is never replaced) "
        "and print its fingerprint. Point security.key_file at it, or put its content in the variable "
        "security.key_env names. Keep it out of version control.",
    )
    keygen.add_argument("key_file", metavar="KEY_FILE", help="where to write the key")

    decrypt = commands.add_parser(
        "decrypt",
        parents=[debug],
        help="copy an output with encrypted columns decrypted",
        description="Copy ENCRYPTED_DIR (an output written with security.enable_encryption) to --out DIR with "
        "its encrypted columns decrypted to their original types. ENCRYPTED_DIR is never changed.",
    )
    decrypt.add_argument(
        "out_dir", metavar="ENCRYPTED_DIR", help="the output directory of a run with encrypted columns"
    )
    decrypt.add_argument("--key-file", required=True, metavar="KEY_FILE", help="the key the run encrypted with")
    decrypt.add_argument("--out", required=True, metavar="DIR", help="where to write the decrypted copy (new or empty)")

    llm_check = commands.add_parser(
        "llm-check",
        parents=[debug],
        help="test the configured LLM endpoint",
        description="Send one tiny request to the OpenAI-compatible endpoint of CONFIG's openai block (model, "
        "base_url, the key from the variable api_key_env names) and print whether it answered, and how fast. "
        "The key is never printed.",
    )
    _add_config(llm_check)
    llm_check.add_argument("--environment", metavar="NAME", help="apply the config's environments[NAME] block")
    return parser


def _resolve_config(args: argparse.Namespace) -> None:
    """One config, from CONFIG or --config FILE (both given must agree); CHECK's OUT_DIR shifts after --config."""
    given = getattr(args, "config_option", None) or getattr(args, "config_before_command", None)
    if not hasattr(args, "config") or args.command in (None, "schema"):
        return
    positional = args.config
    if given and positional and hasattr(args, "out_dir") and args.out_dir is None:
        args.out_dir, positional = positional, None  # check --config C OUT_DIR
    if given and positional and given != positional:
        raise UsageError(f"synthbeam {args.command}: CONFIG given twice ({positional} and --config {given})")
    args.config = given or positional
    if not args.config:
        raise UsageError(f"synthbeam {args.command}: a CONFIG is required (positional or --config FILE)")
    if hasattr(args, "out_dir") and args.command == "check" and not args.out_dir:
        raise UsageError("synthbeam check: OUT_DIR is required (see synthbeam check --help)")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("synthbeam")
    except Exception:  # running from a checkout without installing
        return "unknown"


# --- commands ----------------------------------------------------------------


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = {
        "seed": "seed",
        "rows": "rows",
        "scale": "scale",
        "locale": "locale",
        "as_of": "as_of",
        "format": "output.format",
        "out": "output.directory",
        "num_shards": "output.num_shards",
    }
    overrides = {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None) is not None}
    if getattr(args, "allow_huge", None):
        overrides["performance.max_total_rows"] = ALLOW_HUGE_ROWS
    return overrides


def _load(args: argparse.Namespace) -> tuple[Plan, Issues]:
    from .config import load_plan

    return load_plan(args.config, environment=args.environment, overrides=_overrides(args))


def _config_error_line(exc: ConfigError) -> str:
    issues = exc.issues
    first = str(issues[0]) if issues else str(exc)
    source = f"{exc.source}: " if exc.source and exc.source not in first else ""
    more = f" (and {len(issues) - 1} more; run 'synthbeam validate' to list them)" if len(issues) > 1 else ""
    return f"{source}{first}{more}"


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    """One message, one line: a line break or control character inside it (a table name
    can hold one) is written escaped, as ``repr`` would."""
    sys.stderr.write("".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text) + "\n")


def cmd_validate(args: argparse.Namespace) -> int:
    from .summary import validate_lines

    try:
        plan, issues = _load(args)
    except ConfigError as exc:
        for issue in exc.issues or [exc]:
            _err(f"error: {issue}")
        count = len(exc.issues) or 1
        _err(f"invalid: {count} error(s) in {exc.source or args.config}")
        return EXIT_ERROR
    from synthbeam.transforms.names import layout_problems

    output_format = str((plan.output or {}).get("format") or DEFAULT_FORMAT).lower()
    problems = layout_problems(plan, output_format)
    if problems:  # what generate would refuse for this output
        for problem in problems:
            _err(f"error: {problem}")
        _err(f"invalid: {len(problems)} error(s) in {plan.source} for {output_format} output")
        return EXIT_ERROR
    for line in validate_lines(plan, issues):
        _out(line)
    return EXIT_OK


def cmd_preview(args: argparse.Namespace) -> int:
    from .config import resolve_dedup
    from .summary import preview_lines

    plan, _ = _load(args)
    tables = args.table or list(plan.tables)
    unknown = [t for t in tables if t not in plan.tables]
    if unknown:
        raise UserError(f"no table {unknown[0]!r} in {plan.source}; tables: {', '.join(plan.tables)}")
    for column in resolve_dedup(plan):  # the same values generate writes
        _err(f"note: {column} is made unique by generate's dedup pass; preview shows first draws there")
    for line in preview_lines(plan, tables, args.limit):
        _out(line)
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from .summary import plan_lines

    plan, issues = _load(args)
    for warning in issues.warnings:  # plan is a pre-flight: what validate warns about belongs in it
        _err(f"warning: {warning}")
    if getattr(args, "erd", None):
        from .erd import render
        from .report import table_entries

        sys.stdout.write(render(table_entries(plan), args.erd))
        return EXIT_OK
    output = plan.output or {}
    output_format = str(output.get("format") or DEFAULT_FORMAT).lower()
    if output_format not in ("parquet", "avro", "csv"):
        raise UserError(f"unknown output format {output_format!r}: use one of parquet, avro, csv")
    workers = int((plan.performance or {}).get("max_workers") or 1)
    for line in plan_lines(plan, output_format, int(output.get("num_shards") or 0), workers):
        _out(line)
    return EXIT_OK


def cmd_ddl(args: argparse.Namespace) -> int:
    from .ddl import ddl_text, resolve_dialect

    dialect = resolve_dialect(args.dialect)
    plan, _ = _load(args)
    sys.stdout.write(ddl_text(plan, dialect))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    try:
        from synthbeam.rules.config.schema import config_schema
    except ImportError:
        raise UserError("the config schema is not available in this build (synthbeam.rules.config.schema)") from None
    _out(json.dumps(config_schema(), indent=2))
    return EXIT_OK


def cmd_generate(args: argparse.Namespace, beam_args: list[str], argv: Sequence[str]) -> int:
    from .run import DEFAULT_OUT, GenerateRequest, generate

    plan, _ = _load(args)
    output = plan.output or {}
    database = dict(output.get("database") or {})
    if args.to or database.get("url"):
        return _generate_to_database(args, beam_args, argv, plan, database)
    request = GenerateRequest(
        out=str(output.get("directory") or DEFAULT_OUT),
        output_format=str(output.get("format") or DEFAULT_FORMAT),
        num_shards=int(output.get("num_shards") or 0),
        overwrite=args.overwrite,
        beam_args=beam_args,
        wait=not args.no_wait,
        live=False if args.no_progress else None,
        config_location=args.config,
        command=["synthbeam", *argv],
        profile=not args.no_profile,
    )
    result = generate(plan, request)
    if not result.waited:
        _out(
            f"submitted to {result.report['runner']}: the job writes {result.out} and "
            f"{result.report_path} when it finishes"
        )
        return EXIT_OK
    _print_generate_summary(result.report, result.report_path)
    return EXIT_OK


def _generate_to_database(
    args: argparse.Namespace, beam_args: list[str], argv: Sequence[str], plan: Plan, database: dict[str, Any]
) -> int:
    from .database import resolve_target
    from .database.generate import generate_into_database
    from .run import GenerateRequest

    target = resolve_target(args.to or database["url"], database)
    output = plan.output or {}
    request = GenerateRequest(
        output_format=str(output.get("format") or DEFAULT_FORMAT),
        num_shards=int(output.get("num_shards") or 0),
        overwrite=args.overwrite,
        beam_args=beam_args,
        live=False if args.no_progress else None,
        config_location=args.config,
        command=[target.redact(part) for part in ["synthbeam", *argv]],
    )
    report = generate_into_database(plan, request, target, keep_out=args.out)
    loaded = report["database"]
    seconds = loaded["seconds"]
    phases = ", ".join(f"{phase} {value:.2f} s" for phase, value in seconds.items() if phase != "total")
    _out(
        f"loaded {loaded['total_rows']:,} rows in {len(loaded['rows'])} table(s) into {loaded['url']} "
        f"(generate {report.get('wall_seconds', 0):.1f} s, load {seconds.get('total', 0):.1f} s: {phases})"
    )
    for name, rows in loaded["rows"].items():
        _out(f"  {name}: {rows:,} rows")
    if args.out:
        _out(f"files and report: {args.out}")
    return EXIT_OK


def _print_generate_summary(report: dict[str, Any], report_path: str) -> None:
    from .textview import render_table

    tables = report.get("tables", {})
    total = report.get("total_rows", 0)
    rate = report.get("rows_per_second")
    pipeline_seconds = float(report.get("wall_seconds", 0))
    wall = max(_process_seconds(), pipeline_seconds)
    _out(
        f"wrote {total:,} rows in {len(tables)} table(s) to {report['output_dir']} as {report['format']}"
        f" in {wall:.1f} s wall time (the pipeline {pipeline_seconds:.1f} s of it"
        + (f", {rate:,.0f} rows/s" if rate else "")
        + f"), peak memory {report.get('peak_rss_mb', 0):,.0f} MB"
    )
    rows = [
        [
            name,
            f"{entry.get('rows_written', 0):,}",
            entry.get("files", 0),
            f"{entry.get('busy_seconds', 0):.2f}",
            f"{entry.get('seconds', 0):.2f}",
            ", ".join(f"{k}={v}" for k, v in entry.get("events", {}).items()) or "-",
        ]
        for name, entry in tables.items()
    ]
    for line in render_table(
        ["table", "rows", "files", "own time (s)", "done after (s)", "reported events"],
        rows,
        indent="  ",
        raw=True,
        max_cell=80,
    ):
        _out(line)
    _out("  own time: generating and writing the table, summed over workers; done after: from the first chunk")
    _out(f"report: {report_path}")


def _process_seconds() -> float:
    """Seconds since this process started (interpreter, imports and all), 0 if unknown."""
    try:
        import time

        import psutil

        return max(0.0, time.time() - psutil.Process(os.getpid()).create_time())
    except Exception:  # psutil refuses on this platform: the pipeline's time alone is shown
        return 0.0


def cmd_check(args: argparse.Namespace) -> int:
    from .check import check_output, format_result
    from .config import load_plan

    report_path = Path(args.out_dir) / "_report.json"
    if not Path(args.out_dir).is_dir():
        raise UserError(f"output directory not found: {args.out_dir}")
    recorded = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    overrides = {
        "rows": args.rows if args.rows is not None else recorded.get("default_rows"),
        "scale": args.scale if args.scale is not None else recorded.get("scale"),
        "seed": args.seed if args.seed is not None else recorded.get("seed"),
        "locale": args.locale or recorded.get("locale"),
        "as_of": args.as_of or recorded.get("as_of"),
    }
    environment = args.environment or recorded.get("environment")
    plan, _ = load_plan(args.config, environment=environment, overrides=overrides)
    result = check_output(plan, Path(args.out_dir))
    _out(format_result(result, verbose=args.verbose))
    return EXIT_OK if result.ok else EXIT_ERROR


def cmd_report(args: argparse.Namespace) -> int:
    from .report_html import rebuild_html

    _out(f"wrote {rebuild_html(args.out_dir)}")
    return EXIT_OK


def cmd_llm_check(args: argparse.Namespace) -> int:
    """One tiny request to the configured endpoint; the key is named, never shown."""
    from synthbeam.pipeline.llm_check import llm_check
    from synthbeam.rules.config.loader import load_config

    loaded = load_config(args.config, environment=getattr(args, "environment", None))
    loaded.raise_for_errors()
    result = llm_check(loaded.data.get("openai") or {}, loaded.config_dir)
    status = "ok" if result["ok"] else result["status"]
    _out(f"{status}: {result['message']}")
    for key in ("model", "base_url", "response_id", "latency_seconds", "cache_dir", "cached_pools"):
        if result.get(key) is not None:
            _out(f"  {key}: {result[key]}")
    return EXIT_OK if result["ok"] else EXIT_ERROR


def cmd_keygen(args: argparse.Namespace) -> int:
    from .keygen import keygen

    fingerprint = keygen(args.key_file)
    _out(f"wrote {args.key_file} (mode 0600, key fingerprint {fingerprint}); keep it out of version control")
    return EXIT_OK


def cmd_decrypt(args: argparse.Namespace) -> int:
    from .decrypt import decrypt_output

    summary = decrypt_output(Path(args.out_dir), args.key_file, Path(args.out))
    for warning in summary.get("warnings") or []:
        _err(f"warning: {warning}")
    _out(f"wrote a decrypted copy of {args.out_dir} to {args.out}")
    for table, done in sorted((summary.get("tables") or {}).items()):
        if done.get("columns"):
            _out(f"  {table}: {', '.join(done['columns'])} ({done['rows']:,} rows)")
    return EXIT_OK


# --- entry point ---------------------------------------------------------------


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    """A background thread's exception, logged (shown with --debug) rather than printed over the CLI's line."""
    thread = args.thread.name if args.thread is not None else "a thread"
    logging.getLogger("synthbeam.threads").error(
        "exception in %s", thread, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
    )


@contextlib.contextmanager
def _runtime(debug: bool) -> Iterator[None]:
    """Quiet Beam unless --debug: its INFO/WARNING chatter is not for users (failures are raised)."""
    root = logging.getLogger()
    saved_level = root.level
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO if debug else logging.CRITICAL + 1)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)  # also keeps logging.warning() from installing its own stderr handler
    root.setLevel(logging.INFO if debug else logging.WARNING)
    saved_env = {name: os.environ.get(name) for name in ("SYNTHBEAM_WORKER_LOG_LEVEL", QUIET_SWITCH)}
    os.environ["SYNTHBEAM_WORKER_LOG_LEVEL"] = "INFO" if debug else "ERROR"
    # A failed bundle's error reaches this process, which prints it as one line; what the workers
    # print of it is the same failure as tracebacks (58 lines for one dedup error with 2 workers).
    os.environ[QUIET_SWITCH] = "0" if debug else "1"
    # Beam's background threads (the portable runner's message reader) print their own traceback when
    # a run is interrupted or fails under them; the main thread reports that run in one line. Their
    # exceptions go to the log instead, which --debug shows.
    saved_hook = threading.excepthook
    threading.excepthook = _log_thread_exception
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.simplefilter("ignore")
            yield
    finally:
        from .logconfig import reset_logging

        threading.excepthook = saved_hook
        reset_logging()
        root.removeHandler(handler)
        root.setLevel(saved_level)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dispatch(argv: list[str]) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if args.command is None:
        raise UsageError("synthbeam: a command is required (see synthbeam --help)")
    _resolve_config(args)
    if extras and args.command != "generate":
        raise UsageError(f"synthbeam {args.command}: unrecognized arguments: {' '.join(extras)}")
    handlers = {
        "check": cmd_check,
        "report": cmd_report,
        "llm-check": cmd_llm_check,
        "keygen": cmd_keygen,
        "decrypt": cmd_decrypt,
        "validate": cmd_validate,
        "preview": cmd_preview,
        "plan": cmd_plan,
        "schema": cmd_schema,
        "ddl": cmd_ddl,
        "import": cmd_import,
    }
    if args.command == "generate":
        for position, token in enumerate(extras):
            previous = extras[position - 1] if position else ""
            if not token.startswith("-") and not (previous.startswith("--") and "=" not in previous):
                raise UsageError(f"synthbeam generate: unexpected argument {token!r} (one CONFIG only)")
        return cmd_generate(args, extras, argv)
    return handlers[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    with _runtime(debug):
        try:
            return _dispatch(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_ERROR
        except ConfigError as exc:
            _trace(debug)
            _fail(_config_error_line(exc))
        except (UserError, GenerationError) as exc:
            _trace(debug)
            _fail(str(exc))
        except KeyboardInterrupt:
            _err("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            # stdout went away (`synthbeam ... | head`): nothing left to say, and nobody to say it to.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_ERROR
        except Exception as exc:
            _trace(debug)
            text = str(exc).strip().splitlines()
            _fail(
                f"unexpected {type(exc).__name__}: {text[0] if text else ''}"
                + ("" if debug else " (run with --debug for the traceback)")
            )
        return EXIT_ERROR


def run() -> NoReturn:
    """The console script: ``main`` then an immediate exit.

    Everything the run wrote is closed and the report is on disk when ``main``
    returns; what is left is the interpreter tearing down Beam's and pyarrow's
    module graph, about 0.4 s of CPU on every command, which ``os._exit``
    skips after the standard streams are flushed.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _fail(message: str) -> None:
    """The one error line on stderr, and in the config's logging.file when it has one."""
    _err(f"error: {message}")
    logging.getLogger("synthbeam.pipeline.cli").error("%s", message)


def _trace(debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)
