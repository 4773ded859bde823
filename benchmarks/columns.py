"""Which columns dominate: generation and Parquet-write time per column, per 100k rows.

``python -m benchmarks.columns [CONFIG] [--rows N] [--repeat K]`` (default: the
retail-2 workload). For every column of every table it times, on the same
row range:

* ``generate``: ``generate_columns`` for that column alone (its dependencies,
  if any, are generated too and included);
* ``own``: ``generate`` less the time of its same-table dependencies alone: what a
  column computed from others (a template, an expression) costs itself, to set
  against a Faker column of the same width (``benchmarks/coherent.json``);
* ``write``: a one-column Parquet file written the way the sink writes it
  (the dictionary encoding and compression the sink would choose), into memory.

Each figure is the fastest of ``--repeat`` runs (the least disturbed by other
load), scaled to 100k rows. The table is sorted by total time, largest first,
with each column's share of its table's total.
"""

from __future__ import annotations

import argparse
import functools
import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthbeam.rules.compiler.compile import build_plan
from synthbeam.rules.core.model import ColumnPlan
from synthbeam.rules.engine.batch import column_dependencies, generate_batch, generate_columns
from synthbeam.transforms.sinks import compression_by_column, dictionary_columns

WORKLOAD = Path(__file__).resolve().parent / "retail2.json"


def fastest(repeat: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def _write_parquet(table: pa.Table, use_dictionary: bool, compression: str) -> None:
    pq.write_table(table, io.BytesIO(), compression=compression, use_dictionary=use_dictionary)


def _describe(column: ColumnPlan) -> str:
    if column.foreign_key is not None:
        return f"foreign key -> {column.foreign_key.parent_table}.{column.foreign_key.parent_column}"
    rule = column.rule.describe() if column.rule is not None else "no rule"
    if column.key_strategy == "sequence":
        return "key: sequence 1..N"
    return f"{rule} (key: {column.key_strategy})" if column.key_strategy else rule


def profile(config: Path, rows: int, repeat: int) -> list[dict[str, object]]:
    """One entry per column: table, column, rule, generate and write milliseconds per 100k rows."""
    plan, _ = build_plan(str(config))
    entries = []
    for table in plan.tables.values():
        count = min(rows, table.rows)
        if not count:
            continue
        index = np.arange(count, dtype=np.uint64)
        batch = generate_batch(plan, table.name, 0, count)
        dictionary = set(dictionary_columns(batch))
        compression = compression_by_column(batch, dictionary)
        per_100k = 100_000 / count * 1000
        for column in table.columns:
            generate = functools.partial(generate_columns, plan, table.name, index, wanted=[column.name])
            one_column = pa.table([batch.column(column.name)], names=[column.name])
            write = functools.partial(
                _write_parquet,
                one_column,
                use_dictionary=column.name in dictionary,
                compression=compression[column.name],
            )
            generated, written = fastest(repeat, generate), fastest(repeat, write)
            inputs = sorted(name for name in column_dependencies(column) if "." not in name)
            own = generated
            if inputs:
                alone = functools.partial(generate_columns, plan, table.name, index, wanted=inputs)
                own = max(generated - fastest(repeat, alone), 0.0)
            entries.append(
                {
                    "table": table.name,
                    "column": column.name,
                    "rule": _describe(column),
                    "generate_ms": generated * per_100k,
                    "own_ms": own * per_100k,
                    "write_ms": written * per_100k,
                }
            )
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=WORKLOAD)
    parser.add_argument("--rows", type=int, default=100_000, help="rows per table to time (default 100k)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    entries = profile(args.config, args.rows, args.repeat)
    totals: dict[str, float] = {}
    for entry in entries:
        totals[entry["table"]] = totals.get(entry["table"], 0.0) + entry["generate_ms"] + entry["write_ms"]
    print(f"ms per 100k rows, fastest of {args.repeat}; share = of the table's generate + write")
    print(f"  {'table.column':<28} {'generate':>9} {'own':>8} {'write':>8} {'share':>6}  rule")
    ordered = sorted(entries, key=lambda e: (e["table"], -(e["generate_ms"] + e["write_ms"])))
    for entry in ordered:
        total = entry["generate_ms"] + entry["write_ms"]
        print(
            f"  {entry['table'] + '.' + entry['column']:<28} {entry['generate_ms']:>9.1f} {entry['own_ms']:>8.1f}"
            f" {entry['write_ms']:>8.1f}"
            f" {total / totals[entry['table']]:>6.0%}  {entry['rule']}"
        )
    for table, total in totals.items():
        print(f"  {table + ' (all columns)':<28} {total:>27.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
