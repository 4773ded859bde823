"""The bottom layer: what every other layer of ``rules`` speaks. Imports nothing above it.

- ``errors``: config problems (collected, with places) and generation errors.
- ``types``: the contract's column types, their synonyms and Arrow types.
- ``seeding``: counter-based streams; every draw is a pure function of (key, row index).
- ``registry``: the Rule base class, ``@register_rule``, declared parameters (``Param``), plugins.
- ``params``: parsing rule parameters: constants, dates, ``{"column": ...}`` references.
- ``declared``: what follows from the declarations: unknown-key errors, docs tables, schema text.
- ``conformance``: the shapes of a rule's answer to ``check`` and the value tests they share.
- ``model``: the resolved Plan (tables, columns, keys, foreign keys) that workers receive.
- ``values``: casting a rule's output to its column's type; length limits.
- ``compile_cache``: what compiling Faker rules learns, kept on disk between runs.

What a rule class needs, importable from here (``from synthbeam.rules.core import Rule, ...``): the
names plugins use (docs/plugins.md). Modules may move between releases; these names stay here.
"""

from __future__ import annotations

from synthbeam.rules.core.conformance import RowBounds, StoredColumn, ValueCheck, bounds_offending, regex_offending
from synthbeam.rules.core.params import per_row, read_number, read_param
from synthbeam.rules.core.registry import ColumnRef, Domain, Param, Rows, Rule, RuleContext, register_rule
from synthbeam.rules.core.seeding import Stream

__all__ = [
    "ColumnRef",
    "Domain",
    "Param",
    "RowBounds",
    "Rows",
    "Rule",
    "RuleContext",
    "StoredColumn",
    "Stream",
    "ValueCheck",
    "bounds_offending",
    "per_row",
    "read_number",
    "read_param",
    "regex_offending",
    "register_rule",
]
