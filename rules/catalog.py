"""Imports every rule family so their classes register; import this, not the families."""

from __future__ import annotations

from . import basic, choice, faker_rules, llm, numeric, regex_rule, temporal  # noqa: F401
