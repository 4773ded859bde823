"""Compile Faker provider methods into vectorised nodes, from Faker's own code and data.

Most Faker methods are a line or two over provider data::

    def name(self):
        pattern = self.random_element(self.formats)
        return self.generator.parse(pattern)

:class:`MethodCompiler` reads such a method's source (Faker is pinned, so the
source is fixed) and evaluates it symbolically: provider attributes are
constants, ``random_element`` over them is a finite distribution (:class:`Dist`,
honouring ``OrderedDict`` weights as Faker does), ``parse`` of a format becomes
a join of its tokens, ``numerify``/``bothify`` become patterns, ``randint``
becomes a range of integers. Whatever the evaluator does not understand raises
:class:`NotVectorisable`; nothing is guessed.

Correlation is kept exact: a variable bound to a distribution is one draw, so
an expression or an ``if`` that uses it is evaluated once per possible value
and the results are mixed with that value's probability (``area_code[0]`` and
``area_code[1:]`` stay the same area code). Separate calls are separate draws.

Methods whose code the evaluator cannot follow (loops, checksums) get a
hand-written recipe registered with :func:`recipe` under the method's
qualified name (``faker.providers.bank.Provider.iban``), so a locale that
overrides a method with different code never silently reuses another's recipe.
``BaseProvider``'s helpers (``random_element``, ``numerify`` ...) are recipes too.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import itertools
import string
import textwrap
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from synthbeam.rules.generators.faker.pool import PoolToken
from synthbeam.rules.generators.faker.symbolic import (
    TOKEN,
    Dist,
    IntDraw,
    Seq,
    Static,
    Value,
    apply_decorator,
    as_node,
    elements_dist,
    formatted,
    freeze,
    is_value,
    map_values,
    mixture,
    printf,
)
from synthbeam.rules.generators.text.vector import (
    NUMERIFY,
    Const,
    Node,
    NotVectorisable,
    Pick,
    hexify_table,
    join,
    lexify_table,
    mix,
)

_ENUMERATION_LIMIT = 20_000


RECIPES: dict[str, Callable[..., Any]] = {}


def recipe(*qualified_names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(compiler, provider, args)`` as the way to compile these Faker functions."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in qualified_names:
            if name in RECIPES and RECIPES[name] is not fn:
                raise RuntimeError(f"two recipes for {name}")
            RECIPES[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class _Self:
    provider: Any


@dataclass(frozen=True)
class _Generator:
    generator: Any


@dataclass(frozen=True)
class _Random:
    pass


@dataclass(frozen=True)
class _Bound:
    """A method looked up but not yet called: on the provider, generator, RNG or a value."""

    owner: Any
    name: str


def unwrap(function: Callable[..., Any]) -> tuple[Callable[..., Any], list[str]]:
    """The undecorated function and its Faker text decorators, outermost first."""
    decorators: list[str] = []
    while hasattr(function, "__wrapped__"):
        qualname = getattr(getattr(function, "__code__", None), "co_qualname", "")
        kind = qualname.split(".<locals>")[0]
        if kind not in ("lowercase", "slugify", "slugify_unicode"):
            raise NotVectorisable(f"unknown decorator {qualname}")
        decorators.append(kind)
        function = function.__wrapped__  # type: ignore[attr-defined]
    return function, decorators


def qualified_name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


@functools.lru_cache(maxsize=1024)
def _function_tree(function: Callable[..., Any]) -> ast.FunctionDef:
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as exc:
        raise NotVectorisable(f"no source for {function.__qualname__}") from exc
    tree = ast.parse(source).body[0]
    if not isinstance(tree, ast.FunctionDef):
        raise NotVectorisable(f"{function.__qualname__} is not a plain function")
    return tree


class MethodCompiler:
    """Compiles the methods of one locale's Faker generator into nodes (memoised)."""

    def __init__(self, generator: Any, locale: str) -> None:
        self.generator = generator
        self.locale = locale
        self._memo: dict[tuple[Any, ...], Value] = {}
        self._active: set[tuple[Any, ...]] = set()
        # Compiles are memoised and detect recursion; one thread at a time keeps both honest.
        self._lock = threading.RLock()

    # -- entry points -------------------------------------------------------------------------
    def value(self, name: str, kwargs: Mapping[str, Any] | None = None) -> Value:
        """The compiled value of generator method ``name`` called with constant ``kwargs``."""
        bound = getattr(self.generator, name, None)
        if bound is None or not inspect.ismethod(bound):
            raise NotVectorisable(f"Faker has no method {name!r} in {self.locale}")
        statics = {k: Static(v) for k, v in (kwargs or {}).items()}
        with self._lock:
            return self.call(bound, (), statics)

    def node(self, name: str, kwargs: Mapping[str, Any] | None = None) -> Node:
        return as_node(self.value(name, kwargs))

    def token(self, name: str) -> Node:
        """A ``{{token}}`` of a format: compiled, or from a pool when it has no recipe."""
        try:
            return self.node(name)
        except NotVectorisable:
            if not inspect.ismethod(getattr(self.generator, name, None)):
                raise
            return PoolToken(self.locale, name)

    def parse(self, template: str) -> Node:
        """Faker's ``generator.parse``: ``{{method}}`` tokens between literal text."""
        parts: list[Node] = []
        position = 0
        for match in TOKEN.finditer(template):
            if match.group(2):
                raise NotVectorisable("format tokens with argument groups")
            parts.append(Const(template[position : match.start()]))
            parts.append(self.token(match.group(1)))
            position = match.end()
        parts.append(Const(template[position:]))
        return join(*parts)

    # -- calls --------------------------------------------------------------------------------
    def call(self, bound: Any, args: tuple[Value, ...], kwargs: Mapping[str, Value]) -> Value:
        provider = bound.__self__
        function, decorators = unwrap(bound.__func__)
        try:
            signature = inspect.signature(function)
            binding = signature.bind(provider, *args, **kwargs)
        except TypeError as exc:
            raise NotVectorisable(f"{function.__qualname__}: {exc}") from exc
        binding.apply_defaults()
        params = {
            name: value if is_value(value) else Static(value) for name, value in list(binding.arguments.items())[1:]
        }
        key = None
        if all(isinstance(v, Static) for v in params.values()):
            try:
                key = (id(provider), qualified_name(function), tuple((k, freeze(v.value)) for k, v in params.items()))
                hash(key)
            except TypeError:
                key = None
        if key is not None and key in self._memo:
            result = self._memo[key]
        else:
            if key is not None:
                if key in self._active:
                    raise NotVectorisable(f"{function.__qualname__} calls itself")
                self._active.add(key)
            try:
                result = self._evaluate(provider, function, params)
            finally:
                if key is not None:
                    self._active.discard(key)
            if key is not None:
                self._memo[key] = result
        for kind in reversed(decorators):
            result = apply_decorator(kind, result)
        return result

    def _evaluate(self, provider: Any, function: Callable[..., Any], params: dict[str, Value]) -> Value:
        handler = RECIPES.get(qualified_name(function))
        if handler is not None:
            return handler(self, provider, params)
        tree = _function_tree(function)
        frame = _Frame(self, provider, tree)
        outcomes = frame.run(tree.body, dict(params), 1.0)
        return mixture(outcomes)


_SAFE_METHODS = {
    str: {
        "upper",
        "lower",
        "title",
        "capitalize",
        "strip",
        "lstrip",
        "rstrip",
        "replace",
        "split",
        "join",
        "startswith",
        "endswith",
        "zfill",
        "ljust",
        "rjust",
        "format",
        "isdigit",
    },
    dict: {"keys", "values", "items", "get", "copy"},
    OrderedDict: {"keys", "values", "items", "get", "copy"},
    tuple: {"index", "count"},
    list: {"index", "count", "copy"},
}


_CHAR_LOCAL = {"upper": str.upper, "lower": str.lower}


_SAFE_BUILTINS = {
    "len",
    "str",
    "int",
    "tuple",
    "list",
    "min",
    "max",
    "abs",
    "sorted",
    "range",
    "bool",
    "hasattr",
}


_BIN_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}


class _Frame:
    """Symbolic execution of one method body."""

    def __init__(self, compiler: MethodCompiler, provider: Any, tree: ast.FunctionDef) -> None:
        self.compiler = compiler
        self.provider = provider
        module = inspect.getmodule(type(provider))
        self.module_globals = vars(module) if module is not None else {}
        self.loads: dict[str, int] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self.loads[node.id] = self.loads.get(node.id, 0) + 1

    # -- statements ---------------------------------------------------------------------------
    def run(self, body: list[ast.stmt], env: dict[str, Value], weight: float) -> list[tuple[float, Value]]:
        for position, statement in enumerate(body):
            rest = body[position + 1 :]
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue  # docstring
            if isinstance(statement, ast.Pass):
                continue
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or statement.value is None:
                    raise NotVectorisable("assignment form")
                self.bind(env, targets[0].id, self.ev(statement.value, env))
                continue
            if isinstance(statement, ast.AugAssign):
                if not isinstance(statement.target, ast.Name) or statement.target.id not in env:
                    raise NotVectorisable("augmented assignment form")
                combined = ast.BinOp(
                    left=ast.Name(statement.target.id, ast.Load()), op=statement.op, right=statement.value
                )
                self.bind(env, statement.target.id, self.ev(combined, env))
                continue
            if isinstance(statement, ast.If):
                return self.branch(statement, rest, env, weight)
            if isinstance(statement, ast.Return):
                value = Static(None) if statement.value is None else self.ev(statement.value, env)
                return [(weight, value)]
            if isinstance(statement, ast.Raise):
                raise NotVectorisable("the method raises for these arguments")
            raise NotVectorisable(f"{type(statement).__name__} statement")
        return [(weight, Static(None))]

    def bind(self, env: dict[str, Value], name: str, value: Value) -> None:
        if isinstance(value, (Node, IntDraw)) and self.loads.get(name, 0) > 1:
            raise NotVectorisable(f"random value {name!r} is used more than once")
        env[name] = value

    def branch(
        self, statement: ast.If, rest: list[ast.stmt], env: dict[str, Value], weight: float
    ) -> list[tuple[float, Value]]:
        drawn = [name for name in _names(statement.test) if isinstance(env.get(name), Dist)]
        if not drawn:
            test = self.ev(statement.test, env)
            if not isinstance(test, Static):
                raise NotVectorisable("condition on a random value")
            chosen = statement.body if test.value else statement.orelse
            return self.run(chosen + rest, env, weight)
        if len(drawn) > 1:
            raise NotVectorisable("condition on several random values")
        name = drawn[0]
        dist: Dist = env[name]
        sides: dict[bool, list[tuple[Any, float]]] = {True: [], False: []}
        for value, share in zip(dist.values, dist.weights):
            test = self.ev(statement.test, {**env, name: Static(value)})
            if not isinstance(test, Static):
                raise NotVectorisable("condition on a random value")
            sides[bool(test.value)].append((value, share))
        outcomes: list[tuple[float, Value]] = []
        for truth, members in sides.items():
            if not members:
                continue
            share = sum(s for _, s in members)
            restricted = Dist.of([v for v, _ in members], [s for _, s in members])
            sub_env = {**env, name: restricted if len(members) > 1 else Static(members[0][0])}
            chosen = statement.body if truth else statement.orelse
            outcomes.extend(self.run(chosen + rest, sub_env, weight * share))
        return outcomes

    # -- expressions --------------------------------------------------------------------------
    def ev(self, expr: ast.expr, env: dict[str, Value]) -> Value:
        """Evaluate ``expr``; names bound to one draw are enumerated so their uses agree."""
        drawn = [name for name in _names(expr) if isinstance(env.get(name), Dist)]
        if not drawn or isinstance(expr, ast.Name):
            return self._ev(expr, env)
        dists = [env[name] for name in drawn]
        combos = 1
        for dist in dists:
            combos *= len(dist.values)
        if combos > _ENUMERATION_LIMIT:
            raise NotVectorisable("too many combinations of random values")
        outcomes = []
        for choice in itertools.product(*(range(len(d.values)) for d in dists)):
            share = 1.0
            sub_env = dict(env)
            for name, dist, position in zip(drawn, dists, choice):
                share *= dist.weights[position]
                sub_env[name] = Static(dist.values[position])
            outcomes.append((share, self._ev(expr, sub_env)))
        return mixture(outcomes)

    def _ev(self, expr: ast.expr, env: dict[str, Value]) -> Value:
        method = getattr(self, f"_ev_{type(expr).__name__}", None)
        if method is None:
            raise NotVectorisable(f"{type(expr).__name__} expression")
        return method(expr, env)

    def _ev_Constant(self, expr: ast.Constant, env: dict[str, Value]) -> Value:
        return Static(expr.value)

    def _ev_Name(self, expr: ast.Name, env: dict[str, Value]) -> Value:
        if expr.id == "self":
            return _Self(self.provider)
        if expr.id in env:
            return env[expr.id]
        if expr.id in _SAFE_BUILTINS:
            return _Bound(builtins, expr.id)
        if expr.id == "add_ordereddicts":
            return _Bound("datasets", expr.id)
        if expr.id in ("string", "ascii_uppercase", "ascii_lowercase", "ascii_letters", "digits"):
            found = self.module_globals.get(expr.id)
            if found is string or isinstance(found, str):
                return Static(found)
        raise NotVectorisable(f"name {expr.id!r}")

    def _ev_Attribute(self, expr: ast.Attribute, env: dict[str, Value]) -> Value:
        owner = self.ev(expr.value, env)
        name = expr.attr
        if isinstance(owner, _Self):
            if name == "generator":
                return _Generator(self.provider.generator)
            if name.startswith("__"):
                raise NotVectorisable(f"private attribute {name}")
            attribute = getattr(owner.provider, name)
            if inspect.ismethod(attribute):
                return _Bound(owner.provider, name)
            if callable(attribute):
                raise NotVectorisable(f"callable attribute {name}")
            return Static(attribute)
        if isinstance(owner, _Generator):
            if name == "random":
                return _Random()
            return _Bound(owner.generator, name)
        if isinstance(owner, _Random):
            return _Bound(owner, name)
        if isinstance(owner, Static):
            if owner.value is string and isinstance(getattr(string, name, None), str):
                return Static(getattr(string, name))
            if _safe_method(owner.value, name):
                return _Bound(owner, name)
            attribute = getattr(owner.value, name)
            if callable(attribute):
                raise NotVectorisable(f"method {name} of {type(owner.value).__name__}")
            return Static(attribute)
        if isinstance(owner, Dist):
            if all(_safe_method(v, name) for v in owner.values):
                return _Bound(owner, name)
            return owner.map(lambda v: _data_attribute(v, name))
        if isinstance(owner, (Node, IntDraw)):
            return _Bound(owner, name)
        raise NotVectorisable(f"attribute {name}")

    def _ev_Call(self, expr: ast.Call, env: dict[str, Value]) -> Value:
        if any(isinstance(a, ast.Starred) for a in expr.args) or any(k.arg is None for k in expr.keywords):
            raise NotVectorisable("star arguments")
        function = self._ev(expr.func, env)
        args = tuple(self.ev(a, env) for a in expr.args)
        kwargs = {k.arg: self.ev(k.value, env) for k in expr.keywords}
        if not isinstance(function, _Bound):
            raise NotVectorisable("call of a computed function")
        owner, name = function.owner, function.name
        if owner is builtins and name == "hasattr":
            # Providers test for optional data (``formats_female``): known when compiling.
            if len(args) != 2 or not isinstance(args[0], _Self) or not isinstance(args[1], Static):
                raise NotVectorisable("hasattr form")
            return Static(hasattr(self.provider, args[1].value))
        if isinstance(owner, _Random):
            return _rng_call(name, args, kwargs)
        if owner is builtins or owner == "datasets":
            return _pure_call(name, args, kwargs)
        if isinstance(owner, (Static, Dist, Node, IntDraw)):
            return _value_method(owner, name, args, kwargs)
        if owner is self.compiler.generator or owner is self.provider.generator:
            if name == "parse":
                return self._parse(args, kwargs)
            if name == "format":
                if not args or not isinstance(args[0], Static):
                    raise NotVectorisable("format of a computed name")
                return self.compiler.call(getattr(owner, args[0].value), args[1:], kwargs)
        bound = getattr(owner, name, None)
        if not inspect.ismethod(bound):
            raise NotVectorisable(f"call of {name}")
        return self.compiler.call(bound, args, kwargs)

    def _parse(self, args: tuple[Value, ...], kwargs: Mapping[str, Value]) -> Value:
        if len(args) != 1 or kwargs:
            raise NotVectorisable("parse arguments")
        template = args[0]
        if isinstance(template, Static) and isinstance(template.value, str):
            return self.compiler.parse(template.value)
        if isinstance(template, Dist):
            return mix([self.compiler.parse(str(t)) for t in template.values], template.weights)
        raise NotVectorisable("parse of a random template")

    def _ev_Subscript(self, expr: ast.Subscript, env: dict[str, Value]) -> Value:
        target = self.ev(expr.value, env)
        key = self.ev(expr.slice, env)
        if not isinstance(key, Static):
            raise NotVectorisable("random subscript")
        if isinstance(target, (Static, Dist)):
            return map_values(target, lambda v: v[key.value])
        raise NotVectorisable("subscript of a random value")

    def _ev_Slice(self, expr: ast.Slice, env: dict[str, Value]) -> Value:
        bounds = [None if e is None else self.ev(e, env) for e in (expr.lower, expr.upper, expr.step)]
        if any(b is not None and not isinstance(b, Static) for b in bounds):
            raise NotVectorisable("random slice")
        return Static(slice(*(None if b is None else b.value for b in bounds)))

    def _ev_BinOp(self, expr: ast.BinOp, env: dict[str, Value]) -> Value:
        left = self.ev(expr.left, env)
        right = self.ev(expr.right, env)
        operation = _BIN_OPS.get(type(expr.op))
        if operation is None:
            raise NotVectorisable(f"operator {type(expr.op).__name__}")
        if isinstance(expr.op, ast.Mod) and isinstance(left, Static) and isinstance(left.value, str):
            if isinstance(right, Static):
                return Static(left.value % right.value)
            return printf(left.value, right.items if isinstance(right, Seq) else (right,))
        if isinstance(left, Static) and isinstance(right, Static):
            return Static(operation(left.value, right.value))
        if isinstance(left, Static) and isinstance(right, Dist):
            return right.map(lambda v: operation(left.value, v))
        if isinstance(left, Dist) and isinstance(right, Static):
            return left.map(lambda v: operation(v, right.value))
        if isinstance(expr.op, ast.Add) and _textual(left) and _textual(right):
            return join(as_node(left), as_node(right))
        raise NotVectorisable("arithmetic on random values")

    def _ev_JoinedStr(self, expr: ast.JoinedStr, env: dict[str, Value]) -> Value:
        parts: list[Node] = []
        for piece in expr.values:
            if isinstance(piece, ast.Constant):
                parts.append(Const(str(piece.value)))
                continue
            assert isinstance(piece, ast.FormattedValue)
            value = self.ev(piece.value, env)
            spec = ""
            if piece.format_spec is not None:
                spec_value = self.ev(piece.format_spec, env)
                if not isinstance(spec_value, Static):
                    raise NotVectorisable("random format spec")
                spec = str(spec_value.value)
            if piece.conversion not in (-1, ord("s")):
                raise NotVectorisable("conversion in f-string")
            parts.append(formatted(value, spec))
        node = join(*parts)
        return Static(node.text) if isinstance(node, Const) else node

    def _ev_Tuple(self, expr: ast.Tuple, env: dict[str, Value]) -> Value:
        items = tuple(self.ev(e, env) for e in expr.elts)
        if all(isinstance(i, Static) for i in items):
            return Static(tuple(i.value for i in items))
        return Seq(items)

    def _ev_List(self, expr: ast.List, env: dict[str, Value]) -> Value:
        items = [self.ev(e, env) for e in expr.elts]
        if not all(isinstance(i, Static) for i in items):
            raise NotVectorisable("list of random values")
        return Static([i.value for i in items])

    def _ev_Compare(self, expr: ast.Compare, env: dict[str, Value]) -> Value:
        left = self.ev(expr.left, env)
        for op, comparator in zip(expr.ops, expr.comparators):
            right = self.ev(comparator, env)
            if not isinstance(left, Static) or not isinstance(right, Static):
                raise NotVectorisable("comparison of random values")
            if not _COMPARE[type(op)](left.value, right.value):
                return Static(False)
            left = right
        return Static(True)

    def _ev_BoolOp(self, expr: ast.BoolOp, env: dict[str, Value]) -> Value:
        result: Value = Static(None)
        for operand in expr.values:
            result = self.ev(operand, env)
            if not isinstance(result, Static):
                raise NotVectorisable("boolean of random values")
            if isinstance(expr.op, ast.And) and not result.value:
                return result
            if isinstance(expr.op, ast.Or) and result.value:
                return result
        return result

    def _ev_UnaryOp(self, expr: ast.UnaryOp, env: dict[str, Value]) -> Value:
        operand = self.ev(expr.operand, env)
        if not isinstance(operand, Static):
            raise NotVectorisable("unary operator on a random value")
        if isinstance(expr.op, ast.Not):
            return Static(not operand.value)
        if isinstance(expr.op, ast.USub):
            return Static(-operand.value)
        raise NotVectorisable("unary operator")

    def _ev_IfExp(self, expr: ast.IfExp, env: dict[str, Value]) -> Value:
        test = self.ev(expr.test, env)
        if not isinstance(test, Static):
            raise NotVectorisable("conditional on a random value")
        return self.ev(expr.body if test.value else expr.orelse, env)


def _names(expr: ast.AST) -> list[str]:
    return list(dict.fromkeys(n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)))


def _textual(value: Value) -> bool:
    if isinstance(value, Node):
        return True
    if isinstance(value, Static):
        return isinstance(value.value, str)
    if isinstance(value, Dist):
        return all(isinstance(v, str) for v in value.values)
    return False


def _safe_method(value: Any, name: str) -> bool:
    return name in _SAFE_METHODS.get(type(value), set())


def _data_attribute(value: Any, name: str) -> Any:
    attribute = getattr(value, name)
    if callable(attribute):
        raise NotVectorisable(f"method {name}")
    return attribute


def _rng_call(name: str, args: tuple[Value, ...], kwargs: Mapping[str, Value]) -> Value:
    if kwargs or not all(isinstance(a, Static) for a in args):
        raise NotVectorisable(f"random.{name} with computed arguments")
    values = [a.value for a in args]
    if name == "randint" and len(values) == 2:
        return IntDraw(int(values[0]), int(values[1]))
    if name == "randrange" and 1 <= len(values) <= 3:
        start, stop, step = (0, values[0], 1) if len(values) == 1 else (*values, 1)[:3]
        if step < 1 or stop <= start:
            raise NotVectorisable("randrange form")
        return IntDraw(int(start), int(start + (stop - 1 - start) // step * step), int(step))
    if name == "choice" and len(values) == 1:
        return Dist.of(tuple(values[0]))
    raise NotVectorisable(f"random.{name}")


def _pure_call(name: str, args: tuple[Value, ...], kwargs: Mapping[str, Value]) -> Value:
    if name == "add_ordereddicts":
        from faker.utils.datasets import add_ordereddicts

        function: Callable[..., Any] = add_ordereddicts
    else:
        function = getattr(builtins, name)
    if name == "str" and len(args) == 1 and not kwargs and isinstance(args[0], (Node, IntDraw)):
        return as_node(args[0])
    if all(isinstance(a, Static) for a in (*args, *kwargs.values())):
        return Static(function(*(a.value for a in args), **{k: v.value for k, v in kwargs.items()}))
    if len(args) == 1 and not kwargs and isinstance(args[0], Dist):
        return args[0].map(function)
    raise NotVectorisable(f"{name} of a random value")


def _value_method(owner: Value, name: str, args: tuple[Value, ...], kwargs: Mapping[str, Value]) -> Value:
    statics = all(isinstance(a, Static) for a in (*args, *kwargs.values()))
    if isinstance(owner, (Static, Dist)) and statics:
        plain_args = [a.value for a in args]
        plain_kwargs = {k: v.value for k, v in kwargs.items()}
        return map_values(owner, lambda v: getattr(v, name)(*plain_args, **plain_kwargs))
    if isinstance(owner, (Node, IntDraw)) and statics:
        node = as_node(owner)
        if name in _CHAR_LOCAL and not args and not kwargs:
            return node.map_text(_CHAR_LOCAL[name])
        if name == "replace" and len(args) == 2 and len(args[0].value) == 1:
            old, new = args[0].value, args[1].value
            return node.map_text(lambda text: text.replace(old, new))
        if isinstance(node, (Const, Pick)):
            plain_args = [a.value for a in args]
            return node.map_text(lambda text: getattr(text, name)(*plain_args))
    raise NotVectorisable(f"{name} on a random value")


# -- BaseProvider helpers ---------------------------------------------------------------------
_BASE = "faker.providers.BaseProvider."


def _static(args: Mapping[str, Value], name: str) -> Any:
    value = args[name]
    if not isinstance(value, Static):
        raise NotVectorisable(f"computed argument {name}")
    return value.value


@recipe(_BASE + "random_element")
def _random_element(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    elements = args["elements"]
    weighted = bool(getattr(provider, "__use_weighting__", True))
    if isinstance(elements, Static):
        return elements_dist(elements.value, weighted)
    if isinstance(elements, Dist):
        return mixture([(w, elements_dist(v, weighted)) for v, w in zip(elements.values, elements.weights)])
    raise NotVectorisable("random element of a random collection")


@recipe(_BASE + "random_int")
def _random_int(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    low, high, step = _static(args, "min"), _static(args, "max"), _static(args, "step")
    if step < 1 or high < low:
        raise NotVectorisable("random_int range")
    return IntDraw(int(low), int(low + (high - low) // step * step), int(step))


@recipe(_BASE + "random_digit")
def _random_digit(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return IntDraw(0, 9)


@recipe(_BASE + "random_digit_not_null")
def _random_digit_not_null(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return IntDraw(1, 9)


@recipe(_BASE + "random_digit_above_two")
def _random_digit_above_two(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return IntDraw(2, 9)


@recipe(_BASE + "random_number")
def _random_number(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    digits, fix_len = _static(args, "digits"), _static(args, "fix_len")
    if digits is None or digits < 0 or (fix_len and digits == 0):
        raise NotVectorisable("random_number digits")
    if fix_len:
        return IntDraw(10 ** (digits - 1), 10**digits - 1)
    return IntDraw(0, 10**digits - 1)


def _text_argument(args: Mapping[str, Value], name: str) -> Node:
    return as_node(args[name])


@recipe(_BASE + "numerify")
def _numerify(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return _text_argument(args, "text").substitute(NUMERIFY)


@recipe(_BASE + "lexify")
def _lexify(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return _text_argument(args, "text").substitute(lexify_table(_static(args, "letters")))


@recipe(_BASE + "bothify")
def _bothify(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    numerified = _text_argument(args, "text").substitute(NUMERIFY)
    return numerified.substitute(lexify_table(_static(args, "letters")))


@recipe(_BASE + "hexify")
def _hexify(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return _text_argument(args, "text").substitute(hexify_table(bool(_static(args, "upper"))))


@recipe(_BASE + "random_letter")
def _random_letter(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return Pick(tuple(string.ascii_letters))


@recipe(_BASE + "random_lowercase_letter")
def _random_lowercase_letter(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return Pick(tuple(string.ascii_lowercase))


@recipe(_BASE + "random_uppercase_letter")
def _random_uppercase_letter(compiler: MethodCompiler, provider: Any, args: Mapping[str, Value]) -> Value:
    return Pick(tuple(string.ascii_uppercase))


@functools.lru_cache(maxsize=32)
def compiler_for(locale: str) -> MethodCompiler:
    """The memoising compiler of ``locale`` (shared; compiled nodes are immutable)."""
    from synthbeam.rules.generators.faker.pool import faker_generator

    return MethodCompiler(faker_generator(locale), locale)
