"""Imports every rule family so their classes register; import this, not the families."""

from __future__ import annotations

from . import basic, choice, expr, faker_rules, llm, numeric, regex_rule, template, temporal  # noqa: F401
