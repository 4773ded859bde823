"""The rule registry: one class per contract rule type, and rules/ stays Beam-free."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from synthbeam.rules.config import catalog  # noqa: F401
from synthbeam.rules.core.registry import Rule, lookup_rule, normalise_name, register_rule, registered_names

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _documented_rule_types() -> list[str]:
    """The object rule types docs/config.md promises (its table's first column), not a list kept here."""
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    section = text[text.index("### Object rules") :]
    table = section[section.index("| type |") :].split("\n\n", 1)[0]
    names: list[str] = []
    for line in table.splitlines()[2:]:
        first = line.split("|")[1]
        names += re.findall(r"`([a-z_]+)`", first)
    return names


CONTRACT_RULE_TYPES = _documented_rule_types()
CONTRACT_SHORTCUTS = [
    "bool",
    "uuid",
    "cc",
    "cc_cvv",
    "cc_expiry_date",
    "phone",
    "phonenumber",
    "firstname",
    "lastname",
    "timestamp",
]


@pytest.mark.parametrize("name", CONTRACT_RULE_TYPES + CONTRACT_SHORTCUTS)
def test_every_contract_rule_has_one_implementation(name: str) -> None:
    rule_class = lookup_rule(name)
    assert rule_class is not None and issubclass(rule_class, Rule), name
    # Every registered spelling of the name (case, spaces, underscores aside) is that one class.
    wanted = normalise_name(name)
    owners = {cls for registered, cls in registered_names().items() if normalise_name(registered) == wanted}
    assert owners <= {rule_class}


def test_the_documented_types_are_read() -> None:
    assert {"choice", "choice_from_file", "range", "date_range", "regex", "openai_generated"} <= set(
        CONTRACT_RULE_TYPES
    )


def test_every_registered_class_is_in_docs_rules_md() -> None:
    from synthbeam.rules.core.declared import documented_classes

    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    for cls in documented_classes(builtin_only=True):
        assert f"`{cls.names[0]}`" in text, cls


def test_registering_a_name_twice_fails() -> None:
    with pytest.raises(RuntimeError, match="registered twice"):

        @register_rule("range")
        class Another(Rule):
            pass


def test_rules_never_import_beam() -> None:
    code = (
        "import sys, pkgutil, importlib, synthbeam.rules as r\n"
        "for m in pkgutil.iter_modules(r.__path__):\n"
        "    importlib.import_module('synthbeam.rules.' + m.name)\n"
        "print('apache_beam' in sys.modules)\n"
    )
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
