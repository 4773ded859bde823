"""What rule classes declare about their keys, turned into checks and documentation.

Each rule class lists its keys (:class:`~synthbeam.rules.core.registry.Param`); this module holds what
follows from those lists and nothing else:

- :func:`check_keys`: every key of a rule object that the class does not
  declare is a config error naming the place and the closest valid key (a
  misspelt ``probabilites`` once gave uniform choices without a word), and so
  is an unknown key inside a ``{"column": ...}`` reference;
- :func:`rules_markdown`: the parameter tables of docs/rules.md (a test keeps the
  file equal to what the declarations give);
- :func:`schema_description`: the rule list in the JSON Schema.

A class with ``parameters = None`` has not declared its keys; they go unchecked.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from synthbeam.rules.core.params import REFERENCE_KEYS, offset_alias_fix
from synthbeam.rules.core.registry import Param, Rule, RuleContext, iter_rule_classes

_PACKAGE = __name__.split(".")[0]  # "synthbeam": plugins' classes live in other packages
# Keys the compiler itself adds to a rule object (a column's default rule is marked).
INTERNAL_KEYS = frozenset({"_default"})


def _closest(key: str, candidates: Iterable[str], mistaken: Mapping[str, str] | None = None) -> str | None:
    """The valid key ``key`` most likely means: a known mistake, a close spelling, or a shared stem."""
    lowered = key.lower()
    if mistaken and lowered in mistaken:
        return mistaken[lowered]
    candidates = list(candidates)
    found = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if not found:
        # "mn" for "min", "end_date" for "end": difflib's ratio punishes short words
        found = [
            c
            for c in candidates
            if len(lowered) >= 2 and (c.startswith(lowered) or (len(c) >= 3 and lowered.startswith(c)))
        ][:1]
    return found[0] if found else None


def _keys_phrase(keys: Iterable[str]) -> str:
    return ", ".join(keys)


def check_keys(rule_class: type[Rule], spec: Mapping[str, Any], ctx: RuleContext) -> dict[str, Any]:
    """``spec`` checked against the class's declared keys; returns the spec to compile.

    Unknown keys are reported (one error each) and left out of the returned spec;
    a reference with an unknown key is reported and left out too, so the rule
    does not add a misleading "not a valid date" about a value it cannot read.
    """
    declared = rule_class.declared()
    kept = {k: v for k, v in spec.items() if k not in INTERNAL_KEYS}
    if declared is None:
        return kept
    rule_name = str(spec.get("type"))
    valid = [key for param in declared for key in param.keys]
    mistaken = {word: param.name for param in declared for word in param.mistaken_for}
    for key in list(kept):
        if key in valid:
            continue
        del kept[key]
        hint = rule_class.unknown_key_hint(key, spec, ctx.settings.locale)
        closest = _closest(key, valid, mistaken)
        if closest is not None:
            fix = f"did you mean {closest!r}?"
        elif hint is not None:
            fix = hint
        else:
            fix = f"a {rule_name} rule takes {_keys_phrase(valid)}"
        if hint is not None and closest is not None:
            fix = f"{fix} ({hint})"
        ctx.error(f"unknown key {key!r} in the {rule_name} rule: {fix}")
    for param in declared:
        if not param.reference:
            continue
        for key in param.keys:
            value = kept.get(key)
            if not isinstance(value, Mapping) or "column" not in value:
                continue
            unknown = [k for k in value if k not in REFERENCE_KEYS]
            for bad in unknown:
                alias_fix = offset_alias_fix(value, bad)  # "offset_days": 30 -> "offset": "30 days"
                closest = _closest(bad, sorted(REFERENCE_KEYS))
                takes = _keys_phrase(sorted(REFERENCE_KEYS))
                fix = f"did you mean {closest!r}?" if closest else f"a column reference takes {takes}"
                fix = alias_fix if alias_fix is not None else fix
                ctx.error(f"{key}: unknown key {bad!r} in the column reference to {value['column']!r}: {fix}")
            if unknown:
                del kept[key]
    return kept


def _param_row(param: Param) -> str:
    names = " / ".join(f"`{key}`" for key in param.keys)
    kind = param.kind + (" or a column reference" if param.reference else "")
    default = "required" if param.required else (param.default or "")
    return f"| {names} | {kind} | {default} | {param.doc} |"


def _table(params: Iterable[Param]) -> list[str]:
    return ["| key | value | default | meaning |", "|---|---|---|---|", *(_param_row(p) for p in params)]


def documented_classes(*, builtin_only: bool = False) -> list[type[Rule]]:
    """Registered rule classes in a stable order (by first name); synthbeam's own if ``builtin_only``."""
    classes = [
        cls for cls in iter_rule_classes() if not builtin_only or cls.__module__.startswith(f"{_PACKAGE}.")
    ]
    return sorted(classes, key=lambda cls: cls.names[0] if cls.names else cls.__name__)


def rules_markdown() -> str:
    """docs/rules.md: the keys of every registered rule type, from the classes' declarations."""
    from synthbeam.rules.core.registry import COMMON_PARAMS

    lines = [
        "# Rule types and their keys",
        "",
        "Generated from the rule classes' declarations (`parameters` on each class in `rules/`); a test",
        "keeps this file equal to them. A key not listed for a rule type is a `validate` error naming the",
        "closest listed key. Edit the classes, then run",
        "`python -c 'from synthbeam.rules.core.declared import write_docs; write_docs()'`.",
        "",
        "## Every object rule",
        "",
        *_table(COMMON_PARAMS),
        "",
        'A column reference is `{"column": "name"}` (same row) or `{"column": "parent.name"}` (the',
        'parent row through the table\'s foreign key), with an optional `"default"` for null values and an',
        'optional `"offset"` (`"30 days"`, `"-2 hours"` on dates, times and timestamps; a number on numbers).',
        "Any Faker method name is a rule type too: its arguments go in `params`, checked against the",
        "method's signature.",
    ]
    for cls in documented_classes(builtin_only=True):
        declared = cls.parameters
        lines += ["", f"## {' / '.join(f'`{name}`' for name in cls.names)}", ""]
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        if doc:
            lines += [doc, ""]
        if declared is None:
            lines.append("Keys not declared: not checked.")
        elif not declared:
            lines.append("No keys beyond the common ones.")
        else:
            lines += _table(declared)
        if cls.example is not None:
            column_type, spec = cls.example
            lines += ["", f"Example (a `{column_type}` column): `{json.dumps(spec)}`"]
        if not cls.has_value_check:
            lines += ["", "`check` has no conformance test for its values (`check --verbose` says so)."]
    return "\n".join(lines) + "\n"


def write_docs(path: str = "docs/rules.md") -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(rules_markdown())


def schema_description() -> str:
    """The JSON Schema's description of a rule object: every registered type and its keys."""
    parts = []
    for cls in documented_classes():
        keys = [key for param in cls.parameters or () for key in param.keys]
        names = "/".join(cls.names[:3]) + ("/..." if len(cls.names) > 3 else "")
        parts.append(f"{names} ({', '.join(keys)})" if keys else names)
    return (
        "A rule with parameters. 'type' names the rule: "
        + "; ".join(parts)
        + "; or any Faker method (params, pool_size). Every type also takes prefix, suffix and regex. "
        "Keys a type does not take are rejected when rules are compiled."
    )


def _param_schema(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": param.name, "description": param.doc or param.kind}
    kinds = list(param.json_types)
    if kinds and param.reference and "object" not in kinds:
        kinds.append("object")  # {"column": ...}
    if kinds:
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    return schema


def rule_type_schemas() -> list[dict[str, Any]]:
    """Per rule type, the keys its class declares, as JSON Schema ``if``/``then`` pairs.

    For editors (``synthbeam schema``): a rule object whose ``type`` is one of a class's names
    takes the common keys and the keys the class declares, nothing else, with each key's type
    and meaning. A class that declares no keys (``parameters = None``) gets no pair. Names are
    matched as written (synthbeam itself also ignores case, spaces and underscores), and
    ``validate`` remains the authority: its unknown-key errors name the closest key.
    """
    from synthbeam.rules.core.registry import COMMON_PARAMS

    pairs = []
    for cls in documented_classes():
        if cls.parameters is None or not cls.names:
            continue
        properties = {
            key: _param_schema(param) for param in (*COMMON_PARAMS, *cls.parameters) for key in param.keys
        }
        pairs.append(
            {
                "if": {"properties": {"type": {"enum": list(cls.names)}}, "required": ["type"]},
                "then": {"properties": properties, "additionalProperties": False},
            }
        )
    return pairs
