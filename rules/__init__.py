"""WHAT and HOW of values: pure Python + numpy + pyarrow; never imports Beam.

The subpackages are layers, listed in :data:`LAYERS` from the bottom up; a module imports its own
layer and the ones below it, never one above (``tests/rules/test_layers.py`` enforces it):

- ``core``: errors, storage types, seeding (streams), the Rule base + registry + declared
  parameters, the plan model, value casts, the compile cache. Imports nothing above it.
- ``relations``: keys by construction (keyed permutations, key groups), foreign keys
  (parent row indices, distributions, children layouts), finding a parent row by value.
- ``generators``: one module per rule family (basic, choice, numeric, temporal, compose, expr,
  template), ``text/`` (column-wise string kernels), ``regex/``, ``faker/``.
- ``llm``: the ``openai_generated`` rule, its cache and its client.
- ``security``: the plan-time policy, masking, encryption, protection that follows references.
- ``config``: the config document: loader, environments, the legacy format, the JSON Schema and
  its validator, the catalogue of built-in rule families.
- ``engine``: ``generate_batch(plan, table, start, stop)`` -> ``pyarrow.RecordBatch``; conditions;
  the dedup algorithm.
- ``compiler``: config -> Plan: rules, corrections, keys, order, samples (the only layer that
  sees all the others).
"""

LAYERS = ("core", "relations", "generators", "llm", "security", "config", "engine", "compiler")
