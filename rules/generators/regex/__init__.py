"""Regular expressions as value generators.

- ``sampler``: strings that fully match a pattern, random per row or enumerated (for unique keys).
- ``rule``: the ``regex`` rule class.
"""
