"""Keys and foreign keys by computation: nothing of a parent table is ever collected.

- ``keys``: keyed permutations (unique by construction), key groups, a column's root stream.
- ``parent_lookup``: the parent row holding a given key value, without a scan that grows.
- ``foreign_keys``: a child row's parent row index (distributions, self-references, children
  layouts), then the parent's value, computed through the engine's ``generate_columns``, which
  the engine hands down (relations never import the engine above them).
"""
