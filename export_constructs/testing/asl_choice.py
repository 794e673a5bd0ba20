"""Choice rules (JSONPath): a data-test expression (``Variable`` and one comparison operator,
or its ``...Path`` form comparing with another value of the input) or a Boolean expression
(``And``, ``Or``, ``Not``)
(https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).

A comparison of values of different types is false, not an error (``StringEquals`` of a number
is simply no match). A ``Variable`` (or a ``...Path`` operand) that selects nothing is a
``States.Runtime`` error, except for ``IsPresent``, whose whole point is to ask."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from . import asl_paths
from .asl_paths import RUNTIME, StatesError

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_TYPE_TESTS = ("IsNull", "IsPresent", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (uppercase T, and Z or an offset) as a datetime, else None."""
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        return None
    head, dot, rest = value.partition(".")
    if dot:  # fromisoformat takes at most microseconds
        digits = re.match(r"\d+", rest)
        assert digits is not None
        value = f"{head}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _compare(kind: str, relation: str, left: Any, right: Any) -> bool:
    if kind == "String":
        return isinstance(left, str) and isinstance(right, str) and _ORDER[relation](left, right)
    if kind == "Numeric":
        return _is_number(left) and _is_number(right) and _ORDER[relation](left, right)
    if kind == "Boolean":
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    moments = timestamp(left), timestamp(right)
    return moments[0] is not None and moments[1] is not None and _ORDER[relation](moments[0], moments[1])


def _string_matches(value: Any, pattern: str) -> bool:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""
    if not isinstance(value, str):
        return False
    parts, index = [], 0
    while index < len(pattern):
        if pattern[index] == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
        else:
            parts.append(".*" if pattern[index] == "*" else re.escape(pattern[index]))
            index += 1
    return re.fullmatch("".join(parts), value, flags=re.DOTALL) is not None


def _operator(rule: Mapping[str, Any]) -> str | None:
    found = [key for key in rule if key not in ("Variable", "Next", "Comment")]
    return found[0] if len(found) == 1 else None


def _split(name: str) -> tuple[str, str] | None:
    """``NumericLessThanEquals`` -> (``Numeric``, ``LessThanEquals``); None for other names."""
    for kind in ("String", "Numeric", "Boolean", "Timestamp"):
        relation = name.removeprefix(kind)
        if name.startswith(kind) and relation in _ORDER and (kind != "Boolean" or relation == "Equals"):
            return kind, relation
    return None


def check(rule: Any, where: str, *, top: bool, states: Mapping[str, Any]) -> None:
    """A :class:`ValueError` naming ``where`` for a rule the interpreter cannot evaluate."""
    if not isinstance(rule, Mapping):
        raise ValueError(f"{where}: a choice rule is an object, not {rule!r}")
    if top and rule.get("Next") not in states:
        raise ValueError(f"{where}.Next: {rule.get('Next')!r} is not a state of this machine")
    if not top and "Next" in rule:
        raise ValueError(f"{where}.Next: only a top-level choice rule has Next")
    if "And" in rule or "Or" in rule:
        key = "And" if "And" in rule else "Or"
        if set(rule) - {key, "Next", "Comment"} or not isinstance(rule[key], list) or not rule[key]:
            raise ValueError(f"{where}.{key}: takes a non-empty list of rules and nothing else")
        for index, inner in enumerate(rule[key]):
            check(inner, f"{where}.{key}[{index}]", top=False, states=states)
        return
    if "Not" in rule:
        if set(rule) - {"Not", "Next", "Comment"}:
            raise ValueError(f"{where}.Not: takes one rule and nothing else")
        check(rule["Not"], f"{where}.Not", top=False, states=states)
        return
    if "Variable" not in rule:
        raise ValueError(f"{where}: a rule needs Variable (or And, Or, Not)")
    _check_path(rule["Variable"], f"{where}.Variable")
    name = _operator(rule)
    if name is None:
        raise ValueError(f"{where}: a data-test rule takes exactly one comparison operator, has {sorted(rule)}")
    operand = rule[name]
    if name.endswith("Path") and _split(name[:-4]) is not None:
        _check_path(operand, f"{where}.{name}")
    elif name in _TYPE_TESTS:
        if not isinstance(operand, bool):
            raise ValueError(f"{where}.{name}: takes true or false")
    elif name == "StringMatches":
        if not isinstance(operand, str):
            raise ValueError(f"{where}.{name}: takes a string pattern")
    elif (split := _split(name)) is not None:
        kind = split[0]
        valid = {
            "String": isinstance(operand, str),
            "Numeric": _is_number(operand),
            "Boolean": isinstance(operand, bool),
            "Timestamp": timestamp(operand) is not None,
        }[kind]
        if not valid:
            raise ValueError(f"{where}.{name}: {operand!r} is not a {kind.lower()} operand")
    else:
        raise ValueError(f"{where}.{name}: not a comparison operator the simulation supports")


def _check_path(path: Any, where: str) -> None:
    try:
        asl_paths.parse(path)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def evaluate(rule: Mapping[str, Any], data: Any, context: Any) -> bool:
    """Whether ``rule`` holds for the Choice state's effective input ``data``."""
    if "And" in rule:
        return all(evaluate(inner, data, context) for inner in rule["And"])
    if "Or" in rule:
        return any(evaluate(inner, data, context) for inner in rule["Or"])
    if "Not" in rule:
        return not evaluate(rule["Not"], data, context)
    name = _operator(rule)
    assert name is not None  # checked when the execution started
    variable, operand = rule["Variable"], rule[name]
    if name == "IsPresent":
        return asl_paths.exists(variable, data, context) is operand
    if not asl_paths.exists(variable, data, context):
        raise StatesError(
            RUNTIME, f"Invalid path '{variable}': The choice state's condition path references an invalid value."
        )
    value = asl_paths.get(variable, data, context)
    if name in _TYPE_TESTS:
        test = {
            "IsNull": value is None,
            "IsString": isinstance(value, str),
            "IsNumeric": _is_number(value),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": timestamp(value) is not None,
        }[name]
        return test is operand
    if name.endswith("Path"):
        name, operand = name[:-4], asl_paths.get(operand, data, context)
    if name == "StringMatches":
        return _string_matches(value, operand)
    split = _split(name)
    assert split is not None
    return _compare(split[0], split[1], value, operand)
