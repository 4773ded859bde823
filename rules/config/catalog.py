"""Imports every built-in rule family so their classes register; import this, not the families.

It sits in ``config`` (above ``generators`` and ``llm``) because the config document can name any
of them; rule classes from other packages register through the ``synthbeam.rules`` entry point
group instead (see ``core/registry.py``).
"""

from __future__ import annotations

from synthbeam.rules.generators import basic, choice, expr, numeric, template, temporal  # noqa: F401
from synthbeam.rules.generators.faker import rules as faker_rules  # noqa: F401
from synthbeam.rules.generators.regex import rule as regex_rule  # noqa: F401
from synthbeam.rules.llm import rule as llm_rule  # noqa: F401
