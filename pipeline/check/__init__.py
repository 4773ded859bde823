"""``synthbeam check``: verify an output directory against its config, table by table.

- ``output``: ``check_output(plan, out_dir)``: the whole run (report, format, tables, foreign keys,
  determinism) and its module docstring says what is checked.
- ``table``: one table, batch by batch: schema, values, nulls, keys, protection.
- ``columns``: per-column value checks, asked of each column's rule.
- ``rows``: checks that need the row (per-row bounds, conditional branches, computed columns,
  parent values, children counts).
- ``keys``: distinct key counts and key sets (uniqueness, foreign keys).
- ``determinism``: sample rows recomputed from the plan against the written ones.
- ``result``: ``CheckResult`` and its text.

Files are read through :mod:`synthbeam.pipeline.formats`, shared with ``decrypt``.
"""

from __future__ import annotations

from ..formats import FORMATS
from .output import check_output
from .result import CheckResult, format_result

__all__ = ["FORMATS", "CheckResult", "check_output", "format_result"]
