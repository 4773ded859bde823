"""The rule families: one module per family, each rule one registered class.

- ``basic``: fixed values, booleans, UUIDs.  ``choice``: choices and ``choice_from_file``.
- ``numeric``: ``range``.  ``temporal``: date, time and timestamp ranges.
- ``compose``: what every rule can add (``prefix``, ``suffix``, a final ``regex`` check).
- ``expr``: SQL expressions over the row (DuckDB).  ``template``: text built from columns.
- ``text/``: column-wise string kernels shared by the Faker and regex families.
- ``regex/``: strings that match a pattern (``sampler``) and the ``regex`` rule (``rule``).
- ``faker/``: every Faker method as a rule (``rules``), compiled column-wise from Faker's own
  code and data (``compile``, ``recipes``, ``lorem``), Faker itself for the rest (``pool``),
  unique Faker columns by construction (``unique``).
"""
