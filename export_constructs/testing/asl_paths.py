"""Reference paths, the JSONPath subset Amazon States Language fields take: ``$``, ``$.a.b``,
``$.a[0]``, ``$['a']``, and the same from ``$$`` on the context object. Anything else (``..``,
``*``, filters, slices, negative indexes) is refused with a :class:`ValueError` naming the
path, so a definition the simulation cannot run fails loudly instead of running differently.

Also :class:`StatesError`, an error inside an execution by its ASL name (``States.Runtime``,
``States.Timeout``, a Lambda function's ``errorType``...), which Retry and Catch match."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"


class StatesError(Exception):
    """An error inside an execution: its name (what ``ErrorEquals`` matches) and cause."""

    def __init__(self, error: str | None, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, Any]:
        """The error output a Catch hands on (``{"Error", "Cause"}``)."""
        found: dict[str, Any] = {"Error": self.error}
        if self.cause is not None:
            found["Cause"] = self.cause
        return found


def matches(error_equals: list[str], error: str | None) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` covers ``error``."""
    # States.Runtime "isn't retriable, and will always cause the execution to fail", and
    # States.ALL does not catch States.DataLimitExceeded either; States.TaskFailed matches any
    # error but States.Timeout
    # (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
    if error in (RUNTIME, DATA_LIMIT_EXCEEDED):
        return False
    if error in error_equals or ALL in error_equals:
        return True
    return TASK_FAILED in error_equals and error != TIMEOUT


@dataclass(frozen=True)
class Path:
    """A parsed reference path: from the data (``$``) or the context object (``$$``)."""

    text: str
    context: bool
    steps: tuple[str | int, ...]


_STEP = re.compile(
    r"""\.(?P<name>[^.\[\]'"*\s,()]+)"""  # .name
    r"""|\[(?P<index>\d+)\]"""  # [0]
    r"""|\[(?P<quote>['"])(?P<key>(?:(?!(?P=quote)).)+)(?P=quote)\]"""  # ['name']
)


@lru_cache(maxsize=2048)
def parse(text: str) -> Path:
    """``text`` as a reference path, or a :class:`ValueError` saying why it is not one."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise ValueError(f"{text!r} is not a path (it must start with $)")
    context = text.startswith("$$")
    rest = text[2:] if context else text[1:]
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        step = _STEP.match(rest, position)
        if step is None:
            raise ValueError(
                f"{text!r} is not a reference path the simulation supports ($, $.a.b, $.a[0], $['a'], "
                f"or $$. for the context object): cannot read {rest[position:]!r}"
            )
        if step.group("index") is not None:
            steps.append(int(step.group("index")))
        else:
            steps.append(step.group("name") or step.group("key"))
        position = step.end()
    return Path(text, context, tuple(steps))


_MISSING = object()


def _walk(path: Path, data: Any, context: Any) -> Any:
    node = context if path.context else data
    for step in path.steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, Mapping) or step not in node:
                return _MISSING
            node = node[step]
    return node


def exists(text: str, data: Any, context: Any = None) -> bool:
    """Whether the path selects something (Choice's ``IsPresent``)."""
    return _walk(parse(text), data, context) is not _MISSING


def get(text: str, data: Any, context: Any = None) -> Any:
    """What the path selects; a path that selects nothing is a ``States.Runtime`` error."""
    path = parse(text)
    found = _walk(path, data, context)
    if found is _MISSING:
        where = "the context object" if path.context else f"the input {_short(data)}"
        raise StatesError(RUNTIME, f"Invalid path '{text}': no value at that path in {where}")
    return found


def put(data: Any, text: str, value: Any) -> Any:
    """A copy of ``data`` with ``value`` at the path (ResultPath): missing objects on the way
    are made; a path that runs through something else than an object is a
    ``States.ResultPathMatchFailure``."""
    path = parse(text)
    if not path.steps:
        return value
    root = copy.deepcopy(data)
    node = root
    for position, step in enumerate(path.steps):
        last = position == len(path.steps) - 1
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise StatesError(RESULT_PATH_MATCH_FAILURE, f"Unable to apply ResultPath '{text}' to {_short(data)}")
            if last:
                node[step] = value
            else:
                node = node[step]
            continue
        if not isinstance(node, dict):
            raise StatesError(RESULT_PATH_MATCH_FAILURE, f"Unable to apply ResultPath '{text}' to {_short(data)}")
        if last:
            node[step] = value
        else:
            node = node.setdefault(step, {})
    return root


def _short(data: Any, limit: int = 200) -> str:
    text = json.dumps(data, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
