"""The intrinsic functions a ``.$`` field may call instead of a path: ``States.Format``,
``States.StringToJson``, ``States.JsonToString``, ``States.ArrayLength``, ``States.MathAdd`` and
``States.Array``, with string literals in single quotes, numbers, paths and nested calls as
arguments (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html).
A function outside that list is refused with a :class:`ValueError`; a call that fails on the
data is a ``States.Runtime`` error, the name Step Functions reports intrinsic failures by."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .asl_paths import RUNTIME, StatesError, get, parse


@dataclass(frozen=True)
class Literal:
    """A literal argument; ``raw`` keeps a string's escapes (``\\{`` is no placeholder)."""

    value: Any
    raw: str = ""


@dataclass(frozen=True)
class PathArgument:
    text: str


@dataclass(frozen=True)
class Call:
    name: str
    arguments: tuple[Literal | PathArgument | Call, ...]


_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_PATH = re.compile(r"""\$\$?(?:\.[^.\[\]'"*\s,()]+|\[\d+\]|\[(['"]).+?\1\])*""")


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


@lru_cache(maxsize=512)
def parse_call(text: str) -> Call:
    """``text`` as a call, or a :class:`ValueError` saying what is wrong with it."""
    call, end = _call(text, 0)
    if text[end:].strip():
        raise ValueError(f"{text!r}: unexpected {text[end:]!r} after the call")
    return call


def _call(text: str, start: int) -> tuple[Call, int]:
    name = _NAME.match(text, start)
    if name is None or not text.startswith("(", name.end()):
        raise ValueError(f"{text!r} is not an intrinsic function call")
    if name.group() not in FUNCTIONS:
        raise ValueError(
            f"{text!r}: {name.group()} is not an intrinsic function the simulation supports "
            f"({', '.join(sorted(FUNCTIONS))})"
        )
    arguments: list[Literal | PathArgument | Call] = []
    position = name.end() + 1
    while True:
        position = _skip(text, position)
        if text.startswith(")", position) and not arguments:
            return Call(name.group(), ()), position + 1
        argument, position = _argument(text, position)
        arguments.append(argument)
        position = _skip(text, position)
        if text.startswith(")", position):
            return Call(name.group(), tuple(arguments)), position + 1
        if not text.startswith(",", position):
            raise ValueError(f"{text!r}: expected ',' or ')' at {text[position:]!r}")
        position += 1


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position


def _argument(text: str, position: int) -> tuple[Literal | PathArgument | Call, int]:
    if text.startswith("'", position):
        raw, index = [], position + 1
        while index < len(text) and text[index] != "'":
            raw.append(text[index : index + 2] if text[index] == "\\" else text[index])
            index += len(raw[-1])
        if index >= len(text):
            raise ValueError(f"{text!r}: a string argument is not closed")
        literal = "".join(raw)
        return Literal(re.sub(r"\\(.)", r"\1", literal), literal), index + 1
    if text.startswith("$", position):
        path = _PATH.match(text, position)
        assert path is not None  # "$" alone always matches
        parse(path.group())  # a ValueError for an unsupported path
        return PathArgument(path.group()), path.end()
    if text.startswith("States.", position):
        return _call(text, position)
    number = _NUMBER.match(text, position)
    if number is not None:
        numeric = float(number.group()) if number.group(1) or number.group(2) else int(number.group())
        return Literal(numeric), number.end()
    for word, constant in (("true", True), ("false", False), ("null", None)):
        if text.startswith(word, position):
            return Literal(constant), position + len(word)
    raise ValueError(f"{text!r}: cannot read an argument at {text[position:]!r}")


def evaluate(text: str, data: Any, context: Any) -> Any:
    """The value of the call ``text`` on ``data`` (and the context object)."""
    return _evaluate(parse_call(text), data, context)


def _evaluate(call: Call, data: Any, context: Any) -> Any:
    values = [
        _evaluate(a, data, context)
        if isinstance(a, Call)
        else get(a.text, data, context)
        if isinstance(a, PathArgument)
        else a.value
        for a in call.arguments
    ]
    try:
        return FUNCTIONS[call.name](values, call.arguments)
    except StatesError:
        raise
    except (ValueError, TypeError, IndexError) as error:
        raise StatesError(RUNTIME, f"{call.name} failed: {error}") from error


def _arguments(values: Sequence[Any], count: int, name: str) -> None:
    if len(values) != count:
        raise ValueError(f"{name} takes {count} argument(s), {len(values)} given")


def _format(values: Sequence[Any], arguments: Sequence[Any]) -> str:
    if not values or not isinstance(values[0], str):
        raise ValueError("States.Format takes a template string first")
    first = arguments[0]
    template = first.raw if isinstance(first, Literal) and first.raw else values[0].replace("\\", "\\\\")
    fillers = list(values[1:])
    out: list[str] = []
    index = 0
    while index < len(template):
        if template[index] == "\\" and index + 1 < len(template):
            out.append(template[index + 1])
            index += 2
        elif template.startswith("{}", index):
            if not fillers:
                raise ValueError("more {} in the template than arguments")
            value = fillers.pop(0)
            if isinstance(value, (dict, list)):
                raise ValueError("States.Format takes strings, numbers, booleans or null, not objects or arrays")
            out.append(value if isinstance(value, str) else json.dumps(value))
            index += 2
        else:
            out.append(template[index])
            index += 1
    if fillers:
        raise ValueError("more arguments than {} in the template")
    return "".join(out)


def _string_to_json(values: Sequence[Any], _: Sequence[Any]) -> Any:
    _arguments(values, 1, "States.StringToJson")
    if not isinstance(values[0], str):
        raise ValueError("States.StringToJson takes a string")
    return json.loads(values[0])


def _json_to_string(values: Sequence[Any], _: Sequence[Any]) -> str:
    _arguments(values, 1, "States.JsonToString")
    return json.dumps(values[0], separators=(",", ":"))


def _array_length(values: Sequence[Any], _: Sequence[Any]) -> int:
    _arguments(values, 1, "States.ArrayLength")
    if not isinstance(values[0], list):
        raise ValueError("States.ArrayLength takes an array")
    return len(values[0])


def _math_add(values: Sequence[Any], _: Sequence[Any]) -> int:
    _arguments(values, 2, "States.MathAdd")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError("States.MathAdd takes two integers")
    return int(values[0]) + int(values[1])


FUNCTIONS: dict[str, Callable[[Sequence[Any], Sequence[Any]], Any]] = {
    "States.Array": lambda values, _: list(values),
    "States.ArrayLength": _array_length,
    "States.Format": _format,
    "States.JsonToString": _json_to_string,
    "States.MathAdd": _math_add,
    "States.StringToJson": _string_to_json,
}
