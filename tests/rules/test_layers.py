"""The rules package's layers, as docs/architecture.md draws them: imports point down, never in a loop.

``synthbeam.rules.LAYERS`` lists the subpackages from the bottom (``core``, which imports nothing
above it) to the top (``compiler``, the only layer that sees all). A module may import its own
layer and the layers below it; any import of a layer above, of ``transforms``/``pipeline``, or of
Beam, fails here, and so does any import cycle between modules (function-level imports count: a
cycle hidden in a function is still a cycle). Imports under ``if TYPE_CHECKING:`` count for the
direction but not for cycles: they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import synthbeam.rules
from synthbeam.rules import LAYERS

RULES = Path(synthbeam.rules.__file__).resolve().parent
PREFIX = "synthbeam.rules"


def module_name(path: Path, root: Path = RULES) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PREFIX, *parts])


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return guarded


def imports_of(source: str, name: str, is_package: bool) -> list[tuple[str, bool]]:
    """(imported module, runs at runtime) for every import in a module's source."""
    tree = ast.parse(source)
    guarded = _type_checking_nodes(tree)
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        found += [(target, id(node) not in guarded) for target in targets]
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and module.startswith(PREFIX + ".") else None


def problems(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Every upward import, foreign import and cycle among ``sources`` (module name -> (code, is package))."""
    found: list[str] = []
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, (source, is_package) in sources.items():
        own = layer_of(name)
        for target, runtime in imports_of(source, name, is_package):
            top = target.split(".")[0]
            if top == "apache_beam" or target.startswith(("synthbeam.transforms", "synthbeam.pipeline")):
                found.append(f"{name} imports {target}: rules/ is below Beam and the pipeline")
                continue
            if target not in sources:
                continue
            theirs = layer_of(target)
            if own and theirs and LAYERS.index(theirs) > LAYERS.index(own):
                found.append(f"{name} ({own}) imports {target} ({theirs}), a layer above it")
            if runtime and target != name and not sources[target][1]:
                graph[name].add(target)
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def rules_sources() -> dict[str, tuple[str, bool]]:
    return {module_name(p): (p.read_text(encoding="utf-8"), p.name == "__init__.py") for p in RULES.rglob("*.py")}


def test_every_subpackage_is_a_layer() -> None:
    folders = {p.parent.relative_to(RULES).parts[0] for p in RULES.rglob("*.py") if p.parent != RULES}
    assert folders == set(LAYERS)
    assert not [p.name for p in RULES.glob("*.py") if p.name != "__init__.py"], "every module lives in a layer"


def test_imports_point_down_and_never_loop() -> None:
    sources = rules_sources()
    assert len(sources) > 50
    assert problems(sources) == []


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (
            {"synthbeam.rules.core.a": ("from synthbeam.rules.engine.b import x", False),
             "synthbeam.rules.engine.b": ("x = 1", False)},
            "synthbeam.rules.core.a (core) imports synthbeam.rules.engine.b (engine), a layer above it",
        ),
        (
            {"synthbeam.rules.core.a": ("def f():\n    from .b import y\n", False),
             "synthbeam.rules.core.b": ("from synthbeam.rules.core import a", False)},
            "import cycle: synthbeam.rules.core.a -> synthbeam.rules.core.b -> synthbeam.rules.core.a",
        ),
        (
            {"synthbeam.rules.core.a": ("import apache_beam as beam", False)},
            "synthbeam.rules.core.a imports apache_beam: rules/ is below Beam and the pipeline",
        ),
    ],
)
def test_the_checker_sees_each_kind_of_problem(modules: dict[str, tuple[str, bool]], expected: str) -> None:
    assert expected in problems(modules)


def test_a_type_checking_import_is_no_cycle() -> None:
    modules = {
        "synthbeam.rules.core.a": ("from synthbeam.rules.core.b import y", False),
        "synthbeam.rules.core.b": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                   "    from synthbeam.rules.core.a import z\n", False),
    }
    assert problems(modules) == []


def test_rules_never_import_beam() -> None:
    """Import every module of every subpackage in a fresh process: Beam never loads."""
    code = (
        "import sys, pkgutil, importlib, synthbeam.rules as r\n"
        "names = [m.name for m in pkgutil.walk_packages(r.__path__, 'synthbeam.rules.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), any(n.split('.')[0] == 'apache_beam' for n in sys.modules))\n"
    )
    count, beam = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    assert int(count) > 50
    assert beam == "False"
