"""Masking and encryption: decided once at plan time, applied to every chunk.

- ``protection``: the security plan as data (per-column protection, keys in ``Secret``
  wrappers) and what the run records of it (report section, audit lines).
- ``policy``: the plan-time decision from sensitivity, masking and the ``security`` block.
- ``inheritance``: protection that follows values through foreign keys and references.
- ``apply``: per batch: mask then encrypt; the schema the files are written with.
- ``masking``: the masking strategies.  ``crypto``: keys and per-cell encryption.
"""
