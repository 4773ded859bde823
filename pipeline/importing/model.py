"""The importers' neutral picture of a schema: tables, columns, keys and what was learned of values.

``ddl``, ``db`` and ``parquet`` each fill these classes from their source; ``infer`` adds rules
guessed from names and types; ``build`` turns the result into a synthbeam config. Keeping the
sources apart from the config they produce means every source gets the same inference and the
same key handling, and a test of one source tests the others' output stage too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# synthbeam column types an importer may assign (CONTRACT section 3).
KINDS = ("int", "float", "bool", "str", "date", "time", "timestamp", "uuid")


@dataclass
class Bound:
    """A range's bound from a CHECK: a constant, or (in ``Column.after``) another column of the row."""

    value: Any = None
    column: str | None = None
    strict: bool = False


@dataclass
class Profile:
    """What reading the data taught about one column: shares and bounds, never a copied value
    unless ``frequencies`` was allowed (a low-cardinality column that does not look like PII)."""

    rows: int = 0
    null_share: float = 0.0
    distinct: int | None = None
    low: Any = None
    high: Any = None
    frequencies: dict[Any, float] | None = None
    max_length: int | None = None
    sampled: int | None = None  # rows the distinct count was taken over, when it was a sample


@dataclass
class Column:
    """One column as the source declares it, plus the constraints that bound its values."""

    name: str
    kind: str
    source_type: str
    nullable: bool = True
    length: int | None = None
    min_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    type_low: Any = None
    type_high: Any = None
    low: Bound | None = None
    high: Bound | None = None
    after: Bound | None = None  # starts at another column of the row (CHECK (a <= b), updated_at)
    choices: list[Any] | None = None
    default: Any = None
    default_now: bool = False
    unique: bool = False
    profile: Profile | None = None
    source_notes: list[str] = field(default_factory=list)
    # Filled by infer: the rule, sensitivity, and why, for the notes.
    rule: Any = None
    has_rule: bool = False
    sensitivity: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class ForeignKey:
    """``columns`` of the child refer to ``parent_columns`` of ``parent_table``."""

    columns: list[str]
    parent_table: str
    parent_columns: list[str]
    children_min: int | None = None
    children_max: int | None = None
    null_share: float | None = None


@dataclass
class Table:
    """A table in declaration order of its columns."""

    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    rows: int | None = None


@dataclass
class Schema:
    """Tables by name, in source order, plus what the importer skipped and noted on the way."""

    tables: dict[str, Table] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        """Tables are matched case-insensitively, as unquoted SQL names are."""
        if name in self.tables:
            return self.tables[name]
        lowered = name.lower()
        return next((t for key, t in self.tables.items() if key.lower() == lowered), None)
