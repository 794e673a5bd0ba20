"""What EventBridge does with an event on the default bus, as far as the simulation's rules need
it: match the event against a rule's ``EventPattern``
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html) and make a
target's input from it (``Input``, ``InputPath`` or ``InputTransformer``:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html). A
pattern or path the simulation cannot evaluate is a ValueError, never a silent mismatch."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: The comparison operators :func:`matches` evaluates (content filtering:
#: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "anything-but", "exists"})
_MISSING = object()
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([^<>\s\"]+)>")


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches ``pattern``: every field the pattern names matches (a nested
    object field by field, a leaf when any of its array's values matches any of the event's
    values: one value, or each of an array's)."""
    if not isinstance(pattern, Mapping):
        raise ValueError(f"an event pattern is a JSON object, not {pattern!r}")
    for key, expected in pattern.items():
        if key.startswith("$"):
            raise ValueError(f"the simulation does not evaluate {key} in event patterns")
        present = isinstance(event, Mapping) and key in event
        value = event[key] if present else None
        if isinstance(expected, Mapping):
            # A missing object matches only what an empty one does ({"exists": false} fields).
            if present and not isinstance(value, Mapping):
                return False
            if not matches(expected, value if isinstance(value, Mapping) else {}):
                return False
            continue
        if not isinstance(expected, list) or not expected:
            raise ValueError(f"a pattern's leaf {key!r} must be a non-empty array, not {expected!r}")
        if not any(_leaf(condition, present, value) for condition in expected):
            return False
    return True


def _leaf(condition: Any, present: bool, value: Any) -> bool:
    if isinstance(condition, Mapping):
        if len(condition) != 1 or next(iter(condition)) not in OPERATORS:
            raise ValueError(f"the simulation does not evaluate the pattern condition {condition!r}")
        ((operator, operand),) = condition.items()
        if operator == "exists":
            return bool(operand) == present
        if not present:
            return False
        values = value if isinstance(value, list) else [value]
        return any(_compare(operator, operand, v) for v in values)
    if isinstance(condition, list):
        raise ValueError(f"a pattern's array holds values or conditions, not arrays: {condition!r}")
    values = value if present and isinstance(value, list) else [value]
    return present and any(_same(condition, v) for v in values)


def _compare(operator: str, operand: Any, value: Any) -> bool:
    if operator == "prefix" and isinstance(operand, str):
        return isinstance(value, str) and value.startswith(operand)
    if operator == "suffix" and isinstance(operand, str):
        return isinstance(value, str) and value.endswith(operand)
    if operator == "equals-ignore-case" and isinstance(operand, str):
        return isinstance(value, str) and value.lower() == operand.lower()
    if operator == "anything-but":
        if isinstance(operand, Mapping):
            if len(operand) == 1 and next(iter(operand)) in ("prefix", "suffix"):
                return not _compare(next(iter(operand)), next(iter(operand.values())), value)
            raise ValueError(f"the simulation does not evaluate anything-but {operand!r}")
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(_same(e, value) for e in excluded)
    raise ValueError(f"the simulation does not evaluate {operator} {operand!r}")


def _same(expected: Any, value: Any) -> bool:
    """Exact matching: strings case-sensitively, numbers by value, true/false/null as themselves."""
    if isinstance(expected, bool) or isinstance(value, bool) or expected is None or value is None:
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return type(expected) is type(value) and bool(expected == value)


def path_value(event: Any, path: str) -> Any:
    """The value at a JSONPath of dot notation and array indices (``$.detail.SourceArn``,
    ``$.resources[0]``: the syntax EventBridge evaluates), or :data:`_MISSING`."""
    if not path.startswith("$"):
        raise ValueError(f"an input path starts with $: {path!r}")
    rest, node = path[1:], event
    while rest:
        step = _PATH_STEP.match(rest)
        if step is None:
            raise ValueError(f"an input path the simulation does not evaluate: {path!r}")
        name, index = step.groups()
        if name is not None:
            node = node.get(name, _MISSING) if isinstance(node, Mapping) else _MISSING
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else _MISSING
        if node is _MISSING:
            return _MISSING
        rest = rest[step.end() :]
    return node


def target_input(target: Mapping[str, Any], event: Mapping[str, Any], *, rule_arn: str, rule_name: str) -> Any:
    """The input EventBridge sends ``target`` for ``event``: its constant ``Input``, the part
    ``InputPath`` selects, its ``InputTransformer``'s output, or else the whole event. A state
    machine takes JSON only: a template that is no JSON after substitution is a ValueError."""
    if "Input" in target:
        return json.loads(str(target["Input"]))
    if "InputPath" in target:
        selected = path_value(event, str(target["InputPath"]))
        return None if selected is _MISSING else selected
    transformer = target.get("InputTransformer")
    if transformer is None:
        return dict(event)
    text = transform(transformer, event, rule_arn=rule_arn, rule_name=rule_name)
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"the input transformer makes no JSON for a state machine: {text!r}") from None


def transform(transformer: Mapping[str, Any], event: Mapping[str, Any], *, rule_arn: str, rule_name: str) -> str:
    """``InputTemplate`` with each ``<name>`` of ``InputPathsMap`` (or EventBridge's predefined
    ``aws.events.*`` variables) replaced as EventBridge does: in a JSON template, a placeholder
    outside quotes becomes the value as JSON (a string quoted: CDK's ``EventField`` relies on it),
    one inside a quoted string the value's text; in a text template, the value's text. A path
    the event lacks is assumed to give ``null`` (an empty text inside quotes)."""
    values: dict[str, Any] = {
        name: path_value(event, str(path)) for name, path in dict(transformer.get("InputPathsMap") or {}).items()
    }
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_name)
    values.setdefault("aws.events.event.ingestion-time", event.get("time", ""))
    values.setdefault("aws.events.event.json", dict(event))
    values.setdefault("aws.events.event", {k: v for k, v in event.items() if k != "detail"})
    template = str(transformer["InputTemplate"])
    if not template.lstrip().startswith("{"):
        return _PLACEHOLDER.sub(lambda m: _text(values[m[1]]) if m[1] in values else m[0], template)
    out: list[str] = []
    quoted, escaped, at = False, False, 0
    while at < len(template):
        char = template[at]
        placeholder = _PLACEHOLDER.match(template, at) if char == "<" and not escaped else None
        if placeholder is not None and placeholder[1] in values:
            value = values[placeholder[1]]
            # Inside quotes the text is escaped so the template stays JSON (a value with a quote).
            out.append(json.dumps(_text(value))[1:-1] if quoted else _json(value))
            at = placeholder.end()
            continue
        if quoted and char == "\\" and not escaped:
            escaped = True
        else:
            if char == '"' and not escaped:
                quoted = not quoted
            escaped = False
        out.append(char)
        at += 1
    return "".join(out)


def _text(value: Any) -> str:
    if value is _MISSING:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _json(value: Any) -> str:
    return "null" if value is _MISSING else json.dumps(value)


__all__ = ["matches", "path_value", "target_input", "transform"]
