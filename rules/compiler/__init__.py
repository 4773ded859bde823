"""Config -> Plan: the only layer that sees all the others.

- ``compile``: rules compiled per column, corrections, keys and key groups, generation order,
  row counts, sample-based checks; refuses the impossible before a row is written.
- ``condition_checks``: static checks of conditions against the columns they read.
- ``length_checks``: length limits that would break formatted values.
- ``nullable``: which columns can be null, and references that read one without a default.
"""
