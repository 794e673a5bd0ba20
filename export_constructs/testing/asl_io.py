"""Input and output processing, as every state applies it: ``InputPath`` selects from the raw
input, ``Parameters`` (``ItemSelector`` for a Map's items) builds the effective input, the task
runs, ``ResultSelector`` builds the effective result, ``ResultPath`` places it into the raw
input (``null``: discard it), and ``OutputPath`` selects the output
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html and
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html).

A template (``Parameters``, ``ItemSelector``, ``ResultSelector``) is JSON whose keys ending in
``.$`` take a path on the data, ``$$.`` on the context object, or an intrinsic function call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import asl_intrinsics, asl_paths


def check_template(template: Any, where: str) -> None:
    """A :class:`ValueError` naming ``where`` for a ``.$`` value that is no path or call."""
    if isinstance(template, Mapping):
        for key, value in template.items():
            if not str(key).endswith(".$"):
                check_template(value, f"{where}.{key}")
                continue
            check_expression(value, f"{where}.{key}")
    elif isinstance(template, list):
        for index, value in enumerate(template):
            check_template(value, f"{where}[{index}]")


def check_expression(value: Any, where: str) -> None:
    """A :class:`ValueError` naming ``where`` unless ``value`` is a path or an intrinsic call."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: a '.$' field takes a path or an intrinsic function, not {value!r}")
    try:
        if asl_intrinsics.is_intrinsic(value):
            asl_intrinsics.parse_call(value)
        else:
            asl_paths.parse(value)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def expression(value: str, data: Any, context: Any) -> Any:
    """The value of a ``.$`` field's path or intrinsic call."""
    if asl_intrinsics.is_intrinsic(value):
        return asl_intrinsics.evaluate(value, data, context)
    return asl_paths.get(value, data, context)


def render(template: Any, data: Any, context: Any) -> Any:
    """``template`` with each ``key.$`` replaced by ``key`` and its expression's value."""
    if isinstance(template, Mapping):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = expression(value, data, context)
            else:
                out[key] = render(value, data, context)
        return out
    if isinstance(template, list):
        return [render(value, data, context) for value in template]
    return template


def select(spec: Mapping[str, Any], field: str, data: Any, context: Any) -> Any:
    """``InputPath`` or ``OutputPath``: absent keeps everything, ``null`` gives ``{}``."""
    if field not in spec:
        return data
    path = spec[field]
    if path is None:
        return {}
    return asl_paths.get(path, data, context)


def effective_input(spec: Mapping[str, Any], raw: Any, context: Any) -> Any:
    """``InputPath`` then ``Parameters``: what a Pass, Task or Parallel state works on."""
    data = select(spec, "InputPath", raw, context)
    if "Parameters" in spec:
        data = render(spec["Parameters"], data, context)
    return data


def with_result(raw: Any, result_path: str | None, result: Any) -> Any:
    """``ResultPath``: the result placed into the raw input (``null`` keeps the input)."""
    if result_path is None:
        return raw
    return asl_paths.put(raw, result_path, result)


def effective_output(spec: Mapping[str, Any], raw: Any, result: Any, context: Any) -> Any:
    """``ResultSelector``, ``ResultPath`` (default ``$``) and ``OutputPath``, in that order."""
    if "ResultSelector" in spec:
        result = render(spec["ResultSelector"], result, context)
    combined = with_result(raw, spec.get("ResultPath", "$"), result)
    return select(spec, "OutputPath", combined, context)
