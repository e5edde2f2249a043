"""Compile a type-checked rule-engine expression tree into a plain Python closure.

Why: rule-engine parses and type-checks policy expressions at load time (that is what we rely
on to fail closed), but its tree walker converts every number to Decimal on each evaluation
(~50 us per rule). Decisions need thousands per second, so the validated tree of the simple
subset we use (symbols, literals, and/or/not, comparisons, arithmetic, `in`) is turned into
closures. Any other node makes `compile_expression` return None and the caller falls back to
rule-engine's own evaluation. Parity with rule-engine is asserted in tests.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from rule_engine import ast

Fn = Callable[[dict[str, Any]], Any]

_CMP = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
        "le": operator.le}
_ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "tdiv": operator.truediv,
          "fdiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow}


def _num(v: Any) -> Any:
    return float(v) if v is not None and not isinstance(v, (bool, str)) else v


def compile_expression(node: Any) -> Fn | None:
    """Return a closure equivalent to `node`, or None if it uses anything outside the subset."""
    if isinstance(node, ast.SymbolExpression):
        if node.scope is not None:
            return None
        name = node.name
        return lambda f: f[name]
    if isinstance(node, (ast.FloatExpression, ast.BooleanExpression, ast.StringExpression, ast.NullExpression)):
        value = _num(node.value) if isinstance(node, ast.FloatExpression) else node.value
        return lambda f: value
    if isinstance(node, ast.LogicExpression):
        left, right = compile_expression(node.left), compile_expression(node.right)
        if left is None or right is None:
            return None
        if node.type == "and":
            return lambda f: bool(left(f)) and bool(right(f))
        if node.type == "or":
            return lambda f: bool(left(f)) or bool(right(f))
        return None
    if isinstance(node, ast.UnaryExpression):
        right = compile_expression(node.right)
        if right is None:
            return None
        if node.type == "not":
            return lambda f: not right(f)
        if node.type == "uminus":
            return lambda f: -right(f)
        return None
    if isinstance(node, (ast.ComparisonExpression, ast.ArithmeticComparisonExpression)):
        op = _CMP.get(node.type)
        left, right = compile_expression(node.left), compile_expression(node.right)
        if op is None or left is None or right is None:
            return None
        if isinstance(node, ast.ArithmeticComparisonExpression):
            return lambda f: op(left(f), right(f))
        return lambda f: op(left(f), right(f))
    if isinstance(node, (ast.ArithmeticExpression, ast.AddExpression, ast.SubtractExpression)):
        op = _ARITH.get(node.type)
        left, right = compile_expression(node.left), compile_expression(node.right)
        if op is None or left is None or right is None:
            return None
        return lambda f: op(left(f), right(f))
    if isinstance(node, ast.ContainsExpression):
        container, member = compile_expression(node.container), compile_expression(node.member)
        if container is None or member is None:
            return None
        return lambda f: member(f) in container(f)
    return None
