"""The resolved plan: validated, typed tables and columns ready for generation.

A :class:`Plan` is what the config becomes after loading, environment merging,
corrections and validation. It is plain data plus compiled rule objects, it
pickles (Beam ships it to workers), and every generated value is a function of
the plan and a row index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthbeam.rules.core.registry import Rule, Settings
from synthbeam.rules.core.types import arrow_type

# Closed sets of values a plan field holds (the config schema admits no others).
Distribution = Literal["random", "even", "weighted", "zipf"]
Sensitivity = Literal["PUBLIC", "INTERNAL", "CONFIDENTIAL", "PII", "SENSITIVE"]
KeyStrategy = Literal["sequence", "permutation", "dedup", "group"]


@dataclass(frozen=True)
class Condition:
    column: str
    operator: str
    value: Any = None


@dataclass
class Branch:
    """One ``conditional_rules`` entry: when every condition holds, ``rule`` fills the row."""

    conditions: list[Condition]
    rule: Rule | None


@dataclass
class ForeignKey:
    child_column: str
    parent_table: str
    parent_column: str
    distribution: Distribution = "random"
    weights: dict[str, float] = field(default_factory=dict)
    s: float = 1.2
    null_probability: float = 0.0
    children_per_parent: tuple[int, int | None] | None = None  # (min, max); max None: no upper bound
    # children_per_parent {"column": "employee_count", "scale": 0.5}: each parent's count is its own value
    # of that parent column times scale, rounded, within (min, max); None: counts drawn in (min, max)
    children_column: str | None = None
    children_scale: float = 1.0
    place: str = ""
    # Made once per process by rules.relations where first needed, from the plan and the engine:
    # the parent rows of the values named in ``weights`` (sorted) with their weights, and the
    # children layout. Never pickled (see __getstate__), so the job graph holds nothing of them.
    listed_parents: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    layout: Any = field(default=None, repr=False, compare=False)  # relations.foreign_keys.ChildrenLayout

    def describe_children(self) -> str:
        """How many children a parent gets, in a few words (plan and report)."""
        if self.children_per_parent is None:
            return ""
        low, high = self.children_per_parent
        if self.children_column is None:
            return f"{low}..{high} children per parent"
        scale = f" x {self.children_scale:g}" if self.children_scale != 1 else ""
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        return f"{self.parent_table}.{self.children_column}{scale} ({bound}) children per parent"

    @property
    def is_self_reference(self) -> bool:
        return False

    def __getstate__(self) -> dict[str, Any]:
        # The per-process fields are rebuilt where they are used: pickled, the exact layout would
        # put data that grows with the parent table into the job graph.
        return {**self.__dict__, "listed_parents": None, "layout": None}


@dataclass(frozen=True)
class KeyGroup:
    """Columns unique together (a composite primary key or a table-level ``unique``).

    Built by construction: each row's joint ordinal is a keyed permutation of
    the product of the columns' value spaces (a foreign key's space is its
    parent's rows, a rule's its enumerable values), split into one ordinal per
    column, so no two rows share the tuple.
    """

    name: str  # "orders.(playlist_id, track_id)"
    columns: tuple[str, ...]
    spaces: tuple[int, ...]

    def position(self, column: str) -> int:
        return self.columns.index(column)


@dataclass
class ColumnPlan:
    name: str
    type: str
    place: str
    rule: Rule | None
    branches: list[Branch] = field(default_factory=list)
    nullable: bool = False
    null_probability: float = 0.0
    constraints: frozenset[str] = frozenset()
    max_length: int | None = None
    min_length: int | None = None
    sensitivity: Sensitivity = "PUBLIC"
    masking: dict[str, Any] | None = None
    foreign_key: ForeignKey | None = None
    key_strategy: KeyStrategy | None = None
    key_group: KeyGroup | None = None  # set with key_strategy "group"

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type(self.type)

    @property
    def is_unique(self) -> bool:
        return bool(self.constraints & {"PK", "unique"})

    @property
    def not_null(self) -> bool:
        return bool(self.constraints & {"PK", "not_null"})


@dataclass
class TablePlan:
    name: str
    rows: int
    place: str
    columns: list[ColumnPlan]
    order: list[str] = field(default_factory=list)  # evaluation order (dependencies first)
    primary_key: list[str] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> ColumnPlan:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.not_null) for c in self.columns])


@dataclass
class Replacements:
    """A dedup pass's result for one column, or for one block of its rows: new values for the rows that collided.

    In Beam each block of ``rules.dedup.BLOCK_ROWS`` rows has its own, and a
    worker fetches the blocks it needs (:class:`ReplacementBlocks`).
    """

    row_index: np.ndarray  # sorted uint64
    values: pa.Array

    def apply(self, index: np.ndarray, values: pa.Array) -> pa.Array:
        if not len(self.row_index):
            return values
        slot = np.searchsorted(self.row_index, index).clip(0, len(self.row_index) - 1)
        hit = self.row_index[slot] == index
        if not hit.any():
            return values
        patch = self.values.take(pa.array(np.where(hit, slot, 0))).cast(values.type)
        return pc.if_else(pa.array(hit), patch, values)

    def count_in(self, index: np.ndarray) -> int:
        """How many of ``index`` have a replacement."""
        if not len(self.row_index):
            return 0
        slot = np.searchsorted(self.row_index, index).clip(0, len(self.row_index) - 1)
        return int((self.row_index[slot] == index).sum())

    def __len__(self) -> int:
        return len(self.row_index)


class ReplacementBlocks:
    """One column's dedup result, fetched block by block (``row // block_rows``) as rows need it.

    ``fetch(block)`` gives the :class:`Replacements` of that block's rows (None or
    empty when it has none). A worker generating a chunk asks for the chunk's
    blocks, a foreign key for the parent rows' blocks; the whole column's
    replacements are never in one place. The last ``keep`` blocks stay cached.
    """

    def __init__(self, fetch: Callable[[int], Replacements | None], block_rows: int, keep: int = 64) -> None:
        self.fetch = fetch
        self.block_rows = block_rows
        self.keep = keep
        self._pieces: dict[int, Replacements | None] = {}

    def _piece(self, block: int) -> Replacements | None:
        if block not in self._pieces:
            if len(self._pieces) >= self.keep:
                self._pieces.pop(next(iter(self._pieces)))
            piece = self.fetch(block)
            self._pieces[block] = piece if piece is not None and len(piece) else None
        return self._pieces[block]

    def covering(self, index: np.ndarray) -> Replacements:
        """The replacements of every block ``index`` touches, as one (sorted) map."""
        blocks = np.unique(np.asarray(index, dtype=np.uint64) // np.uint64(self.block_rows)).tolist()
        pieces = [piece for piece in map(self._piece, blocks) if piece is not None]
        if not pieces:
            return Replacements(np.empty(0, dtype=np.uint64), pa.array([], pa.null()))
        if len(pieces) == 1:
            return pieces[0]
        return Replacements(
            np.concatenate([p.row_index for p in pieces]), pa.concat_arrays([p.values for p in pieces])
        )

    def apply(self, index: np.ndarray, values: pa.Array) -> pa.Array:
        return self.covering(index).apply(index, values)

    def count_in(self, index: np.ndarray) -> int:
        return self.covering(index).count_in(index)


@dataclass
class Plan:
    tables: dict[str, TablePlan]  # in dependency order: parents before children
    settings: Settings
    performance: dict[str, Any] = field(default_factory=dict)
    security: dict[str, Any] = field(default_factory=dict)
    openai: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    source: str = ""
    config_sha256: str = ""
    notes: list[str] = field(default_factory=list)
    # What validate lists as warnings; generate repeats each on stderr and in the report's notes.
    warnings: list[str] = field(default_factory=list)
    default_rows: int = 1000  # rows of a table that sets none (config or --rows)
    scale: float = 1.0  # every table's rows multiplied by it (config or --scale)
    # "table.column" -> dedup result: the whole map in process, fetched by block on Beam workers
    replacements: dict[str, Replacements | ReplacementBlocks] = field(default_factory=dict)
    protection: Any = None  # a rules.security.SecurityPlan when columns are masked, hashed or encrypted

    @property
    def seed(self) -> int:
        return self.settings.seed

    def table(self, name: str) -> TablePlan:
        return self.tables[name]
