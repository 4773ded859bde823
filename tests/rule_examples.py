"""Configs of every registered rule, made from the classes' own ``example`` (one shared module, no list to keep).

A new rule class (built in, or a plugin installed in the venv) shows up here, and so in every test
that uses these columns, without editing a test.
"""

from __future__ import annotations

from typing import Any

from synthbeam.rules.config import catalog  # noqa: F401  (registers every rule family)
from synthbeam.rules.core.registry import Rule, iter_rule_classes
from tests.conftest import TEMPLATES

# Rules whose example needs an endpoint: the rule contract test runs them against a loopback stub.
NEEDS_SERVICES = frozenset({"OpenAIGenerated"})


def example_rule(rule_class: type[Rule]) -> tuple[str, dict[str, Any]]:
    """(column type, rule object) of the class's example, with file keys pointing into templates/."""
    assert rule_class.example is not None, f"{rule_class.__qualname__} has no example"
    column_type, spec = rule_class.example
    rule = dict(spec)
    for param in rule_class.parameters or ():
        for key in param.keys:
            if param.file and key in rule:
                rule[key] = str(TEMPLATES / rule[key])
    return column_type, rule


# The column examples of rules that read their row (template, expr) refer to, by that name.
EXAMPLE_ROW_COLUMN = {"name": "id", "type": "int", "rule": {"type": "range", "min": 1, "max": 1000}}


def example_columns() -> list[dict[str, Any]]:
    """``id`` (what row-reading examples read), then one column per registered rule class (``example_<class>``),
    services-free ones only."""
    columns = [dict(EXAMPLE_ROW_COLUMN)]
    for rule_class in iter_rule_classes():
        if rule_class.__name__ in NEEDS_SERVICES or rule_class.example is None:
            continue
        column_type, rule = example_rule(rule_class)
        columns.append({"name": f"example_{rule_class.__name__.lower()}", "type": column_type, "rule": rule})
    return columns
