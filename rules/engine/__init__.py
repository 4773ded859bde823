"""Generation: any rows of any table, as Arrow, from the plan and row indices alone.

- ``batch``: ``generate_batch(plan, table, start, stop)`` and ``generate_columns`` (any rows,
  any columns): the one entry point the Beam layer calls.
- ``conditions``: ``conditional_rules`` conditions evaluated over a block of rows.
- ``dedup``: the dedup algorithm for unique columns whose values cannot be enumerated.
"""
