"""Imports every rule family so their classes register; import this, not the families."""

from __future__ import annotations

from . import basic, choice, llm, numeric, regex_rule, temporal  # noqa: F401

try:  # the Faker family is large; a failure to import it must be loud, not half-registered
    from . import faker_rules  # noqa: F401
except ImportError as exc:  # pragma: no cover - only while the family is absent
    if "faker_rules" not in str(exc):
        raise
