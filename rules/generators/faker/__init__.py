"""Faker methods as rules, computed column-wise from Faker's own data where possible.

- ``rules``: the rule classes (one per Faker method name, plus the fallback).
- ``compile``: evaluates a provider method's source symbolically into vectorised nodes.
- ``symbolic``: the values that evaluation computes with (distributions, draws, static data).
- ``recipes``, ``lorem``: hand-written column-wise recipes for methods the compiler cannot follow.
- ``pool``: calling Faker itself: per-locale instances, seeded pools, per-row values.
- ``unique``: unique Faker columns by construction (ordinal -> value over a choice of formats).
"""
