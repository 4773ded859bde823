"""The rule registry: one class per contract rule type, and rules/ stays Beam-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from synthbeam.rules import catalog  # noqa: F401
from synthbeam.rules.registry import Rule, lookup_rule, normalise_name, register_rule, registered_names

CONTRACT_RULE_TYPES = [
    "choice",
    "choice_from_file",
    "range",
    "date",
    "date_range",
    "time",
    "time_range",
    "timestamp",
    "timestamp_range",
    "fixed",
    "default",
    "email",
    "phone_number",
    "uuid",
    "regex",
    "openai_generated",
]
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
